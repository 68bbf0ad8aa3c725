//! `call-tool`: a skill calling a tool of a skill it declared in `skill_dependencies`.
//!
//! The call runs as if a user had made it, in the callee's own instance — the caller's
//! instance name when the callee has one, else `default` — with the callee's own config,
//! sandbox, grants and limits, never the caller's, and within what is left of the caller's
//! time. Calls nest at most [`MAX_CALL_DEPTH`] deep (a cycle of skills installed with
//! `--no-deps` ends there).

use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use skill_engine::host::{BoxFuture, Event, EventSink, RoutedCall, ToolRouter};
use skill_engine::{
    CallOptions, ErrorKind, Limits, Result, Runtime, SkillHome, ToolError, ToolOutput,
};
use skill_store::instance::{DEFAULT_INSTANCE, Instances};
use skill_store::store::InstalledSkill;

use crate::call::prepare;
use crate::instances::InstanceRef;
use skill_manifest::manifest::SkillYaml;

/// How many calls may nest below the one a user made (A → B → C → D → E is four).
pub const MAX_CALL_DEPTH: usize = 4;

/// Routes the `call-tool` of one skill instance. Each routed call gets its own router, one
/// level deeper, with the callee's declarations.
#[derive(Clone)]
pub struct Router {
    home: SkillHome,
    runtime: Arc<Runtime>,
    /// The skill instances on the way here, the caller last.
    chain: Vec<InstanceRef>,
    /// The caller's installed skill.yaml: its `skill_dependencies` are all it may call. Read
    /// (with what its instance was approved to call) only when it calls: attaching a router
    /// is on every `skill run`, calling is not.
    caller_yaml: Arc<str>,
    /// What a server charges routed calls against; none for the CLI.
    admission: Option<Arc<dyn Admission>>,
    /// Where the callee's log and progress go (the first caller's sink).
    events: Option<EventSink>,
}

impl Router {
    /// Lets calls of `r` (an instance of `skill`) reach the skills `skill` declared.
    pub fn attach(
        options: &mut CallOptions,
        home: &SkillHome,
        runtime: Arc<Runtime>,
        skill: &InstalledSkill,
        r: &InstanceRef,
        admission: Option<Arc<dyn Admission>>,
    ) -> Result<()> {
        let router = Router {
            home: home.clone(),
            runtime,
            chain: vec![r.clone()],
            caller_yaml: Arc::from(skill.skill_yaml.as_str()),
            admission,
            // One budget for the messages of every call below this one, however many there
            // are: each routed call's own share would otherwise add up.
            events: options
                .events
                .clone()
                .map(|sink| shared_budget(sink, options.limits.output_bytes)),
        };
        options.router = Some(Arc::new(router));
        Ok(())
    }

    fn caller(&self) -> &InstanceRef {
        self.chain.last().expect("a router has a caller")
    }

    async fn call(&self, call: RoutedCall) -> std::result::Result<ToolOutput, ToolError> {
        let caller = self.caller();
        let declared = declared(&self.caller_yaml).map_err(|e| ToolError::Failed(e.to_string()))?;
        if !declared.contains(&call.skill) {
            return Err(ToolError::Failed(format!(
                "{} may call only the skills it lists in skill_dependencies{}",
                caller.skill,
                if skill_manifest::manifest::is_legacy_name(&call.skill) {
                    format!(", and `{}` is not one of them", call.skill)
                } else {
                    String::new()
                }
            )));
        }
        let approved =
            approved(&self.home, caller).map_err(|e| ToolError::Failed(e.to_string()))?;
        if !approved.contains(&call.skill) {
            return Err(ToolError::Failed(format!(
                "{caller} was not approved to call {}; reinstall it to review that (`skill install <source> -i {}`) or `skill grant {caller} --call {}`",
                call.skill, caller.instance, call.skill
            )));
        }
        if self.chain.len() > MAX_CALL_DEPTH {
            let path: Vec<String> = self.chain.iter().map(|r| r.skill.clone()).collect();
            return Err(ToolError::Failed(format!(
                "calls nest at most {MAX_CALL_DEPTH} deep: {} → {}",
                path.join(" → "),
                call.skill
            )));
        }
        let left = call
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(ToolError::Failed(format!(
                "{}:{} was not called: the caller's time is up",
                call.skill, call.tool
            )));
        }
        let failed = |e: skill_engine::Error| routed_error(&call.skill, &call.tool, e);
        let instances = Instances::new(self.home.clone());
        let instance = if instances.exists(&call.skill, &caller.instance) {
            caller.instance.clone()
        } else {
            DEFAULT_INSTANCE.to_string()
        };
        let r = InstanceRef {
            skill: call.skill.clone(),
            instance,
        };
        let resolved = crate::call::resolve(&self.home, &r, &call.tool).map_err(failed)?;
        let callee = &resolved.skill;
        let args =
            skill_manifest::args::parse_json_object(&resolved.tool, &call.args).map_err(failed)?;
        let (mut options, _notices) = prepare(&self.home, callee, &r).map_err(failed)?;
        options.limits.timeout = options.limits.timeout.min(left);
        options.events = self.events.clone();
        let mut chain = self.chain.clone();
        chain.push(r.clone());
        options.router = Some(Arc::new(Router {
            home: self.home.clone(),
            runtime: self.runtime.clone(),
            chain,
            caller_yaml: Arc::from(callee.skill_yaml.as_str()),
            admission: self.admission.clone(),
            events: self.events.clone(),
        }));
        // A server's memory budget and instance slots count this call too; there is no
        // waiting for room (the caller holds its own meanwhile): none now is a refusal.
        let _admitted = match &self.admission {
            Some(admission) => Some(admission.admit(&options.limits).map_err(|why| {
                ToolError::Failed(format!("{r}:{} was not called: {why}", call.tool))
            })?),
            None => None,
        };
        // Loading may compile (an AOT cache miss): off the async thread, within the deadline.
        let runtime = self.runtime.clone();
        let component = callee.component_path();
        let sha256 = callee.manifest.component.sha256.clone();
        let load = tokio::task::spawn_blocking(move || runtime.load_installed(&component, &sha256));
        let loaded = match tokio::time::timeout_at(call.deadline, load).await {
            Ok(Ok(loaded)) => loaded.map_err(failed)?,
            Ok(Err(e)) => return Err(ToolError::Failed(format!("loading {r} failed: {e}"))),
            Err(_) => {
                return Err(ToolError::Failed(format!(
                    "{r}:{} was not called: the caller's time ran out while loading it",
                    call.tool
                )));
            }
        };
        let outcome = loaded
            .execute_async(&resolved.tool.name, &args, &options)
            .await
            .map_err(failed)?;
        outcome.result
    }
}

impl ToolRouter for Router {
    fn route(&self, call: RoutedCall) -> BoxFuture<std::result::Result<ToolOutput, ToolError>> {
        let router = self.clone();
        Box::pin(async move { router.call(call).await })
    }
}

/// What a server charges a routed call against: its memory budget and instance slots. The
/// permit is held while the call runs.
pub trait Admission: Send + Sync {
    fn admit(&self, limits: &Limits) -> std::result::Result<Box<dyn Send>, String>;
}

/// `sink`, passing on at most `budget` bytes of messages in all.
fn shared_budget(sink: EventSink, budget: usize) -> EventSink {
    let left = Arc::new(AtomicUsize::new(budget));
    Arc::new(move |event: &Event| {
        let (Event::Log { message, .. } | Event::Progress { message, .. }) = event;
        let cost = message.len() + 16;
        if left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| l.checked_sub(cost))
            .is_ok()
        {
            sink(event);
        }
    })
}

/// What the instance `r` was approved to call.
fn approved(home: &SkillHome, r: &InstanceRef) -> Result<Vec<String>> {
    Ok(Instances::new(home.clone())
        .load(&r.skill, &r.instance)?
        .grants
        .approved
        .calls)
}

/// The names in an installed skill.yaml's `skill_dependencies`.
fn declared(skill_yaml: &str) -> Result<Vec<String>> {
    Ok(SkillYaml::parse(skill_yaml)?
        .skill_dependencies
        .into_iter()
        .map(|d| d.name)
        .collect())
}

/// What the host could not do, as the `tool-error` the calling skill gets back.
fn routed_error(skill: &str, tool: &str, e: skill_engine::Error) -> ToolError {
    let message = format!("{skill}:{tool}: {}", e.message());
    match e.kind() {
        ErrorKind::InvalidInput => ToolError::InvalidArgs(message),
        ErrorKind::NotConfigured => ToolError::NotConfigured(message),
        ErrorKind::NotFound if e.message().contains("has no tool") => {
            ToolError::UnknownTool(message)
        }
        _ => ToolError::Failed(message),
    }
}
