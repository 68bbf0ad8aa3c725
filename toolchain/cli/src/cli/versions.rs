//! `skill update`, `skill rollback`, `skill prune`: moving between installed versions.

use std::process::ExitCode;

use skill_engine::Error;
use skill_source::git::{GitCache, GitSource};
use skill_source::{Registry, Request};
use skill_store::instance::Instances;
use skill_store::store::{InstalledSkill, Store};

use super::{Context, install};
use crate::ui::human_size;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
A skill installed from a registry moves to the newest version matching what was asked at
install (`hello@^1.2` stays within ^1.2; a digest stays put). Permissions the new version asks
for beyond what was approved are shown for approval, as at install. The replaced version is
kept for `skill rollback`.

A skill installed from git is fetched again and rebuilt when its branch or tag moved (a commit
id stays put).")]
pub struct UpdateArgs {
    /// The skill to update
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    name: Option<String>,

    /// Update every skill installed from a registry or git
    #[arg(long)]
    all: bool,

    /// Approve new permissions without asking (for scripts)
    #[arg(short, long)]
    yes: bool,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The skill to return to the version it had before its last install or update
    name: String,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
A yanked version is skipped by every new resolution (`install NAME`, `NAME@^1`, `update`,
`pull-run`); installing it by its tag or digest, and everything already installed, keep
working. The mark is a tag VERSION.yanked in the repository, which any registry can hold.")]
pub struct YankArgs {
    /// NAME@VERSION or oci://HOST/PATH:VERSION
    #[arg(value_name = "NAME@VERSION")]
    target: String,

    /// Take the yank back
    #[arg(long)]
    undo: bool,

    /// The registry (HOST[:PORT][/NAMESPACE]) bare names resolve under
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,
}

pub fn yank(ctx: &Context, args: YankArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let config = ctx.registry_config(args.registry.as_deref());
    let bad = || {
        Error::invalid(format!("`{}` names no exact version", args.target))
            .with_hint("NAME@1.2.0, or oci://HOST/PATH:1.2.0")
    };
    let (request, version) = if args.target.starts_with("oci://") {
        let request = Request::parse(&args.target, &config)?;
        let version = match &request.pick {
            skill_source::Pick::Tag(tag) => {
                skill_source::semver::Version::parse(tag).map_err(|_| bad())?
            }
            _ => return Err(bad().into()),
        };
        (request, version)
    } else {
        let (name, version) = args.target.split_once('@').ok_or_else(bad)?;
        let version = skill_source::semver::Version::parse(version).map_err(|_| bad())?;
        (Request::parse(name, &config)?, version)
    };
    let registry = Registry::new(home, config)?;
    let repository = &request.repository;
    if args.undo {
        registry.unyank(repository, &version)?;
        ctx.printer.status(
            "Unyanked",
            format!("{repository} {version}: resolvable again"),
        );
    } else {
        registry.yank(repository, &version)?;
        ctx.printer.status(
            "Yanked",
            format!("{repository} {version}: new resolutions skip it (`--undo` takes it back)"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Show what would be removed, remove nothing
    #[arg(long)]
    dry_run: bool,

    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

/// What `skill update` asks the registry for, from how the version was installed: `None`
/// when it cannot move (a path, or pinned by digest).
fn update_source(skill: &InstalledSkill) -> Option<String> {
    let origin = skill.origin.as_ref()?;
    let repository = install::repository_of(&origin.source)?;
    if origin.requested.starts_with("oci://") {
        return (!origin.requested.contains("@sha256:")).then(|| origin.requested.clone());
    }
    Some(match origin.requested.split_once('@') {
        Some((_, requirement)) => format!("oci://{repository}@{requirement}"),
        None => format!("oci://{repository}"),
    })
}

pub fn update(ctx: &Context, args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let store = Store::new(home.clone());
    let skills = match &args.name {
        Some(name) => vec![store.get(name)?],
        None => store.list()?,
    };
    let registry = Registry::new(home.clone(), ctx.registry_config(None))?;
    for skill in skills {
        let name = &skill.manifest.name;
        if let Some(origin) = skill.origin.as_ref().filter(|o| o.commit.is_some()) {
            update_from_git(ctx, &home, &skill, origin, &args)?;
            continue;
        }
        let Some(source) = update_source(&skill) else {
            let why = match &skill.origin {
                Some(o) if o.source.starts_with("oci://") => "is pinned by digest",
                _ => "was installed from a path (reinstall it from there)",
            };
            if args.name.is_some() {
                return Err(
                    Error::invalid(format!("{name} {why}; there is nothing to update"))
                        .with_hint(
                            "install another version explicitly: `skill install NAME@VERSION`",
                        )
                        .into(),
                );
            }
            ctx.printer.note(format!("{name}: {why}, skipped"));
            continue;
        };
        let request = Request::parse(&source, registry.config())?;
        let resolved = registry.resolve(&request)?;
        let current = skill.origin.as_ref().and_then(|o| o.digest.as_deref());
        if current == Some(resolved.digest.as_str()) {
            ctx.printer.status(
                "Fresh",
                format!(
                    "{name} {} is the newest matching `{source}`",
                    skill.manifest.version
                ),
            );
            continue;
        }
        let instance = Instances::new(home.clone()).list(name).into_iter().next();
        install::run(ctx, install::Args::update(source, instance, args.yes))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A git install: rebuilt from the commit its reference names now, when that moved.
fn update_from_git(
    ctx: &Context,
    home: &skill_store::SkillHome,
    skill: &InstalledSkill,
    origin: &skill_store::store::Origin,
    args: &UpdateArgs,
) -> anyhow::Result<()> {
    let name = &skill.manifest.name;
    let source = GitSource::parse(&origin.requested)?;
    if source.is_pinned() {
        if args.name.is_some() {
            return Err(Error::invalid(format!(
                "{name} is pinned to commit {}; there is nothing to update",
                origin.commit.as_deref().unwrap_or_default()
            ))
            .with_hint("install another reference explicitly: `skill install URL#BRANCH-OR-TAG`")
            .into());
        }
        ctx.printer
            .note(format!("{name}: pinned to a commit, skipped"));
        return Ok(());
    }
    let now = GitCache::new(home).remote_commit(&source)?;
    if now.is_some() && now == origin.commit {
        ctx.printer.status(
            "Fresh",
            format!(
                "{name} {} is built from the newest commit of `{source}`",
                skill.manifest.version
            ),
        );
        return Ok(());
    }
    let instance = Instances::new(home.clone()).list(name).into_iter().next();
    install::run(
        ctx,
        install::Args::update(origin.requested.clone(), instance, args.yes),
    )?;
    Ok(())
}

pub fn rollback(ctx: &Context, args: RollbackArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = Store::new(ctx.home()?).rollback(&args.name)?;
    ctx.printer
        .status("Rolled back", format!("{} {from} → {to}", args.name));
    Ok(ExitCode::SUCCESS)
}

pub fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let store = Store::new(ctx.home()?);
    let mut removed = store.prune(args.dry_run)?;
    // With --dry-run the versions are still there, so their compiled code is still wanted;
    // what would go with them is not counted.
    removed.extend(store.prune_aot_cache(args.dry_run)?);
    removed
        .extend(skill_store::pull_cache::PullCache::new(ctx.home()?).clear(false, args.dry_run)?);
    removed.extend(GitCache::new(&ctx.home()?).clear(args.dry_run)?);
    let total: u64 = removed.iter().map(|(_, size)| size).sum();
    if json {
        let out = serde_json::json!({
            "dry_run": args.dry_run,
            "freed": total,
            "removed": removed.iter().map(|(p, s)| serde_json::json!({"path": p, "size": s})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (path, size) in &removed {
        ctx.printer
            .note(format!("{}  {}", human_size(*size), path.display()));
    }
    let verb = if args.dry_run { "Would free" } else { "Freed" };
    ctx.printer.status(
        verb,
        format!(
            "{} in {} entr{}",
            human_size(total),
            removed.len(),
            if removed.len() == 1 { "y" } else { "ies" }
        ),
    );
    Ok(ExitCode::SUCCESS)
}
