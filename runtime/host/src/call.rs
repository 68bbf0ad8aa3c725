//! One call of one tool: what it targets, what it runs with, who may change its limits, and
//! what comes back.

use std::fmt;
use std::time::Duration;

use skill_engine::aot::CacheOutcome;
use skill_engine::host::EventSink;
use skill_engine::network::{Refusal, RefusalReason};
use skill_engine::{
    CallOptions, CallOutcome, Error, ErrorKind, Limits, Result, Runtime, SkillHome, ToolError,
    ToolOutput,
};
use skill_manifest::args::Args;
use skill_manifest::manifest::ToolDef;
use skill_store::store::{InstalledSkill, Store};

use crate::instances::{InstanceRef, call_options, require_instance};

/// Who asks for a call; it decides which way a limit may move (docs/instances.md, "Limits"):
/// a local user at the terminal may raise or lower a limit for one call (`run --timeout`), a
/// remote client (REST `timeout_ms`, MCP) may only lower it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Local,
    Remote,
}

/// What a caller asks to change for one call.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub timeout: Option<Duration>,
}

impl Overrides {
    /// The instance's limits with these overrides, as far as `caller` may change them.
    pub fn apply(&self, limits: &Limits, caller: Caller) -> Limits {
        let mut limits = limits.clone();
        if let Some(asked) = self.timeout {
            limits.timeout = match caller {
                Caller::Local => asked,
                Caller::Remote => limits.timeout.min(asked),
            };
        }
        limits
    }
}

/// Something a caller should tell its user; the call ran (or will run) regardless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The installed version asks for more than the instance was granted (one line per
    /// permission); the instance runs with what it was granted.
    Ungranted(Vec<String>),
    /// An approved directory left closed, and why.
    Closed(String),
    /// An outgoing request the network policy refused.
    Refused(Refusal),
    /// Log and progress messages dropped because the tool sent more than its output limit.
    EventsDropped(u64),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Ungranted(asked) => write!(
                f,
                "runs without permissions its installed version asks for ({})",
                asked.join("; ")
            ),
            Notice::Closed(why) => write!(f, "{why}; it stays closed"),
            Notice::Refused(refusal) => write!(f, "tried to reach {refusal}"),
            Notice::EventsDropped(n) => write!(
                f,
                "{n} log/progress messages were dropped: the tool sent more than its output limit"
            ),
        }
    }
}

impl Notice {
    /// The notice for a remote client: what the server resolved a name to stays on the
    /// server (it maps internal names), the rest is as [`Notice`]'s `Display`.
    pub fn remote_text(&self) -> String {
        match self {
            Notice::Refused(Refusal {
                authority,
                reason: RefusalReason::Address { .. },
            }) => format!("tried to reach {authority}, which leads to an address no grant allows"),
            other => other.to_string(),
        }
    }
}

/// An installed skill, one of its instances and one of its tools.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub skill: InstalledSkill,
    pub instance: InstanceRef,
    pub tool: ToolDef,
}

impl Resolved {
    /// `skill:tool`, as messages and usage lines name it.
    pub fn qualified(&self) -> String {
        format!("{}:{}", self.skill.manifest.name, self.tool.name)
    }
}

/// Finds `tool` of the installed skill instance `r`, or says what exists instead.
pub fn resolve(home: &SkillHome, r: &InstanceRef, tool: &str) -> Result<Resolved> {
    let skill = Store::new(home.clone()).get(&r.skill)?;
    require_instance(home, r)?;
    let tool = skill.manifest.find_tool(tool)?.clone();
    Ok(Resolved {
        skill,
        instance: r.clone(),
        tool,
    })
}

/// What an instance's calls run with (config with secrets, sandbox, limits), and what its
/// user should know before the first call.
pub fn prepare(
    home: &SkillHome,
    skill: &InstalledSkill,
    r: &InstanceRef,
) -> Result<(CallOptions, Vec<Notice>)> {
    let (options, ungranted) = call_options(home, skill, r)?;
    let mut notices = Vec::new();
    if !ungranted.is_empty() {
        notices.push(Notice::Ungranted(ungranted));
    }
    notices.extend(options.sandbox.closed.iter().cloned().map(Notice::Closed));
    Ok((options, notices))
}

/// A finished call: the tool's output or the typed error, and what to tell the user.
#[derive(Debug)]
pub struct Finished {
    pub result: Result<ToolOutput>,
    pub notices: Vec<Notice>,
    pub duration: Duration,
    /// What the guest wrote to stdout and stderr (captured, bounded).
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// How the component was loaded, when this call loaded it.
    pub cache: Option<CacheOutcome>,
}

impl Finished {
    /// The outcome of a call that ran; `notices` are those from [`prepare`].
    pub fn from_outcome(outcome: CallOutcome, mut notices: Vec<Notice>) -> Finished {
        notices.extend(outcome.refused.into_iter().map(Notice::Refused));
        if outcome.events_dropped > 0 {
            notices.push(Notice::EventsDropped(outcome.events_dropped));
        }
        Finished {
            result: outcome.result.map_err(tool_error),
            notices,
            duration: outcome.duration,
            stdout: outcome.stdout,
            stderr: outcome.stderr,
            cache: None,
        }
    }
}

/// The one mapping of a tool's own error (`tool-error` in the contract) to a typed error.
pub fn tool_error(error: ToolError) -> Error {
    let kind = match &error {
        ToolError::NotConfigured(_) => ErrorKind::NotConfigured,
        ToolError::InvalidArgs(_) => ErrorKind::InvalidInput,
        ToolError::UnknownTool(_) => ErrorKind::NotFound,
        ToolError::Failed(_) => ErrorKind::Tool,
    };
    Error::new(kind, error.to_string())
}

/// One call in a process that makes one (the CLI): load the component through the AOT cache,
/// prepare the instance, apply the local user's overrides, run.
pub fn call_once(
    home: &SkillHome,
    resolved: &Resolved,
    args: &Args,
    overrides: Overrides,
    events: Option<EventSink>,
) -> Result<Finished> {
    let (mut options, notices) = prepare(home, &resolved.skill, &resolved.instance)?;
    options.limits = overrides.apply(&options.limits, Caller::Local);
    options.events = events;
    let manifest = &resolved.skill.manifest;
    execute_once(
        home,
        &resolved.skill.component_path(),
        &manifest.component.sha256,
        &resolved.tool.name,
        args,
        options,
        notices,
        Some((&resolved.skill, &resolved.instance)),
    )
}

/// Loads a component through the AOT cache and makes one call, in a process that makes one.
/// With `installed`, the skill's `call-tool` reaches the skills it declared.
#[allow(clippy::too_many_arguments)]
fn execute_once(
    home: &SkillHome,
    component_path: &std::path::Path,
    sha256: &str,
    tool: &str,
    args: &Args,
    mut options: CallOptions,
    notices: Vec<Notice>,
    installed: Option<(&InstalledSkill, &crate::InstanceRef)>,
) -> Result<Finished> {
    let runtime = std::sync::Arc::new(Runtime::new(home)?);
    if let Some((skill, r)) = installed {
        crate::route::Router::attach(&mut options, home, runtime.clone(), skill, r, None)?;
    }
    let loaded = runtime.load_installed(component_path, sha256)?;
    let outcome = loaded.execute(tool, args, &options)?;
    let cache = loaded.cache.clone();
    // The process ends soon after its one call: unmapping the compiled code would only add
    // to it. (The runtime is dropped, with the router that shares it: that stops its ticker
    // thread cleanly.)
    std::mem::forget(loaded);
    drop(options);
    drop(runtime);
    let mut finished = Finished::from_outcome(outcome, notices);
    finished.cache = Some(cache);
    Ok(finished)
}

/// Runs the `wasi:cli/run` export of the installed skill instance `r` (`skill exec`, a PATH
/// shim) with `args` (the first one is the program's name) and the terminal attached, in the
/// instance's sandbox and limits, the local user's overrides applied. Returns the exit code,
/// and what to tell the user (from [`prepare`]; shown before the command starts, since the
/// command owns the terminal).
pub fn exec_once(
    home: &SkillHome,
    r: &crate::InstanceRef,
    args: &[String],
    overrides: Overrides,
    events: Option<EventSink>,
    notify: impl FnOnce(&[Notice]),
) -> Result<i32> {
    let skill = Store::new(home.clone()).get(&r.skill)?;
    require_instance(home, r)?;
    let (mut options, notices) = prepare(home, &skill, r)?;
    notify(&notices);
    options.limits = overrides.apply(&options.limits, Caller::Local);
    options.events = events;
    let runtime = std::sync::Arc::new(Runtime::new(home)?);
    crate::route::Router::attach(&mut options, home, runtime.clone(), &skill, r, None)?;
    let loaded =
        runtime.load_installed(&skill.component_path(), &skill.manifest.component.sha256)?;
    let code = loaded.run_command(args, &options)?;
    // As in `execute_once`: the process ends right after.
    std::mem::forget(loaded);
    drop(options);
    drop(runtime);
    Ok(code)
}

/// A throwaway instance of a package that is not installed (`skill pull-run`): its config
/// (secrets included) only in memory, its grants the capabilities just approved (directories
/// as bound at that review), `scratch` (which the caller removes) its data directory.
pub struct Throwaway<'a> {
    pub component_path: &'a std::path::Path,
    pub manifest: &'a skill_manifest::manifest::PackageManifest,
    pub yaml: &'a skill_manifest::manifest::SkillYaml,
    pub bindings: Vec<skill_store::dirs::Binding>,
    pub config: &'a [(String, String)],
    pub scratch: &'a std::path::Path,
}

/// The instance name a throwaway instance is shown by.
pub const THROWAWAY_INSTANCE: &str = "pull-run";

/// One call in a throwaway instance (see [`Throwaway`]).
pub fn call_throwaway(
    home: &SkillHome,
    throwaway: &Throwaway,
    tool: &ToolDef,
    args: &Args,
    overrides: Overrides,
    events: Option<EventSink>,
) -> Result<Finished> {
    let name = &throwaway.manifest.name;
    let schema = &throwaway.yaml.config;
    let mut state = skill_store::instance::InstanceState::default();
    for (key, value) in throwaway.config {
        state.set(schema, key, value)?;
    }
    let missing = skill_manifest::config::missing_required(schema, |k| state.value(k).is_some());
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::NotConfigured,
            format!("{name} needs {} to run", missing.join(", ")),
        )
        .with_hint(format!(
            "pass them: {}",
            missing
                .iter()
                .map(|k| format!("--config {k}=VALUE"))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    state.grants.approved = throwaway.yaml.capabilities.clone();
    state.grants.dirs = throwaway
        .bindings
        .iter()
        .filter_map(|b| match b {
            skill_store::dirs::Binding::Bound(dir) => Some(dir.clone()),
            _ => None,
        })
        .collect();
    // The scratch directory is the data directory itself: one directory to make and remove.
    let (sandbox, limits) = skill_store::instance::sandbox_with_data(
        name,
        THROWAWAY_INSTANCE,
        throwaway.scratch,
        &state,
        schema,
    )?;
    let notices = sandbox.closed.iter().cloned().map(Notice::Closed).collect();
    let options = CallOptions {
        limits: overrides.apply(&limits, Caller::Local),
        sandbox,
        config: state.effective_config(schema),
        events,
        router: None,
    };
    execute_once(
        home,
        throwaway.component_path,
        &throwaway.manifest.component.sha256,
        &tool.name,
        args,
        options,
        notices,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_user_may_raise_a_limit_a_remote_client_only_lower_it() {
        let base = Limits {
            timeout: Duration::from_secs(30),
            ..Limits::default()
        };
        let longer = Overrides {
            timeout: Some(Duration::from_secs(60)),
        };
        let shorter = Overrides {
            timeout: Some(Duration::from_secs(5)),
        };
        assert_eq!(longer.apply(&base, Caller::Local).timeout.as_secs(), 60);
        assert_eq!(longer.apply(&base, Caller::Remote).timeout.as_secs(), 30);
        assert_eq!(shorter.apply(&base, Caller::Local).timeout.as_secs(), 5);
        assert_eq!(shorter.apply(&base, Caller::Remote).timeout.as_secs(), 5);
        assert_eq!(Overrides::default().apply(&base, Caller::Remote), base);
    }

    #[test]
    fn tool_errors_keep_their_kind() {
        let kind = |e| tool_error(e).kind();
        assert_eq!(
            kind(ToolError::NotConfigured("x".into())),
            ErrorKind::NotConfigured
        );
        assert_eq!(
            kind(ToolError::InvalidArgs("x".into())),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(ToolError::UnknownTool("x".into())),
            ErrorKind::NotFound
        );
        assert_eq!(kind(ToolError::Failed("x".into())), ErrorKind::Tool);
    }
}
