use std::process::ExitCode;

use skill_runtime::Error;
use skill_runtime::store::Store;

use super::Context;
use crate::ui::confirm;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The skill to remove
    name: String,

    /// Do not ask for confirmation
    #[arg(short, long, visible_short_alias = 'y', visible_alias = "yes")]
    force: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::new(ctx.home()?);
    let skill = store.get(&args.name)?;
    let m = &skill.manifest;
    if !args.force {
        let question = format!(
            "Remove {} {} ({} tool{}, instances: {})?",
            m.name,
            m.version,
            m.tools.len(),
            if m.tools.len() == 1 { "" } else { "s" },
            skill.instances().join(", ")
        );
        if !confirm(&question) {
            return Err(Error::invalid(format!("did not remove `{}`", m.name))
                .with_hint("answer `y` to confirm, or pass --force")
                .into());
        }
    }
    let removed = store.remove(&args.name)?;
    ctx.printer.status(
        "Removed",
        format!("{} {}", removed.manifest.name, removed.manifest.version),
    );
    Ok(ExitCode::SUCCESS)
}
