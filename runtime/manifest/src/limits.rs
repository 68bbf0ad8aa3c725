//! Resource limits for one call, and the host-side bounds that go with them.

use std::time::Duration;

/// Resource limits for one call. Every limit has a default; instances may override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget for instantiation plus the call: guest CPU (epoch deadline) and
    /// every wait in the host (the call is dropped at the deadline).
    pub timeout: Duration,
    /// Largest linear memory a guest may grow to.
    pub memory_bytes: usize,
    /// Most a guest may write to stdout, and separately to stderr; also the most its result
    /// and, separately, its log and progress messages may add up to.
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

impl Limits {
    /// Host memory one call can make the host hold at once: the guest's memory, the data
    /// copied out of it in one host call (bounded by wasmtime's hostcall fuel), its captured
    /// output, and what its host resources may hold ([`HOST_RESOURCES_BYTES`]). Servers budget
    /// concurrent calls with it.
    pub fn host_bytes(&self) -> usize {
        self.memory_bytes
            + self.hostcall_fuel()
            + 2 * (self.output_bytes + REUSE_OUTPUT_BUDGET)
            + HOST_RESOURCES_BYTES
    }

    /// Most bytes one guest-to-host transfer (a result, a log message, a WASI write) may
    /// copy into host memory.
    pub fn hostcall_fuel(&self) -> usize {
        (2 * self.output_bytes).max(MIN_HOSTCALL_FUEL)
    }
}

/// At least this much may cross in one host call whatever the output limit (WASI writes,
/// HTTP bodies): 4 MiB.
const MIN_HOSTCALL_FUEL: usize = 4 << 20;
/// What `info()` plus `tools()` may return in all: far above any real skill (256 tools with
/// 4 KiB descriptions), far below what would hurt the host.
pub const DESCRIBE_FUEL: usize = 4 << 20;
/// Host resources (open files, streams, pollables, HTTP requests...) one instance may hold
/// at once. Each can pin a file descriptor.
pub const MAX_RESOURCES: usize = 1024;
/// What [`MAX_RESOURCES`] host resources may hold, counted in every call's reservation: a
/// guest that keeps 1,000 wasi:http header maps of 15 × 8 KiB values makes the host hold
/// ~125 MB while its own memory stays small (measured).
pub const HOST_RESOURCES_BYTES: usize = 128 << 20;
/// Component-model handles (resources a guest defines itself) one store may hold.
pub const MAX_COMPONENT_HANDLES: usize = 10_000;
/// A kept instance holding more host resources than this after a call is retired: it is
/// keeping files or streams open between calls.
pub const REUSE_MAX_RESOURCES: usize = 64;

/// Output earlier calls may leave in a kept instance's pipes before it is retired.
pub const REUSE_OUTPUT_BUDGET: usize = 64 << 10;
