use std::process::ExitCode;

use console::style;

use super::Context;
use skill_build::doctor::run_checks;
use skill_build::tools::Kit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Install the pinned JavaScript/TypeScript, Python and Go build tools and the search model
    /// (`skill find`'s all-MiniLM-L6-v2) that are missing, and remove AOT cache entries made by
    /// another engine
    #[arg(long)]
    install: bool,

    /// Print the checks as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    if args.install {
        for kit in Kit::ALL {
            if let Err(e) = kit.ensure(&home, &ctx.printer) {
                ctx.printer
                    .warn(format!("{} build tools: {e}", kit.label()));
            }
        }
        match skill_build::tools::install_search_model(&home, &ctx.printer) {
            // The tools already indexed are embedded now, so the next search is quick.
            Ok(_) => {
                if let Err(e) = skill_index::embed_with_local_model(&home) {
                    ctx.printer.warn(format!("the search index: {e}"));
                }
            }
            Err(e) => ctx.printer.warn(format!("search model: {e}")),
        }
        let removed = skill_build::doctor::clean_aot_cache(&home);
        if removed > 0 {
            ctx.printer.status(
                "Removed",
                format!(
                    "{removed} AOT cache entr{} no engine here can load",
                    if removed == 1 { "y" } else { "ies" }
                ),
            );
        }
    }
    let checks = run_checks(&home);
    let problems = checks.iter().filter(|c| !c.ok).count();
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for c in &checks {
            let mark = if c.ok {
                style("ok").green().bold()
            } else {
                style("missing").red().bold()
            };
            println!("{mark:>8}  {:<36} {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!(
                    "{:>8}  {:<36} fix: {fix}",
                    "",
                    format!("(for {})", c.needed_for)
                );
            }
        }
        if problems == 0 {
            println!("\nEverything skill needs is here.");
        } else {
            println!(
                "\n{problems} problem{}; each line above says how to fix it. Only the tools for the languages you build are needed.",
                if problems == 1 { "" } else { "s" }
            );
        }
    }
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
