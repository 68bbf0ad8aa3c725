//! The AOT cache: precompiled components (`.cwasm`) are native code, so they are only ever
//! loaded from here, only if this machine wrote them, and only for the engine that made them.
//!
//! An entry is `<component-sha256>-<engine-hash>.cwasm` (exactly what
//! `Engine::precompile_component` produced) plus a `.seal` beside it: a keyed BLAKE3 MAC over
//! the entry's name and the identity of the file we wrote — inode, size and ctime. Any write,
//! truncation, copy or rename changes the inode or the ctime (which no one can set by hand),
//! so the seal no longer matches and the entry is recompiled from the component, never
//! deserialized. The key is random per `$SKILL_HOME`, 0600, in a 0700 directory.
//!
//! Sealing the file's identity instead of hashing its bytes keeps loading at one `fstat` plus
//! an `mmap` (wasmtime maps the file; nothing is copied), whatever the size: a JS skill's
//! `.cwasm` is tens of MB.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::Digest;
use wasmtime::Engine;
use wasmtime::component::Component;

use skill_manifest::error::{Error, Result};
use skill_store::fsutil::constant_time_eq;
use skill_store::fsutil::{create_private_dir, write_private};

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
        Ok(AotCache {
            dir: dir.to_path_buf(),
            key,
            engine_hash: engine_hash(engine),
        })
    }

    /// Entries this engine can load, and those made by another engine (another wasmtime
    /// version, CPU or settings: never loaded, recompiled on use) with their total size.
    pub fn census(&self) -> (usize, usize, u64) {
        let (mut current, mut stale, mut stale_bytes) = (0, 0, 0);
        let suffix = format!("-{}.cwasm", self.engine_hash);
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".cwasm") {
                continue;
            }
            if name.ends_with(&suffix) {
                current += 1;
            } else {
                stale += 1;
                stale_bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
        (current, stale, stale_bytes)
    }

    /// Deletes the entries (and seals) no engine of this build can load.
    pub fn remove_stale(&self) -> usize {
        let keep = format!("-{}.cwasm", self.engine_hash);
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale_entry = name.ends_with(".cwasm") && !name.ends_with(&keep);
            let stale_seal =
                name.ends_with(".cwasm.seal") && !name.ends_with(&format!("{keep}.seal"));
            if (stale_entry || stale_seal) && std::fs::remove_file(entry.path()).is_ok() {
                removed += stale_entry as usize;
            }
        }
        removed
    }

    pub fn entry_path(&self, component_sha256: &str) -> PathBuf {
        self.dir.join(self.entry_name(component_sha256))
    }

    fn entry_name(&self, component_sha256: &str) -> String {
        format!("{component_sha256}-{}.cwasm", self.engine_hash)
    }

    fn seal_path(&self, component_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{}.seal", self.entry_name(component_sha256)))
    }

    /// The seal of an entry file: a MAC over its name and the identity of the inode.
    fn seal(&self, name: &str, meta: &fs::Metadata) -> String {
        let identity = file_identity(meta);
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(name.as_bytes());
        hasher.update(&[0]);
        hasher.update(identity.as_bytes());
        format!("{identity} {}\n", hasher.finalize().to_hex())
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
        // SAFETY: produced by this engine a moment ago, in memory.
        let component = unsafe { Component::deserialize(engine, &cwasm) }.map_err(|e| {
            Error::internal(format!("failed to load a freshly compiled component: {e}"))
        })?;
        let outcome = match rejected {
            Some(reason) => CacheOutcome::Recompiled(reason),
            None => CacheOutcome::Compiled,
        };
        Ok((component, outcome))
    }

    /// `Ok(None)` when there is no entry; `Err(reason)` when an entry exists but must not be
    /// used (it is deleted).
    fn load(
        &self,
        engine: &Engine,
        component_sha256: &str,
    ) -> std::result::Result<Option<Component>, String> {
        let Some(file) = self.open_sealed(component_sha256)? else {
            return Ok(None);
        };
        // SAFETY: the file is the one this cache wrote with `Engine::precompile_component` for
        // an engine of the same compatibility hash (it is in the sealed name), unmodified since
        // (its seal matches). Mapping it through the descriptor we checked leaves no window
        // to swap the path.
        match unsafe {
            Component::deserialize_file(
                engine,
                open_file_path(&file, &self.entry_path(component_sha256)),
            )
        } {
            Ok(component) => Ok(Some(component)),
            Err(e) => {
                self.discard(component_sha256);
                Err(format!("cache entry was rejected by the engine: {e}"))
            }
        }
    }

    /// Opens an entry and checks its seal. `Err(reason)` (entry deleted) when it fails.
    fn open_sealed(&self, component_sha256: &str) -> std::result::Result<Option<fs::File>, String> {
        let name = self.entry_name(component_sha256);
        let file = match fs::File::open(self.dir.join(&name)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("unreadable cache entry: {e}")),
        };
        let meta = file
            .metadata()
            .map_err(|e| format!("unreadable cache entry: {e}"))?;
        let seal = fs::read_to_string(self.seal_path(component_sha256)).unwrap_or_default();
        if !constant_time_eq(seal.as_bytes(), self.seal(&name, &meta).as_bytes()) {
            self.discard(component_sha256);
            return Err(
                "cache entry failed its integrity check (modified, truncated or not made here)"
                    .into(),
            );
        }
        Ok(Some(file))
    }

    fn discard(&self, component_sha256: &str) {
        let _ = fs::remove_file(self.entry_path(component_sha256));
        let _ = fs::remove_file(self.seal_path(component_sha256));
    }

    /// The precompiled bytes for a component that is known to be in the cache (e.g. right
    /// after loading it), checked like any load.
    pub fn read_verified(&self, component_sha256: &str) -> Result<Vec<u8>> {
        use std::io::Read;
        let mut file = match self.open_sealed(component_sha256) {
            Ok(Some(file)) => file,
            Ok(None) => {
                return Err(Error::internal(format!(
                    "no cache entry for component {component_sha256}"
                )));
            }
            Err(reason) => return Err(Error::internal(reason)),
        };
        let mut bytes = Vec::new();
        let path = self.entry_path(component_sha256);
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", &path, e))?;
        Ok(bytes)
    }

    /// Stores precompiled bytes atomically, then seals the file that landed.
    pub fn store(&self, component_sha256: &str, cwasm: &[u8]) -> Result<()> {
        let name = self.entry_name(component_sha256);
        let path = self.dir.join(&name);
        write_private(&path, cwasm)?;
        let meta = fs::metadata(&path).map_err(|e| Error::io("read", &path, e))?;
        write_private(
            &self.seal_path(component_sha256),
            self.seal(&name, &meta).as_bytes(),
        )
    }
}

/// Inode, size and change time: what changes whenever the file's content or name changes.
#[cfg(unix)]
fn file_identity(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{}:{} {} {}.{:09}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

#[cfg(not(unix))]
fn file_identity(meta: &fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    format!("{} {}", meta.len(), modified.as_nanos())
}

/// A path that names exactly the open file (Linux: its descriptor), else the original path.
fn open_file_path(file: &fs::File, path: &Path) -> PathBuf {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if by_fd.exists() {
            return by_fd;
        }
    }
    let _ = file;
    path.to_path_buf()
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
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for the cache key: {e}")))?;
    write_private(path, &key)?;
    Ok(key)
}
