use std::process::ExitCode;

use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use crate::ui::{human_size, shown};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show each skill's tools, parameters, digest and location
    #[arg(short, long)]
    long: bool,

    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    let skills = Store::new(home.clone()).list()?;
    let instances = Instances::new(home);
    if json {
        let entries: Vec<serde_json::Value> = skills
            .iter()
            .map(|s| {
                let mut value = serde_json::to_value(&s.manifest).expect("manifest serializes");
                value["instances"] = serde_json::json!(instances.list(&s.manifest.name));
                value["path"] = serde_json::json!(s.dir.display().to_string());
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    if skills.is_empty() {
        ctx.printer
            .note("No skills installed. Install one with `skill install <path>`.");
        return Ok(ExitCode::SUCCESS);
    }
    if ctx.printer.is_quiet() {
        for skill in &skills {
            println!("{}", skill.manifest.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.long {
        for (i, skill) in skills.iter().enumerate() {
            let m = &skill.manifest;
            if i > 0 {
                println!();
            }
            println!("{} {}", m.name, m.version);
            if !m.description.is_empty() {
                println!("  {}", shown(&m.description));
            }
            println!(
                "  component  sha256:{} ({})",
                m.component.sha256,
                human_size(m.component.size)
            );
            println!("  path       {}", skill.dir.display());
            println!("  instances  {}", instances.list(&m.name).join(", "));
            print_tools(m);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 4]> = skills
        .iter()
        .map(|s| {
            let m = &s.manifest;
            [
                m.name.clone(),
                m.version.clone(),
                m.tools.len().to_string(),
                // One line of it, control characters shown.
                skill_manifest::text::escape(
                    m.description.lines().next().unwrap_or_default(),
                    false,
                )
                .into_owned(),
            ]
        })
        .collect();
    let header = [
        "NAME".to_string(),
        "VERSION".to_string(),
        "TOOLS".to_string(),
        "DESCRIPTION".to_string(),
    ];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [&header].into_iter().chain(rows.iter()) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        println!("{}", line.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// A manifest's tools with their parameters, indented (`list -l`, `info`).
pub(super) fn print_tools(m: &skill_manifest::manifest::PackageManifest) {
    println!("  tools");
    for tool in &m.tools {
        println!("    {:<16} {}", tool.name, shown(&tool.description));
        for p in &tool.params {
            let mut about = p.kind.as_str().to_string();
            if p.required {
                about.push_str(", required");
            }
            if let Some(default) = &p.default {
                about.push_str(&format!(", default {default}"));
            }
            if !p.choices.is_empty() {
                about.push_str(&format!(", one of {}", p.choices.join("|")));
            }
            println!(
                "      {:<14} {:<24} {}",
                p.name,
                shown(&about),
                shown(&p.description)
            );
        }
    }
}
