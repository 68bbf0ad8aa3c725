//! Loading and running skills: compile once (through the AOT cache), link once
//! (`InstancePre`), then a fresh, limited, sandboxed `Store` per call — or per kept
//! instance, for servers (`WarmInstance`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::aot::{AotCache, CacheOutcome};
use crate::args::Args;
use crate::bindings::{SkillPre, types as wit};
use crate::contract::{ContractReport, check_component};
use crate::engine::{EPOCH_TICK, EpochTicker, PoolSize, new_engine, new_linker, new_pooled_engine};
use crate::error::{Error, ErrorKind, Result};
use crate::fsutil::sha256_hex;
use crate::home::SkillHome;
use crate::host::{EventSink, HostState};
use crate::manifest::ToolDef;
use crate::network::NetworkPolicy;

/// Resource limits for one call. Every limit has a default; instances may override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget for instantiation plus the call (enforced by epoch interruption).
    pub timeout: Duration,
    /// Largest linear memory a guest may grow to.
    pub memory_bytes: usize,
    /// Most a guest may write to stdout, and separately to stderr.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            memory_bytes: 256 << 20,
            output_bytes: 1 << 20,
        }
    }
}

/// What one call may reach beyond its own memory. The default grants nothing at all.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    pub preopens: Vec<Preopen>,
    /// Environment variables the guest sees.
    pub env: Vec<(String, String)>,
    /// Hosts outgoing wasi:http requests may go to.
    pub network: Vec<crate::capabilities::HostPattern>,
    /// `skill@instance`, used in hints that name the command granting more.
    pub grant_hint: String,
}

/// A host directory the guest sees at `guest`.
#[derive(Debug, Clone)]
pub struct Preopen {
    pub host: std::path::PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// Everything a call needs besides the tool name and its arguments.
#[derive(Clone, Default)]
pub struct CallOptions {
    pub limits: Limits,
    pub sandbox: Sandbox,
    /// The instance's configuration, as `config-get` returns it.
    pub config: BTreeMap<String, String>,
    /// Receives the guest's log and progress events as they happen.
    pub events: Option<EventSink>,
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
    /// Hosts the guest tried to reach over wasi:http that the instance was not granted.
    pub denied_hosts: Vec<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
}

/// The skill's own description of itself (`info()`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkillInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
}

/// The engine, linker and AOT cache: create one per process and share it.
pub struct Runtime {
    engine: Engine,
    linker: wasmtime::component::Linker<HostState>,
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

    pub fn linker(&self) -> &wasmtime::component::Linker<HostState> {
        &self.linker
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
        let pre = SkillPre::new(instance_pre).map_err(|e| {
            Error::contract(format!(
                "component's exports do not match the skill contract: {e:#}"
            ))
            .with_hint("rebuild the skill against the current skill SDK")
        })?;
        Ok(LoadedSkill {
            pre,
            engine: self.engine.clone(),
            cache,
            report,
            sha256,
        })
    }
}

/// A compiled, linked skill, ready to instantiate cheaply for each call.
pub struct LoadedSkill {
    pre: SkillPre<HostState>,
    engine: Engine,
    pub cache: CacheOutcome,
    /// Set when the component was checked while loading (not for installed, pre-checked ones).
    pub report: Option<ContractReport>,
    pub sha256: String,
}

impl LoadedSkill {
    /// Calls `info()` and `tools()` in one instance: what build and install record.
    pub fn describe(&self) -> Result<(SkillInfo, Vec<ToolDef>)> {
        let options = CallOptions::default();
        let (mut store, out, err) = self.new_store(&options);
        let started = Instant::now();
        let result = (|| {
            let skill = self.pre.instantiate(&mut store)?;
            let guest = skill.skill_engine_skill_guest();
            let info = guest.call_info(&mut store)?;
            let tools = guest.call_tools(&mut store)?;
            wasmtime::Result::Ok((info, tools))
        })();
        let (info, tools) = result.map_err(|e| {
            trap_error(
                e,
                "describing the skill",
                &options,
                &out.contents(),
                &err.contents(),
                started,
            )
        })?;
        let info = SkillInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            author: info.author,
            license: info.license,
            repository: info.repository,
        };
        Ok((info, ToolDef::from_guest(tools)?))
    }

    /// Asks the skill's own `validate-config` export whether `config` is acceptable.
    /// `Ok(Err(message))` is the skill's refusal.
    pub fn validate_config(
        &self,
        config: &BTreeMap<String, String>,
        options: &CallOptions,
    ) -> Result<std::result::Result<(), String>> {
        let (mut store, out, err) = self.new_store(options);
        let started = Instant::now();
        let pairs: Vec<(String, String)> = config.clone().into_iter().collect();
        let result = (|| {
            let skill = self.pre.instantiate(&mut store)?;
            skill
                .skill_engine_skill_guest()
                .call_validate_config(&mut store, &pairs)
        })();
        result.map_err(|e| {
            trap_error(
                e,
                "validating the config",
                options,
                &out.contents(),
                &err.contents(),
                started,
            )
        })
    }

    /// Runs one tool in a fresh store. `Err` means the host could not run it (trap, timeout,
    /// limits); a tool that ran and failed is `Ok` with `result: Err(ToolError)`.
    pub fn execute(&self, tool: &str, args: &Args, options: &CallOptions) -> Result<CallOutcome> {
        let started = Instant::now();
        let mut instance = self.instantiate(options)?;
        let mut outcome =
            instance.execute(tool, args, options.limits.timeout, options.events.clone())?;
        outcome.duration = started.elapsed();
        Ok(outcome)
    }

    /// A new instance in its own sandboxed store, for one call ([`LoadedSkill::execute`]) or
    /// for a server to keep between calls of the same skill instance ([`WarmInstance`]).
    pub fn instantiate(&self, options: &CallOptions) -> Result<WarmInstance> {
        let (mut store, stdout, stderr) = self.new_store(options);
        let started = Instant::now();
        let skill = self.pre.instantiate(&mut store).map_err(|e| {
            trap_error(
                e,
                "instantiating the skill",
                options,
                &stdout.contents(),
                &stderr.contents(),
                started,
            )
        })?;
        Ok(WarmInstance {
            store,
            skill,
            stdout,
            stderr,
            options: options.clone(),
            output_seen: (0, 0),
            calls: 0,
            broken: false,
            sha256: self.sha256.clone(),
        })
    }

    fn new_store(
        &self,
        options: &CallOptions,
    ) -> (Store<HostState>, MemoryOutputPipe, MemoryOutputPipe) {
        // Room for the output of earlier calls when the instance is kept (see WarmInstance);
        // each call's own share is still checked against `output_bytes`.
        let capacity = options.limits.output_bytes + REUSE_OUTPUT_BUDGET;
        let stdout = MemoryOutputPipe::new(capacity);
        let stderr = MemoryOutputPipe::new(capacity);
        // Deny by default: only what the sandbox lists; no arguments, no sockets.
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        for (key, value) in &options.sandbox.env {
            wasi.env(key, value);
        }
        for dir in &options.sandbox.preopens {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            // A directory that vanished since the grant is left out rather than failing every call.
            let _ = wasi.preopened_dir(&dir.host, &dir.guest, perms);
        }
        let wasi = wasi.build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(options.limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limits,
            config: options.config.clone(),
            events: options.events.clone(),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            network: NetworkPolicy::new(options.sandbox.network.clone()),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        set_deadline(&mut store, options.limits.timeout);
        store.epoch_deadline_trap();
        (store, stdout, stderr)
    }
}

/// Output earlier calls may leave in a kept instance's pipes before it is retired.
const REUSE_OUTPUT_BUDGET: usize = 64 << 10;
/// Calls one kept instance serves before it is retired, bounding what a guest can accumulate
/// (memory it grew, resources it leaked).
const REUSE_MAX_CALLS: u32 = 10_000;

/// An instantiated skill in its own store. Servers keep one between calls of the same skill
/// instance (same config, secrets, grants and limits) instead of instantiating per call:
/// a trivial call then costs a few microseconds instead of ~50 µs warm and ~120 µs cold.
/// Guest globals persist across those calls; a call that traps, times out or hits a limit
/// leaves the instance [`broken`](WarmInstance::reusable) and it must be dropped.
pub struct WarmInstance {
    store: Store<HostState>,
    skill: crate::bindings::Skill,
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
        let started = Instant::now();
        self.calls += 1;
        self.store.data_mut().events = events;
        set_deadline(&mut self.store, timeout);
        let (out_start, err_start) = self.output_seen;
        let wit_args: Vec<wit::Arg> = args
            .iter()
            .map(|(name, value)| wit::Arg {
                name: name.clone(),
                value: value.to_wit(),
            })
            .collect();
        let result =
            self.skill
                .skill_engine_skill_guest()
                .call_execute(&mut self.store, tool, &wit_args);
        self.store.data_mut().events = None;
        let denied_hosts = self.store.data().network.take_denied();
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
            Ok(result) => result,
            Err(e) => {
                self.broken = true;
                return Err(trap_error(e, &what, &options(), &stdout, &stderr, started));
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
            Err(e) => Err(match e {
                wit::ToolError::UnknownTool(m) => ToolError::UnknownTool(m),
                wit::ToolError::InvalidArgs(m) => ToolError::InvalidArgs(m),
                wit::ToolError::NotConfigured(m) => ToolError::NotConfigured(m),
                wit::ToolError::Failed(m) => ToolError::Failed(m),
            }),
        };
        Ok(CallOutcome {
            result,
            denied_hosts,
            stdout: stdout.to_vec(),
            stderr: stderr.to_vec(),
            duration: started.elapsed(),
        })
    }

    /// Whether another call may run in this instance: no call broke it, and it has not yet
    /// served its share of calls or output.
    pub fn reusable(&self) -> bool {
        !self.broken
            && self.calls < REUSE_MAX_CALLS
            && self.output_seen.0 < REUSE_OUTPUT_BUDGET
            && self.output_seen.1 < REUSE_OUTPUT_BUDGET
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
    let instance = &options.sandbox.grant_hint;
    // How to raise a limit: per instance when the call came from one.
    let raise = |limit: &str, example: &str| {
        if instance.is_empty() {
            String::new()
        } else {
            format!("; raise it with `skill config {instance} --limit {limit}={example}`")
        }
    };
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    let mentions = |needle: &str| chain.iter().any(|c| c.contains(needle));
    // The trap itself says what happened ("wasm `unreachable` instruction executed"); the
    // outer layers only add "error while executing at wasm backtrace".
    let cause = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => first_line(&err.root_cause().to_string()).to_string(),
    };
    let (message, hint) = if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        (
            format!("{what} timed out after {:.1?}", started.elapsed()),
            format!(
                "the limit is {:?}{}",
                limits.timeout,
                if instance.is_empty() {
                    "; raise it with --timeout if the tool needs longer".to_string()
                } else {
                    format!(
                        "; pass --timeout for one call{}",
                        raise("timeout", &format!("{}s", limits.timeout.as_secs() * 2))
                    )
                }
            ),
        )
    } else if mentions("forcing trap when growing memory")
        || mentions("forcing a memory growth failure")
    {
        (
            format!(
                "{what} exceeded its memory limit of {} MiB",
                limits.memory_bytes >> 20
            ),
            format!(
                "the skill needs more memory than this instance allows{}",
                raise("memory", &format!("{}MiB", (limits.memory_bytes >> 20) * 2))
            ),
        )
    } else if mentions("beyond capacity of MemoryOutputPipe")
        || stdout.len() >= limits.output_bytes
        || stderr.len() >= limits.output_bytes
    {
        return output_limit_error(what, options);
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
    Error::new(ErrorKind::Trap, message).with_hint(hint)
}

fn output_limit_error(what: &str, options: &CallOptions) -> Error {
    let limits = &options.limits;
    let instance = &options.sandbox.grant_hint;
    let raise = if instance.is_empty() {
        String::new()
    } else {
        format!(
            "; raise it with `skill config {instance} --limit output={}MiB`",
            ((limits.output_bytes >> 20) * 2).max(2)
        )
    };
    Error::new(
        ErrorKind::Trap,
        format!(
            "{what} wrote more than {} KiB of output",
            limits.output_bytes >> 10
        ),
    )
    .with_hint(format!(
        "a skill returns its result through output.text / output.data, not stdout{raise}"
    ))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
