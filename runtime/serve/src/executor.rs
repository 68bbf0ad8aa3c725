//! Runs tool calls for the servers: components loaded once and kept, each instance's sandbox
//! and config prepared once (and again after `$SKILL_HOME` changes), and every call on a
//! blocking thread, bounded by the instance pool and by a memory budget. A call runs in a
//! kept (warm) instance of the same skill instance when one is idle, else in a new one, which
//! is kept afterwards unless the call broke it or left something open (`--fresh-instances`
//! turns keeping off).
//!
//! The memory budget: each call reserves the most host memory it can make the server hold
//! (`Limits::host_bytes`: its memory limit, the data one host call may copy, its output
//! pipes) before it starts, and a kept instance keeps its reservation while it waits. With
//! the default limits that is ~400 MiB a call, so a 24 GiB machine (budget: half its memory)
//! runs ~30 calls of maximal size at once, and many more small ones; calls beyond that wait
//! (idle instances are dropped first to make room).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use skill_engine::engine::PoolSize;
use skill_engine::host::EventSink;
use skill_engine::{
    Allocation, CallOptions, CallOutcome, Error, ErrorKind, LoadedSkill, Result, Runtime,
    SkillHome, WarmInstance,
};
use skill_manifest::args;
use tokio::sync::Semaphore;

use super::catalog::Route;
use super::metrics::Metrics;
use skill_host::instances::InstanceRef;
use skill_host::{Caller, Finished, Overrides, prepare};

/// Idle warm instances kept per skill instance, and in all. Each holds a pool slot and the
/// memory its guest touched, so both stay small; calls beyond them instantiate afresh.
const IDLE_PER_INSTANCE: usize = 4;
const IDLE_TOTAL: usize = 32;

/// An instance's call options, read once: config (secrets decrypted), sandbox, limits; and
/// the warm instances made with exactly those options.
struct Prepared {
    options: CallOptions,
    idle: Mutex<Vec<Idle>>,
}

/// A warm instance waiting for its next call, with the memory it reserved.
struct Idle {
    instance: WarmInstance,
    _counted: Counted,
    _memory: tokio::sync::OwnedSemaphorePermit,
}

/// One count in `Executor::idle`, given back when dropped (also when a reload drops the
/// `Prepared` that holds it).
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub struct Executor {
    home: SkillHome,
    /// Shared with the routers of `call-tool`, which load the skills called.
    runtime: Arc<Runtime>,
    pub allocation: Allocation,
    loaded: Mutex<HashMap<String, Arc<LoadedSkill>>>,
    prepared: Mutex<HashMap<(String, String), Arc<Prepared>>>,
    /// One permit per pool slot not set aside for idle instances: calls beyond that wait
    /// instead of failing to instantiate. Routed calls (call-tool) take one too.
    slots: Arc<Semaphore>,
    /// The memory budget, in MiB (see the module docs).
    memory: Arc<Semaphore>,
    memory_budget_mib: u32,
    /// Calls waiting for memory: while there are any, a finished call gives its reservation
    /// back instead of parking it in an idle instance (the waiter would never wake).
    memory_waiters: AtomicUsize,
    in_flight: AtomicU64,
    /// Keep instances between calls (false: a fresh instance per call).
    reuse: bool,
    idle: Arc<AtomicUsize>,
    pub metrics: Metrics,
}

/// Routed calls (call-tool) count against the server's memory budget and instance slots like
/// calls from clients, but never wait for room: their caller holds its own meanwhile, so
/// waiting could deadlock a full server. No room now is a refusal.
struct RoutedAdmission {
    memory: Arc<Semaphore>,
    slots: Arc<Semaphore>,
    budget_mib: u32,
}

impl skill_host::route::Admission for RoutedAdmission {
    fn admit(&self, limits: &skill_engine::Limits) -> std::result::Result<Box<dyn Send>, String> {
        let mib = u32::try_from(limits.host_bytes().div_ceil(1 << 20)).unwrap_or(u32::MAX);
        let memory = self
            .memory
            .clone()
            .try_acquire_many_owned(mib)
            .map_err(|_| {
                format!(
                    "the server's memory budget ({} MiB) has no room for it now",
                    self.budget_mib
                )
            })?;
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| "the server has no free instance slot now".to_string())?;
        Ok(Box::new((memory, slot)))
    }
}

/// Calls at once when the pool could not be reserved (each then maps its own memory).
const ON_DEMAND_CALLS: usize = 96;

/// Half the machine's memory, in MiB: what the server's calls may hold at once by default.
pub fn default_memory_budget_mib() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || page <= 0 {
        return 4096;
    }
    let mib = (pages as u64 * page as u64) >> 20;
    u32::try_from(mib / 2).unwrap_or(u32::MAX).max(256)
}

impl Executor {
    pub fn new(home: SkillHome, reuse: bool, memory_budget_mib: u32) -> Result<Self> {
        let size = PoolSize::default();
        let (runtime, allocation) = Runtime::for_server(&home, size)?;
        let set_aside = if reuse { IDLE_TOTAL } else { 0 };
        let slots = match &allocation {
            Allocation::Pooled(size) => (size.concurrent_calls as usize)
                .saturating_sub(set_aside)
                .max(1),
            Allocation::OnDemand { .. } => ON_DEMAND_CALLS,
        };
        Ok(Executor {
            home,
            runtime: Arc::new(runtime),
            allocation,
            loaded: Mutex::default(),
            prepared: Mutex::default(),
            slots: Arc::new(Semaphore::new(slots)),
            memory: Arc::new(Semaphore::new(memory_budget_mib as usize)),
            memory_budget_mib,
            memory_waiters: AtomicUsize::new(0),
            in_flight: AtomicU64::new(0),
            reuse,
            idle: Arc::default(),
            metrics: Metrics::default(),
        })
    }

    /// Forget prepared instances (their config or grants may have changed) and components no
    /// longer installed.
    pub fn invalidate(&self, installed: &[String]) {
        self.prepared.lock().expect("lock").clear();
        self.loaded
            .lock()
            .expect("lock")
            .retain(|sha, _| installed.contains(sha));
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Loads (deserializes or compiles) a component ahead of its first call.
    pub fn preload(&self, route: &Route) -> Result<()> {
        self.load(route).map(|_| ())
    }

    fn load(&self, route: &Route) -> Result<Arc<LoadedSkill>> {
        let sha = &route.skill.manifest.component.sha256;
        if let Some(loaded) = self.loaded.lock().expect("lock").get(sha) {
            return Ok(loaded.clone());
        }
        let loaded = Arc::new(
            self.runtime
                .load_installed(&route.skill.component_path(), sha)?,
        );
        self.loaded
            .lock()
            .expect("lock")
            .insert(sha.clone(), loaded.clone());
        Ok(loaded)
    }

    fn prepare(&self, route: &Route) -> Result<Arc<Prepared>> {
        let key = (route.skill.manifest.name.clone(), route.instance.clone());
        if let Some(p) = self.prepared.lock().expect("lock").get(&key) {
            return Ok(p.clone());
        }
        let r = InstanceRef {
            skill: key.0.clone(),
            instance: key.1.clone(),
        };
        let (mut options, notices) = prepare(&self.home, &route.skill, &r)?;
        let admission = Arc::new(RoutedAdmission {
            memory: self.memory.clone(),
            slots: self.slots.clone(),
            budget_mib: self.memory_budget_mib,
        });
        skill_host::route::Router::attach(
            &mut options,
            &self.home,
            self.runtime.clone(),
            &route.skill,
            &r,
            Some(admission),
        )?;
        for notice in &notices {
            tracing::warn!(instance = %r, "{notice}");
        }
        let prepared = Arc::new(Prepared {
            options,
            idle: Mutex::default(),
        });
        self.prepared
            .lock()
            .expect("lock")
            .insert(key, prepared.clone());
        Ok(prepared)
    }

    /// Runs one tool for a remote client (its overrides may only lower the instance's
    /// limits). `Err` is a failure to run it at all (bad arguments, an unconfigured instance,
    /// a trap or a limit); a tool that ran is `Ok`, its own error in [`Finished::result`].
    pub async fn call(
        self: &Arc<Self>,
        route: &Route,
        arguments: &serde_json::Map<String, serde_json::Value>,
        overrides: Overrides,
        events: Option<EventSink>,
    ) -> Result<Finished> {
        let skill_name = route.skill.manifest.name.clone();
        let tool_name = route.tool.name.clone();
        let started = std::time::Instant::now();
        let result = self
            .call_inner(route, arguments, overrides, events)
            .await
            .map(|outcome| Finished::from_outcome(outcome, Vec::new()));
        let ok = matches!(&result, Ok(finished) if finished.result.is_ok());
        self.metrics
            .record(&skill_name, &tool_name, started.elapsed(), ok);
        if let Ok(finished) = &result {
            for notice in &finished.notices {
                tracing::warn!("{} {notice}", route.qualified());
            }
        }
        result
    }

    async fn call_inner(
        self: &Arc<Self>,
        route: &Route,
        arguments: &serde_json::Map<String, serde_json::Value>,
        overrides: Overrides,
        events: Option<EventSink>,
    ) -> Result<CallOutcome> {
        let call_args = args::parse_json_object(&route.tool, arguments)?;
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::internal("the server is shutting down"))?;
        let this = self.clone();
        let route = route.clone();
        let counted = InFlight::start(self);
        let handle = tokio::runtime::Handle::current();
        // The call runs on a blocking thread (a guest that computes must not stall the
        // server's own threads); its host waits still run on the server's runtime, and the
        // whole call is dropped at its deadline.
        let work = move || {
            let _counted = counted;
            handle.block_on(this.run(&route, &call_args, overrides, events))
        };
        let joined = tokio::task::spawn_blocking(work).await;
        joined.map_err(|e| Error::new(ErrorKind::Internal, format!("the call panicked: {e}")))?
    }

    /// The call itself: a kept instance of this skill instance, or a new one made within the
    /// memory budget.
    async fn run(
        &self,
        route: &Route,
        call_args: &args::Args,
        overrides: Overrides,
        events: Option<EventSink>,
    ) -> Result<CallOutcome> {
        let loaded = self.load(route)?;
        let prepared = self.prepare(route)?;
        let limit = overrides
            .apply(&prepared.options.limits, Caller::Remote)
            .timeout;
        let started = std::time::Instant::now();
        let (mut instance, memory) = match self.take_idle(&prepared, &loaded.sha256) {
            Some(idle) => (idle.instance, idle._memory),
            None => {
                let memory = self.reserve(&prepared.options.limits, &prepared).await?;
                let mut options = prepared.options.clone();
                options.limits.timeout = limit;
                (loaded.instantiate_async(&options).await?, memory)
            }
        };
        let left = limit.saturating_sub(started.elapsed());
        let mut outcome = instance
            .execute_async(&route.tool.name, call_args, left, events)
            .await;
        if let Ok(outcome) = &mut outcome {
            outcome.duration = started.elapsed();
        }
        self.keep(&prepared, instance, memory);
        outcome
    }

    /// Reserves a call's worst-case host memory from the budget, dropping idle instances to
    /// make room before waiting for running calls to give some back.
    async fn reserve(
        &self,
        limits: &skill_engine::Limits,
        prepared: &Prepared,
    ) -> Result<tokio::sync::OwnedSemaphorePermit> {
        let mib = u32::try_from(limits.host_bytes().div_ceil(1 << 20)).unwrap_or(u32::MAX);
        if mib > self.memory_budget_mib {
            return Err(Error::invalid(format!(
                "a call of this instance may hold {mib} MiB, more than the server's memory budget of {} MiB",
                self.memory_budget_mib
            ))
            .with_hint("the server's operator can lower the instance's memory limit or raise the server's memory budget"));
        }
        if let Ok(permit) = self.memory.clone().try_acquire_many_owned(mib) {
            return Ok(permit);
        }
        prepared.idle.lock().expect("lock").clear();
        let others: Vec<Arc<Prepared>> = self
            .prepared
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        for other in others {
            other.idle.lock().expect("lock").clear();
        }
        self.memory_waiters.fetch_add(1, Ordering::AcqRel);
        let waited = self.memory.clone().acquire_many_owned(mib).await;
        self.memory_waiters.fetch_sub(1, Ordering::AcqRel);
        waited.map_err(|_| Error::internal("the server is shutting down"))
    }

    /// An idle warm instance of this skill instance made from the loaded component, if any.
    fn take_idle(&self, prepared: &Prepared, sha256: &str) -> Option<Idle> {
        let mut idle = prepared.idle.lock().expect("lock");
        while let Some(entry) = idle.pop() {
            if entry.instance.sha256 == sha256 {
                return Some(entry);
            }
        }
        None
    }

    /// Keeps an instance (and its memory reservation) for the next call when it is still
    /// good and there is room.
    fn keep(
        &self,
        prepared: &Prepared,
        mut instance: WarmInstance,
        memory: tokio::sync::OwnedSemaphorePermit,
    ) {
        if !self.reuse || !instance.reusable() || self.memory_waiters.load(Ordering::Acquire) > 0 {
            return;
        }
        let mut idle = prepared.idle.lock().expect("lock");
        if idle.len() >= IDLE_PER_INSTANCE {
            return;
        }
        if self.idle.fetch_add(1, Ordering::AcqRel) >= IDLE_TOTAL {
            self.idle.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        idle.push(Idle {
            instance,
            _counted: Counted(self.idle.clone()),
            _memory: memory,
        });
    }
}

/// Counts a call in `in_flight` until dropped, also when the call panics (shutdown waits for
/// the count to reach zero).
struct InFlight(Arc<Executor>);

impl InFlight {
    fn start(executor: &Arc<Executor>) -> Self {
        executor.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(executor.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
