use std::path::PathBuf;
use std::process::ExitCode;

use skill_runtime::Runtime;

use super::Context;
use crate::build;
use crate::project::Project;
use crate::ui::Printer;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The skill project (default: the one containing the current directory)
    path: Option<PathBuf>,

    /// Print a JSON build report on stdout (stages, durations, sizes, digests, warnings)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let project = Project::discover(&args.path.unwrap_or_else(|| PathBuf::from(".")))?;
    let printer = if args.json {
        Printer::new(true, false)
    } else {
        ctx.printer
    };
    let runtime = Runtime::new(&ctx.home()?)?;
    let (report, _) = build::build(&project, &runtime, &printer)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}
