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
    run_initializer(&mut store, instance, INIT_EXPORT, &stderr)?;

    let mut state = Snapshotting {
        store: &mut store,
        instance,
    };
    block_on(wizer.snapshot_component(&cx, &mut state))
        .map_err(|e| Error::internal(format!("Wizer could not snapshot the component: {e:#}")))
}

fn run_initializer(
    store: &mut Store<HostState>,
    instance: Instance,
    init_export: &str,
    stderr: &MemoryOutputPipe,
) -> Result<()> {
    let init = instance
        .get_typed_func::<(), ()>(&mut *store, init_export)
        .map_err(|e| Error::invalid(format!("the `{init_export}` export: {e:#}")))?;
    init.call(&mut *store, ()).map_err(|e| {
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
    Ok(())
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

/// Pre-initializes a WASI preview1 reactor core module (a Go `-buildmode=c-shared` build): runs
/// its `_initialize` once, here, and returns the module with that state as its data and the
/// export removed, so no instance starts the runtime again.
///
/// It runs before the module becomes a component: the Go runtime makes WASI calls while it
/// starts, and through the preview1 adapter each of those would allocate with the module's
/// own `cabi_realloc`, which Go cannot run before its runtime has started. Here the few
/// preview1 calls a start makes are answered directly, fixed (no arguments, no environment,
/// clocks at one second, a constant for random bytes) so the snapshot is reproducible; any other
/// import traps.
pub fn preinitialize_reactor(runtime: &Runtime, core: &[u8]) -> Result<Vec<u8>> {
    use wasmtime::{Caller, Extern, Linker, Module};

    const INITIALIZE: &str = "_initialize";
    const P1: &str = "wasi_snapshot_preview1";
    const EBADF: i32 = 8;
    let mut wizer = Wizer::new();
    wizer.init_func(INITIALIZE).keep_init_func(false);
    let (cx, instrumented) = wizer
        .instrument(core)
        .map_err(|e| Error::invalid(format!("Wizer could not instrument the module: {e:#}")))?;
    let module = Module::new(runtime.engine(), &instrumented)
        .map_err(|e| Error::internal(format!("compiling the instrumented module: {e:#}")))?;

    fn memory(caller: &mut Caller<'_, Vec<u8>>) -> wasmtime::Memory {
        match caller.get_export("memory") {
            Some(Extern::Memory(memory)) => memory,
            _ => panic!("a Go reactor exports its memory"),
        }
    }
    fn write_u32(caller: &mut Caller<'_, Vec<u8>>, at: i32, value: u32) -> i32 {
        let memory = memory(caller);
        match memory.write(caller, at as u32 as usize, &value.to_le_bytes()) {
            Ok(()) => 0,
            Err(_) => 21, // EFAULT
        }
    }
    let mut linker: Linker<Vec<u8>> = Linker::new(runtime.engine());
    let wrap = |e: wasmtime::Error| Error::internal(format!("preview1 stand-in: {e:#}"));
    linker
        .func_wrap(
            P1,
            "args_sizes_get",
            |mut c: Caller<'_, Vec<u8>>, n: i32, size: i32| {
                write_u32(&mut c, n, 0) | write_u32(&mut c, size, 0)
            },
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "environ_sizes_get",
            |mut c: Caller<'_, Vec<u8>>, n: i32, size: i32| {
                write_u32(&mut c, n, 0) | write_u32(&mut c, size, 0)
            },
        )
        .map_err(wrap)?
        // No descriptors at all: stdio flags cannot be read or set, no directory is preopened.
        .func_wrap(
            P1,
            "fd_fdstat_get",
            |_: Caller<'_, Vec<u8>>, _: i32, _: i32| EBADF,
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "fd_fdstat_set_flags",
            |_: Caller<'_, Vec<u8>>, _: i32, _: i32| EBADF,
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "fd_prestat_get",
            |_: Caller<'_, Vec<u8>>, _: i32, _: i32| EBADF,
        )
        .map_err(wrap)?
        .func_wrap(P1, "args_get", |_: Caller<'_, Vec<u8>>, _: i32, _: i32| 0)
        .map_err(wrap)?
        .func_wrap(
            P1,
            "environ_get",
            |_: Caller<'_, Vec<u8>>, _: i32, _: i32| 0,
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "clock_time_get",
            |mut c: Caller<'_, Vec<u8>>, _clock: i32, _precision: i64, at: i32| {
                // Fixed, and not zero (Go's runtime refuses a zero monotonic clock).
                let memory = memory(&mut c);
                let fixed = 1_000_000_000u64;
                match memory.write(&mut c, at as u32 as usize, &fixed.to_le_bytes()) {
                    Ok(()) => 0,
                    Err(_) => 21,
                }
            },
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "random_get",
            |mut c: Caller<'_, Vec<u8>>, at: i32, len: i32| {
                let memory = memory(&mut c);
                let fixed = vec![0x5a; len as u32 as usize];
                match memory.write(&mut c, at as u32 as usize, &fixed) {
                    Ok(()) => 0,
                    Err(_) => 21,
                }
            },
        )
        .map_err(wrap)?
        .func_wrap(
            P1,
            "fd_write",
            |mut c: Caller<'_, Vec<u8>>, _fd: i32, iovs: i32, count: i32, written: i32| {
                // Kept (up to OUTPUT_CAP) for the error message should the start fail.
                let memory = memory(&mut c);
                let mut total = 0u32;
                for i in 0..count as u32 {
                    let mut iov = [0u8; 8];
                    if memory
                        .read(&c, iovs as u32 as usize + i as usize * 8, &mut iov)
                        .is_err()
                    {
                        return 21;
                    }
                    let ptr = u32::from_le_bytes(iov[..4].try_into().unwrap()) as usize;
                    let len = u32::from_le_bytes(iov[4..].try_into().unwrap()) as usize;
                    let mut bytes = vec![0u8; len.min(OUTPUT_CAP)];
                    if memory.read(&c, ptr, &mut bytes).is_err() {
                        return 21;
                    }
                    let room = OUTPUT_CAP.saturating_sub(c.data().len());
                    c.data_mut()
                        .extend_from_slice(&bytes[..bytes.len().min(room)]);
                    total += len as u32;
                }
                write_u32(&mut c, written, total)
            },
        )
        .map_err(wrap)?;
    linker
        .define_unknown_imports_as_traps(&module)
        .map_err(wrap)?;

    let mut store = Store::new(runtime.engine(), Vec::new());
    store.set_epoch_deadline(INIT_TIMEOUT_TICKS);
    store.epoch_deadline_trap();
    let failed = |store: &Store<Vec<u8>>, e: wasmtime::Error| {
        let said = String::from_utf8_lossy(store.data()).trim().to_string();
        Error::invalid(format!(
            "starting the Go runtime failed: {e:#}{}",
            if said.is_empty() { String::new() } else { format!("\n{said}") }
        ))
        .with_hint("package init functions run at build time: they cannot read config, files or the network")
    };
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => return Err(failed(&store, e)),
    };
    let init = instance
        .get_typed_func::<(), ()>(&mut store, INITIALIZE)
        .map_err(|e| Error::invalid(format!("the module has no `{INITIALIZE}`: {e:#}")))?;
    if let Err(e) = init.call(&mut store, ()) {
        return Err(failed(&store, e));
    }
    let mut state = CoreSnapshotting {
        store: &mut store,
        instance,
    };
    block_on(wizer.snapshot(&cx, &mut state))
        .map_err(|e| Error::internal(format!("Wizer could not snapshot the module: {e:#}")))
}

/// Reads the instrumented core instance's globals and memory for Wizer.
struct CoreSnapshotting<'a> {
    store: &'a mut Store<Vec<u8>>,
    instance: wasmtime::Instance,
}

impl wasmtime_wizer::InstanceState for CoreSnapshotting<'_> {
    async fn global_get(
        &mut self,
        name: &str,
        _type_hint: wasmtime_wizer::ValType,
    ) -> wasmtime_wizer::SnapshotVal {
        let global = self
            .instance
            .get_global(&mut *self.store, name)
            .unwrap_or_else(|| panic!("Wizer global `{name}` missing"));
        match global.get(&mut *self.store) {
            wasmtime::Val::I32(v) => wasmtime_wizer::SnapshotVal::I32(v),
            wasmtime::Val::I64(v) => wasmtime_wizer::SnapshotVal::I64(v),
            wasmtime::Val::F32(v) => wasmtime_wizer::SnapshotVal::F32(v),
            wasmtime::Val::F64(v) => wasmtime_wizer::SnapshotVal::F64(v),
            wasmtime::Val::V128(v) => wasmtime_wizer::SnapshotVal::V128(v.as_u128()),
            other => panic!("Wizer global `{name}` has an unsupported value {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut *self.store, name)
            .unwrap_or_else(|| panic!("Wizer memory `{name}` missing"));
        contents(memory.data(&*self.store));
    }
}
