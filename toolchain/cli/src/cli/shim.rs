//! `skill shim`, `skill shims`, and running as one: `$SKILL_HOME/bin/NAME` is a link to this
//! binary, and a start under a name with a shim record runs that instance's command before
//! any argument is parsed (so a shim costs no more than `skill exec`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use skill_host::instances::InstanceRef;
use skill_store::shims::{Shim, Shims};
use skill_store::store::Store;

use super::Context;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
A shim is a command on PATH that runs a skill's command (`skill exec SKILL@INSTANCE -- ARGS`).
Shims live in $SKILL_HOME/bin; `skill doctor` says whether that is on your PATH.

Examples:
  skill shim textkit@prod --as upper   then: echo hi | upper
  skill shim --rm upper")]
pub struct Args {
    /// The skill instance to run, or with --rm the shim's name
    #[arg(value_name = "SKILL[@INSTANCE]")]
    target: String,

    /// The command's name (default: the skill's name)
    #[arg(long = "as", value_name = "NAME")]
    name: Option<String>,

    /// Remove the shim named TARGET
    #[arg(long, conflicts_with = "name")]
    rm: bool,

    /// Make it even when a command of that name is already on PATH (the shim may shadow it)
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the shims as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let shims = Shims::new(home.clone());
    if args.rm {
        if !shims.remove(&args.target)? {
            return Err(skill_engine::Error::not_found(format!(
                "there is no shim `{}`",
                crate::ui::shown(&args.target)
            ))
            .with_hint("`skill shims` lists them")
            .into());
        }
        ctx.printer
            .status("Removed", format!("the shim {}", args.target));
        return Ok(ExitCode::SUCCESS);
    }
    let r = InstanceRef::parse(&args.target, None)?;
    let name = args.name.unwrap_or_else(|| r.skill.clone());
    let link = create(&home, &r, &name, args.force)?;
    ctx.printer
        .status("Created", format!("{} → skill exec {r}", link.display()));
    warn_unless_on_path(ctx, &home);
    Ok(ExitCode::SUCCESS)
}

/// Makes the shim `name` for the installed instance `r` (also `skill install --shim`).
pub fn create(
    home: &skill_store::SkillHome,
    r: &InstanceRef,
    name: &str,
    force: bool,
) -> anyhow::Result<PathBuf> {
    skill_store::shims::check_name(name)?;
    let skill = Store::new(home.clone()).get(&r.skill)?;
    skill_host::instances::require_instance(home, r)?;
    let component = skill.component_path();
    let bytes =
        std::fs::read(&component).map_err(|e| skill_engine::Error::io("read", &component, e))?;
    if !skill_engine::contract::check_component(&bytes)?.command {
        return Err(skill_engine::Error::invalid(format!(
            "{} is not a command: it has no `main` (no wasi:cli/run export)",
            r.skill
        ))
        .with_hint(format!(
            "a shim runs a skill's command; its tools run with `skill run {}:TOOL`",
            r.skill
        ))
        .into());
    }
    let bin = home.bin_dir();
    if !force && let Some(existing) = on_path_elsewhere(name, &bin) {
        return Err(skill_engine::Error::new(
            skill_engine::ErrorKind::Conflict,
            format!(
                "`{name}` is already a command on PATH ({}); a shim would shadow it or be shadowed",
                existing.display()
            ),
        )
        .with_hint("name the shim differently with --as NAME, or pass --force")
        .into());
    }
    let binary = std::env::current_exe()
        .map_err(|e| skill_engine::Error::internal(format!("cannot find this binary: {e}")))?;
    // The `skill` beside a helper binary, when this one is `skill-toolchain` (install --shim).
    let binary = binary.with_file_name("skill");
    Ok(Shims::new(home.clone()).create(name, &r.to_string(), &binary)?)
}

pub fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<ExitCode> {
    let home = ctx.home()?;
    let shims = Shims::new(home.clone()).list()?;
    if args.json || ctx.output_json {
        println!("{}", serde_json::to_string_pretty(&shims)?);
        return Ok(ExitCode::SUCCESS);
    }
    if shims.is_empty() {
        ctx.printer.status(
            "None",
            "no shims; make one with `skill shim SKILL@INSTANCE`",
        );
        return Ok(ExitCode::SUCCESS);
    }
    let width = shims.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for Shim {
        name,
        target,
        linked,
        ..
    } in &shims
    {
        let broken = if *linked {
            ""
        } else {
            "  (link missing: run `skill shim` again)"
        };
        println!("{name:width$}  skill exec {target}{broken}");
    }
    warn_unless_on_path(ctx, &home);
    Ok(ExitCode::SUCCESS)
}

/// Says where the shims are and the line that puts them on PATH, when they are not.
fn warn_unless_on_path(ctx: &Context, home: &skill_store::SkillHome) {
    let bin = home.bin_dir();
    if !on_path(&bin) {
        ctx.printer.warn(format!(
            "{} is not on PATH; add it: {}",
            bin.display(),
            path_line(&bin)
        ));
    }
}

/// Whether `dir` is one of PATH's directories.
pub fn on_path(dir: &Path) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|p| p == dir))
}

/// The line that puts `dir` on PATH, for a shell's rc file.
pub fn path_line(dir: &Path) -> String {
    format!("export PATH=\"{}:$PATH\"", dir.display())
}

/// An executable named `name` on PATH outside `bin`.
fn on_path_elsewhere(name: &str, bin: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir != bin)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// How this process was started, judged by the name it was started by (argv[0]) before any
/// argument is parsed.
pub enum StartedAs {
    /// As `skill` (or `skill-…`): the command line is skill's.
    Skill,
    /// Through the shim `name`, which runs `target` (`SKILL@INSTANCE`).
    Shim { name: String, target: String },
    /// Under another name with no shim record (a link whose record was removed, or a
    /// different `$SKILL_HOME`): neither skill's command line nor a command. Running the
    /// arguments as skill's (`mb remove x --yes`) would do what nobody asked.
    Unknown { name: String },
}

pub fn started_as() -> StartedAs {
    let Some(argv0) = std::env::args_os().next() else {
        return StartedAs::Skill;
    };
    let Some(name) = Path::new(&argv0).file_name().and_then(|n| n.to_str()) else {
        return StartedAs::Skill;
    };
    if name.starts_with("skill") {
        return StartedAs::Skill;
    }
    let name = name.to_string();
    let target = skill_store::SkillHome::from_env()
        .ok()
        .and_then(|home| Shims::new(home).target_of(&name));
    match target {
        Some(target) => StartedAs::Shim { name, target },
        None => StartedAs::Unknown { name },
    }
}

/// The error for [`StartedAs::Unknown`].
pub fn not_a_shim(name: &str) -> skill_engine::Error {
    let home = skill_store::SkillHome::from_env()
        .map(|h| h.shims_dir().display().to_string())
        .unwrap_or_else(|_| "$SKILL_HOME/shims".to_string());
    skill_engine::Error::not_found(format!(
        "this is skill started as `{}`, which is not a shim here (no record in {home})",
        crate::ui::shown(name)
    ))
    .with_hint("shims follow $SKILL_HOME: check it, or make the shim again with `skill shim SKILL@INSTANCE --as NAME`; run skill itself as `skill`")
}
