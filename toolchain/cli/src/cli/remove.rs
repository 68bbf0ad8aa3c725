use std::process::ExitCode;

use serde_json::json;
use skill_engine::Error;
use skill_store::audit;
use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use crate::ui::confirm;
use skill_host::instances::{InstanceRef, require_instance};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The skill to remove with all its instances, or SKILL@INSTANCE to remove one instance
    /// (its config, secrets and data)
    #[arg(value_name = "SKILL[@INSTANCE]")]
    name: String,

    /// Do not ask for confirmation
    #[arg(short, long, visible_short_alias = 'y', visible_alias = "yes")]
    force: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let store = Store::new(home.clone());
    let instances = Instances::new(home.clone());
    if args.name.contains('@') {
        let r = InstanceRef::parse(&args.name, None)?;
        store.get(&r.skill)?;
        require_instance(&home, &r)?;
        if !args.force
            && !confirm(&format!(
                "Remove the instance {r} with its config, secrets and data?"
            ))
        {
            return Err(not_confirmed(&r.to_string()).into());
        }
        instances.remove(&r.skill, &r.instance)?;
        audit::record(&home, "remove-instance", &r.skill, &r.instance, json!({}))?;
        ctx.printer.status("Removed", r.to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let skill = store.get(&args.name)?;
    let m = &skill.manifest;
    let names = instances.list(&m.name);
    if !args.force {
        let question = format!(
            "Remove {} {} ({} tool{}) and its instances ({}) with their config, secrets and data?",
            m.name,
            m.version,
            m.tools.len(),
            if m.tools.len() == 1 { "" } else { "s" },
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        if !confirm(&question) {
            return Err(not_confirmed(&m.name).into());
        }
    }
    let removed = store.remove(&args.name)?;
    audit::record(
        &home,
        "remove",
        &m.name,
        "*",
        json!({ "version": m.version }),
    )?;
    ctx.printer.status(
        "Removed",
        format!("{} {}", removed.manifest.name, removed.manifest.version),
    );
    // Its shims would only fail from now on.
    let shims = skill_store::shims::Shims::new(home.clone());
    for shim in shims.of_skill(&m.name)? {
        shims.remove(&shim.name)?;
        ctx.printer
            .status("Removed", format!("the shim {}", shim.name));
    }
    Ok(ExitCode::SUCCESS)
}

fn not_confirmed(what: &str) -> Error {
    Error::invalid(format!("did not remove `{what}`"))
        .with_hint("answer `y` to confirm, or pass --force")
}
