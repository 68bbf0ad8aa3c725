//! End-to-end tests: the real `skill` binary, real components built from real sources, real
//! wasmtime. Each test gets its own `$SKILL_HOME`; guest builds share one cargo target
//! directory so dependencies compile once.

mod bad_input;
mod flow;
mod instances;
mod languages;
mod sandbox;
mod store;

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
