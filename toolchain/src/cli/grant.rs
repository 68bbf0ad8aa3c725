//! `skill grant` and `skill revoke`: change what one instance may reach, after install.

use std::process::ExitCode;

use serde_json::json;
use skill_runtime::capabilities::{Access, Capabilities, PathGrant};
use skill_runtime::instance::Instances;
use skill_runtime::store::Store;
use skill_runtime::{Error, audit};

use super::Context;
use crate::instances::{InstanceRef, require_instance};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  skill grant notes@work --fs ~/notes          read files under ~/notes
  skill grant notes@work --fs ~/notes:rw       read and write them
  skill grant github@me --net api.github.com   reach a host over HTTP(S) (*.example.com for subdomains)
  skill grant tool@x --env LANG                see a host environment variable")]
pub struct Args {
    /// The instance
    #[arg(value_name = "SKILL[@INSTANCE]")]
    target: String,

    /// The instance (same as SKILL@INSTANCE)
    #[arg(short, long)]
    instance: Option<String>,

    /// A directory (absolute or ~/...), read-only; append `:rw` for read and write
    #[arg(long, value_name = "PATH[:rw]")]
    fs: Vec<String>,

    /// A host for outgoing HTTP(S): api.example.com or *.example.com
    #[arg(long, value_name = "HOST")]
    net: Vec<String>,

    /// A host environment variable
    #[arg(long, value_name = "VAR")]
    env: Vec<String>,
}

impl Args {
    fn capabilities(&self) -> skill_runtime::Result<Capabilities> {
        let caps = Capabilities {
            filesystem: self
                .fs
                .iter()
                .map(|p| match p.strip_suffix(":rw") {
                    Some(path) => PathGrant {
                        path: path.to_string(),
                        access: Access::ReadWrite,
                    },
                    None => PathGrant {
                        path: p.strip_suffix(":ro").unwrap_or(p).to_string(),
                        access: Access::Read,
                    },
                })
                .collect(),
            network: self.net.clone(),
            env: self.env.clone(),
            ..Default::default()
        };
        if caps.is_empty() {
            return Err(Error::invalid("nothing to change")
                .with_hint("give --fs PATH, --net HOST or --env VAR"));
        }
        caps.validate()?;
        Ok(caps)
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
    Store::new(home.clone()).get(&r.skill)?;
    require_instance(&home, &r)?;
    let caps = args.capabilities()?;
    Instances::new(home.clone()).update(&r.skill, &r.instance, |state| {
        let approved = &mut state.grants.approved;
        if add {
            for g in &caps.filesystem {
                approved.filesystem.retain(|h| h.path != g.path);
                approved.filesystem.push(g.clone());
            }
            for h in &caps.network {
                if !approved.network.contains(h) {
                    approved.network.push(h.clone());
                }
            }
            for v in &caps.env {
                if !approved.env.contains(v) {
                    approved.env.push(v.clone());
                }
            }
        } else {
            approved
                .filesystem
                .retain(|h| !caps.filesystem.iter().any(|g| g.path == h.path));
            approved.network.retain(|h| !caps.network.contains(h));
            approved.env.retain(|v| !caps.env.contains(v));
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
    for line in caps.describe() {
        ctx.printer.status(verb, format!("{r}: {line}"));
    }
    Ok(ExitCode::SUCCESS)
}
