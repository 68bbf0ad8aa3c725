//! `$SKILL_HOME` on disk: the versioned store of installed skills, instances (config, sealed
//! secrets, grants pinned by device and inode), the audit log, and the file helpers that keep
//! all of it crash-safe (stage, then rename).
//!
//! No wasmtime: anything that only reads or changes what is installed links this, not the
//! engine.

// Grants are pinned and reopened through O_PATH descriptors and /proc/self/fd, secrets and
// locks rely on Unix permissions and flock: Linux only for now (README, "Platforms").
#[cfg(not(target_os = "linux"))]
compile_error!(
    "skill runs on Linux only for now: directory grants are pinned through O_PATH and /proc/self/fd (see README, Platforms)"
);

pub mod audit;
pub mod credentials;
pub mod dirs;
pub mod fsutil;
pub mod home;
pub mod instance;
pub mod pull_cache;
pub mod secrets;
pub mod settings;
pub mod setup;
pub mod shims;
pub mod store;
pub mod trust;

pub use dirs::{Preopen, Sandbox};
pub use home::SkillHome;
pub use skill_manifest::{Error, ErrorKind, Remedy, Result};
