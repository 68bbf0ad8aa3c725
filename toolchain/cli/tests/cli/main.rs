//! End-to-end tests: the real `skill` binary, real components built from real sources, real
//! wasmtime. Each test gets its own `$SKILL_HOME`; guest builds share one cargo target
//! directory so dependencies compile once.

mod attacks;
mod bad_input;
mod calls;
mod discovery;
mod examples;
mod flow;
mod git;
mod instances;
mod languages;
mod registry;
mod sandbox;
mod serve;
mod store;
mod templates;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
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

/// PATH with the `skill` under test first, as an installed `skill` would be.
pub fn path_with_skill() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_skill"))
        .parent()
        .unwrap()
        .to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).unwrap()
}

/// A fresh `$SKILL_HOME` and working directory.
pub struct Env {
    pub home: tempfile::TempDir,
    pub work: tempfile::TempDir,
    /// Every `skill` run through [`Env::skill`]: command, exit code, stdout, stderr.
    transcript: std::cell::RefCell<String>,
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
            transcript: Default::default(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skill"));
        cmd.args(args)
            .current_dir(self.work.path())
            .env("SKILL_HOME", self.home.path())
            .env("CARGO_TARGET_DIR", guest_target_dir())
            .env("SKILL_TOOLS_DIR", tools_dir())
            // Not this machine's Hugging Face cache: a test sees the search model only when
            // it passes SKILL_MODEL_DIR.
            .env("HF_HOME", self.home.path().join("hf"))
            .env("NO_COLOR", "1")
            .env("PATH", path_with_skill())
            .stdin(Stdio::null());
        // Ctrl-C (SIGINT) stops `skill watch` and `skill serve` with its default action. A
        // test run started in the background by a script inherits SIGINT *ignored*, and a child
        // would never stop: give every child the default back.
        #[cfg(unix)]
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        cmd
    }

    pub fn skill(&self, args: &[&str]) -> Run {
        self.skill_with_env(args, &[])
    }

    /// Runs `skill` with some environment variables set (or replaced) for this run.
    pub fn skill_with_env(&self, args: &[&str], vars: &[(&str, &std::ffi::OsStr)]) -> Run {
        let mut command = self.command(args);
        command.envs(vars.iter().copied());
        let run = Run::from(command.output().unwrap());
        self.record(args, &run);
        run
    }

    fn record(&self, args: &[&str], run: &Run) {
        let mut t = self.transcript.borrow_mut();
        t.push_str(&format!("$ skill {}\n", args.join(" ")));
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if !text.is_empty() {
                t.push_str(&format!("--- {stream}\n{}", text));
                if !text.ends_with('\n') {
                    t.push('\n');
                }
            }
        }
        t.push_str(&format!("--- exit {}\n\n", run.code));
    }

    /// Snapshot of what a person read in this test (every `skill` run so far, and then the
    /// transcript starts afresh), with what differs between runs and machines replaced:
    /// paths, durations, sizes, digests, tool versions.
    #[track_caller]
    pub fn assert_transcript(&self, name: &str) {
        self.assert_transcript_with(name, &[]);
    }

    /// [`Env::assert_transcript`] with more filters, `(regex, replacement)`, applied first.
    #[track_caller]
    pub fn assert_transcript_with(&self, name: &str, filters: &[(&str, &str)]) {
        let text = std::mem::take(&mut *self.transcript.borrow_mut());
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        // Longest first: the guests' and tools' directories are inside the repository.
        for (path, name) in [
            (self.home.path().to_path_buf(), "[HOME]"),
            (self.work.path().to_path_buf(), "[WORK]"),
            (guest_target_dir(), "[GUESTS]"),
            (tools_dir(), "[TOOLS]"),
            (repo_root(), "[REPO]"),
            // Cargo runs the tests with $CARGO set; children inherit it.
            (PathBuf::from(env!("CARGO")), "[CARGO]"),
        ] {
            let path = path.display().to_string();
            settings.add_filter(&regex_escape(&path), name);
        }
        for (pattern, replacement) in filters {
            settings.add_filter(pattern, *replacement);
        }
        for (pattern, replacement) in [
            (r"\b[0-9a-f]{64}\b", "[SHA256]"),
            (r"\b[0-9a-f]{12}\b", "[DIGEST]"),
            (r"\b\d+(\.\d+)?\s?(ms|µs|s)\b", "[TIME]"),
            (r"\b\d+(\.\d+)? (B|KB|MB|GB)\b", "[SIZE]"),
            (r#""size": \d+"#, r#""size": [SIZE]"#),
            // Where a cut component ends depends on the example's size.
            (r"at offset 0x[0-9a-f]+", "at offset [OFFSET]"),
            (
                r"\b(wasmtime|wizer|wit-component|wasm-opt) \d+(\.\d+)*",
                "$1 [VERSION]",
            ),
        ] {
            settings.add_filter(pattern, replacement);
        }
        settings.bind(|| insta::assert_snapshot!(name, text));
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
        let run = Run::from(child.wait_with_output().unwrap());
        self.record(args, &run);
        run
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

/// The bundled example, built: `examples/rust-skill/target/skill`.
pub fn rust_skill() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(&CELL, repo_root().join("examples/rust-skill"))
}

/// The misbehaving fixture, built.
pub fn misbehave() -> &'static Path {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    build_once(
        &CELL,
        repo_root().join("toolchain/cli/tests/fixtures/misbehave"),
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
            .env("HF_HOME", env.home.path().join("hf"))
            .env("PATH", path_with_skill())
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

/// One request a test server received.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// Lowercased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpResponse {
    pub fn new(status: u16, body: &str) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A small HTTP/1.1 server on loopback for tests (one request per connection). Returns its
/// port and every request it received, in order.
pub fn serve_http(
    handler: impl Fn(&HttpRequest, u16) -> HttpResponse + Send + 'static,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<HttpRequest>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap_or(0);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or("/").to_string();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let request = HttpRequest {
                method,
                path,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            let response = handler(&request, port);
            log.lock().unwrap().push(request);
            let mut text = format!(
                "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                response.status,
                response.body.len()
            );
            for (name, value) in &response.headers {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
            text.push_str("\r\n");
            text.push_str(&response.body);
            let _ = stream.write_all(text.as_bytes());
        }
    });
    (port, seen)
}

/// The bundled examples, built in place (once per run): `examples/<name>/target/skill`.
pub fn example(name: &'static str) -> &'static Path {
    static CELLS: OnceLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, &'static Path>>,
    > = OnceLock::new();
    let cells = CELLS.get_or_init(Default::default);
    // Hold the lock while building: two tests must not build one project at once.
    let mut built = cells.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path;
    }
    let project = repo_root().join("examples").join(name);
    Env::new().skill(&["build", project.to_str().unwrap()]).ok();
    let path: &'static Path = Box::leak(project.join("target/skill").into_boxed_path());
    built.insert(name, path);
    path
}

/// `text` as a regular expression that matches exactly it.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
