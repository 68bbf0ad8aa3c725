use std::path::PathBuf;
use std::process::ExitCode;

use skill_build::docs;
use skill_build::pipeline::{self, BuildOptions};
use skill_build::project::Project;
use skill_engine::{Error, Runtime};
use skill_manifest::manifest::{MANIFEST_JSON, PackageManifest};
use skill_manifest::skill_md::{self, SKILL_MD};
use skill_store::fsutil::rewrite_atomic;

use super::Context;

const README: &str = "README.md";

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes each tool's `skill run` line and parameter table into SKILL.md, between
<!-- skill docs --> markers under the tool's `## name` section, and a usage section into
README.md. Everything outside the markers (your prose, other sections, frontmatter fields)
is kept; tools without a section get one. The project is built first when its sources
changed, since the tools are read from the built component.")]
pub struct Args {
    /// The skill project (default: the one containing the current directory)
    path: Option<PathBuf>,

    /// Change nothing; fail when SKILL.md or README.md is not up to date (for CI)
    #[arg(long)]
    check: bool,

    /// Leave README.md alone
    #[arg(long)]
    no_readme: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let project = Project::discover(&args.path.unwrap_or_else(|| PathBuf::from(".")))?;
    let manifest_path = project.output_dir().join(MANIFEST_JSON);
    let manifest = if project.needs_build() || !manifest_path.is_file() {
        let home = ctx.home()?;
        let runtime = Runtime::new(&home)?;
        let options = BuildOptions {
            skill_md_advisory: true,
            ..Default::default()
        };
        pipeline::build(&project, &home, &runtime, &ctx.printer, options)?
            .1
            .manifest
    } else {
        PackageManifest::read(&manifest_path)?
    };
    let description = project
        .skill_yaml
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| manifest.description.clone());
    let existing = skill_md::read_from(&project.root)?;
    let written = docs::skill_md(existing.as_deref(), &manifest, &description)?;

    let mut changes: Vec<(PathBuf, String)> = Vec::new();
    if existing.as_deref() != Some(written.text.as_str()) {
        changes.push((project.root.join(SKILL_MD), written.text.clone()));
    }
    let readme_path = project.root.join(README);
    if !args.no_readme
        && let Ok(meta) = std::fs::symlink_metadata(&readme_path)
        && meta.is_file()
    {
        let text = skill_manifest::manifest::read_text(&readme_path, 1 << 20)?;
        let refreshed = docs::readme(&text, &manifest)?;
        if refreshed != text {
            changes.push((readme_path, refreshed));
        }
    }

    let p = &ctx.printer;
    if args.check {
        if changes.is_empty() {
            p.status(
                "Fresh",
                format!("{SKILL_MD} documents every tool of {}", manifest.name),
            );
            return Ok(ExitCode::SUCCESS);
        }
        let files: Vec<String> = changes
            .iter()
            .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        return Err(Error::invalid(format!(
            "{} not up to date with the tools of {}",
            files.join(" and "),
            manifest.name
        ))
        .with_hint("run `skill docs` and commit the result")
        .into());
    }
    for (path, text) in &changes {
        rewrite_atomic(path, text.as_bytes())?;
        p.status("Wrote", path.display().to_string());
    }
    if changes.is_empty() {
        p.status(
            "Fresh",
            format!("{SKILL_MD} documents every tool of {}", manifest.name),
        );
    }
    if !written.added.is_empty() {
        p.note(format!(
            "added sections for {}: say there when and why to use them",
            written.added.join(", ")
        ));
    }
    for orphan in &written.orphaned {
        p.warn(format!(
            "{SKILL_MD} has a section `{orphan}` but the skill has no such tool; it was kept"
        ));
    }
    Ok(ExitCode::SUCCESS)
}
