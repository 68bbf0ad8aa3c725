//! The wasmtime engine and linker every command shares, configured in one place: the AOT
//! cache key includes the engine's compatibility hash, so build, install and run must agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, OptLevel};

use crate::bindings::{CONTRACT_VERSIONS, types};
use crate::host::HostState;
use skill_manifest::error::{Error, Result};

/// How often the epoch advances. Deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub fn new_engine() -> Result<Engine> {
    Engine::new(&base_config())
        .map_err(|e| Error::internal(format!("failed to create the wasm engine: {e}")))
}

/// The settings every engine shares. Allocation strategy is not part of the AOT compatibility
/// hash, so a pooled server engine reads the same `.cwasm` files as the CLI's.
fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.cranelift_opt_level(OptLevel::Speed);
    // CPU time is bounded by epoch deadlines; a ticker thread advances the epoch.
    config.epoch_interruption(true);
    config
}

/// How many calls a pooled engine can run at once, and the largest memory one may grow to.
/// Sized for a small (2-core) machine serving many short calls; the slots are address space
/// reservations, committed only as guests touch them.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub concurrent_calls: u32,
    pub max_memory_bytes: usize,
}

impl Default for PoolSize {
    fn default() -> Self {
        PoolSize {
            concurrent_calls: 128,
            max_memory_bytes: 1 << 30,
        }
    }
}

/// An engine whose instances come from pre-reserved slots: instantiation skips mmap/munmap
/// and reuses warm memory. Fails when the OS refuses the reservation (a low `ulimit -v`,
/// strict overcommit); callers fall back to [`new_engine`].
pub fn new_pooled_engine(size: PoolSize) -> Result<Engine> {
    let calls = size.concurrent_calls.max(1);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    // A component made by componentize-js or componentize-py holds a dozen or so core
    // instances, memories and tables; these per-component maxima leave room for them.
    pool.total_component_instances(calls)
        .total_core_instances(calls * 16)
        .total_memories(calls * 2)
        .total_tables(calls * 8)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_tables_per_module(8)
        .table_elements(200_000)
        .max_component_instance_size(4 << 20)
        .max_core_instance_size(4 << 20)
        .max_memory_size(size.max_memory_bytes)
        // Calls run on fibers (`call_async`); keeping the top of each pooled fiber stack
        // resident spares every call the madvise and the page faults of a fresh stack.
        .async_stack_keep_resident(64 << 10);
    let mut config = base_config();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| {
        Error::internal(format!(
            "failed to reserve the instance pool ({calls} slots): {e}"
        ))
    })
}

/// WASI p2, wasi:http (filtered per call) and the contract's `host` interface, for calls made
/// with `call_async`: a host wait is then a point where the call can be dropped at its
/// deadline.
pub fn new_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| Error::internal(format!("failed to link WASI: {e}")))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| Error::internal(format!("failed to link wasi:http: {e}")))?;
    add_skill_host(&mut linker, CallTool::Async)?;
    Ok(linker)
}

/// The same imports with host functions that run synchronously, for build-time code that
/// calls a guest with plain `call` (Wizer's initializer run).
pub fn new_sync_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| Error::internal(format!("failed to link WASI: {e}")))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(|e| Error::internal(format!("failed to link wasi:http: {e}")))?;
    add_skill_host(&mut linker, CallTool::Refused)?;
    Ok(linker)
}

/// How a linker answers `call-tool`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallTool {
    /// Routed to the callee, waited for asynchronously.
    Async,
    /// Refused: build-time pre-initialization calls guests synchronously and never has a
    /// router (nothing a skill's initializer does may depend on another skill).
    Refused,
}

type CallToolArgs = (String, String, Vec<types::Arg>);
type CallToolResult = (Result<types::Output, types::ToolError>,);

/// The contract's `host` interface (and its types-only `types` interface) under every
/// supported version. Each version is linked by its own name: while the major version is 0,
/// wasmtime does not treat 0.1 and 0.2 as compatible, and 0.1 components must keep linking.
fn add_skill_host(linker: &mut Linker<HostState>, call_tool: CallTool) -> Result<()> {
    let failed =
        |e: wasmtime::Error| Error::internal(format!("failed to link the skill host: {e}"));
    for version in CONTRACT_VERSIONS {
        linker
            .instance(&version.types_interface())
            .map_err(failed)?;
        let mut host = linker.instance(&version.host_import()).map_err(failed)?;
        host.func_wrap("config-get", |store, (key,): (String,)| {
            Ok((store.data().config_get(&key),))
        })
        .map_err(failed)?;
        host.func_wrap(
            "log",
            |mut store, (level, message): (types::LogLevel, String)| {
                store.data_mut().log(level, message);
                Ok(())
            },
        )
        .map_err(failed)?;
        host.func_wrap(
            "progress",
            |mut store, (percent, message): (Option<u8>, String)| {
                store.data_mut().progress(percent, message);
                Ok(())
            },
        )
        .map_err(failed)?;
        if !version.has_call_tool() {
            continue;
        }
        match call_tool {
            CallTool::Async => {
                host.func_wrap_async("call-tool", |store, (skill, tool, args): CallToolArgs| {
                    let request = store.data().call_tool_request(skill, tool, args);
                    Box::new(async move {
                        let result: CallToolResult = match request {
                            Ok((router, call)) => (router
                                .route(call)
                                .await
                                .map(crate::runtime::wit_output)
                                .map_err(crate::runtime::wit_tool_error),),
                            Err(refused) => (Err(refused),),
                        };
                        Ok(result)
                    })
                })
            }
            CallTool::Refused => host.func_wrap("call-tool", |_, _: CallToolArgs| {
                let refused: CallToolResult = (Err(types::ToolError::Failed(
                    "other skills cannot be called while a skill is pre-initialized at build time"
                        .to_string(),
                )),);
                Ok(refused)
            }),
        }
        .map_err(failed)?;
    }
    Ok(())
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped. Without it, an epoch
/// deadline would never fire (and a deadline of zero would trap at once).
///
/// Dropping it wakes and joins the thread: a process that exits while the ticker sleeps waits
/// for the kernel to tear the thread down (measured ~0.7 ms on every `skill run`).
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("skill-epoch".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn the epoch ticker thread");
        EpochTicker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // Wake it so it exits now; no need to wait for that.
            thread.thread().unpark();
        }
    }
}
