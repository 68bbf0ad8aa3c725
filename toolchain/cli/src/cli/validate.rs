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
    let mut project_root = None;
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
            project_root = Some(project.root.clone());
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
    let mut package = Package::from_files(&runtime, &component, &skill_yaml)?;
    // A project's own SKILL.md is checked as it is now, not as the last build copied it.
    let findings = match &project_root {
        Some(root) => match skill_manifest::skill_md::read_from(root)? {
            Some(text) => package.attach_skill_md(text),
            None => {
                package.skill_md = None;
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let errors: Vec<String> = findings
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    let manifest = &package.manifest;
    let mut warnings = package.warnings.clone();
    warnings.extend(
        findings
            .iter()
            .filter(|d| !d.is_error())
            .map(ToString::to_string),
    );
    if project_root.is_some() && package.skill_md.is_none() && errors.is_empty() {
        warnings.push(format!(
            "{} has no SKILL.md: agents see only the tool descriptions; `skill docs` writes one",
            manifest.name
        ));
    }
    if stale {
        warnings.push(
            "the sources changed after the last build; run `skill build` to validate them"
                .to_string(),
        );
    }
    let report = package.report.clone().unwrap_or_default();

    if json {
        let json = serde_json::json!({
            "ok": errors.is_empty(),
            "skill_md": findings,
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
        return Ok(if errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    for warning in &warnings {
        ctx.printer.warn(warning);
    }
    if !errors.is_empty() {
        return Err(Error::invalid(format!(
            "SKILL.md does not follow the Agent Skills specification:\n  {}",
            errors.join("\n  ")
        ))
        .with_hint("fix the lines above (the rules are in docs/discovery.md), or run `skill docs` to refresh it")
        .into());
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
