//! Runs tool calls for the servers: components loaded once and kept, each instance's sandbox
//! and config prepared once (and again after `$SKILL_HOME` changes), and every call on a
//! blocking thread with a fresh store, bounded by the instance pool.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use skill_runtime::engine::PoolSize;
use skill_runtime::host::EventSink;
use skill_runtime::{
    Allocation, CallOptions, CallOutcome, Error, ErrorKind, LoadedSkill, Result, Runtime,
    SkillHome, args,
};
use tokio::sync::Semaphore;

use super::catalog::Route;
use super::metrics::Metrics;
use crate::instances::{InstanceRef, call_options};

/// An instance's call options, read once: config (secrets decrypted), sandbox, limits.
struct Prepared {
    options: CallOptions,
}

pub struct Executor {
    home: SkillHome,
    runtime: Runtime,
    pub allocation: Allocation,
    loaded: Mutex<HashMap<String, Arc<LoadedSkill>>>,
    prepared: Mutex<HashMap<(String, String), Arc<Prepared>>>,
    /// One permit per pool slot: calls beyond that wait instead of failing to instantiate.
    slots: Semaphore,
    in_flight: AtomicU64,
    pub metrics: Metrics,
}

impl Executor {
    pub fn new(home: SkillHome) -> Result<Self> {
        let size = PoolSize::default();
        let (runtime, allocation) = Runtime::for_server(&home, size)?;
        let slots = match &allocation {
            Allocation::Pooled(size) => size.concurrent_calls as usize,
            Allocation::OnDemand { .. } => Semaphore::MAX_PERMITS,
        };
        Ok(Executor {
            home,
            runtime,
            allocation,
            loaded: Mutex::default(),
            prepared: Mutex::default(),
            slots: Semaphore::new(slots),
            in_flight: AtomicU64::new(0),
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
        let (options, ungranted) = call_options(&self.home, &route.skill, &r)?;
        if !ungranted.is_empty() {
            tracing::warn!(
                instance = %r,
                "runs without permissions its installed version asks for: {}",
                ungranted.join("; ")
            );
        }
        let prepared = Arc::new(Prepared { options });
        self.prepared
            .lock()
            .expect("lock")
            .insert(key, prepared.clone());
        Ok(prepared)
    }

    /// Runs one tool. `Err` is a failure to run it at all (bad arguments, an unconfigured
    /// instance, a trap or a limit); a tool that ran and failed is `Ok` with a `ToolError`.
    pub async fn call(
        self: &Arc<Self>,
        route: &Route,
        arguments: &serde_json::Map<String, serde_json::Value>,
        timeout: Option<Duration>,
        events: Option<EventSink>,
    ) -> Result<CallOutcome> {
        let skill_name = route.skill.manifest.name.clone();
        let tool_name = route.tool.name.clone();
        let started = std::time::Instant::now();
        let result = self.call_inner(route, arguments, timeout, events).await;
        let ok = matches!(&result, Ok(outcome) if outcome.result.is_ok());
        self.metrics
            .record(&skill_name, &tool_name, started.elapsed(), ok);
        result
    }

    async fn call_inner(
        self: &Arc<Self>,
        route: &Route,
        arguments: &serde_json::Map<String, serde_json::Value>,
        timeout: Option<Duration>,
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
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let work = move || {
            let result = (|| {
                let loaded = this.load(&route)?;
                let prepared = this.prepare(&route)?;
                let mut options = prepared.options.clone();
                if let Some(t) = timeout {
                    options.limits.timeout = options.limits.timeout.min(t);
                }
                options.events = events;
                loaded.execute(&route.tool.name, &call_args, &options)
            })();
            this.in_flight.fetch_sub(1, Ordering::AcqRel);
            result
        };
        let joined = tokio::task::spawn_blocking(work).await;
        joined.map_err(|e| Error::new(ErrorKind::Internal, format!("the call panicked: {e}")))?
    }
}
