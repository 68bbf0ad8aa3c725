use std::path::PathBuf;
use std::process::ExitCode;

use skill_runtime::Error;
use skill_runtime::manifest::validate_skill_name;

use super::Context;
use crate::{sdk, templates};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the skill (lowercase letters, digits, `-`, `_`)
    name: String,

    /// Template to start from (see --list)
    #[arg(short, long, default_value = "rust")]
    template: String,

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

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        for t in templates::all() {
            println!("{:<12} {}", t.name, t.meta.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    validate_skill_name(&args.name)?;
    let template = templates::find(&args.template)?;
    let dest = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    if dest.exists()
        && std::fs::read_dir(&dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::invalid(format!(
            "destination `{}` already exists and is not empty",
            dest.display()
        ))
        .with_hint("choose another name, or pass --dir with an empty or new directory")
        .into());
    }

    let sdk = sdk::ensure_sdk(&ctx.home()?)?;
    let description = args
        .description
        .unwrap_or_else(|| format!("The {} skill", args.name));
    let values = serde_json::json!({
        "name": args.name,
        "crate_name": args.name.replace('-', "_"),
        "description": description,
        "sdk_rust_path": sdk.rust().display().to_string(),
        "sdk_js_dependency": format!("file:{}", sdk.js().display()),
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
    if dest.exists() {
        std::fs::remove_dir(&dest).map_err(|e| Error::io("replace", &dest, e))?;
    }
    std::fs::rename(staging.path(), &dest).map_err(|e| Error::io("create", &dest, e))?;
    let _ = staging.keep();

    ctx.printer.status(
        "Created",
        format!(
            "skill `{}` ({}) in {}",
            args.name,
            template.name,
            dest.display()
        ),
    );
    for file in &files {
        ctx.printer.detail(format!("  {}", file.display()));
    }
    if ctx.printer.verbosity != crate::ui::Verbosity::Quiet {
        eprintln!(
            "\nNext:\n  cd {}\n  skill build\n  skill install .\n  skill run {}:greet name=World",
            dest.display(),
            args.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
