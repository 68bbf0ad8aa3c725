//! The Rust compile stage, with cargo's progress shown on the spinner and its diagnostics
//! printed only when the build fails. A release build asks for the core module
//! (`cargo rustc ... -- -C link-arg=--skip-wit-component`, which touches only the skill's own
//! crate, not its dependencies or the author's RUSTFLAGS) so wasm-opt can run before the
//! component is made; `--dev` lets cargo's linker make the component directly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use cargo_metadata::{Message, TargetKind};
use skill_engine::{Error, Result};

use super::Compiled;
use crate::progress::Stage;
use crate::project::Project;

pub const TARGET: &str = "wasm32-wasip2";

pub fn compile(project: &Project, stage: &dyn Stage, core_module: bool) -> Result<Compiled> {
    check_target_installed()?;
    let manifest_path = project.root.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Err(
            Error::invalid(format!("{} has no Cargo.toml", project.root.display())).with_hint(
                "skill.yaml says this is a Rust skill; create it with `skill init <name> -t rust`",
            ),
        );
    }
    let mut command = Command::new(cargo());
    command
        .arg(if core_module { "rustc" } else { "build" })
        .args([
            "--release",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest_path);
    if core_module {
        command.args(["--lib", "--", "-C", "link-arg=--skip-wit-component"]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::io("run", Path::new("cargo"), e)
                .with_hint("install Rust with rustup (https://rustup.rs)")
        })?;

    // cargo's stderr carries progress and rendered diagnostics: keep it for a failure report,
    // show the current step on the spinner.
    let stderr = child.stderr.take().expect("piped");
    let stage_progress = stage.detail_handle();
    let stderr_thread = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::result::Result::ok)
        {
            let trimmed = line.trim_start();
            if trimmed.starts_with("Compiling") || trimmed.starts_with("Checking") {
                // "Compiling serde v1.0.0 (/long/path)" -> "serde v1.0.0"
                let crate_and_version: Vec<&str> =
                    trimmed.split_whitespace().skip(1).take(2).collect();
                stage_progress(&crate_and_version.join(" "));
            }
            lines.push(line);
        }
        lines
    });

    let mut artifact = None;
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    for message in Message::parse_stream(stdout).map_while(std::result::Result::ok) {
        if let Message::CompilerArtifact(a) = message
            && a.manifest_path.as_std_path() == manifest_path
            && a.target.kind.contains(&TargetKind::CDyLib)
            && let Some(wasm) = a.filenames.iter().find(|f| f.extension() == Some("wasm"))
        {
            artifact = Some(wasm.clone().into_std_path_buf());
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("wait for", Path::new("cargo"), e))?;
    let stderr_lines = stderr_thread.join().unwrap_or_default();

    if !status.success() {
        // Show the compiler's own messages (they point at the user's files), without cargo's
        // progress chatter.
        let mut diagnostics = Vec::new();
        for line in &stderr_lines {
            let t = line.trim_start();
            if !(t.starts_with("Compiling")
                || t.starts_with("Checking")
                || t.starts_with("Blocking")
                || t.starts_with("Updating")
                || t.starts_with("Locking")
                || t.starts_with("Downloaded")
                || t.starts_with("Downloading"))
            {
                diagnostics.push(line.as_str());
            }
        }
        return Err(Error::invalid(format!(
            "could not compile `{}` (cargo exited with {status})",
            project.name()
        ))
        .with_details(diagnostics.join("\n"))
        .with_hint("fix the errors above and run `skill build` again"));
    }
    let component = artifact.ok_or_else(|| {
        Error::invalid(format!(
            "cargo built `{}` but produced no .wasm library",
            project.name()
        ))
        .with_hint("a Rust skill is a library with `crate-type = [\"cdylib\"]` in Cargo.toml")
    })?;
    Ok(Compiled {
        component,
        is_core_module: core_module,
        tools: vec![("rustc".to_string(), rustc_version()?)],
        dependency_lock: super::lock_digest(&project.root, "Cargo.lock"),
    })
}

/// `rustc -V`, e.g. "1.95.0 (59807616e 2026-04-14)".
pub fn rustc_version() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    crate::tools::program_version(&rustc, &["-V"])
        .map(|v| v.trim_start_matches("rustc ").to_string())
        .ok_or_else(|| {
            Error::not_found("`rustc` is not installed or not on PATH")
                .with_hint("install Rust with rustup (https://rustup.rs); `skill doctor` lists what is missing")
        })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// The wasm target's library directory, when the target is installed.
pub fn target_libdir() -> Option<std::path::PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()?;
    let libdir = std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (output.status.success() && libdir.is_dir()).then_some(libdir)
}

/// Fails early, with the command that fixes it, when the wasm target is missing.
fn check_target_installed() -> Result<()> {
    if target_libdir().is_some() {
        return Ok(());
    }
    rustc_version()?;
    Err(
        Error::invalid(format!("the Rust target `{TARGET}` is not installed"))
            .with_hint(format!("run `rustup target add {TARGET}`")),
    )
}
