//! End-to-end tests: the real `skill` binary, real components built from real sources, real
//! wasmtime. Each test gets its own `$SKILL_HOME`; guest builds share one cargo target
//! directory so dependencies compile once.

mod bad_input;
mod flow;
mod instances;
mod languages;
mod sandbox;
mod store;
mod templates;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// One cargo target directory for every guest the tests build.
pub fn guest_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests")
}

/// One private build-tools directory (npm, venv) for every test, installed on first use.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-tools")
}

/// A fresh `$SKILL_HOME` and working directory.
pub struct Env {
    pub home: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts failure with exactly one `error:` line and a hint; returns stderr.
    #[track_caller]
    pub fn fails(&self) -> &str {
        assert_ne!(
            self.code, 0,
            "expected failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(
            self.stderr.matches("error:").count(),
            1,
            "one error line expected:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.contains("hint:"),
            "a hint expected:\n{}",
            self.stderr
        );
        &self.stderr
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skill"));
        cmd.args(args)
            .current_dir(self.work.path())
            .env("SKILL_HOME", self.home.path())
            .env("CARGO_TARGET_DIR", guest_target_dir())
            .env("SKILL_TOOLS_DIR", tools_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    pub fn skill(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    /// Runs `skill` with `input` on stdin.
    pub fn skill_with_input(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.work.path().join(relative)
    }
}

/// Builds a skill project in place (once per test run) and returns its `target/skill` dir.
fn build_once(cell: &'static OnceLock<PathBuf>, project: PathBuf) -> &'static Path {
    cell.get_or_init(|| {
        let env = Env::new();
        env.skill(&["build", project.to_str().unwrap()]).ok();
        project.join("target/skill")
    })
}

/// The bundled example, built: `examples/hello-rust/target/skill`.
pub fn hello_rust() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(&CELL, repo_root().join("examples/hello-rust"))
}

/// The misbehaving fixture, built.
pub fn misbehave() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(
        &CELL,
        repo_root().join("toolchain/tests/fixtures/misbehave"),
    )
}

/// `skill ARGS` in a real pseudo-terminal (`script -qec`), answered prompt by prompt.
pub struct ScriptedTerminal {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl ScriptedTerminal {
    pub fn start(env: &Env, args: &str) -> Self {
        let command = format!("{} {args}", env!("CARGO_BIN_EXE_skill"));
        let mut child = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(env.work.path())
            .env("SKILL_HOME", env.home.path())
            .env("CARGO_TARGET_DIR", guest_target_dir())
            .env("SKILL_TOOLS_DIR", tools_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("`script` (util-linux) runs the command in a terminal");
        let mut stdout = child.stdout.take().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = {
            let screen = screen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            })
        };
        ScriptedTerminal {
            stdin: child.stdin.take(),
            child,
            screen,
            reader: Some(reader),
        }
    }

    /// Waits (up to a minute) for `prompt` on the screen, then types `answer`. A hidden prompt
    /// flushes typed-ahead input when it turns echo off, hence the pause after it appears.
    pub fn answer(&mut self, prompt: &str, answer: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !self.screen.lock().unwrap().contains(prompt) {
            assert!(
                std::time::Instant::now() < deadline,
                "no prompt `{prompt}` on:\n{}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::io::Write::write_all(self.stdin.as_mut().unwrap(), answer.as_bytes()).unwrap();
    }

    /// Waits for the command to succeed and returns everything it showed.
    pub fn finish(mut self) -> String {
        let status = self.child.wait().unwrap();
        drop(self.stdin.take());
        self.reader.take().unwrap().join().unwrap();
        let screen = self.screen.lock().unwrap().clone();
        assert!(status.success(), "{screen}");
        screen
    }
}
