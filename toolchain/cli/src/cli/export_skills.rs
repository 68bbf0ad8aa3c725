use std::path::PathBuf;
use std::process::ExitCode;

use skill_index::agents::{self, Agent, Export};

use super::Context;
use crate::ui::shown;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AgentArg {
    /// Claude Code: $CLAUDE_CONFIG_DIR/skills, else ~/.claude/skills
    ClaudeCode,
    /// Agents that read ~/.agents/skills
    Agents,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes one folder per installed instance (aws for aws@default, aws-prod for aws@prod) with a
SKILL.md the agent reads: the skill's own SKILL.md body, then a `skill run` line for every
tool, pointed at that instance. The frontmatter is rebuilt (name, description, metadata):
a skill's own `allowed-tools` is never passed on.

Only folders this command wrote, and that were not changed since, are refreshed or removed
($SKILL_HOME/exports.json records them); any other folder is left alone. With
--keep-in-sync, `skill install`, `update`, `sync`, `remove`, `rollback` and `config` refresh
the folder afterwards; --stop ends that and removes what was written.")]
pub struct Args {
    /// The agent whose skills folder to write
    #[arg(long, value_enum)]
    agent: AgentArg,

    /// Write here instead of the agent's own folder
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// Also refresh the folder after every install, update and remove
    #[arg(long, conflicts_with = "stop")]
    keep_in_sync: bool,

    /// Stop exporting there: remove the folders written there (unless changed since)
    #[arg(long)]
    stop: bool,

    /// Print what was done as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let agent = match args.agent {
        AgentArg::ClaudeCode => Agent::ClaudeCode,
        AgentArg::Agents => Agent::Agents,
    };
    let dir = match args.dir {
        Some(dir) => std::path::absolute(&dir)?,
        None => agent.default_dir()?,
    };
    let export = Export { agent, dir };
    let json = args.json || ctx.output_json;
    let p = &ctx.printer;
    if args.stop {
        let report = agents::remove(&home, &export)?;
        if json {
            let mut value = serde_json::to_value(&report)?;
            value["kept_in_sync"] = serde_json::json!(false);
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            for (folder, why) in &report.skipped {
                p.warn(format!("left {} alone: {}", shown(folder), why));
            }
            p.status(
                "Stopped",
                format!(
                    "exporting to {}; removed {} folder(s)",
                    export.dir.display(),
                    report.removed.len()
                ),
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = agents::write(&home, &export, args.keep_in_sync.then_some(true))?;
    let kept = agents::kept_in_sync(&home)?.contains(&export);
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["agent"] = serde_json::json!(agent.name());
        value["kept_in_sync"] = serde_json::json!(kept);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (folder, why) in &report.skipped {
        p.warn(format!("skipped {}: {}", shown(folder), why));
    }
    p.status(
        "Exported",
        format!(
            "{} skill folder(s) for {} to {} ({} written, {} unchanged, {} removed)",
            report.written.len() + report.unchanged.len(),
            agent.name(),
            export.dir.display(),
            report.written.len(),
            report.unchanged.len(),
            report.removed.len()
        ),
    );
    if !kept {
        p.note("add --keep-in-sync to refresh it after every install, update and remove");
    }
    Ok(ExitCode::SUCCESS)
}
