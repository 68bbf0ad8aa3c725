use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skill_engine::{Error, Runtime};
use skill_manifest::manifest::{Language, SKILL_YAML, SkillYaml};

use super::Context;
use skill_build::pipeline::{self, BuildOptions};
use skill_build::project::{Project, markers};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The skill project (default: the one containing the current directory)
    path: Option<PathBuf>,

    /// Build as this language, overriding skill.yaml and detection (rust, javascript,
    /// typescript, python); saved into skill.yaml when it has no build section
    #[arg(long, value_name = "LANG")]
    lang: Option<Language>,

    /// Fail if skill.lock is missing or any build tool or dependency lock differs from it
    #[arg(long, conflicts_with = "dev")]
    locked: bool,

    /// Skip the slow optional stages (wasm-opt for Rust) for a quicker edit-build loop;
    /// skill.lock is left alone
    #[arg(long)]
    dev: bool,

    /// Print a JSON build report on stdout (stages, durations, sizes, digests, tools, warnings)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let root = Project::find_root(&args.path.unwrap_or_else(|| PathBuf::from(".")))?;
    let lang = match args.lang {
        Some(lang) => Some(lang),
        None => ask_language_if_ambiguous(&root)?,
    };
    let mut project = Project::open_as(&root, lang)?;
    let printer = ctx.printer.unless_json(json);
    if let Some(section) = project.record_detected_build()? {
        printer.status(
            "Detected",
            format!(
                "a {} project; saved to skill.yaml:\n{}",
                project.language,
                section.trim_end()
            ),
        );
    }
    let home = ctx.home()?;
    let runtime = Runtime::new(&home)?;
    let options = BuildOptions {
        locked: args.locked,
        dev: args.dev,
        ..Default::default()
    };
    let (report, _) = pipeline::build(&project, &home, &runtime, &printer, options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Two project markers (say Cargo.toml and package.json) and no build section: in a terminal,
/// ask which one; otherwise detection fails with a hint naming both.
fn ask_language_if_ambiguous(root: &Path) -> anyhow::Result<Option<Language>> {
    let found = markers(root);
    if found.len() < 2
        || !std::io::stdin().is_terminal()
        || SkillYaml::read(&root.join(SKILL_YAML))?.build.is_some()
    {
        return Ok(None);
    }
    eprintln!("This project has more than one kind of build file:");
    for (i, (file, lang)) in found.iter().enumerate() {
        eprintln!("  {}) {lang} ({file})", i + 1);
    }
    eprint!("Build it as which? [1-{}] ", found.len());
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let choice = answer
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| found.get(n.wrapping_sub(1)))
        .ok_or_else(|| {
            Error::invalid(format!("`{}` is not one of the choices", answer.trim()))
                .with_hint("run again and type a number, or pass --lang")
        })?;
    Ok(Some(choice.1))
}
