//! The SDKs that scaffolded projects depend on (Rust, JavaScript, Python) and the contract's
//! WIT, compiled into the `skill` binary and written to `$SKILL_HOME/sdk/<version>-<digest>/`
//! on first use. Until the SDKs are on crates.io / npm / PyPI this keeps `skill init` and
//! `skill build` working offline, anywhere, without a checkout of this repository. The
//! directory mirrors the repository (`sdk-rust/`, `sdk-js/`, `sdk-python/`, `wit/`), so the
//! Rust SDK's `path = "../wit"` finds the contract in both places.

use std::path::{Path, PathBuf};

use skill_engine::{Result, SkillHome};
use skill_store::fsutil::{create_dir_whole, sha256_hex, write_atomic};

pub use crate::versions::SDK as SDK_VERSION;

/// Every file of the SDK, by its path relative to the repository root. A test checks that
/// this list covers everything under `sdk-rust/` and `wit/`.
pub const SDK_FILES: &[(&str, &str)] = &[
    (
        "sdk-rust/Cargo.toml",
        include_str!("../../../sdk-rust/Cargo.toml"),
    ),
    (
        "sdk-rust/src/lib.rs",
        include_str!("../../../sdk-rust/src/lib.rs"),
    ),
    (
        "sdk-rust/macros/Cargo.toml",
        include_str!("../../../sdk-rust/macros/Cargo.toml"),
    ),
    (
        "sdk-rust/macros/src/lib.rs",
        include_str!("../../../sdk-rust/macros/src/lib.rs"),
    ),
    (
        "sdk-js/package.json",
        include_str!("../../../sdk-js/package.json"),
    ),
    ("sdk-js/index.js", include_str!("../../../sdk-js/index.js")),
    (
        "sdk-js/index.d.ts",
        include_str!("../../../sdk-js/index.d.ts"),
    ),
    (
        "sdk-js/src/index.ts",
        include_str!("../../../sdk-js/src/index.ts"),
    ),
    (
        "sdk-js/src/host.d.ts",
        include_str!("../../../sdk-js/src/host.d.ts"),
    ),
    (
        "sdk-js/tsconfig.json",
        include_str!("../../../sdk-js/tsconfig.json"),
    ),
    (
        "sdk-python/pyproject.toml",
        include_str!("../../../sdk-python/pyproject.toml"),
    ),
    (
        "sdk-python/skill_sdk/__init__.py",
        include_str!("../../../sdk-python/skill_sdk/__init__.py"),
    ),
    (
        "sdk-python/skill_sdk/_tools.py",
        include_str!("../../../sdk-python/skill_sdk/_tools.py"),
    ),
    (
        "sdk-python/skill_sdk/_host.py",
        include_str!("../../../sdk-python/skill_sdk/_host.py"),
    ),
    (
        "sdk-python/skill_sdk/_guest.py",
        include_str!("../../../sdk-python/skill_sdk/_guest.py"),
    ),
    ("sdk-go/go.mod", include_str!("../../../sdk-go/go.mod")),
    ("sdk-go/skill.go", include_str!("../../../sdk-go/skill.go")),
    (
        "sdk-go/params.go",
        include_str!("../../../sdk-go/params.go"),
    ),
    ("sdk-go/host.go", include_str!("../../../sdk-go/host.go")),
    (
        "sdk-go/host_native.go",
        include_str!("../../../sdk-go/host_native.go"),
    ),
    (
        "sdk-go/abi_wasip1.go",
        include_str!("../../../sdk-go/abi_wasip1.go"),
    ),
    (
        "sdk-go/internal/cabi/cabi.go",
        include_str!("../../../sdk-go/internal/cabi/cabi.go"),
    ),
    (
        "sdk-go/skillhttp/client.go",
        include_str!("../../../sdk-go/skillhttp/client.go"),
    ),
    (
        "sdk-go/skillhttp/client_native.go",
        include_str!("../../../sdk-go/skillhttp/client_native.go"),
    ),
    (
        "sdk-go/skillhttp/client_wasip1.go",
        include_str!("../../../sdk-go/skillhttp/client_wasip1.go"),
    ),
    (
        "sdk-go/skillhttp/nethttp/nethttp.go",
        include_str!("../../../sdk-go/skillhttp/nethttp/nethttp.go"),
    ),
    (
        "sdk-go/skillhttp/nethttp/nethttp_native.go",
        include_str!("../../../sdk-go/skillhttp/nethttp/nethttp_native.go"),
    ),
    (
        "sdk-go/skillhttp/nethttp/nethttp_wasip1.go",
        include_str!("../../../sdk-go/skillhttp/nethttp/nethttp_wasip1.go"),
    ),
    ("wit/skill.wit", include_str!("../../../wit/skill.wit")),
    ("wit/command.wit", include_str!("../../../wit/command.wit")),
    (
        "wit/deps/cli/run.wit",
        include_str!("../../../wit/deps/cli/run.wit"),
    ),
    ("wit/README.md", include_str!("../../../wit/README.md")),
];

/// The SDKs and the WIT on disk, under `$SKILL_HOME/sdk/<version>-<digest>/`.
#[derive(Debug, Clone)]
pub struct SdkDir {
    pub root: PathBuf,
}

impl SdkDir {
    /// The `skill-sdk` crate.
    pub fn rust(&self) -> PathBuf {
        self.root.join("sdk-rust")
    }
    /// The `@skill-engine/sdk` npm package.
    pub fn js(&self) -> PathBuf {
        self.root.join("sdk-js")
    }
    /// The directory holding the `skill_sdk` Python package.
    pub fn python(&self) -> PathBuf {
        self.root.join("sdk-python")
    }
    /// The `skill-engine/sdk-go` Go module.
    pub fn go(&self) -> PathBuf {
        self.root.join("sdk-go")
    }
    /// The contract's WIT package.
    pub fn wit(&self) -> PathBuf {
        self.root.join("wit")
    }
}

/// Makes sure the SDKs are on disk.
pub fn ensure_sdk(home: &SkillHome) -> Result<SdkDir> {
    let digest = {
        let mut all = Vec::new();
        for (path, text) in SDK_FILES {
            all.extend_from_slice(path.as_bytes());
            all.push(0);
            all.extend_from_slice(text.as_bytes());
            all.push(0);
        }
        sha256_hex(&all)
    };
    let root = home
        .sdk_dir()
        .join(format!("{SDK_VERSION}-{}", &digest[..12]));
    create_dir_whole(&root, "wit/skill.wit", |staging| {
        for (path, text) in SDK_FILES {
            write_atomic(&staging.join(path), text.as_bytes())?;
        }
        Ok(())
    })?;
    Ok(SdkDir { root })
}

/// Where `skill init` puts the SDK inside a new project.
pub const VENDOR_DIR: &str = "vendor/skill";
/// Go's: a `vendor/` directory means `go mod vendor`'s output to the go command.
pub const GO_VENDOR_DIR: &str = "third_party/skill";

/// Copies the SDK a `language` project builds against into `<project>/vendor/skill/`: the Rust
/// SDK with the contract's WIT, or the npm package; Go's module into
/// `<project>/third_party/skill/` (go.mod's `replace` points there). (Python's SDK is added
/// by `skill build`.)
///
/// Inside the project, the dependency is a relative path: the project builds the same on any
/// machine and in CI (cargo hashes the absolute path of a path dependency outside the
/// workspace into the output; `package-lock.json` records the relative `file:` path).
pub fn vendor_into(project: &Path, language: &str) -> Result<()> {
    let prefixes: &[&str] = match language {
        "rust" => &["sdk-rust/", "wit/"],
        "javascript" | "typescript" => &["sdk-js/"],
        "go" => &["sdk-go/"],
        _ => &[],
    };
    let dir = if language == "go" {
        GO_VENDOR_DIR
    } else {
        VENDOR_DIR
    };
    for (path, text) in SDK_FILES {
        if prefixes.iter().any(|p| path.starts_with(p)) {
            write_atomic(&project.join(dir).join(path), text.as_bytes())?;
        }
    }
    Ok(())
}

/// The repository files the SDK consists of, for the completeness test.
pub fn sdk_source_files(repo_root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["sdk-rust", "sdk-js", "sdk-python", "sdk-go", "wit"] {
        collect(repo_root, &repo_root.join(dir), &mut files);
    }
    files.sort();
    files
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ["target", "node_modules", "__pycache__", "tests", "test"].contains(&name.as_ref())
            || name.starts_with('.')
            || name.ends_with("_test.go")
        {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sdk_file_is_embedded() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap();
        let mut embedded: Vec<String> = super::SDK_FILES
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        embedded.sort();
        assert_eq!(
            super::sdk_source_files(repo),
            embedded,
            "update SDK_FILES in toolchain/build/src/sdk.rs"
        );
    }
}
