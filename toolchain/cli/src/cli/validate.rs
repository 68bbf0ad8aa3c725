use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::package::Package;
use skill_engine::{Error, Runtime};
use skill_manifest::manifest::SKILL_YAML;

use super::Context;
use skill_build::project::InstallSource;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A skill project (its built component is checked), a built skill directory, or a
    /// component .wasm with its skill.yaml beside it (default: the current project)
    path: Option<PathBuf>,

    /// Print the result as JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Checks skill.yaml and a built component against the contract without building anything:
/// the same checks `skill build` and `skill install` make.
pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let path = match args.path {
        Some(path) => path,
        None => skill_build::project::Project::discover(&PathBuf::from("."))?.root,
    };
    let (component, skill_yaml, stale) = match InstallSource::resolve(&path)? {
        InstallSource::Project(project) => {
            if !project.component_path().is_file() {
                return Err(Error::not_found(format!(
                    "`{}` has not been built yet",
                    project.name()
                ))
                .with_hint("run `skill build` first; validate checks what was built")
                .into());
            }
            let stale = project.needs_build();
            (
                project.component_path(),
                project.output_dir().join(SKILL_YAML),
                stale,
            )
        }
        InstallSource::Built {
            component,
            skill_yaml,
        } => (component, skill_yaml, false),
    };
    let runtime = Runtime::new(&ctx.home()?)?;
    let package = Package::from_files(&runtime, &component, &skill_yaml)?;
    let manifest = &package.manifest;
    let mut warnings = package.warnings.clone();
    if stale {
        warnings.push(
            "the sources changed after the last build; run `skill build` to validate them"
                .to_string(),
        );
    }
    let report = package.report.clone().unwrap_or_default();

    if json {
        let json = serde_json::json!({
            "ok": true,
            "name": manifest.name,
            "version": manifest.version,
            "contract": manifest.contract,
            "component": { "path": component.display().to_string(), "sha256": manifest.component.sha256, "size": manifest.component.size },
            "imports": report.imports,
            "exports": report.exports,
            "tools": manifest.tools.iter().map(|t| &t.name).collect::<Vec<_>>(),
            "warnings": warnings,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    for warning in &warnings {
        ctx.printer.warn(warning);
    }
    let p = &ctx.printer;
    p.status(
        "Valid",
        format!(
            "{} {} implements {}",
            manifest.name, manifest.version, manifest.contract
        ),
    );
    p.detail(format!("  imports: {}", report.imports.join(", ")));
    p.detail(format!("  exports: {}", report.exports.join(", ")));
    let tools: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    p.status("Tools", format!("{} ({})", tools.len(), tools.join(", ")));
    Ok(ExitCode::SUCCESS)
}
