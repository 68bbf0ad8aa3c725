//! Build-time facts the binary reports and records, taken from where they are decided rather
//! than written by hand: the versions Cargo resolved for this crate's tool dependencies
//! (Cargo.lock) and the SDK's version (sdk-rust/Cargo.toml).

use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("../..");
    // Templates are embedded with include_dir!, which cannot tell cargo about them on stable.
    println!("cargo:rerun-if-changed=../../templates");

    let lock_path = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path)
        .unwrap_or_else(|e| panic!("{}: {e} (build from the workspace)", lock_path.display()));
    let packages = parse_lock(&lock);
    // wasm-opt is linked by the CLI's `skill-wasm-opt` helper, the rest by this crate.
    for (package, dependency, variable) in [
        ("skill-build", "wasmtime", "SKILL_WASMTIME_VERSION"),
        ("skill-build", "wasmtime-wizer", "SKILL_WIZER_VERSION"),
        (
            "skill-build",
            "wit-component",
            "SKILL_WIT_COMPONENT_VERSION",
        ),
        ("skill-cli", "wasm-opt", "SKILL_WASM_OPT_CRATE_VERSION"),
    ] {
        let version = resolved(&packages, package, dependency);
        println!("cargo:rustc-env={variable}={version}");
    }

    let sdk_manifest = root.join("sdk-rust/Cargo.toml");
    println!("cargo:rerun-if-changed={}", sdk_manifest.display());
    let sdk = std::fs::read_to_string(&sdk_manifest).expect("sdk-rust/Cargo.toml");
    let version = sdk
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("sdk-rust/Cargo.toml has a version");
    println!("cargo:rustc-env=SKILL_SDK_VERSION={version}");
}

/// A `[[package]]` of Cargo.lock: name, version, and its dependencies as written there
/// (`name` alone, or `name version` when several versions are locked).
struct Locked {
    name: String,
    version: String,
    dependencies: Vec<String>,
}

fn parse_lock(text: &str) -> Vec<Locked> {
    let mut packages = Vec::new();
    for block in text.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(" = \""))
                    .and_then(|r| r.strip_suffix('"'))
                    .map(str::to_string)
            })
        };
        let dependencies = match block.split_once("dependencies = [") {
            Some((_, rest)) => rest
                .split(']')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|d| d.trim().trim_matches('"').to_string())
                .filter(|d| !d.is_empty())
                .collect(),
            None => Vec::new(),
        };
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            packages.push(Locked {
                name,
                version,
                dependencies,
            });
        }
    }
    packages
}

/// The version of `dependency` that Cargo resolved for `package`.
fn resolved(packages: &[Locked], package: &str, dependency: &str) -> String {
    let entry = packages
        .iter()
        .find(|p| p.name == package)
        .unwrap_or_else(|| panic!("{package} is not in Cargo.lock"))
        .dependencies
        .iter()
        .find(|d| d.split(' ').next() == Some(dependency))
        .unwrap_or_else(|| panic!("{package} does not depend on {dependency}"));
    if let Some((_, version)) = entry.split_once(' ') {
        // `name version (source)` when several versions are locked.
        return version.split(' ').next().unwrap_or(version).to_string();
    }
    let mut candidates = packages.iter().filter(|p| p.name == dependency);
    let only = candidates
        .next()
        .expect("a locked dependency is in Cargo.lock");
    assert!(candidates.next().is_none(), "{dependency} is locked twice");
    only.version.clone()
}
