//! `skill lock` and `skill sync`: a whole setup written down, and reproduced elsewhere.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::{Error, ErrorKind};
use skill_host::instances::{InstanceRef, approve, needs_approval, review_text};
use skill_manifest::manifest::SkillYaml;
use skill_store::instance::Instances;
use skill_store::setup::{
    self, LockedInstance, LockedSkill, MAX_SETUP_LOCK, SETUP_LOCK_FILE, SetupLock,
};
use skill_store::store::Store;

use super::{Context, install};
use crate::ui::{confirm, shown};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes what is installed: each skill's source (a registry digest or a git commit), version and
component digest, and each instance with its config and grants. Secrets are never written: only
which keys are set, and the environment variable `skill sync` reads each from
(SKILL_SECRET_<SKILL>_<INSTANCE>_<KEY>). Check the file in; `skill sync FILE` reproduces the
setup on another machine or in a container image.

Not the build's `skill.lock` (a project's pinned build tools): this one is a whole $SKILL_HOME.")]
pub struct LockArgs {
    /// Where to write it ("-" for stdout)
    #[arg(short, long, value_name = "FILE", default_value = SETUP_LOCK_FILE)]
    output: String,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Installs every skill of a lock file written by `skill lock` at exactly the recorded version —
from the registry by manifest digest, from git by commit — and fails if what arrives differs
from what the file records. Then each instance gets its config and the recorded grants (shown
for approval, as at install; --yes for scripts) and its secrets from the environment variables
the file names, or typed in a terminal. Skills installed here but not in the file are left alone.

Examples:
  skill sync skills-lock.json
  SKILL_SECRET_GH_DEFAULT_TOKEN=$TOKEN skill sync skills-lock.json --yes   # in a Dockerfile")]
pub struct SyncArgs {
    /// The lock file
    #[arg(value_name = "FILE", default_value = SETUP_LOCK_FILE)]
    file: PathBuf,

    /// Approve the recorded permissions without asking (for scripts and image builds)
    #[arg(short, long)]
    yes: bool,
}

pub fn lock(ctx: &Context, args: LockArgs) -> anyhow::Result<ExitCode> {
    let lock = setup::snapshot(&ctx.home()?)?;
    let text = lock.to_json();
    if args.output == "-" {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let path = PathBuf::from(&args.output);
    skill_store::fsutil::write_atomic(&path, text.as_bytes())?;
    let unreproducible: Vec<&str> = lock
        .skills
        .iter()
        .filter(|s| !reproducible(s))
        .map(|s| s.name.as_str())
        .collect();
    if !unreproducible.is_empty() {
        ctx.printer.warn(format!(
            "installed from a local path, so `skill sync` elsewhere cannot fetch them: {} (publish them, or install them from git)",
            unreproducible.join(", ")
        ));
    }
    ctx.printer.status(
        "Locked",
        format!(
            "{} skill{} ({} instances) in {}",
            lock.skills.len(),
            if lock.skills.len() == 1 { "" } else { "s" },
            lock.skills.iter().map(|s| s.instances.len()).sum::<usize>(),
            path.display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether a locked skill names a source another machine can fetch.
fn reproducible(skill: &LockedSkill) -> bool {
    skill.digest.is_some() || skill.commit.is_some()
}

pub fn sync(ctx: &Context, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let lock = read_lock(&args.file)?;
    let store = Store::new(home.clone());
    let mut missing_secrets = Vec::new();
    for locked in &lock.skills {
        let current = store.get(&locked.name).ok();
        let fresh = current.as_ref().is_some_and(|c| {
            c.manifest.component.sha256 == locked.component_sha256
                && c.manifest.version == locked.version
        });
        if fresh {
            ctx.printer.status(
                "Fresh",
                format!("{} {} is installed", locked.name, locked.version),
            );
        } else {
            let source = sync_source(locked)?;
            let first = locked
                .instances
                .first()
                .map(|i| i.name.clone())
                .unwrap_or_else(|| "default".to_string());
            install::run(ctx, install::Args::sync(source, first, args.yes))?;
            check_drift(&store, locked)?;
        }
        let installed = store.get(&locked.name)?;
        let yaml = SkillYaml::parse(&installed.skill_yaml)?;
        for instance in &locked.instances {
            apply_instance(
                ctx,
                &home,
                locked,
                instance,
                &yaml,
                args.yes,
                &mut missing_secrets,
            )?;
        }
    }
    if !missing_secrets.is_empty() {
        return Err(Error::new(
            ErrorKind::NotConfigured,
            format!(
                "synced, but these secrets are not set: {}",
                missing_secrets
                    .iter()
                    .map(|(r, key, _)| format!("{r} {key}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_hint(format!(
            "set {} and run `skill sync` again (or `skill config SKILL@INSTANCE --set KEY`)",
            missing_secrets
                .iter()
                .map(|(_, _, env)| env.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    ctx.printer.status(
        "Synced",
        format!(
            "{} skill{} from {}",
            lock.skills.len(),
            if lock.skills.len() == 1 { "" } else { "s" },
            args.file.display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

fn read_lock(path: &std::path::Path) -> anyhow::Result<SetupLock> {
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut text = String::new();
    use std::io::Read;
    file.take(MAX_SETUP_LOCK + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io("read", path, e))?;
    if text.len() as u64 > MAX_SETUP_LOCK {
        return Err(Error::invalid(format!("{what} is larger than {MAX_SETUP_LOCK} bytes")).into());
    }
    Ok(SetupLock::parse(&text, &what)?)
}

/// What to install a locked skill from: exactly the recorded version.
fn sync_source(locked: &LockedSkill) -> anyhow::Result<String> {
    let unfetchable = || {
        Error::not_found(format!(
            "{} {} was installed from a local path; the lock file cannot bring it here",
            locked.name, locked.version
        ))
        .with_hint("publish it to a registry or install it from git, then `skill lock` again")
    };
    let source = locked.source.clone().ok_or_else(unfetchable)?;
    let pinned = match (&locked.digest, &locked.commit) {
        (Some(digest), _) => source.ends_with(&format!("@{digest}")),
        (None, Some(commit)) => source.ends_with(&format!("#{commit}")),
        (None, None) => std::path::Path::new(&source).exists(),
    };
    if !pinned {
        if locked.digest.is_none() && locked.commit.is_none() {
            return Err(unfetchable().into());
        }
        return Err(Error::invalid(format!(
            "the lock file's source for {} does not name its own digest or commit",
            locked.name
        ))
        .with_hint("the file was edited by hand; write it again with `skill lock`")
        .into());
    }
    Ok(source)
}

/// What arrived must be what the lock records.
fn check_drift(store: &Store, locked: &LockedSkill) -> anyhow::Result<()> {
    let installed = store.get(&locked.name)?;
    let origin = installed.origin.as_ref();
    let mut drift = Vec::new();
    if installed.manifest.version != locked.version {
        drift.push(format!(
            "version {} (the lock file says {})",
            installed.manifest.version, locked.version
        ));
    }
    if locked.digest.is_some() && origin.and_then(|o| o.digest.as_ref()) != locked.digest.as_ref() {
        drift.push("the registry manifest digest".to_string());
    }
    if locked.commit.is_some() && origin.and_then(|o| o.commit.as_ref()) != locked.commit.as_ref() {
        drift.push("the git commit".to_string());
    }
    let component_differs = installed.manifest.component.sha256 != locked.component_sha256;
    if component_differs && locked.commit.is_none() {
        drift.push(format!(
            "component sha256:{} (the lock file says sha256:{})",
            installed.manifest.component.sha256, locked.component_sha256
        ));
    }
    if !drift.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "{} installed here differs from the lock file: {}",
                locked.name,
                drift.join(", ")
            ),
        )
        .with_hint("the source changed since the file was written; `skill rollback` returns to the version before, `skill lock` records what is here now")
        .into());
    }
    Ok(())
}

fn apply_instance(
    ctx: &Context,
    home: &skill_store::SkillHome,
    locked: &LockedSkill,
    instance: &LockedInstance,
    yaml: &SkillYaml,
    yes: bool,
    missing_secrets: &mut Vec<(InstanceRef, String, String)>,
) -> anyhow::Result<()> {
    let target = InstanceRef::parse(&locked.name, Some(&instance.name))?;
    if !Instances::new(home.clone()).exists(&target.skill, &target.instance) {
        skill_store::instance::validate_instance_name(&target.instance)?;
    }
    let review = needs_approval(home, &target, &instance.approved)?;
    if let Some(review) = &review {
        if !yes || !ctx.printer.is_quiet() {
            eprint!("{}", shown(&review_text(&target, &locked.version, review)));
        }
        if !yes && !confirm("Allow?") {
            return Err(Error::denied(format!(
                "not synced: the permissions for {target} were not approved"
            ))
            .with_hint("answer `y` to approve, or pass --yes in scripts")
            .into());
        }
    }
    approve(home, &target, &instance.approved, review.as_ref())?;
    let schema = &yaml.config;
    let mut secrets = Vec::new();
    for (key, from) in &instance.secrets {
        match std::env::var(&from.env) {
            Ok(value) => secrets.push((key.clone(), value)),
            Err(_) if std::io::stdin().is_terminal() => {
                eprint!("{target} {key} (or set {}): ", from.env);
                let value = console::Term::stderr()
                    .read_secure_line()
                    .map_err(|e| Error::invalid(format!("could not read `{key}`: {e}")))?;
                secrets.push((key.clone(), value));
            }
            Err(_) => {
                let already = Instances::new(home.clone())
                    .load(&target.skill, &target.instance)?
                    .secrets
                    .contains_key(key);
                if !already {
                    missing_secrets.push((target.clone(), key.clone(), from.env.clone()));
                }
            }
        }
    }
    Instances::new(home.clone()).update(&target.skill, &target.instance, |state| {
        for (key, value) in instance
            .config
            .iter()
            .chain(secrets.iter().map(|(k, v)| (k, v)))
        {
            state.set(schema, key, value)?;
        }
        state.grants.limits = instance.limits.clone();
        Ok(())
    })?;
    ctx.printer.status("Configured", target.to_string());
    Ok(())
}
