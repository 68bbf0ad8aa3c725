//! `skill grant` and `skill revoke`: change what one instance may reach, after install.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use skill_engine::Error;
use skill_manifest::capabilities::{Access, Capabilities, PathGrant};
use skill_store::audit;
use skill_store::dirs::Binding;
use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use skill_host::instances::{InstanceRef, require_instance};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  skill grant notes@work --fs ~/notes          read files under ~/notes
  skill grant notes@work --fs ~/notes:rw       read and write them
  skill grant github@me --net api.github.com   reach a host over HTTP(S) on 80/443 (*.example.com for subdomains)
  skill grant dev@me --net 127.0.0.1:8080      an address and port (names never reach local addresses)
  skill grant tool@x --env LANG                see a host environment variable
  skill grant report@me --call stats           call the tools of `stats` (a dependency it lists)

A directory is approved as the real directory it is now (symlinks resolved): if it is later
replaced or turned into a symlink, it stays closed until granted again. Directories inside
the skill home, containing it, or inside another writable grant cannot be granted.")]
pub struct Args {
    /// The instance
    #[arg(value_name = "SKILL[@INSTANCE]")]
    target: String,

    /// The instance (same as SKILL@INSTANCE)
    #[arg(short, long)]
    instance: Option<String>,

    /// A directory, read-only; append `:rw` for read and write
    #[arg(long, value_name = "PATH[:rw]")]
    fs: Vec<String>,

    /// A host for outgoing HTTP(S): api.example.com, *.example.com, or IP[:PORT]
    #[arg(long, value_name = "HOST")]
    net: Vec<String>,

    /// A host environment variable
    #[arg(long, value_name = "VAR")]
    env: Vec<String>,

    /// A skill whose tools it may call (one it lists in skill_dependencies)
    #[arg(long, value_name = "SKILL")]
    call: Vec<String>,
}

impl Args {
    fn capabilities(&self) -> skill_engine::Result<Capabilities> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let caps = Capabilities {
            filesystem: self
                .fs
                .iter()
                .map(|p| {
                    let (path, access) = match p.strip_suffix(":rw") {
                        Some(path) => (path, Access::ReadWrite),
                        None => (p.strip_suffix(":ro").unwrap_or(p), Access::Read),
                    };
                    PathGrant {
                        path: absolute(path, &cwd),
                        access,
                    }
                })
                .collect(),
            network: self.net.clone(),
            env: self.env.clone(),
            calls: self.call.clone(),
            ..Default::default()
        };
        if caps.is_empty() {
            return Err(Error::invalid("nothing to change")
                .with_hint("give --fs PATH, --net HOST, --env VAR or --call SKILL"));
        }
        caps.validate()?;
        Ok(caps)
    }
}

/// A path typed on the command line, made absolute against `cwd` (`~/` kept as written).
fn absolute(path: &str, cwd: &Path) -> String {
    if path.starts_with('~') || Path::new(path).is_absolute() {
        path.to_string()
    } else {
        cwd.join(path).to_string_lossy().into_owned()
    }
}

pub fn grant(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    change(ctx, args, true)
}

pub fn revoke(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    change(ctx, args, false)
}

fn change(ctx: &Context, args: Args, add: bool) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let r = InstanceRef::parse(&args.target, args.instance.as_deref())?;
    let skill = Store::new(home.clone()).get(&r.skill)?;
    require_instance(&home, &r)?;
    let caps = args.capabilities()?;
    if add {
        let declared = skill_host::instances::installed_yaml(&skill)?
            .capabilities
            .calls;
        if let Some(other) = caps.calls.iter().find(|c| !declared.contains(c)) {
            return Err(Error::invalid(format!(
                "{} does not list {} in skill_dependencies",
                r.skill,
                crate::ui::shown(other)
            ))
            .with_hint("a skill may call only the skills its skill.yaml lists")
            .into());
        }
    }
    let mut shown = Vec::new();
    Instances::new(home.clone()).update(&r.skill, &r.instance, |state| {
        let grants = &mut state.grants;
        let same = |a: &PathGrant, b: &PathGrant| {
            a.path == b.path
                || grants
                    .dirs
                    .iter()
                    .any(|d| d.requested == a.path && Path::new(&b.path) == d.canonical)
        };
        if add {
            // Checked against the instance's other directories, pinned as they are now.
            let others: Vec<_> = grants
                .dirs
                .iter()
                .filter(|d| !caps.filesystem.iter().any(|g| g.path == d.requested))
                .cloned()
                .collect();
            let bindings = skill_store::dirs::approve(&home, &caps.filesystem, &others)?;
            for binding in bindings {
                let Binding::Bound(dir) = binding else {
                    return Err(Error::not_found(format!(
                        "{} does not exist",
                        skill_manifest::text::escape(binding.requested(), false)
                    ))
                    .with_hint("create the directory first, then grant it"));
                };
                shown.push(dir.describe());
                let grant = PathGrant {
                    path: dir.requested.clone(),
                    access: dir.access,
                };
                grants.approved.filesystem.retain(|h| h.path != grant.path);
                grants.approved.filesystem.push(grant);
                grants.dirs.retain(|d| d.requested != dir.requested);
                grants.dirs.push(dir);
            }
            for h in &caps.network {
                if !grants.approved.network.contains(h) {
                    grants.approved.network.push(h.clone());
                }
            }
            for v in &caps.env {
                if !grants.approved.env.contains(v) {
                    grants.approved.env.push(v.clone());
                }
            }
            for c in &caps.calls {
                if !grants.approved.calls.contains(c) {
                    grants.approved.calls.push(c.clone());
                }
            }
        } else {
            let gone: Vec<PathGrant> = grants
                .approved
                .filesystem
                .iter()
                .filter(|h| caps.filesystem.iter().any(|g| same(h, g)))
                .cloned()
                .collect();
            grants
                .approved
                .filesystem
                .retain(|h| !gone.iter().any(|g| g.path == h.path));
            grants
                .dirs
                .retain(|d| !gone.iter().any(|g| g.path == d.requested));
            shown.extend(
                Capabilities {
                    filesystem: gone,
                    ..Default::default()
                }
                .describe(),
            );
            grants
                .approved
                .network
                .retain(|h| !caps.network.contains(h));
            grants.approved.env.retain(|v| !caps.env.contains(v));
            grants.approved.calls.retain(|c| !caps.calls.contains(c));
        }
        Ok(())
    })?;
    let action = if add { "grant" } else { "revoke" };
    audit::record(
        &home,
        action,
        &r.skill,
        &r.instance,
        json!({ "capabilities": caps, "by": action }),
    )?;
    let verb = if add { "Granted" } else { "Revoked" };
    let others = Capabilities {
        filesystem: Vec::new(),
        ..caps
    };
    for line in shown.into_iter().chain(others.describe()) {
        ctx.printer.status(verb, format!("{r}: {line}"));
    }
    Ok(ExitCode::SUCCESS)
}
