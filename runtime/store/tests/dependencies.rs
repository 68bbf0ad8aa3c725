//! The store and the manifest crates are used by everything that only reads or changes what
//! is installed, and the source crate by everything that fetches packages; they must not pull
//! in the engine (wasmtime, Cranelift) to do it.

use std::process::Command;

fn normal_dependencies(package: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn store_manifest_and_source_do_not_link_the_engine() {
    for package in ["skill-store", "skill-manifest", "skill-source"] {
        let tree = normal_dependencies(package);
        assert!(tree.contains(package), "{tree}");
        for engine in ["wasmtime", "cranelift", "skill-engine"] {
            assert!(
                !tree.lines().any(|l| l.starts_with(engine)),
                "{package} depends on {engine}:\n{tree}"
            );
        }
    }
}
