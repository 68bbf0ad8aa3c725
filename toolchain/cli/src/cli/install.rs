use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skill_engine::package::Package;
use skill_engine::{Error, Runtime};
use skill_manifest::manifest::SKILL_YAML;
use skill_store::audit;
use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use crate::ui::{Printer, confirm, shown};
use skill_build::pipeline;
use skill_build::project::InstallSource;
use skill_host::instances::{InstanceRef, approve, needs_approval, review_text};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A skill project (built first if needed), a built skill directory (target/skill), or a
    /// component .wasm with its skill.yaml beside it
    path: PathBuf,

    /// The instance to create or update (default: `default`); one skill can have many, each
    /// with its own config, secrets, grants and data
    #[arg(short, long, value_name = "ALIAS")]
    instance: Option<String>,

    /// Approve the permissions the skill asks for without asking (for scripts)
    #[arg(short, long)]
    yes: bool,

    /// Print the installed manifest as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let printer = ctx.printer.unless_json(json);
    let home = ctx.home()?;
    let runtime = Runtime::new(&home)?;
    let source = InstallSource::resolve(&args.path)?;
    // A project that must be built is reviewed from its skill.yaml *before* the build:
    // building runs the project's own code. Anything else is prepared (in the sandbox) first.
    let (to_build, prepared_package) = match source {
        InstallSource::Project(project) if project.needs_build() => (Some(project), None),
        InstallSource::Project(project) => (
            None,
            Some(prepared(
                &printer,
                &runtime,
                &project.component_path(),
                &project.output_dir().join(SKILL_YAML),
            )?),
        ),
        InstallSource::Built {
            component,
            skill_yaml,
        } => (
            None,
            Some(prepared(&printer, &runtime, &component, &skill_yaml)?),
        ),
    };
    let yaml = match (&to_build, &prepared_package) {
        (Some(project), _) => project.skill_yaml.clone(),
        (None, Some(package)) => package.skill_yaml.clone(),
        (None, None) => unreachable!("one of the two is set"),
    };
    let target = InstanceRef::parse(&yaml.name, args.instance.as_deref())?;
    if !Instances::new(home.clone()).exists(&target.skill, &target.instance) {
        // A new instance gets today's naming rules before anyone is asked anything.
        skill_store::instance::validate_instance_name(&target.instance)?;
    }
    let requested = yaml.capabilities.clone();
    if let Some(project) = &to_build
        && !printer.is_quiet()
    {
        eprintln!(
            "{}",
            shown(&format!(
                "Building {} from source runs its build scripts (build.rs, code the toolchain runs at build time) on this machine, outside the sandbox.",
                project.name()
            ))
        );
    }
    let review = needs_approval(&home, &target, &requested)?;
    if let Some(review) = &review {
        // Shown whenever it is asked, and with --yes unless -q.
        if !args.yes || !printer.is_quiet() {
            eprint!("{}", shown(&review_text(&target, &yaml.version, review)));
        }
        if !args.yes && !confirm("Allow?") {
            return Err(Error::denied(format!(
                "not installed: the permissions for {target} were not approved"
            ))
            .with_hint("answer `y` to approve, or pass --yes in scripts")
            .into());
        }
    }
    let package = match (to_build, prepared_package) {
        (Some(mut project), _) => {
            project.record_detected_build()?;
            // A fresh build already validated, described and warned; install what it made.
            let package =
                pipeline::build(&project, &home, &runtime, &printer, Default::default())?.1;
            if package.skill_yaml.capabilities != requested || package.manifest.name != yaml.name {
                return Err(Error::invalid(format!(
                    "not installed: {}'s skill.yaml changed while it was being built",
                    project.name()
                ))
                .with_hint("a build script rewrote it; review the project, then install again")
                .into());
            }
            package
        }
        (None, Some(package)) => package,
        (None, None) => unreachable!("one of the two is set"),
    };
    let requested = &requested;
    approve(&home, &target, requested, review.as_ref())?;
    let outcome = Store::new(home.clone()).install(
        &package.manifest,
        &package.component,
        &package.skill_yaml_text,
    )?;
    audit::record(
        &home,
        "install",
        &target.skill,
        &target.instance,
        serde_json::json!({ "version": package.manifest.version }),
    )?;
    let others: Vec<String> = Instances::new(home.clone())
        .list(&target.skill)
        .into_iter()
        .filter(|i| *i != target.instance)
        .filter(|i| {
            needs_approval(
                &home,
                &InstanceRef::parse(&target.skill, Some(i)).unwrap(),
                requested,
            )
            .ok()
            .flatten()
            .is_some()
        })
        .collect();
    for other in others {
        printer.warn(format!(
            "{}@{other} keeps its old permissions; approve the new ones with `skill install <path> -i {other}`",
            target.skill
        ));
    }
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
            "{what} as {target}: {} tool{} ({})",
            tools.len(),
            if tools.len() == 1 { "" } else { "s" },
            tools.join(", ")
        ),
    );
    if json {
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
