//! Pre-initialization (Wizer) of Rust components: instantiate once at build time, call the
//! SDK's `wizer-initialize` export, and snapshot memory and globals into a new component, so
//! every instance starts where the initializer left off.
//!
//! wasmtime-wizer's own runner needs its `wasmtime` feature (which pulls in far more of
//! wasmtime), so this drives Wizer's instrument → snapshot halves with the runtime's engine
//! and its synchronous linker instead.
//! The guest runs with fixed clocks and random bytes, keeping the snapshot reproducible.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use skill_engine::host::HostState;
use skill_engine::{Error, Result, Runtime};
use wasmtime::Store;
use wasmtime::component::{Instance, Lift, WasmList};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// The export the SDK provides and Wizer calls.
pub const INIT_EXPORT: &str = "wizer-initialize";
/// The initializer gets 60 s (in epoch ticks) before it is stopped.
const INIT_TIMEOUT_TICKS: u64 = 60_000 / skill_engine::engine::EPOCH_TICK.as_millis() as u64;
/// Output the initializer may print before it is cut off.
const OUTPUT_CAP: usize = 64 * 1024;

/// Does the component export the initializer? (Skills built with an older SDK do not.)
pub fn has_initializer(component: &[u8]) -> bool {
    skill_engine::contract::check_component(component)
        .is_ok_and(|report| report.exports.iter().any(|e| e == INIT_EXPORT))
}

/// Runs the initializer and returns the snapshotted component.
pub fn preinitialize(runtime: &Runtime, component: &[u8]) -> Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    // A component without its init export is invalid after rewriting; keep it (it is a no-op
    // the host never calls).
    wizer.keep_init_func(true);
    let (cx, instrumented) = wizer
        .instrument_component(component)
        .map_err(|e| Error::invalid(format!("Wizer could not instrument the component: {e:#}")))?;

    let compiled = wasmtime::component::Component::new(runtime.engine(), &instrumented)
        .map_err(|e| Error::internal(format!("compiling the instrumented component: {e:#}")))?;
    let stdout = MemoryOutputPipe::new(OUTPUT_CAP);
    let stderr = MemoryOutputPipe::new(OUTPUT_CAP);
    let mut store = Store::new(
        runtime.engine(),
        HostState::for_preinitialization(stdout.clone(), stderr.clone()),
    );
    store.set_epoch_deadline(INIT_TIMEOUT_TICKS);
    store.epoch_deadline_trap();
    let instance = runtime
        .sync_linker()?
        .instantiate(&mut store, &compiled)
        .map_err(|e| Error::invalid(format!("instantiating for pre-initialization: {e:#}")))?;
    let init = instance
        .get_typed_func::<(), ()>(&mut store, INIT_EXPORT)
        .map_err(|e| Error::invalid(format!("the `{INIT_EXPORT}` export: {e:#}")))?;
    init.call(&mut store, ()).map_err(|e| {
        let stderr = String::from_utf8_lossy(&stderr.contents()).trim().to_string();
        Error::invalid(format!(
            "the skill's initializer failed: {e:#}{}",
            if stderr.is_empty() {
                String::new()
            } else {
                format!("\n{stderr}")
            }
        ))
        .with_hint("the `init` function given to skill_sdk::export! runs at build time; it cannot read config, files or the network")
    })?;

    let mut state = Snapshotting {
        store: &mut store,
        instance,
    };
    block_on(wizer.snapshot_component(&cx, &mut state))
        .map_err(|e| Error::internal(format!("Wizer could not snapshot the component: {e:#}")))
}

/// Reads the instrumented component's state through the accessors Wizer exported.
struct Snapshotting<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl Snapshotting<'_> {
    /// The accessors exist by construction (Wizer added them), so failing here is a Wizer bug.
    fn call<R: Lift + 'static>(&mut self, instance: &str, func: &str) -> R {
        let (_, exported) = self
            .instance
            .get_export(&mut *self.store, None, instance)
            .unwrap_or_else(|| panic!("Wizer accessor instance `{instance}` missing"));
        let (_, index) = self
            .instance
            .get_export(&mut *self.store, Some(&exported), func)
            .unwrap_or_else(|| panic!("Wizer accessor `{instance}#{func}` missing"));
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, index)
            .expect("Wizer accessor type");
        let (value,) = typed
            .call(&mut *self.store, ())
            .expect("Wizer accessor call");
        value
    }
}

impl ComponentInstanceState for Snapshotting<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        let list: WasmList<u8> = self.call(instance, func);
        contents(list.as_le_slice(&*self.store));
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func)
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func)
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).to_bits()
    }
}

/// Wizer's snapshot is `async` only because its state trait is; ours never waits.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}
