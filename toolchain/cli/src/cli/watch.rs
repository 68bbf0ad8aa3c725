use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode};
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_full::notify::{Config, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, RecommendedCache, new_debouncer_opt};
use skill_engine::Error;

use super::Context;
use skill_build::project::Project;
use skill_build::sources::Sources;
use skill_host::instances::InstanceRef;
use skill_serve::is_mutation;

/// Changes closer together than this are one change.
const DEBOUNCE: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Builds, then installs into the `dev` instance (approving what skill.yaml asks for), and does
it again whenever a source file changes: a change during a build restarts it, a failed build
waits for the next change. Outputs (target/, node_modules/, dist/, the output directory) and
VCS directories are ignored. Try it with `skill run NAME@dev:TOOL` in another terminal.

With --serve, `skill serve NAME@dev` starts after the first good install and keeps running:
MCP clients connected to http://127.0.0.1:PORT/mcp get tools/list_changed on every reinstall.")]
pub struct Args {
    /// The skill project (default: the one containing the current directory)
    path: Option<PathBuf>,

    /// The instance to keep installed
    #[arg(short, long, default_value = "dev")]
    instance: String,

    /// Only build; install nothing
    #[arg(long, conflicts_with = "serve")]
    no_install: bool,

    /// Also serve the instance over MCP and HTTP (`skill serve NAME@INSTANCE`) while watching
    #[arg(long)]
    serve: bool,

    /// Port for --serve (0 picks a free one)
    #[arg(long, default_value_t = 3000, requires = "serve")]
    port: u16,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let root = Project::find_root(&args.path.unwrap_or_else(|| PathBuf::from(".")))?;
    let project = Project::open(&root)?;
    let target = InstanceRef::parse(project.name(), Some(&args.instance))?;
    let sources = Sources::of(&project);
    let exe = std::env::current_exe()?;

    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    // Symlinks are not followed: one to `/` in a cloned project would otherwise have every
    // directory on the machine watched (the build does not follow them either).
    let config = Config::default().with_follow_symlinks(false);
    let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
        DEBOUNCE,
        None,
        tx,
        RecommendedCache::new(),
        config,
    )
    .map_err(|e| Error::internal(format!("cannot watch {}: {e}", root.display())))?;
    debouncer
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| Error::internal(format!("cannot watch {}: {e}", root.display())))?;
    ctx.printer.status(
        "Watching",
        format!(
            "{} ({}); Ctrl-C stops",
            root.display(),
            if args.no_install {
                "build only".to_string()
            } else {
                format!("installs as {target}")
            }
        ),
    );

    // The first source change in a batch of events, if any.
    let changed = |result: DebounceEventResult| -> Option<PathBuf> {
        let events = result.ok()?;
        events
            .iter()
            .filter(|e| is_mutation(&e.kind))
            .flat_map(|e| e.paths.iter())
            .find(|p| sources.is_source(p))
            .cloned()
    };

    // `skill serve`, started after the first good install; it follows later reinstalls itself.
    let mut server: Option<Child> = None;
    loop {
        let mut child = spawn(&exe, &root, &target, args.no_install)?;
        // Build (and install) while watching: a change restarts it.
        let restart = loop {
            if let Some(status) = child.try_wait()? {
                if status.success() {
                    ctx.printer.status(
                        "Ready",
                        if args.no_install {
                            format!("{} built; waiting for changes", project.name())
                        } else {
                            format!("{target} is up to date; waiting for changes")
                        },
                    );
                    if args.serve && server.is_none() {
                        server = Some(
                            Command::new(&exe)
                                .args(["serve", &target.to_string(), "--port"])
                                .arg(args.port.to_string())
                                .spawn()?,
                        );
                    }
                } else {
                    ctx.printer
                        .warn("the build failed (above); waiting for the next change");
                }
                break None;
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(result) => {
                    if let Some(path) = changed(result) {
                        stop(&mut child);
                        break Some(path);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(ExitCode::FAILURE),
            }
        };
        let path = match restart {
            Some(path) => path,
            None => loop {
                let Ok(result) = rx.recv() else {
                    return Ok(ExitCode::FAILURE);
                };
                if let Some(path) = changed(result) {
                    break path;
                }
            },
        };
        ctx.printer.status(
            "Changed",
            path.strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string(),
        );
    }
}

/// `skill install --yes -i INSTANCE ROOT` (which builds when the sources changed), or
/// `skill build ROOT`, in its own process group so a restart stops cargo/node/... with it.
fn spawn(
    exe: &PathBuf,
    root: &PathBuf,
    target: &InstanceRef,
    build_only: bool,
) -> std::io::Result<Child> {
    let mut cmd = Command::new(exe);
    if build_only {
        cmd.arg("build").arg(root);
    } else {
        cmd.args(["install", "--yes", "--instance", &target.instance])
            .arg(root);
    }
    cmd.process_group(0).spawn()
}

/// Stops a running build and everything it started.
fn stop(child: &mut Child) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: signalling a process group we created; no memory is involved.
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    if child.wait_timeout(Duration::from_secs(3)).is_none() {
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = child.wait();
    }
}

trait WaitTimeout {
    fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus>;
}

impl WaitTimeout for Child {
    fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}
