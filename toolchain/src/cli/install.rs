use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skill_runtime::Runtime;
use skill_runtime::manifest::SKILL_YAML;
use skill_runtime::package::Package;
use skill_runtime::store::Store;

use super::Context;
use crate::build;
use crate::project::InstallSource;
use crate::ui::Printer;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A skill project (built first if needed), a built skill directory (target/skill), or a
    /// component .wasm with its skill.yaml beside it
    path: PathBuf,

    /// Print the installed manifest as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let printer = if args.json {
        Printer::new(true, false)
    } else {
        ctx.printer
    };
    let home = ctx.home()?;
    let runtime = Runtime::new(&home)?;
    let package = match InstallSource::resolve(&args.path)? {
        // A fresh build already validated, described and warned; install what it made.
        InstallSource::Project(mut project) if project.needs_build() => {
            project.record_detected_build()?;
            build::build(&project, &home, &runtime, &printer, Default::default())?.1
        }
        InstallSource::Project(project) => prepared(
            &printer,
            &runtime,
            &project.component_path(),
            &project.output_dir().join(SKILL_YAML),
        )?,
        InstallSource::Built {
            component,
            skill_yaml,
        } => prepared(&printer, &runtime, &component, &skill_yaml)?,
    };
    let outcome = Store::new(home).install(&package)?;
    let manifest = &outcome.skill.manifest;
    let tools: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    let what = match &outcome.previous {
        Some(previous) if previous != &manifest.version => {
            format!("{} {previous} → {}", manifest.name, manifest.version)
        }
        Some(_) => format!("{} {} (reinstalled)", manifest.name, manifest.version),
        None => format!("{} {}", manifest.name, manifest.version),
    };
    printer.status(
        "Installed",
        format!(
            "{what}: {} tool{} ({})",
            tools.len(),
            if tools.len() == 1 { "" } else { "s" },
            tools.join(", ")
        ),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(manifest)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prepares an already built package, showing its warnings.
fn prepared(
    printer: &Printer,
    runtime: &Runtime,
    component: &Path,
    skill_yaml: &Path,
) -> anyhow::Result<Package> {
    let package = Package::from_files(runtime, component, skill_yaml)?;
    for warning in &package.warnings {
        printer.warn(warning);
    }
    Ok(package)
}
