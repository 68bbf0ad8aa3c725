use std::process::ExitCode;

use serde_json::json;

use super::Context;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Client {
    /// `claude mcp add` command, and the .mcp.json entry
    ClaudeCode,
    /// The entry for claude_desktop_config.json
    ClaudeDesktop,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  skill mcp-config                         Snippets for Claude Code and Claude Desktop
  skill mcp-config --client claude-code    Just the `claude mcp add` command
  skill mcp-config aws@prod --name aws     A server with one instance's tools
  skill mcp-config --url http://127.0.0.1:3000/mcp   Point at a running `skill serve`")]
pub struct Args {
    /// Only this skill (NAME) or one instance (NAME@INSTANCE)
    #[arg(value_name = "NAME[@INSTANCE]")]
    only: Option<String>,

    /// Which client's format to print (default: both)
    #[arg(long, value_enum)]
    client: Option<Client>,

    /// The server's name in the client's configuration
    #[arg(long, default_value = "skill")]
    name: String,

    /// Connect to a running `skill serve` at this URL instead of launching `skill serve --stdio`
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// Print only the JSON ({"mcpServers": {...}}) on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    // The absolute path of this binary: clients launch it without the user's shell PATH.
    let exe = std::env::current_exe()?;
    // `skill serve` runs skill-serve from beside skill; a client would only see it exit.
    let server = exe.with_file_name(super::Binary::Serve.file_name());
    if !server.is_file() {
        ctx.printer.warn(format!(
            "{} is missing, so this snippet would not start a server; reinstall skill",
            server.display()
        ));
    }
    let exe = exe.display().to_string();
    let mut serve_args = vec!["serve".to_string(), "--stdio".to_string()];
    serve_args.extend(args.only.clone());
    let home_text = home.root().display().to_string();
    let entry = match &args.url {
        Some(url) => json!({ "type": "http", "url": url }),
        None => json!({
            "command": exe,
            "args": serve_args,
            "env": { "SKILL_HOME": home_text },
        }),
    };
    let config = json!({ "mcpServers": { args.name.clone(): entry } });
    let pretty = serde_json::to_string_pretty(&config)?;
    if json {
        println!("{pretty}");
        return Ok(ExitCode::SUCCESS);
    }
    let claude_code = match &args.url {
        Some(url) => format!("claude mcp add --transport http {} {url}", args.name),
        None => format!(
            "claude mcp add {} --env SKILL_HOME={} -- {} {}",
            args.name,
            shell_quote(&home_text),
            shell_quote(&exe),
            serve_args.join(" ")
        ),
    };
    let show_code = !matches!(args.client, Some(Client::ClaudeDesktop));
    let show_desktop = !matches!(args.client, Some(Client::ClaudeCode));
    if show_code {
        println!("# Claude Code: run this (add --scope project to share it in .mcp.json)");
        println!("{claude_code}");
    }
    if show_desktop {
        if show_code {
            println!();
        }
        println!(
            "# Claude Desktop: merge into claude_desktop_config.json (Settings > Developer > Edit Config)"
        );
        println!("{pretty}");
    }
    Ok(ExitCode::SUCCESS)
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=:@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
