//! The AOT cache: precompiled components (`.cwasm`) are native code, so they are only ever
//! loaded from here, only if this machine wrote them, and only for the engine that made them.
//!
//! An entry is `<component-sha256>-<engine-hash>.cwasm`: the precompiled bytes followed by a
//! 32-byte keyed BLAKE3 MAC over (file name, bytes). The key is random, per `$SKILL_HOME`, and
//! readable only by its owner, in a 0700 directory. A truncated, tampered, renamed or foreign
//! file fails the MAC and is recompiled from the component, never deserialized.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::Digest;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};
use crate::fsutil::{create_private_dir, write_private};

const MAC_LEN: usize = 32;
const KEY_FILE: &str = "key";

/// How a component was obtained, for build reports and `--verbose` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
    /// An entry existed but was rejected (the reason says why) and has been replaced.
    Recompiled(String),
}

impl std::fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheOutcome::Hit => f.write_str("loaded from the AOT cache"),
            CacheOutcome::Compiled => f.write_str("compiled and cached"),
            CacheOutcome::Recompiled(reason) => write!(f, "recompiled ({reason})"),
        }
    }
}

pub struct AotCache {
    dir: PathBuf,
    key: [u8; 32],
    engine_hash: String,
}

impl AotCache {
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self> {
        create_private_dir(dir)?;
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        Ok(AotCache { dir: dir.to_path_buf(), key, engine_hash: engine_hash(engine) })
    }

    pub fn entry_path(&self, component_sha256: &str) -> PathBuf {
        self.dir.join(self.entry_name(component_sha256))
    }

    fn entry_name(&self, component_sha256: &str) -> String {
        format!("{component_sha256}-{}.cwasm", self.engine_hash)
    }

    fn mac(&self, name: &str, bytes: &[u8]) -> [u8; MAC_LEN] {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(name.as_bytes());
        hasher.update(&[0]);
        hasher.update(bytes);
        *hasher.finalize().as_bytes()
    }

    /// Loads the component for `component_sha256`: from the cache when a valid entry exists,
    /// otherwise compiles `component_bytes()` and stores the result.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        component_sha256: &str,
        component_bytes: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<(Component, CacheOutcome)> {
        let rejected = match self.load(engine, component_sha256) {
            Ok(Some(component)) => return Ok((component, CacheOutcome::Hit)),
            Ok(None) => None,
            Err(reason) => Some(reason),
        };
        let bytes = component_bytes()?;
        let cwasm = precompile(engine, &bytes)?;
        self.store(component_sha256, &cwasm)?;
        // Deserialize what we just produced rather than compiling a second time.
        let component = unsafe { Component::deserialize(engine, &cwasm) }
            .map_err(|e| Error::internal(format!("failed to load a freshly compiled component: {e}")))?;
        let outcome = match rejected {
            Some(reason) => CacheOutcome::Recompiled(reason),
            None => CacheOutcome::Compiled,
        };
        Ok((component, outcome))
    }

    /// `Ok(None)` when there is no entry; `Err(reason)` when an entry exists but must not be
    /// used (it is deleted).
    fn load(&self, engine: &Engine, component_sha256: &str) -> std::result::Result<Option<Component>, String> {
        let Some(cwasm) = self.read_entry(component_sha256)? else {
            return Ok(None);
        };
        // SAFETY: the bytes were produced by `Engine::precompile_component` on this machine, with
        // an engine of the same compatibility hash (it is in the MAC'd name), and are unmodified.
        match unsafe { Component::deserialize(engine, &cwasm) } {
            Ok(component) => Ok(Some(component)),
            Err(e) => {
                let _ = fs::remove_file(self.entry_path(component_sha256));
                Err(format!("cache entry was rejected by the engine: {e}"))
            }
        }
    }

    /// The precompiled bytes of a valid entry, without the MAC; `Err(reason)` (and the entry
    /// deleted) when it fails the integrity check.
    fn read_entry(&self, component_sha256: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        let name = self.entry_name(component_sha256);
        let path = self.dir.join(&name);
        let mut file = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("unreadable cache entry: {e}")),
        };
        let reject = |reason: &str| {
            let _ = fs::remove_file(&path);
            Err(reason.to_string())
        };
        if file.len() < MAC_LEN {
            return reject("cache entry is truncated");
        }
        let (cwasm, mac) = file.split_at(file.len() - MAC_LEN);
        if !constant_time_eq(mac, &self.mac(&name, cwasm)) {
            return reject("cache entry failed its integrity check (truncated, modified or not made here)");
        }
        file.truncate(file.len() - MAC_LEN);
        Ok(Some(file))
    }

    /// The precompiled bytes for a component that is known to be in the cache (e.g. right
    /// after loading it), checked like any load.
    pub fn read_verified(&self, component_sha256: &str) -> Result<Vec<u8>> {
        match self.read_entry(component_sha256) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(Error::internal(format!("no cache entry for component {component_sha256}"))),
            Err(reason) => Err(Error::internal(reason)),
        }
    }

    /// Stores precompiled bytes, MAC appended, atomically.
    pub fn store(&self, component_sha256: &str, cwasm: &[u8]) -> Result<()> {
        let name = self.entry_name(component_sha256);
        let mac = self.mac(&name, cwasm);
        let mut file = Vec::with_capacity(cwasm.len() + MAC_LEN);
        file.extend_from_slice(cwasm);
        file.extend_from_slice(&mac);
        write_private(&self.dir.join(name), &file)
    }
}

/// AOT-compiles a component for `engine`.
pub fn precompile(engine: &Engine, component: &[u8]) -> Result<Vec<u8>> {
    engine
        .precompile_component(component)
        .map_err(|e| Error::contract(format!("failed to compile the component: {e:#}")))
}

/// A short, stable digest of `Engine::precompile_compatibility_hash` (wasmtime version, target,
/// compiler settings): any change gives a different cache entry name.
pub fn engine_hash(engine: &Engine) -> String {
    struct Sha(sha2::Sha256);
    impl Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = Sha(sha2::Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32]> {
    if let Ok(bytes) = fs::read(path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    // No key, or a damaged one: a new key simply invalidates every existing entry.
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::internal(format!("no randomness for the cache key: {e}")))?;
    write_private(path, &key)?;
    Ok(key)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
