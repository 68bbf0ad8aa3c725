//! The `skill` command line: parsing and printing only; the work is in library modules.

mod build;
mod completion;
mod config;
mod docs;
mod doctor;
mod exec;
mod export_skills;
mod find;
mod grant;
mod info;
mod init;
mod install;
mod instances;
mod list;
mod login;
mod mcp_config;
mod publish;
mod pull_run;
mod remove;
mod run;
mod serve;
mod settings;
mod setup;
mod shim;
mod test;
mod trust;
mod validate;
mod version;
mod versions;
mod watch;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skill_engine::{Error, SkillHome};
use skill_store::settings::{Settings, Source};

use crate::ui::{Printer, exit_code, render_error};

const AFTER_HELP: &str = "\
Examples:
  skill init hello -t rust          Scaffold a skill project (-t javascript|typescript|python)
  skill build                       Build it into a component (+ .cwasm)
  skill install .                   Install it into $SKILL_HOME
  skill publish                     Publish it to the default registry as NAME:VERSION
  skill install hello@^1.2          Install from a registry (also oci://HOST/PATH:TAG)
  skill run hello:greet name=World  Run a tool (also: skill hello:greet World)
  skill list                        What is installed
  skill install ./aws -i prod       Install a second, separately configured instance
  skill config aws@prod --set token Set a value (secrets are typed, stored encrypted)
  skill serve                       Serve every instance's tools over MCP and HTTP
  skill mcp-config                  How to add them to Claude Code / Claude Desktop

Environment:
  SKILL_HOME       where skills, instances and caches live (default ~/.skill-engine)
  SKILL_TOOLS_DIR  where pinned build tools are installed (default $SKILL_HOME/tools)";

#[derive(Debug, Parser)]
#[command(
    name = "skill",
    version,
    about = "Build, install and run WebAssembly skills: sandboxed tools for AI agents",
    after_help = AFTER_HELP,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Print only errors and the result, tersely: no progress, warnings or remarks; `list`
    /// and `instances` print one name per line, `config --show` KEY=VALUE lines
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Print more detail (cache use, guest stdout/stderr, debug logs)
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new skill project from a template (asks in a terminal when no name is given)
    #[command(visible_alias = "new")]
    Init(init::Args),
    /// Build the skill project into a validated component and an AOT .cwasm
    Build(build::Args),
    /// Rebuild and reinstall (into the `dev` instance) whenever a source file changes
    Watch(watch::Args),
    /// Run the skill's test cases (tests/*.yaml) in the sandbox, then its unit tests
    Test(test::Args),
    /// Install a skill from a registry (NAME[@REQ], oci://…), git, or a path (project, built skill, .wasm)
    Install(install::Args),
    /// Publish the built skill to an OCI registry as NAME:VERSION
    Publish(publish::Args),
    /// Describe a skill: installed, or from its registry (versions, tools, permissions asked)
    Info(info::Args),
    /// Store a registry credential (encrypted) after checking it with the registry
    Login(login::LoginArgs),
    /// Forget a registry credential stored by `skill login`
    Logout(login::LogoutArgs),
    /// Run one tool straight from a registry in a throwaway instance (nothing is installed)
    PullRun(pull_run::Args),
    /// Move skills installed from a registry or git to the newest version they allow
    Update(versions::UpdateArgs),
    /// Write the whole setup (skills, versions, digests, instances, grants; no secrets) to a file
    Lock(setup::LockArgs),
    /// Reproduce a setup written by `skill lock`, verifying every digest
    Sync(setup::SyncArgs),
    /// Mark a published version so new resolutions skip it (--undo takes it back)
    Yank(versions::YankArgs),
    /// Return a skill to the version it had before its last install or update
    Rollback(versions::RollbackArgs),
    /// Remove versions no one runs, their compiled code, the pull-run and git caches; print what was freed
    Prune(versions::PruneArgs),
    /// Signing keys for `skill publish --sign`
    Key(trust::KeyArgs),
    /// Which keys a registry or namespace must be signed with (checked on install)
    Trust(trust::TrustArgs),
    /// Run a tool of an installed skill: skill run SKILL[@INSTANCE]:TOOL [ARGS]...
    Run(run::Args),
    /// Run a skill's command (its `main`) with the terminal attached: skill exec SKILL -- ARGS
    Exec(exec::Args),
    /// Put a skill's command on PATH as $SKILL_HOME/bin/NAME (--rm to take it away)
    Shim(shim::Args),
    /// List the PATH shims and what each runs
    Shims(shim::ListArgs),
    /// Serve installed skills to agents: MCP (stdio or HTTP /mcp) and a REST API
    Serve(serve::Args),
    /// Print the snippet that adds `skill serve` to Claude Code or Claude Desktop
    McpConfig(mcp_config::Args),
    /// List installed skills
    #[command(visible_alias = "ls")]
    List(list::Args),
    /// List configured instances (SKILL@INSTANCE) with their config status and permissions
    Instances(instances::Args),
    /// Show or change an instance's config and secrets (no flags in a terminal: a wizard)
    Config(config::Args),
    /// Give an instance access to a directory, a host or an environment variable
    Grant(grant::Args),
    /// Take back access given with `skill grant` or at install
    Revoke(grant::Args),
    /// Remove an installed skill
    #[command(visible_alias = "rm")]
    Remove(remove::Args),
    /// Check skill.yaml and a built component against the contract, without rebuilding
    Validate(validate::Args),
    /// Search installed tools by what you want to do
    Find(find::Args),
    /// Write SKILL.md (and README usage) from the tool definitions, keeping your text
    Docs(docs::Args),
    /// Write a SKILL.md per installed instance into an agent's skills folder (Claude Code, ~/.agents)
    ExportSkills(export_skills::Args),
    /// Check what building skills needs (Rust target, node, python, pinned build tools)
    Doctor(doctor::Args),
    /// Print the versions of skill, the contract and every bundled or pinned tool
    Version(version::Args),
    /// Print shell completions: bash, zsh, fish, powershell (or elvish)
    Completion(completion::Args),
    /// Show the global settings ($SKILL_HOME/config.toml, environment) and where each came from
    Settings(settings::Args),
    /// `skill SKILL:TOOL [ARGS]...` is short for `skill run SKILL:TOOL [ARGS]...`
    #[command(external_subcommand)]
    Shorthand(Vec<OsString>),
}

/// What every command gets: how to print, the resolved global settings, and where the store
/// is.
pub struct Context {
    pub printer: Printer,
    pub settings: Settings,
    /// `--json` is the default (setting output.format = json).
    pub output_json: bool,
}

impl Context {
    /// `$SKILL_HOME` (default `~/.skill-engine`); only commands that need the store ask.
    pub fn home(&self) -> anyhow::Result<SkillHome> {
        Ok(SkillHome::from_env()?)
    }

    /// Where registry names resolve (settings `registry.*`), with `--registry` over them.
    pub fn registry_config(&self, flag: Option<&str>) -> skill_source::RegistryConfig {
        let default = flag.unwrap_or(self.settings.get("registry.default")).trim();
        skill_source::RegistryConfig {
            default: (!default.is_empty()).then(|| default.trim_end_matches('/').to_string()),
            namespaces: self.settings.namespaces.clone(),
            insecure: self
                .settings
                .get("registry.insecure")
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// The `skill` binary: runs tools and manages the store itself, and hands `serve` and the
/// build side to the binaries beside it (see [`Binary`]).
pub fn main() -> ExitCode {
    // A PATH shim: the name this binary was started by says what to run, and every argument
    // is the command's own (nothing is parsed).
    match shim::started_as() {
        shim::StartedAs::Skill => {}
        shim::StartedAs::Shim { name, target } => {
            take_handed_over();
            return run_shim(name, target);
        }
        shim::StartedAs::Unknown { name } => {
            let err = shim::not_a_shim(&name).into();
            render_error(&err);
            return exit_code(&err);
        }
    }
    let cli = Cli::parse();
    if cli.command.binary() == Binary::Skill {
        take_handed_over();
    }
    match cli.command.binary() {
        Binary::Skill => start(cli, run_path),
        other => hand_to(other),
    }
}

/// The `skill-serve` binary: `skill serve` (anything else goes back to `skill`).
pub fn main_serve() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(_) => start_handed(cli, |ctx, command| match command {
            Command::Serve(args) => serve::run(ctx, args),
            _ => unreachable!("matched above"),
        }),
        _ => hand_to(Binary::Skill),
    }
}

/// The `skill-toolchain` binary: every command, the build side included.
pub fn main_toolchain() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(skill_build::pipeline::js::WIZER_COMMAND) {
        return componentize_wizer(&args[2..]);
    }
    start_handed(Cli::parse(), |ctx, command| match command {
        Command::Init(args) => init::run(ctx, args),
        Command::Build(args) => build::run(ctx, args),
        Command::Watch(args) => watch::run(ctx, args),
        Command::Test(args) => test::run(ctx, args),
        Command::Install(args) => indexed(ctx, install::run(ctx, args)),
        Command::Publish(args) => publish::run(ctx, args),
        Command::Info(args) => info::run(ctx, args),
        Command::Login(args) => login::login(ctx, args),
        Command::Logout(args) => login::logout(ctx, args),
        Command::Update(args) => indexed(ctx, versions::update(ctx, args)),
        Command::Lock(args) => setup::lock(ctx, args),
        Command::Sync(args) => indexed(ctx, setup::sync(ctx, args)),
        Command::PullRun(args) => pull_run::run(ctx, args),
        Command::Yank(args) => versions::yank(ctx, args),
        Command::Key(args) => trust::key(ctx, args),
        Command::Trust(args) => trust::trust(ctx, args),
        Command::Validate(args) => validate::run(ctx, args),
        Command::Docs(args) => docs::run(ctx, args),
        Command::Find(args) => find::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
        Command::Version(args) => version::run(ctx, args),
        Command::Serve(args) => serve::run(ctx, args),
        other => run_path(ctx, other),
    })
}

/// Wizer for componentize-js (`skill build` passes itself as its `wizerBin`, through a script):
/// the reproducible one in pipeline/wizer.rs. Errors go to stderr, where componentize-js
/// looks for them.
fn componentize_wizer(args: &[String]) -> ExitCode {
    use std::io::Read;
    let run = || -> skill_engine::Result<()> {
        let args = skill_build::pipeline::wizer::WizerArgs::parse(args)?;
        let mut stdin = String::new();
        std::io::stdin()
            .read_to_string(&mut stdin)
            .map_err(|e| skill_engine::Error::io("read", std::path::Path::new("stdin"), e))?;
        skill_build::pipeline::wizer::run_wizer_cli(&args, &stdin)
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.message());
            ExitCode::FAILURE
        }
    }
}

/// After a command that changes what is installed (even one that failed half way: a
/// dependency may be in), the search index follows, so the next `skill find` does no work.
fn indexed(ctx: &Context, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    if let Ok(home) = ctx.home() {
        let local = matches!(ctx.settings.get("search.provider"), "auto" | "local" | "");
        let updated = skill_index::update(&home).and_then(|_| {
            if local {
                skill_index::embed_with_local_model(&home)
            } else {
                Ok(())
            }
        });
        if let Err(e) = updated {
            ctx.printer.warn(format!(
                "the search index was not updated ({}); `skill find` updates it next time",
                e.message()
            ));
        }
    }
    exported(ctx, result)
}

/// After a command that may change the installed instances: the agents' skills folders kept
/// in sync (`skill export-skills --keep-in-sync`) follow.
fn exported(ctx: &Context, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    let Ok(home) = ctx.home() else {
        return result;
    };
    match skill_index::agents::sync(&home) {
        Ok(reports) => {
            for report in reports {
                for (folder, why) in report.skipped {
                    ctx.printer.warn(format!(
                        "did not export {} to {}: {why}",
                        crate::ui::shown(&folder),
                        report.dir.display()
                    ));
                }
            }
        }
        Err(e) => ctx.printer.warn(format!(
            "the agents' skills folders were not refreshed ({}); run `skill export-skills` again",
            e.message()
        )),
    }
    result
}

/// After `remove` or `rollback` in `skill` itself: skills no longer installed as indexed are
/// dropped from the index (no tokenizer or model is linked into `skill`, which starts on every
/// `skill run`; `skill find` indexes a rolled-back version on its next query).
fn forgotten(ctx: &Context, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    if let Ok(home) = ctx.home()
        && let Err(e) = skill_index::forget_changed(&home)
    {
        ctx.printer.warn(format!(
            "the search index was not updated ({}); `skill find` updates it next time",
            e.message()
        ));
    }
    exported(ctx, result)
}

/// The commands `skill` runs itself: calling tools and looking after the store.
fn run_path(ctx: &Context, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run::run(ctx, args),
        Command::Exec(args) => exec::run(ctx, args),
        Command::Shim(args) => shim::run(ctx, args),
        Command::Shims(args) => shim::list(ctx, args),
        Command::McpConfig(args) => mcp_config::run(ctx, args),
        Command::List(args) => list::run(ctx, args),
        Command::Instances(args) => instances::run(ctx, args),
        Command::Grant(args) => grant::grant(ctx, args),
        Command::Revoke(args) => grant::revoke(ctx, args),
        Command::Remove(args) => forgotten(ctx, remove::run(ctx, args)),
        Command::Rollback(args) => forgotten(ctx, versions::rollback(ctx, args)),
        Command::Config(args) => exported(ctx, config::run(ctx, args)),
        Command::ExportSkills(args) => export_skills::run(ctx, args),
        Command::Prune(args) => versions::prune(ctx, args),
        Command::Completion(args) => completion::run(ctx, args),
        Command::PullRun(args) => match pull_run::run_cached(ctx, args)? {
            Some(code) => Ok(code),
            None => Ok(hand_to(Binary::Toolchain)),
        },
        Command::Settings(args) => settings::run(ctx, args),
        Command::Shorthand(words) => shorthand(ctx, words),
        other => unreachable!("{:?} is not a run-path command", other.binary()),
    }
}

/// Which of the three binaries (installed side by side) runs a command. Every start of a
/// binary pays for relocating and faulting in all of it — for `skill run`, more than the
/// call itself — so `skill` links only what calling a tool needs; the server stack (HTTP,
/// TLS, MCP) and the build toolchain (wit-component, Wizer, templates, SDKs) live beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Skill,
    Serve,
    Toolchain,
}

impl Binary {
    pub fn file_name(self) -> &'static str {
        match self {
            Binary::Skill => "skill",
            Binary::Serve => "skill-serve",
            Binary::Toolchain => "skill-toolchain",
        }
    }
}

impl Command {
    fn binary(&self) -> Binary {
        match self {
            Command::Serve(_) => Binary::Serve,
            Command::Init(_)
            | Command::Build(_)
            | Command::Watch(_)
            | Command::Test(_)
            | Command::Install(_)
            | Command::Publish(_)
            | Command::Info(_)
            | Command::Login(_)
            | Command::Logout(_)
            | Command::Update(_)
            | Command::Lock(_)
            | Command::Sync(_)
            | Command::Yank(_)
            | Command::Key(_)
            | Command::Trust(_)
            | Command::Validate(_)
            | Command::Docs(_)
            | Command::Find(_)
            | Command::Doctor(_)
            | Command::Version(_) => Binary::Toolchain,
            _ => Binary::Skill,
        }
    }
}

/// Set in the environment of a binary `skill` handed a command to. A binary that would hand
/// a command on again refuses instead: the files beside each other do not fit (a copy or a
/// half-finished upgrade) and would otherwise exec each other forever.
const HANDED_OVER: &str = "SKILL_HANDED_OVER";

/// Replaces this process with `binary` (beside this one) and the same arguments: exit code,
/// signals and the terminal pass straight through. Returns only if that fails.
fn hand_to(binary: Binary) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let this = std::env::current_exe();
    let fail = |err: Error| {
        let err = err.into();
        render_error(&err);
        exit_code(&err)
    };
    let mismatch = || {
        Error::internal(format!(
            "the {} beside this binary does not run this command",
            binary.file_name()
        ))
        .with_hint("reinstall skill: its binaries must come from one build (`cargo install` or scripts/install.sh)")
    };
    if std::env::var_os(HANDED_OVER).is_some() {
        return fail(mismatch());
    }
    let path = match &this {
        Ok(exe) => exe.with_file_name(binary.file_name()),
        Err(e) => return fail(Error::internal(format!("cannot find this binary: {e}"))),
    };
    if this.is_ok_and(|exe| exe == path) {
        return fail(mismatch());
    }
    let err = std::process::Command::new(&path)
        .arg0("skill")
        .args(std::env::args_os().skip(1))
        .env(HANDED_OVER, "1")
        .exec();
    fail(
        Error::io("run", &path, err).with_hint(format!(
            "skill's binaries are installed side by side; {} is missing there (`cargo install` and scripts/install.sh put it there)",
            binary.file_name()
        )),
    )
}

/// Forgets that this process was handed a command, so that what it starts (a build, a
/// watched reinstall) hands over normally. Called first thing, before any thread exists.
fn take_handed_over() {
    // SAFETY: the process is still single-threaded.
    unsafe { std::env::remove_var(HANDED_OVER) };
}

/// [`start`], in a binary that runs every command it is given.
fn start_handed(
    cli: Cli,
    dispatch: impl FnOnce(&Context, Command) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    take_handed_over();
    start(cli, dispatch)
}

/// Runs the command of the shim `name` (`target` is its `SKILL@INSTANCE`), with this
/// process's arguments after its name.
fn run_shim(name: String, target: String) -> ExitCode {
    // WASI arguments are text: one that is not UTF-8 is refused, not altered.
    let args: Result<Vec<String>, OsString> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let dispatch = |ctx: &Context| -> anyhow::Result<ExitCode> {
        let args = args.map_err(|arg| {
            Error::invalid(format!(
                "argument `{}` is not UTF-8",
                crate::ui::shown(&arg.to_string_lossy())
            ))
            .with_hint("a skill's command takes text arguments")
        })?;
        let r = skill_host::instances::InstanceRef::parse(&target, None)?;
        exec::exec(ctx, &r, name, args, None)
    };
    with_context(Printer::new(false, false), dispatch)
}

/// Loads the global settings and runs one command through `dispatch`.
fn start(
    cli: Cli,
    dispatch: impl FnOnce(&Context, Command) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    let printer = Printer::new(cli.quiet, cli.verbose);
    with_context(printer, |ctx| dispatch(ctx, cli.command))
}

/// Loads the global settings into a [`Context`] and runs `dispatch` with it.
fn with_context(
    printer: Printer,
    dispatch: impl FnOnce(&Context) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    let settings = match SkillHome::from_env().and_then(|home| Settings::load(&home)) {
        Ok(settings) => settings,
        Err(err) => {
            let err = err.into();
            render_error(&err);
            return exit_code(&err);
        }
    };
    apply_settings(&settings);
    let ctx = Context {
        printer,
        output_json: settings.get("output.format") == "json",
        settings,
    };
    match dispatch(&ctx) {
        Ok(code) => code,
        Err(err) => {
            render_error(&err);
            exit_code(&err)
        }
    }
}

/// Settings the rest of the process reads from the environment: colour, and the programs the
/// build runs (the environment wins over config.toml, so only file values are exported).
fn apply_settings(settings: &Settings) {
    match settings.get("output.color") {
        "never" => console::set_colors_enabled_stderr(false),
        "always" => console::set_colors_enabled_stderr(true),
        _ => {}
    }
    for setting in &settings.items {
        if setting.key.starts_with("build.") && setting.source == Source::File {
            // SAFETY: called once at start-up, before any thread is spawned.
            unsafe { std::env::set_var(setting.env, &setting.value) };
        }
    }
}

fn shorthand(ctx: &Context, words: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let words: Vec<String> = words
        .into_iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let first = words.first().cloned().unwrap_or_default();
    if !first.contains(':') {
        return Err(Error::invalid(format!("unknown command `{first}`"))
            .with_hint("see `skill --help`; to run a tool, use `skill run <skill>:<tool>` or `skill <skill>:<tool>`")
            .into());
    }
    run::run(ctx, run::Args::shorthand(first, words[1..].to_vec()))
}

#[cfg(test)]
mod tests {
    /// clap checks a command's definition only when that command is parsed; this checks all
    /// of them (two arguments named alike, say) without running each.
    #[test]
    fn every_command_is_well_formed() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
