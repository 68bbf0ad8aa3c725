//! The cache `skill pull-run` keeps: `$SKILL_HOME/cache/pull/<manifest-hex>/` per pulled
//! version (component.wasm, skill.yaml, and the manifest.json the host derived when it was
//! first checked), written whole (stage, rename) after every blob was verified. Entries
//! expire after a day; `skill prune` clears them all. No config or secret is ever written
//! here: a pull-run's instance lives in memory.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::fsutil::{create_dir_whole, write_atomic};
use crate::home::SkillHome;
use crate::store::{COMPONENT_WASM, dir_size};
use skill_manifest::error::{Error, Result};
use skill_manifest::manifest::{MANIFEST_JSON, SKILL_YAML};

pub const EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// Written less than [`EXPIRY`] ago.
fn fresh(path: &std::path::Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < EXPIRY)
}

pub struct PullCache {
    home: SkillHome,
}

/// A cached, verified package.
pub struct Cached {
    pub dir: PathBuf,
    pub skill_yaml: String,
    pub manifest_json: Vec<u8>,
}

impl Cached {
    pub fn component_path(&self) -> PathBuf {
        self.dir.join(COMPONENT_WASM)
    }
}

impl PullCache {
    pub fn new(home: SkillHome) -> Self {
        PullCache { home }
    }

    fn root(&self) -> PathBuf {
        self.home.root().join("cache").join("pull")
    }

    fn entry(&self, digest: &str) -> Result<PathBuf> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(format!("`{digest}` is not a sha256 digest")));
        }
        Ok(self.root().join(hex))
    }

    /// The entry for a manifest digest, unless it is missing, incomplete or expired.
    pub fn get(&self, digest: &str) -> Result<Option<Cached>> {
        let dir = self.entry(digest)?;
        if !fresh(&dir.join(MANIFEST_JSON)) {
            return Ok(None);
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| Error::io("read", &path, e))
        };
        let skill_yaml = String::from_utf8(read(SKILL_YAML)?)
            .map_err(|_| Error::invalid(format!("{} is damaged", dir.display())))?;
        Ok(Some(Cached {
            manifest_json: read(MANIFEST_JSON)?,
            skill_yaml,
            dir,
        }))
    }

    /// Stores a verified package under its manifest digest (replacing an expired entry).
    pub fn put(
        &self,
        digest: &str,
        component: &[u8],
        skill_yaml: &str,
        manifest_json: &[u8],
    ) -> Result<Cached> {
        let dir = self.entry(digest)?;
        crate::fsutil::create_private_dir(&self.root())?;
        if dir.exists() && self.get(digest)?.is_none() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
        }
        create_dir_whole(&dir, MANIFEST_JSON, |staging| {
            write_atomic(&staging.join(COMPONENT_WASM), component)?;
            write_atomic(&staging.join(SKILL_YAML), skill_yaml.as_bytes())?;
            write_atomic(&staging.join(MANIFEST_JSON), manifest_json)
        })?;
        Ok(Cached {
            dir,
            skill_yaml: skill_yaml.to_string(),
            manifest_json: manifest_json.to_vec(),
        })
    }

    /// What `reference` (a tag or requirement, spelled by the caller) resolved to within the
    /// last day, if anything.
    pub fn resolved(&self, reference: &str) -> Option<String> {
        let path = self
            .root()
            .join("refs")
            .join(crate::fsutil::sha256_hex(reference.as_bytes()));
        if !fresh(&path) {
            return None;
        }
        let digest = std::fs::read_to_string(&path).ok()?;
        let digest = digest.trim();
        self.entry(digest).is_ok().then(|| digest.to_string())
    }

    /// Remembers what `reference` resolved to (for a day).
    pub fn remember(&self, reference: &str, digest: &str) -> Result<()> {
        self.entry(digest)?;
        let refs = self.root().join("refs");
        crate::fsutil::create_private_dir(&self.root())?;
        write_atomic(
            &refs.join(crate::fsutil::sha256_hex(reference.as_bytes())),
            digest.as_bytes(),
        )
    }

    /// Removes every entry (`expired_only`: those older than a day); what went, with sizes.
    pub fn clear(&self, expired_only: bool, dry_run: bool) -> Result<Vec<(PathBuf, u64)>> {
        let mut removed = Vec::new();
        for entry in std::fs::read_dir(self.root())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            let expired = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map_or(true, |t| {
                    SystemTime::now().duration_since(t).unwrap_or_default() >= EXPIRY
                });
            if expired_only && !expired {
                continue;
            }
            removed.push((path.clone(), dir_size(&path)));
            if !dry_run {
                std::fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
            }
        }
        Ok(removed)
    }
}
