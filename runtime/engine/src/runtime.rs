//! Loading and running skills: compile once (through the AOT cache), link once
//! (`InstancePre`), then a fresh, limited, sandboxed `Store` per call — or per kept
//! instance, for servers (`WarmInstance`).
//!
//! Calls run asynchronously so that a deadline bounds wall time, not only guest CPU: the
//! epoch deadline stops a guest that computes, and dropping the call's future at the same
//! deadline stops one that waits in the host (a sleep, a poll, an HTTP response). Sync
//! callers (the CLI) go through [`block_on`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::aot::{AotCache, CacheOutcome};
use crate::bindings::{ContractVersion, types as wit};
use crate::contract::{ContractReport, check_component};
use crate::engine::{
    EPOCH_TICK, EpochTicker, PoolSize, new_engine, new_linker, new_pooled_engine, new_sync_linker,
};
use crate::guest::{GuestFuncs, GuestIndices};
use crate::host::{EventSink, HostState, ToolRouter};
use crate::network::{NetworkPolicy, Refusal};
use skill_manifest::args::ArgValue;
use skill_manifest::args::Args;
use skill_manifest::error::{Error, ErrorKind, Remedy, Result};
use skill_manifest::limits::{
    DESCRIBE_FUEL, Limits, MAX_COMPONENT_HANDLES, MAX_RESOURCES, REUSE_MAX_RESOURCES,
    REUSE_OUTPUT_BUDGET,
};
use skill_manifest::manifest::ToolDef;
use skill_manifest::manifest::{
    GuestParam, GuestTool, GuestToolDetails, ParamKind, SkillInfo, ToolAnnotations,
};
use skill_store::dirs::Sandbox;
use skill_store::fsutil::sha256_hex;
use skill_store::home::SkillHome;

/// Everything a call needs besides the tool name and its arguments.
#[derive(Clone, Default)]
pub struct CallOptions {
    pub limits: Limits,
    pub sandbox: Sandbox,
    /// The instance's configuration, as `config-get` returns it.
    pub config: BTreeMap<String, String>,
    /// Receives the guest's log and progress events as they happen.
    pub events: Option<EventSink>,
    /// Where the guest's `call-tool` goes; without one, it is refused.
    pub router: Option<std::sync::Arc<dyn ToolRouter>>,
}

/// What a successful tool call returned.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolOutput {
    pub text: String,
    /// Machine-readable result (JSON), when the tool gave one.
    pub data: Option<serde_json::Value>,
}

/// The contract's `tool-error`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ToolError {
    UnknownTool(String),
    InvalidArgs(String),
    NotConfigured(String),
    Failed(String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::UnknownTool(m) => write!(f, "unknown tool: {m}"),
            ToolError::InvalidArgs(m) => write!(f, "invalid arguments: {m}"),
            ToolError::NotConfigured(m) => write!(f, "not configured: {m}"),
            ToolError::Failed(m) => f.write_str(m),
        }
    }
}

/// A finished call: the tool's result plus whatever the guest wrote to stdout/stderr
/// (captured, never inherited).
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub result: std::result::Result<ToolOutput, ToolError>,
    /// Outgoing requests the network filter refused, with the reason.
    pub refused: Vec<Refusal>,
    /// Log and progress events dropped because the call had used up its share of them.
    pub events_dropped: u64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
}

/// The engine, linker and AOT cache: create one per process and share it.
pub struct Runtime {
    engine: Engine,
    linker: wasmtime::component::Linker<HostState>,
    /// For build-time work that calls a guest synchronously (Wizer), made on first use.
    sync_linker: OnceLock<wasmtime::component::Linker<HostState>>,
    cache: AotCache,
    _ticker: EpochTicker,
}

/// How a server's runtime got its instances.
#[derive(Debug, Clone)]
pub enum Allocation {
    Pooled(PoolSize),
    /// The pool's reservation was refused; each call maps its own memory.
    OnDemand {
        reason: String,
    },
}

/// Runs `future` to completion from synchronous code: on the surrounding tokio runtime when
/// there is one (a server's blocking thread), else on this thread's own small runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    // Never dropped (a static): dropping a runtime waits for its blocking threads, and one may
    // be stuck for good in an open that never returns (a FIFO in a granted directory) after
    // its call was dropped at the deadline. The process exits without waiting for it.
    static LOCAL: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => LOCAL
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime for synchronous calls")
            })
            .block_on(future),
    }
}

impl Runtime {
    pub fn new(home: &SkillHome) -> Result<Self> {
        Self::with_engine(home, new_engine()?)
    }

    /// For long-running servers: the pooling allocator when the OS grants its reservation,
    /// the on-demand one otherwise (the reason is returned for a warning).
    pub fn for_server(home: &SkillHome, size: PoolSize) -> Result<(Self, Allocation)> {
        match new_pooled_engine(size) {
            Ok(engine) => Ok((Self::with_engine(home, engine)?, Allocation::Pooled(size))),
            Err(e) => Ok((
                Self::new(home)?,
                Allocation::OnDemand {
                    reason: e.to_string(),
                },
            )),
        }
    }

    fn with_engine(home: &SkillHome, engine: Engine) -> Result<Self> {
        let linker = new_linker(&engine)?;
        let cache = AotCache::open(&home.aot_cache_dir(), &engine)?;
        let ticker = EpochTicker::start(&engine);
        Ok(Runtime {
            engine,
            linker,
            sync_linker: OnceLock::new(),
            cache,
            _ticker: ticker,
        })
    }

    pub fn cache(&self) -> &AotCache {
        &self.cache
    }

    /// For build-time work that runs a guest outside the sandboxed call path (Wizer).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A linker whose host functions may be called synchronously (Wizer's initializer run).
    pub fn sync_linker(&self) -> Result<&wasmtime::component::Linker<HostState>> {
        if let Some(linker) = self.sync_linker.get() {
            return Ok(linker);
        }
        let linker = new_sync_linker(&self.engine)?;
        Ok(self.sync_linker.get_or_init(|| linker))
    }

    /// Checks `bytes` against the contract, then compiles it (or takes it from the cache).
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<LoadedSkill> {
        let report = check_component(bytes)?.into_result()?;
        let sha256 = sha256_hex(bytes);
        let (component, cache) = self
            .cache
            .load_or_compile(&self.engine, &sha256, || Ok(bytes.to_vec()))?;
        self.link(component, cache, Some(report), sha256)
    }

    /// Loads an installed component whose digest the store recorded. The component file is
    /// only read when the cache has no valid entry, and is then checked against `sha256`.
    pub fn load_installed(&self, component_path: &Path, sha256: &str) -> Result<LoadedSkill> {
        let (component, cache) = self.cache.load_or_compile(&self.engine, sha256, || {
            let bytes =
                std::fs::read(component_path).map_err(|e| Error::io("read", component_path, e))?;
            if sha256_hex(&bytes) != sha256 {
                return Err(Error::invalid(format!(
                    "{} does not match the digest recorded at install time",
                    component_path.display()
                ))
                .with_hint("the store was modified by hand; reinstall the skill"));
            }
            check_component(&bytes)?.into_result()?;
            Ok(bytes)
        })?;
        self.link(component, cache, None, sha256.to_string())
    }

    fn link(
        &self,
        component: wasmtime::component::Component,
        cache: CacheOutcome,
        report: Option<ContractReport>,
        sha256: String,
    ) -> Result<LoadedSkill> {
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            Error::contract(format!(
                "component cannot be linked against the skill host: {e:#}"
            ))
            .with_hint(
                "its imports do not match what the host provides; rebuild it against this contract",
            )
        })?;
        let guest = GuestIndices::new(&instance_pre).map_err(|e| {
            Error::contract(format!(
                "component's exports do not match the skill contract: {e:#}"
            ))
            .with_hint("rebuild the skill against the current skill SDK")
        })?;
        Ok(LoadedSkill {
            pre: instance_pre,
            guest,
            engine: self.engine.clone(),
            cache,
            report,
            sha256,
        })
    }
}

/// A compiled, linked skill, ready to instantiate cheaply for each call.
pub struct LoadedSkill {
    pre: wasmtime::component::InstancePre<HostState>,
    guest: GuestIndices,
    engine: Engine,
    pub cache: CacheOutcome,
    /// Set when the component was checked while loading (not for installed, pre-checked ones).
    pub report: Option<ContractReport>,
    pub sha256: String,
}

impl LoadedSkill {
    /// The contract version the component implements.
    pub fn contract(&self) -> ContractVersion {
        self.guest.version
    }

    /// Calls `info()` and `tools()` in one instance: what build and install record. What the
    /// guest may return is bounded (4 MiB in all) and checked by [`ToolDef::from_guest`].
    pub fn describe(&self) -> Result<(SkillInfo, Vec<ToolDef>)> {
        block_on(self.describe_async())
    }

    async fn describe_async(&self) -> Result<(SkillInfo, Vec<ToolDef>)> {
        let options = CallOptions::default();
        let (mut store, out, err) = self.new_store(&options);
        store.set_hostcall_fuel(DESCRIBE_FUEL);
        let started = Instant::now();
        let work = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let guest = self.guest.load(&mut store, &instance)?;
            let (info,) = guest.info.call_async(&mut store, ()).await?;
            let (tools,) = guest.tools.call_async(&mut store, ()).await?;
            let details = match &guest.tool_details {
                Some(func) => func.call_async(&mut store, ()).await?.0,
                None => Vec::new(),
            };
            wasmtime::Result::Ok((info, tools, details))
        };
        let what = "describing the skill";
        let (info, tools, details) = match tokio::time::timeout(options.limits.timeout, work).await
        {
            Ok(Ok(described)) => described,
            Ok(Err(e)) if mentions_fuel(&e) => {
                return Err(Error::contract(format!(
                    "{what}: it returned more than {} MiB of metadata",
                    DESCRIBE_FUEL >> 20
                ))
                .with_hint(format!(
                    "a skill declares at most {} tools, each with a short description (limits in docs/instances.md)",
                    skill_manifest::manifest::MAX_TOOLS
                )));
            }
            Ok(Err(e)) => {
                return Err(trap_error(
                    e,
                    what,
                    &options,
                    &out.contents(),
                    &err.contents(),
                    started,
                ));
            }
            Err(_) => return Err(timeout_error(what, &options, started)),
        };
        let info = SkillInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            author: info.author,
            license: info.license,
            repository: info.repository,
        };
        skill_manifest::manifest::check_info(&info)?;
        Ok((
            info,
            ToolDef::from_guest(
                tools.into_iter().map(guest_tool).collect(),
                details.into_iter().map(guest_tool_details).collect(),
            )?,
        ))
    }

    /// Asks the skill's own `validate-config` export whether `config` is acceptable.
    /// `Ok(Err(message))` is the skill's refusal.
    pub fn validate_config(
        &self,
        config: &BTreeMap<String, String>,
        options: &CallOptions,
    ) -> Result<std::result::Result<(), String>> {
        block_on(async {
            let (mut store, out, err) = self.new_store(options);
            let started = Instant::now();
            let pairs: Vec<(String, String)> = config.clone().into_iter().collect();
            let work = async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                let guest = self.guest.load(&mut store, &instance)?;
                let (answer,) = guest
                    .validate_config
                    .call_async(&mut store, (pairs,))
                    .await?;
                wasmtime::Result::Ok(answer)
            };
            let what = "validating the config";
            match tokio::time::timeout(options.limits.timeout, work).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => Err(trap_error(
                    e,
                    what,
                    options,
                    &out.contents(),
                    &err.contents(),
                    started,
                )),
                Err(_) => Err(timeout_error(what, options, started)),
            }
        })
    }

    /// Runs one tool in a fresh store. `Err` means the host could not run it (trap, timeout,
    /// limits); a tool that ran and failed is `Ok` with `result: Err(ToolError)`.
    pub fn execute(&self, tool: &str, args: &Args, options: &CallOptions) -> Result<CallOutcome> {
        block_on(self.execute_async(tool, args, options))
    }

    /// [`LoadedSkill::execute`] for async callers. Instantiation counts toward the timeout.
    pub async fn execute_async(
        &self,
        tool: &str,
        args: &Args,
        options: &CallOptions,
    ) -> Result<CallOutcome> {
        let started = Instant::now();
        let mut instance = self.instantiate_async(options).await?;
        let left = options.limits.timeout.saturating_sub(started.elapsed());
        let mut outcome = instance
            .execute_async(tool, args, left, options.events.clone())
            .await?;
        outcome.duration = started.elapsed();
        Ok(outcome)
    }

    /// A new instance in its own sandboxed store, for one call or for a server to keep
    /// between calls of the same skill instance ([`WarmInstance`]).
    pub fn instantiate(&self, options: &CallOptions) -> Result<WarmInstance> {
        block_on(self.instantiate_async(options))
    }

    /// [`LoadedSkill::instantiate`] for async callers, bounded by the call's timeout.
    pub async fn instantiate_async(&self, options: &CallOptions) -> Result<WarmInstance> {
        let (mut store, stdout, stderr) = self.new_store(options);
        let started = Instant::now();
        let what = "instantiating the skill";
        let instantiate = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            self.guest.load(&mut store, &instance)
        };
        let guest = match within(options.limits.timeout, instantiate).await {
            Ok(Ok(skill)) => skill,
            Ok(Err(e)) => {
                return Err(trap_error(
                    e,
                    what,
                    options,
                    &stdout.contents(),
                    &stderr.contents(),
                    started,
                ));
            }
            Err(_) => return Err(timeout_error(what, options, started)),
        };
        Ok(WarmInstance {
            store,
            guest,
            stdout,
            stderr,
            options: options.clone(),
            output_seen: (0, 0),
            calls: 0,
            broken: false,
            sha256: self.sha256.clone(),
        })
    }

    /// The name of the component's `wasi:cli/run` export (any 0.2.x), when it has one: what
    /// `skill exec` runs.
    pub fn command_export(&self) -> Option<String> {
        let component = self.pre.component();
        component
            .component_type()
            .exports(component.engine())
            .map(|(name, _)| name)
            .find(|name| {
                name.strip_prefix(crate::bindings::COMMAND_EXPORT)
                    .and_then(|v| v.strip_prefix("@0.2."))
                    .is_some()
            })
            .map(str::to_string)
    }

    /// Runs the component's `wasi:cli/run` with `args` (the first one is the program's name),
    /// this process's stdin, stdout and stderr attached, in the sandbox and limits of
    /// `options`. Returns the exit code: 0, 1 when `run` returns an error, or what the guest
    /// passed to `exit`.
    pub fn run_command(&self, args: &[String], options: &CallOptions) -> Result<i32> {
        block_on(self.run_command_async(args, options))
    }

    async fn run_command_async(&self, args: &[String], options: &CallOptions) -> Result<i32> {
        let Some(export) = self.command_export() else {
            return Err(Error::invalid("this skill is not a command: it has no `main`")
                .with_hint("a skill becomes one by exporting wasi:cli/run (in Rust: `skill_sdk::export! { tools: [...], main: cli_main }`); its tools run with `skill run`"));
        };
        let component = self.pre.component();
        let run = component
            .get_export_index(None, export.as_str())
            .and_then(|instance| component.get_export_index(Some(&instance), "run"))
            .ok_or_else(|| {
                Error::contract(format!("`{export}` does not export `run`"))
                    .with_hint("rebuild the skill against the current skill SDK")
            })?;
        let (mut store, stdout, stderr) = self.new_store_for(options, Some(args));
        let started = Instant::now();
        let what = "the command";
        let work = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let func =
                instance.get_typed_func::<(), (std::result::Result<(), ()>,)>(&mut store, &run)?;
            let (result,) = func.call_async(&mut store, ()).await?;
            wasmtime::Result::Ok(result)
        };
        let outcome: std::result::Result<wasmtime::Result<std::result::Result<(), ()>>, _> =
            within(options.limits.timeout, work).await;
        match outcome {
            Ok(Ok(Ok(()))) => Ok(0),
            Ok(Ok(Err(()))) => Ok(1),
            Ok(Err(e)) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => Ok(exit.0),
                None => Err(trap_error(
                    e,
                    what,
                    options,
                    &stdout.contents(),
                    &stderr.contents(),
                    started,
                )),
            },
            Err(_) => Err(timeout_error(what, options, started)),
        }
    }

    fn new_store(
        &self,
        options: &CallOptions,
    ) -> (Store<HostState>, MemoryOutputPipe, MemoryOutputPipe) {
        self.new_store_for(options, None)
    }

    /// A store for one call; for a command (`args`), with the terminal's stdio attached
    /// instead of captured (the pipes returned then stay empty).
    fn new_store_for(
        &self,
        options: &CallOptions,
        command: Option<&[String]>,
    ) -> (Store<HostState>, MemoryOutputPipe, MemoryOutputPipe) {
        // Room for the output of earlier calls when the instance is kept (see WarmInstance);
        // each call's own share is still checked against `output_bytes`.
        let capacity = options.limits.output_bytes + REUSE_OUTPUT_BUDGET;
        let stdout = MemoryOutputPipe::new(capacity);
        let stderr = MemoryOutputPipe::new(capacity);
        // Deny by default: only what the sandbox lists; no arguments, no sockets.
        let mut wasi = WasiCtxBuilder::new();
        // File operations run on tokio's blocking pool, not inline: a blocking open (a FIFO
        // someone put in a granted directory) must not hold the call past its deadline.
        match command {
            None => {
                wasi.stdout(stdout.clone()).stderr(stderr.clone());
            }
            Some(args) => {
                wasi.inherit_stdio().args(args);
            }
        }
        for (key, value) in &options.sandbox.env {
            wasi.env(key, value);
        }
        for dir in &options.sandbox.preopens {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            // The directory checked when the sandbox was made, opened again through its
            // descriptor: whatever its path names now does not matter.
            let _ = wasi.preopened_dir(skill_store::dirs::fd_path(&dir.dir), &dir.guest, perms);
        }
        let wasi = wasi.build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(options.limits.memory_bytes)
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(MAX_CORE_INSTANCES)
            .tables(MAX_CORE_INSTANCES)
            .memories(MAX_CORE_INSTANCES)
            .trap_on_grow_failure(true)
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let state = HostState {
            wasi,
            table,
            limits,
            config: options.config.clone(),
            events: crate::host::Events::new(options.events.clone(), options.limits.output_bytes),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            network: NetworkPolicy::new(options.sandbox.network.clone()),
            router: options.router.clone(),
            deadline: Some(tokio::time::Instant::now() + options.limits.timeout),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_hostcall_fuel(options.limits.hostcall_fuel());
        store.set_max_component_handles(MAX_COMPONENT_HANDLES);
        set_deadline(&mut store, options.limits.timeout);
        store.epoch_deadline_trap();
        (store, stdout, stderr)
    }
}

/// Table elements (funcref tables) a guest may grow to: far above what compilers emit.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Core instances, memories and tables one component may create.
const MAX_CORE_INSTANCES: usize = 64;

/// Calls one kept instance serves before it is retired, bounding what a guest can accumulate
/// (memory it grew, resources it leaked).
const REUSE_MAX_CALLS: u32 = 10_000;

/// An instantiated skill in its own store. Servers keep one between calls of the same skill
/// instance (same config, secrets, grants and limits) instead of instantiating per call:
/// a trivial call then costs a few microseconds instead of ~50 µs warm and ~120 µs cold.
/// Guest globals persist across those calls; a call that traps, times out or hits a limit
/// leaves the instance [`broken`](WarmInstance::reusable) and it must be dropped, as must
/// one that still holds network requests or many host resources after a call.
pub struct WarmInstance {
    store: Store<HostState>,
    guest: GuestFuncs,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    options: CallOptions,
    /// Bytes in the stdout and stderr pipes after the last call: where the next call's share
    /// starts (reading a pipe copies it, so this is kept rather than re-read).
    output_seen: (usize, usize),
    calls: u32,
    broken: bool,
    /// The component it was made from, so a server never reuses it after a reinstall.
    pub sha256: String,
}

impl WarmInstance {
    /// Runs one tool with a fresh deadline and event sink. Errors as [`LoadedSkill::execute`].
    pub fn execute(
        &mut self,
        tool: &str,
        args: &Args,
        timeout: Duration,
        events: Option<EventSink>,
    ) -> Result<CallOutcome> {
        block_on(self.execute_async(tool, args, timeout, events))
    }

    /// [`WarmInstance::execute`] for async callers: the call is dropped at `timeout`,
    /// wherever the guest is (computing, or waiting in the host).
    pub async fn execute_async(
        &mut self,
        tool: &str,
        args: &Args,
        timeout: Duration,
        events: Option<EventSink>,
    ) -> Result<CallOutcome> {
        let started = Instant::now();
        self.calls += 1;
        {
            let state = self.store.data_mut();
            state.events = crate::host::Events::new(events, self.options.limits.output_bytes);
            let deadline = tokio::time::Instant::now() + timeout;
            state.network.deadline = Some(deadline);
            state.deadline = Some(deadline);
        }
        set_deadline(&mut self.store, timeout);
        let (out_start, err_start) = self.output_seen;
        let wit_args: Vec<wit::Arg> = args
            .iter()
            .map(|(name, value)| wit::Arg {
                name: name.clone(),
                value: wit_value(value),
            })
            .collect();
        let call = self
            .guest
            .execute
            .call_async(&mut self.store, (tool.to_string(), wit_args));
        let result = within(timeout, call).await.map(|r| r.map(|(r,)| r));
        let (events_dropped, refused) = {
            let state = self.store.data_mut();
            let dropped = state.events.dropped();
            state.events = crate::host::Events::default();
            state.network.deadline = None;
            (dropped, state.network.take_refused())
        };
        let (stdout, stderr) = (self.stdout.contents(), self.stderr.contents());
        self.output_seen = (stdout.len(), stderr.len());
        let (stdout, stderr) = (stdout.slice(out_start..), stderr.slice(err_start..));
        let what = format!("tool `{tool}`");
        // The instance's options with this call's timeout, for error messages only.
        let options = || {
            let mut options = self.options.clone();
            options.limits.timeout = timeout;
            options
        };
        let result = match result {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => {
                self.broken = true;
                if mentions_fuel(&e) {
                    return Err(output_limit_error(&what, &options()));
                }
                return Err(trap_error(e, &what, &options(), &stdout, &stderr, started));
            }
            Err(_) => {
                // Dropped mid-call: the store may be anywhere; it is never used again.
                self.broken = true;
                return Err(timeout_error(&what, &options(), started));
            }
        };
        // A guest that handles the write errors itself still hit the cap: report it, and the
        // result too when it alone is larger than the cap.
        let cap = self.options.limits.output_bytes;
        let result_size = match &result {
            Ok(output) => output.text.len() + output.data.as_ref().map_or(0, String::len),
            Err(_) => 0,
        };
        if stdout.len() >= cap || stderr.len() >= cap || result_size > cap {
            self.broken = true;
            return Err(output_limit_error(&what, &options()));
        }
        let result = match result {
            Ok(output) => Ok(ToolOutput {
                data: parse_data(tool, output.data)?,
                text: output.text,
            }),
            Err(e) => Err(tool_error(e)),
        };
        Ok(CallOutcome {
            result,
            refused,
            events_dropped,
            stdout: stdout.to_vec(),
            stderr: stderr.to_vec(),
            duration: started.elapsed(),
        })
    }

    /// Whether another call may run in this instance: no call broke it, it has not yet
    /// served its share of calls or output, and it holds no open network request and only a
    /// few host resources (files and streams it keeps open pin descriptors).
    pub fn reusable(&mut self) -> bool {
        !self.broken
            && self.calls < REUSE_MAX_CALLS
            && self.output_seen.0 < REUSE_OUTPUT_BUDGET
            && self.output_seen.1 < REUSE_OUTPUT_BUDGET
            && self.store.data().network.open_requests() == 0
            && self.store.data_mut().table.iter_mut().count() <= REUSE_MAX_RESOURCES
    }
}

/// `future`, dropped if it has not finished within `timeout`. The timer is armed only when
/// the future waits: registering one can wake tokio's driver thread (a syscall), which a call
/// that never waits in the host (most calls) need not pay.
pub async fn within<F: Future>(
    timeout: Duration,
    future: F,
) -> std::result::Result<F::Output, tokio::time::error::Elapsed> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(output) => Ok(output),
        std::task::Poll::Pending => tokio::time::timeout_at(deadline, future).await,
    }
}

/// Gives the store `timeout` from now, in epoch ticks (at least one).
fn set_deadline(store: &mut Store<HostState>, timeout: Duration) {
    let ticks = timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
}

fn parse_data(tool: &str, data: Option<String>) -> Result<Option<serde_json::Value>> {
    data.map(|d| {
        serde_json::from_str(&d).map_err(|e| {
            Error::new(
                ErrorKind::Tool,
                format!("tool `{tool}` returned `data` that is not JSON: {e}"),
            )
            .with_hint("a skill's output.data must be serialized JSON; fix the skill")
        })
    })
    .transpose()
}

/// wasmtime's hostcall fuel ran out: the guest tried to hand the host more data in one go
/// than its limit allows. (wasmtime 48 keeps the error type private; its message is stable.)
fn mentions_fuel(err: &wasmtime::Error) -> bool {
    err.chain().any(|c| {
        c.to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
}

fn timeout_error(what: &str, options: &CallOptions, started: Instant) -> Error {
    let limit = options.limits.timeout;
    Error::new(
        ErrorKind::Timeout,
        format!("{what} timed out after {:.1?}", started.elapsed()),
    )
    // A limit is what is left of a deadline when calls nest (call-tool): show it rounded.
    .with_hint(format!("the limit is {limit:.1?}"))
    .with_remedy(raise(
        options,
        "timeout",
        format!("{}s", limit.as_millis().div_ceil(1000).max(1) * 2),
    ))
}

/// How to get past a limit: raise it (per instance, when the call came from one).
fn raise(options: &CallOptions, limit: &'static str, suggested: String) -> Remedy {
    Remedy::RaiseLimit {
        instance: options.sandbox.instance.clone(),
        limit,
        suggested,
    }
}

/// Turns a wasmtime failure into a user-facing error that says which limit was hit, if any,
/// and shows the end of what the guest wrote to stderr (a panic message, usually).
fn trap_error(
    err: wasmtime::Error,
    what: &str,
    options: &CallOptions,
    stdout: &[u8],
    stderr: &[u8],
    started: Instant,
) -> Error {
    let limits = &options.limits;
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    let mentions = |needle: &str| chain.iter().any(|c| c.contains(needle));
    // The trap itself says what happened ("wasm `unreachable` instruction executed"); the
    // outer layers only add "error while executing at wasm backtrace".
    let cause = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => first_line(&err.root_cause().to_string()).to_string(),
    };
    let mut kind = ErrorKind::Trap;
    let mut remedy = None;
    let (message, hint) = if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return timeout_error(what, options, started);
    } else if mentions("forcing trap when growing memory")
        || mentions("forcing a memory growth failure")
    {
        kind = ErrorKind::MemoryLimit;
        remedy = Some(raise(
            options,
            "memory",
            format!("{}MiB", (limits.memory_bytes >> 20) * 2),
        ));
        (
            format!(
                "{what} exceeded its memory limit of {} MiB",
                limits.memory_bytes >> 20
            ),
            "the skill needs more memory than this instance allows".to_string(),
        )
    } else if mentions("beyond capacity of MemoryOutputPipe")
        || stdout.len() >= limits.output_bytes
        || stderr.len() >= limits.output_bytes
    {
        return output_limit_error(what, options);
    } else if mentions("resource table has no free keys") || mentions("handle limit") {
        (
            format!(
                "{what} holds more than {MAX_RESOURCES} host resources (files, streams, requests) at once"
            ),
            "a skill must close what it opens; this one keeps opening".to_string(),
        )
    } else {
        (
            format!("{what} crashed: {cause}"),
            "this is a bug in the skill, not in your input".to_string(),
        )
    };
    let guest_stderr = String::from_utf8_lossy(stderr).trim().to_string();
    let message = if guest_stderr.is_empty() {
        message
    } else {
        let tail: Vec<&str> = guest_stderr
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{message}\n  guest stderr: {}", tail.join("\n  "))
    };
    let err = Error::new(kind, message).with_hint(hint);
    match remedy {
        Some(remedy) => err.with_remedy(remedy),
        None => err,
    }
}

fn output_limit_error(what: &str, options: &CallOptions) -> Error {
    let limit = options.limits.output_bytes;
    Error::new(
        ErrorKind::OutputLimit,
        format!("{what} wrote more than {} KiB of output", limit >> 10),
    )
    .with_hint("a skill returns its result through output.text / output.data, not stdout")
    .with_remedy(raise(
        options,
        "output",
        format!("{}MiB", ((limit >> 20) * 2).max(2)),
    ))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The contract's tool description as plain data, for [`ToolDef::from_guest`] to check.
fn guest_tool(tool: wit::Tool) -> GuestTool {
    GuestTool {
        name: tool.name,
        description: tool.description,
        params: tool
            .params
            .into_iter()
            .map(|p| GuestParam {
                name: p.name,
                description: p.description,
                kind: match p.kind {
                    wit::ParamKind::String => ParamKind::String,
                    wit::ParamKind::Integer => ParamKind::Integer,
                    wit::ParamKind::Number => ParamKind::Number,
                    wit::ParamKind::Boolean => ParamKind::Boolean,
                    wit::ParamKind::Json => ParamKind::Json,
                    wit::ParamKind::File => ParamKind::File,
                },
                required: p.required,
                default_value: p.default_value,
                choices: p.choices,
            })
            .collect(),
    }
}

fn guest_tool_details(details: wit::ToolDetails) -> GuestToolDetails {
    let a = details.annotations;
    GuestToolDetails {
        tool: details.tool,
        title: details.title,
        annotations: ToolAnnotations {
            read_only: a.read_only,
            destructive: a.destructive,
            idempotent: a.idempotent,
            open_world: a.open_world,
        },
        output_schema: details.output_schema,
    }
}

fn tool_error(error: wit::ToolError) -> ToolError {
    match error {
        wit::ToolError::UnknownTool(m) => ToolError::UnknownTool(m),
        wit::ToolError::InvalidArgs(m) => ToolError::InvalidArgs(m),
        wit::ToolError::NotConfigured(m) => ToolError::NotConfigured(m),
        wit::ToolError::Failed(m) => ToolError::Failed(m),
    }
}

/// A routed call's error, handed back to the calling guest.
pub(crate) fn wit_tool_error(error: ToolError) -> wit::ToolError {
    match error {
        ToolError::UnknownTool(m) => wit::ToolError::UnknownTool(m),
        ToolError::InvalidArgs(m) => wit::ToolError::InvalidArgs(m),
        ToolError::NotConfigured(m) => wit::ToolError::NotConfigured(m),
        ToolError::Failed(m) => wit::ToolError::Failed(m),
    }
}

/// A routed call's output, handed back to the calling guest.
pub(crate) fn wit_output(output: ToolOutput) -> wit::Output {
    wit::Output {
        text: output.text,
        data: output.data.map(|d| d.to_string()),
    }
}

/// A checked argument as the contract's `value`.
fn wit_value(value: &ArgValue) -> wit::Value {
    match value {
        ArgValue::Text(s) => wit::Value::Text(s.clone()),
        ArgValue::Integer(i) => wit::Value::Integer(*i),
        ArgValue::Number(n) => wit::Value::Number(*n),
        ArgValue::Boolean(b) => wit::Value::Boolean(*b),
        ArgValue::Json(j) => wit::Value::Json(j.clone()),
    }
}
