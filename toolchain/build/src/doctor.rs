//! `skill doctor`: what the build needs, what is present, and the command that fixes each
//! problem.

use std::path::Path;

use serde::Serialize;
use skill_engine::SkillHome;

use crate::pipeline::TARGET;
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
            crate::pipeline::target_libdir()
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
                version_of(&python3(), &["-I", "-m", "venv", "--help"])
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
                Kit::Go => "go",
            },
            if kit.is_installed(home) {
                Ok(format!("{} in {}", pins.join(", "), dir.display()))
            } else {
                Err(format!("not installed ({})", pins.join(", ")))
            },
            "skill doctor --install (or any `skill build` of that language)",
        ));
    }
    checks.push(on_path());
    checks.push(shims_on_path(home));
    checks.push(helpers());
    checks.push(aot_cache(home));
    checks.push(search_model(home));
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

/// Whether a shell finds this `skill` (and not another one first). The doctor runs in the
/// toolchain binary, which is installed beside `skill`.
fn on_path() -> Check {
    let exe = std::env::current_exe()
        .and_then(|p| p.with_file_name("skill").canonicalize())
        .ok();
    let dir = exe.as_ref().and_then(|e| e.parent()).map(Path::to_path_buf);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let first = std::env::split_paths(&path)
        .map(|d| d.join("skill"))
        .find(|c| c.is_file())
        .and_then(|c| c.canonicalize().ok());
    let found = match (&exe, &first) {
        (Some(exe), Some(first)) if exe == first => Ok(format!("{}", exe.display())),
        (Some(_), Some(first)) => Err(format!(
            "another skill comes first on PATH: {}",
            first.display()
        )),
        _ => Err("skill is not on PATH".to_string()),
    };
    let fix = match &dir {
        Some(dir) => format!(
            "add its directory to PATH in your shell profile: export PATH=\"{}:$PATH\"",
            dir.display()
        ),
        None => "add the directory holding `skill` to PATH".to_string(),
    };
    check("skill on PATH", "all", found, &fix)
}

/// Whether a shell finds the PATH shims (`skill shim`): only a problem once there are some.
fn shims_on_path(home: &SkillHome) -> Check {
    let bin = home.bin_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path).any(|d| d == bin);
    let shims = skill_store::shims::Shims::new(home.clone())
        .list()
        .map(|s| s.len())
        .unwrap_or(0);
    let found = match (on_path, shims) {
        (true, _) => Ok(format!("{} is on PATH ({shims} shim(s))", bin.display())),
        (false, 0) => Ok(format!(
            "no shims yet; to use them: export PATH=\"{}:$PATH\"",
            bin.display()
        )),
        (false, n) => Err(format!(
            "{n} shim(s) in {}, which is not on PATH",
            bin.display()
        )),
    };
    check(
        "shims on PATH",
        "all",
        found,
        &format!(
            "add to your shell profile: export PATH=\"{}:$PATH\"",
            bin.display()
        ),
    )
}

/// The local embedding model `skill find` uses when present. Optional (search falls back to
/// keywords), so never a problem; the detail says how to add it.
fn search_model(home: &SkillHome) -> Check {
    let detail = match skill_index::embed::find_local_model(home) {
        Some(dir) => format!("{} in {}", skill_index::embed::LOCAL_MODEL, dir.display()),
        None => "not installed: `skill find` matches words only; `skill doctor --install` adds it"
            .to_string(),
    };
    check("search model", "skill find", Ok(detail), "")
}

/// The binaries `skill` hands commands to, installed beside it.
fn helpers() -> Check {
    const HELPERS: [&str; 3] = ["skill-serve", "skill-toolchain", "skill-wasm-opt"];
    let dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let missing: Vec<&str> = HELPERS
        .into_iter()
        .filter(|h| !dir.as_ref().is_some_and(|d| d.join(h).is_file()))
        .collect();
    let found = if missing.is_empty() {
        Ok(HELPERS.join(", "))
    } else {
        Err(format!("missing beside skill: {}", missing.join(", ")))
    };
    check(
        "skill's helper binaries",
        "all",
        found,
        "reinstall skill (`cargo install --path toolchain/cli` or scripts/install.sh)",
    )
}

/// Cached native code made by another engine is never loaded; it only takes space.
fn aot_cache(home: &SkillHome) -> Check {
    let found = skill_engine::engine::new_engine()
        .and_then(|engine| {
            skill_engine::aot::AotCache::open(&home.aot_cache_dir(), &engine)
        })
        .map_err(|e| e.message().to_string())
        .and_then(|cache| {
            let (current, stale, bytes) = cache.census();
            if stale == 0 {
                Ok(format!("{current} compiled component(s) for this engine"))
            } else {
                Err(format!(
                    "{current} for this engine; {stale} from another wasmtime version or CPU ({:.1} MB) that is never loaded",
                    bytes as f64 / 1e6
                ))
            }
        });
    check(
        "AOT cache",
        "all",
        found,
        "skill doctor --install (removes the entries no engine here can load)",
    )
}

/// Removes AOT cache entries another engine made (`skill doctor --install`).
pub fn clean_aot_cache(home: &SkillHome) -> usize {
    skill_engine::engine::new_engine()
        .and_then(|engine| skill_engine::aot::AotCache::open(&home.aot_cache_dir(), &engine))
        .map(|cache| cache.remove_stale())
        .unwrap_or(0)
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
