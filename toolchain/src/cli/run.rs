use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use skill_manifest::error::suggestion;

use crate::instances::{InstanceRef, call_options, require_instance};
use crate::ui::shown;
use skill_engine::host::{Event, LogLevel};
use skill_engine::network::{Refusal, RefusalReason};
use skill_engine::{Error, Runtime, ToolError};
use skill_manifest::args;
use skill_store::store::Store;

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Arguments after the tool go to the tool, in any of these forms:
  key=value   --key value   --key=value   --flag / --no-flag (booleans)
  bare values fill the parameters in declared order:  skill run aws@prod:s3-list mybucket
Options of `skill run` itself go before SKILL.")]
pub struct Args {
    /// SKILL[@INSTANCE]:TOOL, or SKILL followed by the tool name
    #[arg(value_name = "SKILL[@INSTANCE][:TOOL]")]
    target: String,

    /// The instance to run (same as SKILL@INSTANCE)
    #[arg(short, long)]
    instance: Option<String>,

    /// Stop the tool after this many seconds
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Option<Duration>,

    /// Print the result as JSON ({"text": ..., "data": ...}) on stdout
    #[arg(long)]
    json: bool,

    /// Print the tool's output byte for byte even to a terminal (by default, control
    /// characters in it are shown as escapes there, so a tool cannot drive your terminal)
    #[arg(long)]
    raw: bool,

    /// The tool (when not given as SKILL:TOOL), then its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

impl Args {
    pub fn shorthand(target: String, args: Vec<String>) -> Self {
        Args {
            target,
            instance: None,
            timeout: None,
            json: false,
            raw: false,
            args,
        }
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err("the timeout must be a positive number of seconds".to_string())
    }
}

pub fn run(ctx: &Context, mut args: Args) -> anyhow::Result<ExitCode> {
    // `name[@instance][:tool]`
    let (head, tool) = match args.target.split_once(':') {
        Some((head, tool)) => (head.to_string(), Some(tool.to_string())),
        None => (args.target.clone(), None),
    };
    let instance_ref = InstanceRef::parse(&head, args.instance.take().as_deref())?;
    let home = ctx.home()?;
    let skill = Store::new(home.clone()).get(&instance_ref.skill)?;
    let manifest = &skill.manifest;
    let tool_names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();

    require_instance(&home, &instance_ref)?;
    let instance = instance_ref.instance.clone();

    let tool_name = match tool {
        Some(tool) => tool,
        None if !args.args.is_empty() => args.args.remove(0),
        None => {
            return Err(
                Error::invalid(format!("which tool of `{}`?", manifest.name))
                    .with_hint(format!(
                        "tools: {}; e.g. `skill run {}:{}`",
                        tool_names.join(", "),
                        manifest.name,
                        tool_names.first().unwrap_or(&"TOOL")
                    ))
                    .into(),
            );
        }
    };
    let tool = manifest.tool(&tool_name).ok_or_else(|| {
        Error::not_found(format!(
            "skill `{}` has no tool `{tool_name}`",
            manifest.name
        ))
        .with_hint(format!(
            "{}tools of {}: {}",
            suggestion(&tool_name, tool_names.iter().copied()),
            manifest.name,
            tool_names.join(", ")
        ))
    })?;
    let qualified = format!("{}:{}", manifest.name, tool.name);
    let call_args = args::parse_cli(tool, &qualified, &args.args)?;

    let runtime = Runtime::new(&home)?;
    let loaded = runtime.load_installed(&skill.component_path(), &manifest.component.sha256)?;
    ctx.printer.detail(format!(
        "component {}: {}",
        &manifest.component.sha256[..12],
        loaded.cache
    ));

    let (mut options, ungranted) = call_options(&home, &skill, &instance_ref)?;
    if !ungranted.is_empty() {
        ctx.printer.warn(format!(
            "{instance_ref} runs without permissions its installed version asks for ({}); approve them with `skill install <path> -i {instance}`",
            ungranted.join("; ")
        ));
    }
    for closed in &options.sandbox.closed {
        ctx.printer.warn(format!(
            "{closed}; it stays closed for {instance_ref} (approve it again with `skill grant {instance_ref} --fs PATH`)"
        ));
    }
    if let Some(timeout) = args.timeout {
        options.limits.timeout = timeout;
    }
    let verbose = ctx.printer.is_verbose();
    let quiet = ctx.printer.verbosity == crate::ui::Verbosity::Quiet;
    options.events = Some(Arc::new(move |event: &Event| {
        print_event(event, verbose, quiet)
    }));

    let outcome = loaded.execute(&tool.name, &call_args, &options)?;
    for refusal in &outcome.refused {
        ctx.printer.warn(format!(
            "{instance_ref} tried to reach {refusal}{}",
            refusal_hint(&instance_ref, refusal)
        ));
    }
    if outcome.events_dropped > 0 {
        ctx.printer.warn(format!(
            "{} log/progress messages were dropped: the tool sent more than its output limit",
            outcome.events_dropped
        ));
    }
    // The process ends right after this call: unmapping the compiled code would only add to
    // every `skill run`. (The runtime is dropped: that stops its ticker thread cleanly.)
    std::mem::forget(loaded);
    drop(runtime);
    if verbose {
        for (stream, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
            if !bytes.is_empty() {
                eprintln!(
                    "guest {stream}:\n{}",
                    shown(String::from_utf8_lossy(bytes).trim_end())
                );
            }
        }
        eprintln!("{qualified} took {:.2?}", outcome.duration);
    }
    match outcome.result {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            // A terminal gets the text with control characters made visible; a pipe (or
            // --raw) gets it as the tool wrote it.
            let text = if args.raw || !std::io::IsTerminal::is_terminal(&stdout) {
                std::borrow::Cow::Borrowed(output.text.as_str())
            } else {
                shown(&output.text)
            };
            if args.json {
                writeln!(stdout, "{}", serde_json::to_string(&output)?)?;
            } else if !text.is_empty() {
                write!(stdout, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(stdout)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(tool_error) => {
            let hint = match &tool_error {
                ToolError::NotConfigured(_) => Some(format!(
                    "configure it with `skill config {instance_ref}` (--set KEY=VALUE, or no flags for a wizard)"
                )),
                ToolError::InvalidArgs(_) => Some(format!(
                    "usage: skill run {qualified} {}",
                    args::usage_line(tool)
                )),
                ToolError::UnknownTool(_) => {
                    Some("the skill's manifest is out of date; reinstall it".to_string())
                }
                ToolError::Failed(_) => None,
            };
            let err = Error::new(
                skill_engine::ErrorKind::Tool,
                format!("{qualified} failed: {tool_error}"),
            );
            Err(match hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
            .into())
        }
    }
}

fn print_event(event: &Event, verbose: bool, quiet: bool) {
    match event {
        Event::Log { level, message } => {
            let visible = if verbose {
                *level >= LogLevel::Debug
            } else {
                *level >= LogLevel::Info && !quiet
            };
            if visible || *level >= LogLevel::Error {
                eprintln!("[{}] {}", level.as_str(), shown(message));
            }
        }
        Event::Progress { percent, message } if !quiet => match percent {
            Some(p) => eprintln!("[{p:>3}%] {}", shown(message)),
            None => eprintln!("[....] {}", shown(message)),
        },
        Event::Progress { .. } => {}
    }
}

/// What to do about a refused request.
fn refusal_hint(instance: &InstanceRef, refusal: &Refusal) -> String {
    match &refusal.reason {
        RefusalReason::NotGranted => format!(
            "; allow it with `skill grant {instance} --net {}`",
            refusal.authority
        ),
        RefusalReason::Address { addr, .. } => format!(
            "; only an address granted as such is reached (`skill grant {instance} --net {addr}:PORT`), and only if you trust {instance} with it"
        ),
        RefusalReason::UserInfo | RefusalReason::TooMany => String::new(),
    }
}
