//! `skill exec`: a skill instance as a command (its `wasi:cli/run` export), with the terminal
//! attached. PATH shims (`skill shim`) run the same path without parsing any argument.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use skill_engine::host::{Event, EventSink};
use skill_host::Overrides;
use skill_host::instances::InstanceRef;

use super::Context;
use super::run::{parse_timeout, print_event, warn_notices};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Everything after `--` (or after SKILL) goes to the command as its arguments; its stdin, stdout
and stderr are this terminal's, and its exit code is skill's. It runs in the instance's sandbox
with the instance's limits (--timeout for this run).

Examples:
  skill exec jq-lite -- '.name' < data.json
  echo hello | skill exec textkit@prod -- upper
  skill shim textkit@prod --as upper   (then: echo hello | upper)")]
pub struct Args {
    /// The skill instance whose command to run
    #[arg(value_name = "SKILL[@INSTANCE]")]
    target: String,

    /// The instance (same as SKILL@INSTANCE)
    #[arg(short, long)]
    instance: Option<String>,

    /// Stop the command after this many seconds
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Option<Duration>,

    /// The command's arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let r = InstanceRef::parse(&args.target, args.instance.as_deref())?;
    let program = r.skill.clone();
    exec(ctx, &r, program, args.args, args.timeout)
}

/// Runs the command of `r` as `program` (the guest's first argument) with `args`.
pub(super) fn exec(
    ctx: &Context,
    r: &InstanceRef,
    program: String,
    args: Vec<String>,
    timeout: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let verbose = ctx.printer.is_verbose();
    let quiet = ctx.printer.verbosity == crate::ui::Verbosity::Quiet;
    let events: EventSink = Arc::new(move |event: &Event| print_event(event, verbose, quiet));
    let argv: Vec<String> = std::iter::once(program).chain(args).collect();
    let code = skill_host::exec_once(
        &home,
        r,
        &argv,
        Overrides { timeout },
        Some(events),
        |notices| warn_notices(ctx, r, notices),
    )?;
    // As a shell reports it: the low byte.
    Ok(ExitCode::from((code & 0xff) as u8))
}
