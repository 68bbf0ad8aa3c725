use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::ui::shown;
use skill_engine::host::{Event, EventSink, LogLevel};
use skill_engine::network::{Refusal, RefusalReason};
use skill_engine::{Error, ErrorKind};
use skill_host::instances::InstanceRef;
use skill_host::{Notice, Overrides};
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

pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    // At most a day, like an instance's own limit.
    if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err("the timeout must be a positive number of seconds, at most 86400 (a day)".to_string())
    }
}

pub fn run(ctx: &Context, mut args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    // `name[@instance][:tool]`
    let (head, tool) = match args.target.split_once(':') {
        Some((head, tool)) => (head.to_string(), Some(tool.to_string())),
        None => (args.target.clone(), None),
    };
    let instance_ref = InstanceRef::parse(&head, args.instance.take().as_deref())?;
    let home = ctx.home()?;
    let tool_name = match tool {
        Some(tool) => tool,
        None if !args.args.is_empty() => args.args.remove(0),
        None => return Err(which_tool(&home, &instance_ref)?.into()),
    };
    let resolved = skill_host::resolve(&home, &instance_ref, &tool_name)?;
    let qualified = resolved.qualified();
    let call_args = args::parse_cli(&resolved.tool, &qualified, &args.args)?;

    let verbose = ctx.printer.is_verbose();
    let quiet = ctx.printer.verbosity == crate::ui::Verbosity::Quiet;
    let events: EventSink = Arc::new(move |event: &Event| print_event(event, verbose, quiet));
    let overrides = Overrides {
        timeout: args.timeout,
    };
    let finished = skill_host::call_once(&home, &resolved, &call_args, overrides, Some(events))?;
    report(
        ctx,
        finished,
        &Report {
            instance: &instance_ref,
            qualified: &qualified,
            tool: &resolved.tool,
            sha256: &resolved.skill.manifest.component.sha256,
            json,
            raw: args.raw,
        },
    )
}

/// What a finished call is reported about.
pub(super) struct Report<'a> {
    pub instance: &'a InstanceRef,
    pub qualified: &'a str,
    pub tool: &'a skill_manifest::manifest::ToolDef,
    pub sha256: &'a str,
    pub json: bool,
    pub raw: bool,
}

/// Notices as warnings, the output on stdout (made safe for a terminal), or the tool's error
/// with what to do about it: `skill run` and `skill pull-run` alike.
pub(super) fn report(
    ctx: &Context,
    finished: skill_host::Finished,
    r: &Report,
) -> anyhow::Result<ExitCode> {
    let (instance_ref, qualified, json) = (r.instance, r.qualified, r.json);
    let verbose = ctx.printer.is_verbose();
    if let Some(cache) = &finished.cache {
        ctx.printer.detail(format!(
            "component {}: {cache}",
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    warn_notices(ctx, instance_ref, &finished.notices);
    if verbose {
        for (stream, bytes) in [("stdout", &finished.stdout), ("stderr", &finished.stderr)] {
            if !bytes.is_empty() {
                eprintln!(
                    "guest {stream}:\n{}",
                    shown(String::from_utf8_lossy(bytes).trim_end())
                );
            }
        }
        eprintln!("{qualified} took {:.2?}", finished.duration);
    }
    match finished.result {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            // A terminal gets the text with control characters made visible; a pipe (or
            // --raw) gets it as the tool wrote it.
            let text = if r.raw || !std::io::IsTerminal::is_terminal(&stdout) {
                std::borrow::Cow::Borrowed(output.text.as_str())
            } else {
                shown(&output.text)
            };
            if json {
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
            // The tool's own error: what it said, and what to do about it here.
            let hint = match tool_error.kind() {
                ErrorKind::NotConfigured => Some(format!(
                    "configure it with `skill config {instance_ref}` (--set KEY=VALUE, or no flags for a wizard)"
                )),
                ErrorKind::InvalidInput => Some(format!(
                    "usage: skill run {qualified} {}",
                    args::usage_line(r.tool)
                )),
                ErrorKind::NotFound => {
                    Some("the skill's manifest is out of date; reinstall it".to_string())
                }
                _ => None,
            };
            let err = Error::new(
                ErrorKind::Tool,
                format!("{qualified} failed: {}", tool_error.message()),
            );
            Err(match hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
            .into())
        }
    }
}

/// `skill run NAME` without a tool: which one?
fn which_tool(home: &skill_engine::SkillHome, r: &InstanceRef) -> anyhow::Result<Error> {
    let skill = Store::new(home.clone()).get(&r.skill)?;
    let manifest = &skill.manifest;
    let names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    Ok(
        Error::invalid(format!("which tool of `{}`?", manifest.name)).with_hint(format!(
            "tools: {}; e.g. `skill run {}:{}`",
            names.join(", "),
            manifest.name,
            names.first().unwrap_or(&"TOOL")
        )),
    )
}

pub(super) fn print_event(event: &Event, verbose: bool, quiet: bool) {
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

/// Notices about a call of `instance_ref`, as warnings with what to do about each.
pub(super) fn warn_notices(ctx: &Context, instance_ref: &InstanceRef, notices: &[Notice]) {
    for notice in notices {
        let hint = notice_hint(instance_ref, notice);
        ctx.printer.warn(match notice {
            Notice::Closed(_) => format!("{notice} for {instance_ref}{hint}"),
            _ => format!("{instance_ref} {notice}{hint}"),
        });
    }
}

/// What to do about a notice, as commands of this CLI.
fn notice_hint(instance: &InstanceRef, notice: &Notice) -> String {
    match notice {
        Notice::Ungranted(_) => format!(
            "; approve them with `skill install <path> -i {}`",
            instance.instance
        ),
        Notice::Closed(_) => format!(" (approve it again with `skill grant {instance} --fs PATH`)"),
        Notice::Refused(refusal) => refusal_hint(instance, refusal),
        Notice::EventsDropped(_) => String::new(),
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
