use std::process::ExitCode;

use serde_json::json;
use skill_manifest::config::missing_required;
use skill_store::instance::Instances;
use skill_store::store::Store;

use super::Context;
use skill_host::instances::installed_yaml;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this skill's instances
    name: Option<String>,

    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    let store = Store::new(home.clone());
    let skills = match &args.name {
        Some(name) => vec![store.get(name)?],
        None => store.list()?,
    };
    let instances = Instances::new(home);
    let mut rows = Vec::new();
    for skill in &skills {
        let yaml = installed_yaml(skill)?;
        for name in instances.list(&skill.manifest.name) {
            let state = instances.load(&skill.manifest.name, &name)?;
            let missing = missing_required(&yaml.config, |k| state.value(k).is_some());
            let granted = state.grants.describe();
            let (_, limits) =
                instances.sandbox(&skill.manifest.name, &name, &state, &yaml.config)?;
            rows.push(json!({
                "skill": skill.manifest.name,
                "instance": name,
                "version": skill.manifest.version,
                "config_keys": state.config.keys().chain(state.secrets.keys()).collect::<Vec<_>>(),
                "missing": missing,
                "permissions": granted,
                "limits": {
                    "timeout_ms": limits.timeout.as_millis() as u64,
                    "memory_bytes": limits.memory_bytes,
                    "output_bytes": limits.output_bytes,
                },
                "data_dir": instances.data_dir(&skill.manifest.name, &name).display().to_string(),
            }));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        ctx.printer
            .note("No instances. `skill install <path> -i NAME` creates one.");
        return Ok(ExitCode::SUCCESS);
    }
    if ctx.printer.is_quiet() {
        for row in &rows {
            println!(
                "{}@{}",
                row["skill"].as_str().unwrap_or_default(),
                row["instance"].as_str().unwrap_or_default()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for row in &rows {
        let missing = row["missing"].as_array().map_or(0, Vec::len);
        let keys = row["config_keys"].as_array().map_or(0, Vec::len);
        let status = if missing > 0 {
            format!("needs config: {}", join(&row["missing"]))
        } else {
            format!("{keys} config value{}", if keys == 1 { "" } else { "s" })
        };
        let permissions = row["permissions"].as_array().map_or(0, Vec::len);
        println!(
            "{}@{}  {}  {status}, {}",
            row["skill"].as_str().unwrap_or_default(),
            row["instance"].as_str().unwrap_or_default(),
            row["version"].as_str().unwrap_or_default(),
            if permissions == 0 {
                "no extra permissions".to_string()
            } else {
                join(&row["permissions"])
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn join(value: &serde_json::Value) -> String {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}
