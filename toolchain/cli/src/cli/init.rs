use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use skill_engine::{Error, ErrorKind};
use skill_manifest::manifest::validate_skill_name;

use super::Context;
use skill_build::{sdk, templates};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
With no NAME in a terminal, asks for the name, the template, whether the skill needs
configuration, and its tool names. With flags it asks nothing:
  skill init weather -t typescript --tool forecast --tool alerts --config")]
pub struct Args {
    /// Name of the skill (lowercase letters, digits, `-`, `_`); asked for when omitted in a terminal
    name: Option<String>,

    /// Template to start from (see --list)
    #[arg(short, long, default_value = "rust")]
    template: String,

    /// Add a tool with this name beside `greet` (repeatable); it takes one `input` string
    #[arg(long = "tool", value_name = "NAME")]
    tools: Vec<String>,

    /// Declare a config schema in skill.yaml (an API key, stored as a secret per instance)
    #[arg(long)]
    config: bool,

    /// Directory to create (default: ./NAME)
    #[arg(long)]
    dir: Option<PathBuf>,

    /// One-line description of the skill
    #[arg(long)]
    description: Option<String>,

    /// List the available templates and exit
    #[arg(long, exclusive = true)]
    list: bool,
}

pub fn run(ctx: &Context, mut args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        for t in templates::all() {
            println!("{:<14} {}", t.name, t.meta.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = match args.name.take() {
        Some(name) => name,
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            ask(&mut args)?
        }
        None => {
            return Err(Error::invalid("which name should the skill have?")
                .with_hint("skill init NAME [-t rust|javascript|typescript|python|go|multi-tool-js]; see --list")
                .into());
        }
    };
    validate_skill_name(&name)?;
    let template = templates::find(&args.template)?;
    let extra_tools = templates::extra_tools(&args.tools)?;
    let dest = args.dir.clone().unwrap_or_else(|| PathBuf::from(&name));
    if dest.exists()
        && std::fs::read_dir(&dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "destination `{}` already exists and is not empty",
                dest.display()
            ),
        )
        .with_hint("choose another name, or pass --dir with an empty or new directory")
        .into());
    }

    let description = args
        .description
        .unwrap_or_else(|| format!("The {name} skill"));
    let values = serde_json::json!({
        "name": name,
        "crate_name": name.replace('-', "_"),
        "extra_tools": extra_tools,
        "config": args.config,
        "description": description,
        "sdk_rust_path": format!("{}/sdk-rust", sdk::VENDOR_DIR),
        "sdk_js_dependency": format!("file:{}/sdk-js", sdk::VENDOR_DIR),
    });

    // Render next to the destination, then rename: an interrupted init leaves nothing behind.
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create directory", &parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".skill-init-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a staging directory in", &parent, e))?;
    let files = template.render(staging.path(), &values)?;
    sdk::vendor_into(staging.path(), &template.meta.language)?;
    if dest.exists() {
        std::fs::remove_dir(&dest).map_err(|e| Error::io("replace", &dest, e))?;
    }
    std::fs::rename(staging.path(), &dest).map_err(|e| Error::io("create", &dest, e))?;
    let _ = staging.keep();

    ctx.printer.status(
        "Created",
        format!("skill `{}` ({}) in {}", name, template.name, dest.display()),
    );
    for file in &files {
        ctx.printer.detail(format!("  {}", file.display()));
    }
    if ctx.printer.verbosity != crate::ui::Verbosity::Quiet {
        eprintln!(
            "\nNext:\n  cd {}\n  skill build\n  skill install .\n  skill run {}:greet name=World",
            dest.display(),
            name
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The questions `skill init` asks in a terminal when no name is given.
fn ask(args: &mut Args) -> anyhow::Result<String> {
    let term = console::Term::stderr();
    let name = loop {
        eprint!("Name of the skill: ");
        let name = term.read_line()?.trim().to_string();
        match validate_skill_name(&name) {
            Ok(()) => break name,
            Err(e) => eprintln!("  {e}"),
        }
    };
    let all = templates::all();
    eprintln!("Template:");
    for (i, t) in all.iter().enumerate() {
        eprintln!("  {}) {:<14} {}", i + 1, t.name, t.meta.description);
    }
    let default = all
        .iter()
        .position(|t| t.name == args.template)
        .unwrap_or(0);
    args.template = loop {
        eprint!("Choose 1-{} [{}]: ", all.len(), default + 1);
        let answer = term.read_line()?.trim().to_string();
        let index = if answer.is_empty() {
            Some(default)
        } else {
            answer
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|&i| i < all.len())
                .or_else(|| all.iter().position(|t| t.name == answer))
        };
        match index {
            Some(i) => break all[i].name.clone(),
            None => eprintln!("  pick a number from the list"),
        }
    };
    eprint!("Does it need configuration, such as an API key? [y/N] ");
    args.config = matches!(
        term.read_line()?.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    );
    loop {
        eprint!("More tools besides greet (names separated by commas, Enter for none): ");
        let answer = term.read_line()?;
        let tools: Vec<String> = answer
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        match templates::extra_tools(&tools) {
            Ok(_) => {
                args.tools = tools;
                break;
            }
            Err(e) => eprintln!("  {e}"),
        }
    }
    Ok(name)
}
