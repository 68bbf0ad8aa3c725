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

/// The command line of the Wizer CLI that componentize-js runs (and nothing more):
/// `--allow-wasi --init-func F --dir=D --mapdir=G::H --wasm-bulk-memory=true
/// --inherit-env=true -o=OUT IN`, with StarlingMonkey's own arguments on stdin.
#[derive(Debug, Default, PartialEq)]
pub struct WizerArgs {
    pub init_func: String,
    pub dirs: Vec<String>,
    /// (guest, host)
    pub mapdirs: Vec<(String, String)>,
    pub output: String,
    pub input: String,
}

impl WizerArgs {
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut parsed = WizerArgs::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with('-') => (flag, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                value
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| Error::invalid(format!("wizer: {flag} needs a value")))
            };
            match flag {
                "--allow-wasi" => {}
                "--wasm-bulk-memory" | "--inherit-env" => {
                    if value()? != "true" {
                        return Err(Error::invalid(format!(
                            "wizer: only {flag}=true is supported"
                        )));
                    }
                }
                "--init-func" => parsed.init_func = value()?,
                "--dir" => parsed.dirs.push(value()?),
                "--mapdir" => {
                    let v = value()?;
                    let (guest, host) = v
                        .split_once("::")
                        .ok_or_else(|| Error::invalid(format!("wizer: bad --mapdir {v}")))?;
                    parsed.mapdirs.push((guest.to_string(), host.to_string()));
                }
                "-o" => parsed.output = value()?,
                f if f.starts_with('-') => {
                    return Err(Error::invalid(format!("wizer: unsupported option {f}")));
                }
                input => parsed.input = input.to_string(),
            }
        }
        if parsed.init_func.is_empty() || parsed.output.is_empty() || parsed.input.is_empty() {
            return Err(Error::invalid(
                "wizer: --init-func, -o and an input module are needed",
            ));
        }
        Ok(parsed)
    }
}

/// Where every `--dir` is seen by the guest, whatever its path on this machine: the snapshot
/// holds the paths the engine was given (componentize-js makes a new temporary directory for
/// each build), so a fixed one keeps two builds identical.
const FIXED_SOURCES: &str = "/componentize";

/// Runs a core module's initializer once under WASI preview1 and writes the snapshot, like
/// the Wizer CLI componentize-js would run, but reproducibly: clocks stopped, random bytes
/// fixed (as for Rust components), and each `--dir` at one fixed guest path, with its host
/// path in the arguments on stdin replaced by that path.
pub fn run_wizer_cli(args: &WizerArgs, stdin: &str) -> Result<()> {
    use wasmtime_wasi::p1::WasiP1Ctx;
    use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

    let mut stdin = stdin.to_string();
    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdout()
        .inherit_stderr()
        // What componentize-js passes (its own variables), without what the shell of the
        // wrapper script adds: PWD would put the project's path into the snapshot.
        .envs(
            &std::env::vars()
                .filter(|(name, _)| !["PWD", "OLDPWD", "SHLVL", "_"].contains(&name.as_str()))
                .collect::<Vec<_>>(),
        )
        .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a; 32]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![0xa5; 32]))
        .insecure_random_seed(0)
        .wall_clock(skill_engine::host::FixedClock)
        .monotonic_clock(skill_engine::host::FixedClock);
    for (i, dir) in args.dirs.iter().enumerate() {
        let guest = if i == 0 {
            FIXED_SOURCES.to_string()
        } else {
            format!("{FIXED_SOURCES}{i}")
        };
        stdin = stdin.replace(dir.as_str(), &guest);
        wasi.preopened_dir(dir, &guest, FsPerms::ReadOnly)
            .map_err(|e| Error::io("open", std::path::Path::new(dir), std::io::Error::other(e)))?;
    }
    for (guest, host) in &args.mapdirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
            .map_err(|e| Error::io("open", std::path::Path::new(host), std::io::Error::other(e)))?;
    }
    wasi.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
        stdin.into_bytes(),
    ));
    let ctx: WasiP1Ctx = wasi.build_p1();

    let input = std::fs::read(&args.input)
        .map_err(|e| Error::io("read", std::path::Path::new(&args.input), e))?;
    let mut wizer = Wizer::new();
    wizer.init_func(&args.init_func);
    let (cx, instrumented) = wizer
        .instrument(&input)
        .map_err(|e| Error::invalid(format!("Wizer could not instrument the module: {e:#}")))?;
    // No skill home here (componentize-js passes its own environment): an engine of its own.
    let engine = skill_engine::engine::new_engine()?;
    let _ticker = skill_engine::engine::EpochTicker::start(&engine);
    let module = wasmtime::Module::new(&engine, &instrumented)
        .map_err(|e| Error::internal(format!("compiling the instrumented module: {e:#}")))?;
    let mut linker: wasmtime::Linker<WasiP1Ctx> = wasmtime::Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)
        .map_err(|e| Error::internal(format!("WASI preview1: {e:#}")))?;
    // StarlingMonkey also imports WASI 0.2 functions directly; its initializer calls none of
    // them (as with the Wizer CLI, calling one traps).
    linker
        .define_unknown_imports_as_traps(&module)
        .map_err(|e| Error::internal(format!("defining the module's other imports: {e:#}")))?;
    let mut store = Store::new(&engine, ctx);
    store.set_epoch_deadline(INIT_TIMEOUT_TICKS);
    store.epoch_deadline_trap();
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| Error::invalid(format!("instantiating for pre-initialization: {e:#}")))?;
    // As the Wizer CLI does: a reactor's `_initialize` (wasi-libc's start) runs first.
    if args.init_func != "_initialize"
        && let Ok(start) = instance.get_typed_func::<(), ()>(&mut store, "_initialize")
    {
        start.call(&mut store, ()).map_err(|e| {
            Error::invalid(format!("Error: the `_initialize` function trapped\n{e:?}"))
        })?;
    }
    let init = instance
        .get_typed_func::<(), ()>(&mut store, &args.init_func)
        .map_err(|e| Error::invalid(format!("the `{}` export: {e:#}", args.init_func)))?;
    // componentize-js reads this prefix from stderr to report a trap in the author's code.
    init.call(&mut store, ()).map_err(|e| {
        Error::invalid(format!(
            "Error: the `{}` function trapped\n{e:?}",
            args.init_func
        ))
    })?;
    let mut state = CoreSnapshotting {
        store: &mut store,
        instance,
    };
    let snapshot = block_on(wizer.snapshot(&cx, &mut state))
        .map_err(|e| Error::internal(format!("Wizer could not snapshot the module: {e:#}")))?;
    std::fs::write(&args.output, snapshot)
        .map_err(|e| Error::io("write", std::path::Path::new(&args.output), e))
}

/// Reads the instrumented core instance's globals and memory for Wizer.
struct CoreSnapshotting<'a> {
    store: &'a mut Store<wasmtime_wasi::p1::WasiP1Ctx>,
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
