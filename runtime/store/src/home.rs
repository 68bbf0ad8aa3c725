//! Where everything lives: `$SKILL_HOME` (default `~/.skill-engine`).
//!
//! ```text
//! $SKILL_HOME/
//!   .lock                                   flock guarding every write to the store
//!   skills/<name>/current                   points at the active version directory
//!   skills/<name>/<version>-<digest12>/     immutable: component.wasm, skill.yaml, manifest.json
//!   cache/aot/                              0700: <sha256>-<engine-hash>.cwasm, MAC-protected
//!   cache/aot/key                           0600: this machine's key for those MACs
//!   instances/<skill>/<instance>/           config.toml, secrets.enc, grants.toml, data/
//!   secret.key                              0600: the key secrets.enc files are sealed with
//!   store.key                               0600: the key installed versions are sealed with
//!   audit.log                               JSON lines: installs, grants, config changes
//!   sdk/<version>-<digest>/                 the SDKs + WIT that scaffolded projects use
//!   tools/<kind>-<digest>/                  pinned build tools (npm, venv), installed once
//! ```
//!
//! `SKILL_TOOLS_DIR` moves `tools/` elsewhere (tests share one copy across many homes).

use std::path::{Path, PathBuf};

use skill_manifest::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct SkillHome {
    root: PathBuf,
}

impl SkillHome {
    /// `$SKILL_HOME`, else `~/.skill-engine`.
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os("SKILL_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir)));
        }
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::invalid("cannot find the skill home: neither SKILL_HOME nor HOME is set")
                    .with_hint("set SKILL_HOME to a directory skill may use")
            })?;
        Ok(Self::at(PathBuf::from(home).join(".skill-engine")))
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        SkillHome { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn skills_dir(&self) -> PathBuf {
        self.root.join("skills")
    }

    pub fn aot_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("aot")
    }

    /// The search index over installed tools (a cache: rebuilt from the store when lost).
    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join(".lock")
    }

    pub fn instances_dir(&self) -> PathBuf {
        self.root.join("instances")
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.root.join("secret.key")
    }

    /// The key install seals each installed version with (see `store.rs`).
    pub fn store_key_file(&self) -> PathBuf {
        self.root.join("store.key")
    }

    pub fn audit_log(&self) -> PathBuf {
        self.root.join("audit.log")
    }

    /// Where `skill init` writes the SDK sources that scaffolded projects depend on.
    /// Where git sources are checked out, one directory per commit: the one place inside
    /// the skill home where projects are built.
    pub fn git_checkouts_dir(&self) -> PathBuf {
        self.root.join("cache/git/checkouts")
    }

    /// PATH shims: links to the `skill` binary, one per command name (`skill shim`). Put it
    /// on PATH to run them.
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// What each shim in [`SkillHome::bin_dir`] runs: a file per shim name holding
    /// `SKILL@INSTANCE`.
    pub fn shims_dir(&self) -> PathBuf {
        self.root.join("shims")
    }

    pub fn sdk_dir(&self) -> PathBuf {
        self.root.join("sdk")
    }

    /// Where `skill build` installs its pinned build tools: `$SKILL_TOOLS_DIR`, else
    /// `$SKILL_HOME/tools`.
    pub fn tools_dir(&self) -> PathBuf {
        match std::env::var_os("SKILL_TOOLS_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => self.root.join("tools"),
        }
    }
}
