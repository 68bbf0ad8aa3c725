//! The per-call store state: WASI context, limits, and the contract's host imports.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView,
    WasiView,
};

use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::types;
use crate::network::NetworkPolicy;
use crate::runtime::{ToolError, ToolOutput};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl From<types::LogLevel> for LogLevel {
    fn from(level: types::LogLevel) -> Self {
        match level {
            types::LogLevel::Trace => LogLevel::Trace,
            types::LogLevel::Debug => LogLevel::Debug,
            types::LogLevel::Info => LogLevel::Info,
            types::LogLevel::Warn => LogLevel::Warn,
            types::LogLevel::Error => LogLevel::Error,
        }
    }
}

/// What a skill reports while it runs. The CLI prints these to stderr; MCP turns them into
/// log and progress notifications.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    Log {
        level: LogLevel,
        message: String,
    },
    Progress {
        percent: Option<u8>,
        message: String,
    },
}

pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Longest log or progress message passed on; longer ones are cut (at a character boundary).
pub const MAX_EVENT_MESSAGE: usize = 4096;

/// One call's events: where they go, and how much of them the call may still send. Their
/// bytes count against the call's output limit; past it, events are dropped and counted.
#[derive(Default)]
pub struct Events {
    sink: Option<EventSink>,
    budget: usize,
    dropped: u64,
}

impl Events {
    pub fn new(sink: Option<EventSink>, budget: usize) -> Self {
        Events {
            sink,
            budget,
            dropped: 0,
        }
    }

    /// Events not passed on because the budget was spent.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn emit(&mut self, mut event: Event) {
        let Some(sink) = &self.sink else {
            return;
        };
        let message = match &mut event {
            Event::Log { message, .. } | Event::Progress { message, .. } => message,
        };
        if message.len() > MAX_EVENT_MESSAGE {
            let mut end = MAX_EVENT_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let cost = message.len() + 16;
        if cost > self.budget {
            self.dropped += 1;
            return;
        }
        self.budget -= cost;
        sink(&event);
    }
}

/// Where `call-tool` goes: the host crate routes a call to the callee's own instance (it
/// knows the store, instances and grants); the engine only carries the router to the guest.
pub trait ToolRouter: Send + Sync {
    /// Runs `call` and returns the callee's result; any failure of the host (not declared,
    /// not installed, too deep, a trap, the deadline) comes back as a `tool-error`.
    fn route(&self, call: RoutedCall) -> BoxFuture<std::result::Result<ToolOutput, ToolError>>;
}

pub type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send>>;

/// One `call-tool` request, its arguments still unchecked (the router checks them against
/// the callee's parameters, as for any call).
#[derive(Debug, Clone)]
pub struct RoutedCall {
    pub skill: String,
    pub tool: String,
    pub args: serde_json::Map<String, serde_json::Value>,
    /// The caller's deadline: the callee gets at most what is left of it.
    pub deadline: tokio::time::Instant,
}

pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) events: Events,
    pub(crate) http: WasiHttpCtx,
    pub(crate) network: NetworkPolicy,
    pub(crate) router: Option<Arc<dyn ToolRouter>>,
    /// When the current call must end (`call-tool` passes the rest on).
    pub(crate) deadline: Option<tokio::time::Instant>,
}

impl HostState {
    /// The state `skill build` pre-initializes a component in (Wizer): no files, network,
    /// environment or config, and fixed clocks and random bytes, so whatever the guest's
    /// initializer computes is the same on every build and the snapshot stays reproducible.
    pub fn for_preinitialization(stdout: MemoryOutputPipe, stderr: MemoryOutputPipe) -> Self {
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout)
            .stderr(stderr)
            .secure_random(Deterministic::new(vec![0x5a; 32]))
            .insecure_random(Deterministic::new(vec![0xa5; 32]))
            .insecure_random_seed(0)
            .wall_clock(FixedClock)
            .monotonic_clock(FixedClock)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimits::default(),
            config: BTreeMap::new(),
            events: Events::default(),
            http: WasiHttpCtx::new(),
            network: NetworkPolicy::default(),
            router: None,
            deadline: None,
        }
    }

    fn emit(&mut self, event: Event) {
        self.events.emit(event);
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.network,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The contract's `host` functions. `engine.rs` links them under every contract version.
impl HostState {
    pub(crate) fn config_get(&self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    pub(crate) fn log(&mut self, level: types::LogLevel, message: String) {
        self.emit(Event::Log {
            level: level.into(),
            message,
        });
    }

    pub(crate) fn progress(&mut self, percent: Option<u8>, message: String) {
        self.emit(Event::Progress {
            percent: percent.map(|p| p.min(100)),
            message,
        });
    }

    /// What `call-tool` needs once it leaves the store: the router and the deadline.
    pub(crate) fn call_tool_request(
        &self,
        skill: String,
        tool: String,
        args: Vec<types::Arg>,
    ) -> std::result::Result<(Arc<dyn ToolRouter>, RoutedCall), types::ToolError> {
        let Some(router) = self.router.clone() else {
            return Err(types::ToolError::Failed(
                "calling other skills is not available here".to_string(),
            ));
        };
        let mut map = serde_json::Map::new();
        for arg in args {
            if map.contains_key(&arg.name) {
                return Err(types::ToolError::InvalidArgs(
                    "an argument is given twice".to_string(),
                ));
            }
            let value = match arg.value {
                types::Value::Text(s) => serde_json::Value::String(s),
                types::Value::Integer(i) => i.into(),
                types::Value::Number(n) => n.into(),
                types::Value::Boolean(b) => b.into(),
                types::Value::Json(j) => serde_json::from_str(&j).map_err(|e| {
                    types::ToolError::InvalidArgs(format!("a `json` argument is not JSON: {e}"))
                })?,
            };
            map.insert(arg.name, value);
        }
        let deadline = self
            .deadline
            .unwrap_or_else(|| tokio::time::Instant::now() + std::time::Duration::from_secs(30));
        Ok((
            router,
            RoutedCall {
                skill,
                tool,
                args: map,
                deadline,
            },
        ))
    }
}

/// A clock stopped at zero, for pre-initialization (also the build's Wizer for componentize-js).
pub struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}
