//! Small filesystem primitives the store and the cache share: atomic writes, private
//! directories and the store lock.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use skill_manifest::error::{Error, Result};

/// Prefix of the temporary files [`write_atomic`] renames into place.
pub const TMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` so that readers see either the old file or the whole new one:
/// temp file in the same directory, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o644)
}

/// Like [`write_atomic`], for a file people own (a README, SKILL.md): a file that is there
/// keeps its permission bits (a private README stays private); a new one gets 0644.
pub fn rewrite_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    #[cfg(unix)]
    let mode = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
        }
        _ => 0o644,
    };
    #[cfg(not(unix))]
    let mode = 0o644;
    write_atomic_with_mode(path, bytes, mode)
}

/// Like [`write_atomic`], for files only the owner may read (keys, cached native code).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o600)
}

fn write_atomic_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX);
    // The mode is set when the temp file is created (umask applies), so the final file is
    // never visible with other permissions.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("sync", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Prefix of the staging directories [`create_dir_whole`] renames into place.
pub const STAGING_PREFIX: &str = ".staging-";

/// Creates the directory `dest` all at once: `fill` writes into a staging directory beside
/// it, which is then renamed into place, so nobody ever sees half of `dest`. Callers name
/// `dest` by a digest of what goes in it, so a `dest` that holds `complete` already has the
/// same content and is kept (another process won the race); one without it is debris of an
/// interrupted rename and is replaced. Returns whether this call created it.
///
/// (The pinned build tools cannot use this: a Python venv records its absolute path, so it
/// is built where it stays, under a lock, and marked complete last.)
pub fn create_dir_whole(
    dest: &Path,
    complete: &str,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<bool> {
    if dest.join(complete).exists() {
        return Ok(false);
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a staging directory in", parent, e))?;
    fill(staging.path())?;
    if dest.exists() && !dest.join(complete).exists() {
        fs::remove_dir_all(dest).map_err(|e| Error::io("remove", dest, e))?;
    }
    match fs::rename(staging.path(), dest) {
        Ok(()) => {
            let _ = staging.keep();
            sync_dir(parent);
            Ok(true)
        }
        Err(_) if dest.join(complete).exists() => Ok(false),
        Err(e) => Err(Error::io("move into place", dest, e)),
    }
}

/// Makes a rename durable. Best effort: some filesystems refuse to fsync a directory.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates `dir` (and parents) and makes it readable by the owner only. The AOT cache holds
/// native code, so nobody else may write there.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Already there and private: nothing to do (this runs on every `skill run`).
        if let Ok(meta) = fs::metadata(dir)
            && meta.is_dir()
            && meta.permissions().mode() & 0o777 == 0o700
        {
            return Ok(());
        }
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("set permissions on", dir, e))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    Ok(())
}

/// An advisory lock on a file, released on drop (or when the process dies, even by kill -9).
pub struct FileLock {
    _file: File,
}

impl FileLock {
    pub fn exclusive(path: &Path) -> Result<Self> {
        let file = open_lock_file(path)?;
        file.lock().map_err(|e| Error::io("lock", path, e))?;
        Ok(FileLock { _file: file })
    }

    pub fn shared(path: &Path) -> Result<Self> {
        let file = open_lock_file(path)?;
        file.lock_shared().map_err(|e| Error::io("lock", path, e))?;
        Ok(FileLock { _file: file })
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

/// Hex sha256 of `bytes`: the identity of a component everywhere (store, cache, manifest).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A 32-byte key kept in `path` (0600), created once with create-if-absent semantics: two
/// processes racing to create it end up with the same key. A damaged key is an error with
/// `damaged_hint`, never silently replaced (what it sealed would become unreadable).
pub fn load_or_create_key(path: &Path, damaged_hint: &str) -> Result<[u8; 32]> {
    match fs::read(path) {
        Ok(bytes) => {
            return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                Error::invalid(format!("the key {} is damaged", path.display()))
                    .with_hint(damaged_hint)
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", path, e)),
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| Error::internal(format!("no randomness for a key: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(&key)
        .map_err(|e| Error::io("write", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("sync", path, e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            sync_dir(dir);
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            load_or_create_key(path, damaged_hint)
        }
        Err(e) => Err(Error::io("create", path, e.error)),
    }
}

/// Compares without returning early, so timing does not reveal a matching prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `bytes` random bytes as lowercase hex (tokens).
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_directory_is_created_whole_or_not_at_all() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("v1-abc");
        // A failed fill leaves nothing behind, not even staging debris.
        let failed = super::create_dir_whole(&dest, "done", |dir| {
            std::fs::write(dir.join("half"), "x").unwrap();
            Err(skill_manifest::Error::internal("interrupted"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        // Debris of an interrupted rename (no `done`) is replaced.
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("stale"), "x").unwrap();
        let fill = |dir: &std::path::Path| super::write_atomic(&dir.join("done"), b"1");
        assert!(super::create_dir_whole(&dest, "done", fill).unwrap());
        assert!(!dest.join("stale").exists());
        // A complete one is kept as it is.
        assert!(!super::create_dir_whole(&dest, "done", |_| unreachable!()).unwrap());
    }

    #[test]
    fn a_rewritten_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("README.md");
        std::fs::write(&private, "old").unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
        super::rewrite_atomic(&private, b"new").unwrap();
        let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (std::fs::read_to_string(&private).unwrap(), mode),
            ("new".into(), 0o600)
        );
        let fresh = dir.path().join("SKILL.md");
        super::rewrite_atomic(&fresh, b"x").unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }
}
