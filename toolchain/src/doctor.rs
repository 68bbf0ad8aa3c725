//! `skill doctor`: what the build needs, what is present, and the command that fixes each
//! problem.

use std::path::Path;

use serde::Serialize;
use skill_runtime::SkillHome;

use crate::build::TARGET;
use crate::tools::{Kit, install_hint, node, npm, program_version, python3};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    /// What it is for: "rust", "javascript/typescript", "python", or "all".
    pub needed_for: &'static str,
    pub ok: bool,
    /// The version or location found, or what is wrong.
    pub detail: String,
    /// The command (or action) that fixes it, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(name: &str, needed_for: &'static str, found: Result<String, String>, fix: &str) -> Check {
    let ok = found.is_ok();
    Check {
        name: name.to_string(),
        needed_for,
        ok,
        detail: found.unwrap_or_else(|e| e),
        fix: (!ok).then(|| fix.to_string()),
    }
}

fn version_of(program: &str, args: &[&str]) -> Result<String, String> {
    program_version(program, args).ok_or_else(|| format!("`{program}` not found on PATH"))
}

pub fn run_checks(home: &SkillHome) -> Vec<Check> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut checks = vec![
        check(
            "cargo",
            "rust",
            version_of(&cargo, &["--version"]),
            install_hint("cargo"),
        ),
        check(
            "rustc",
            "rust",
            version_of(&rustc, &["-V"]),
            install_hint("rustc"),
        ),
        check(
            &format!("rust target {TARGET}"),
            "rust",
            crate::build::target_libdir()
                .map(|_| "installed".to_string())
                .ok_or_else(|| "not installed".to_string()),
            &format!("rustup target add {TARGET}"),
        ),
        check(
            "node",
            "javascript/typescript",
            version_of(&node(), &["--version"]),
            install_hint("node"),
        ),
        check(
            "npm",
            "javascript/typescript",
            version_of(&npm(), &["--version"]),
            install_hint("npm"),
        ),
        check(
            "python3 (with venv)",
            "python",
            version_of(&python3(), &["--version"]).and_then(|v| {
                version_of(&python3(), &["-m", "venv", "--help"])
                    .map(|_| v)
                    .map_err(|_| "python3 has no venv module".to_string())
            }),
            install_hint("python3"),
        ),
    ];
    for kit in Kit::ALL {
        let pins: Vec<String> = kit.pins().iter().map(|(n, v)| format!("{n} {v}")).collect();
        let dir = kit.dir(home);
        checks.push(check(
            &format!("{} build tools", kit.label()),
            match kit {
                Kit::Js => "javascript/typescript",
                Kit::Python => "python",
            },
            if kit.is_installed(home) {
                Ok(format!("{} in {}", pins.join(", "), dir.display()))
            } else {
                Err(format!("not installed ({})", pins.join(", ")))
            },
            "skill doctor --install (or any `skill build` of that language)",
        ));
    }
    checks.push(check(
        "skill home",
        "all",
        home_state(home.root()),
        &format!(
            "make {} writable by you, or set SKILL_HOME",
            home.root().display()
        ),
    ));
    checks
}

/// The home must be creatable and writable; the AOT cache (native code) must be private.
fn home_state(root: &Path) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let existing = root
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let meta = std::fs::metadata(existing).map_err(|e| format!("{}: {e}", existing.display()))?;
    if meta.permissions().readonly() {
        return Err(format!("{} is read-only", existing.display()));
    }
    let cache = root.join("cache").join("aot");
    if let Ok(meta) = std::fs::metadata(&cache) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is mode {mode:o}; it holds native code and must be 0700 (chmod 700 it)",
                cache.display()
            ));
        }
    }
    Ok(root.display().to_string())
}
