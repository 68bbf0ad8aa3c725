use std::process::ExitCode;

use skill_store::settings::Setting;

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Settings live in $SKILL_HOME/config.toml, one table per group:
  [serve]   host, port, token
  [output]  format (text|json), color (auto|always|never)
  [build]   npm, node, python, rustc, cargo
An environment variable overrides the file (shown beside each), a flag overrides both.")]
pub struct Args {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Every setting, its value and where the value came from.
pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let items = &ctx.settings.items;
    if json {
        let rows: Vec<serde_json::Value> = items
            .iter()
            .map(|s| {
                serde_json::json!({
                    "key": s.key,
                    "value": shown_value(s),
                    "source": s.source.to_string(),
                    "env": s.env,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = items.iter().map(|s| s.key.len()).max().unwrap_or(0);
    let value_width = items
        .iter()
        .map(|s| s.value.len())
        .max()
        .unwrap_or(0)
        .min(40);
    for s in items {
        let env = s.env;
        let value = shown_value(s);
        let value = if value.is_empty() { "-" } else { value };
        println!(
            "{:<width$}  {:<value_width$}  {} (${env})",
            s.key,
            crate::ui::shown(value),
            s.source
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A setting's value as shown: a token is a secret, so only where it comes from.
fn shown_value(s: &Setting) -> &str {
    let is_token = s.key == "serve.token"
        && !s.value.is_empty()
        && s.value != "auto"
        && !s.value.starts_with("file:");
    if is_token { "(set)" } else { &s.value }
}
