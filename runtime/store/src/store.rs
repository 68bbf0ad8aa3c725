//! The installed-skill store under `$SKILL_HOME/skills`.
//!
//! Each installed version lives in an immutable directory `<name>/<version>-<digest12>/`
//! (component.wasm, skill.yaml, manifest.json), written in a staging directory and renamed
//! into place; `<name>/current` names the active one and is replaced atomically. All writes
//! hold an exclusive lock on `$SKILL_HOME/.lock`, reads a shared one. A crash at any point
//! leaves either the old skill or the new one, never a mix; leftovers are swept on the next
//! write.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fsutil::{
    FileLock, STAGING_PREFIX, TMP_PREFIX, create_dir_whole, sha256_hex, sync_dir, write_atomic,
};
use crate::home::SkillHome;
use skill_manifest::error::{Error, ErrorKind, Remedy, Result, list_or_none, suggestion};
use skill_manifest::manifest::{MANIFEST_JSON, PackageManifest, SKILL_YAML, validate_skill_name};

pub const COMPONENT_WASM: &str = "component.wasm";
/// A keyed MAC over what install wrote (see [`Store::seal`]).
const SEAL: &str = "seal";
/// Where an installed version came from (see [`Origin`]).
const ORIGIN_JSON: &str = "origin.json";
/// Sealed with the rest when the package had one (versions without it keep their seal).
const SKILL_MD: &str = skill_manifest::skill_md::SKILL_MD;
const CURRENT: &str = "current";
/// The version `current` named before the last install or rollback (kept for `rollback`).
const PREVIOUS: &str = "previous";
const REMOVED_PREFIX: &str = ".removed-";

/// Where an installed version came from: recorded at install, sealed with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// `oci://REGISTRY/PATH@sha256:…` (exactly what was installed), a git source pinned to
    /// its commit (`URL[//SUBDIR]#COMMIT`), or a local path.
    pub source: String,
    /// What the user asked for (`hello@^1.2`, `oci://…:1.2.0`, a path).
    pub requested: String,
    /// The image manifest digest, for registry installs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The commit built, for git installs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InstalledSkill {
    pub manifest: PackageManifest,
    /// Where this version came from (absent for versions installed before it was recorded).
    pub origin: Option<Origin>,
    /// The installed skill.yaml, as checked against the seal (read it from here, not the disk).
    pub skill_yaml: String,
    /// The installed SKILL.md, checked against the seal, when the package had one.
    pub skill_md: Option<String>,
    /// The version directory holding component.wasm, skill.yaml and manifest.json.
    pub dir: PathBuf,
}

impl InstalledSkill {
    pub fn component_path(&self) -> PathBuf {
        self.dir.join(COMPONENT_WASM)
    }
}

pub struct InstallOutcome {
    pub skill: InstalledSkill,
    /// The version that was active before, if the skill was already installed.
    pub previous: Option<String>,
}

pub struct Store {
    home: SkillHome,
}

impl Store {
    pub fn new(home: SkillHome) -> Self {
        Store { home }
    }

    fn skill_dir(&self, name: &str) -> PathBuf {
        self.home.skills_dir().join(name)
    }

    /// Stores a checked package (its manifest, the component, `skill.yaml` verbatim) as the
    /// skill's current version.
    pub fn install(
        &self,
        manifest: &PackageManifest,
        component: &[u8],
        skill_yaml_text: &str,
        skill_md: Option<&str>,
        origin: Option<&Origin>,
    ) -> Result<InstallOutcome> {
        validate_skill_name(&manifest.name)?;
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let skill_dir = self.skill_dir(&manifest.name);
        fs::create_dir_all(&skill_dir).map_err(|e| Error::io("create directory", &skill_dir, e))?;
        sweep(&skill_dir, STAGING_PREFIX);

        // The directory name covers everything stored in it, so it is never rewritten in place.
        let manifest_json = manifest.to_json();
        let content_digest = sha256_hex(
            &[
                manifest_json.as_slice(),
                skill_yaml_text.as_bytes(),
                skill_md
                    .map(|md| [b"\0SKILL.md\0", md.as_bytes()].concat())
                    .unwrap_or_default()
                    .as_slice(),
            ]
            .concat(),
        );
        let version_dir_name = format!("{}-{}", manifest.version, &content_digest[..12]);
        let version_dir = skill_dir.join(&version_dir_name);
        let origin_json = origin.map(|o| serde_json::to_vec_pretty(o).expect("origin serializes"));
        let seal = self.seal(
            &manifest.name,
            &version_dir_name,
            &manifest_json,
            skill_yaml_text.as_bytes(),
            origin_json.as_deref(),
            skill_md.map(str::as_bytes),
        )?;
        let mut files: Vec<(&str, &[u8])> = vec![
            (COMPONENT_WASM, component),
            (SKILL_YAML, skill_yaml_text.as_bytes()),
            (SEAL, seal.as_bytes()),
        ];
        if let Some(json) = &origin_json {
            files.push((ORIGIN_JSON, json));
        }
        if let Some(md) = skill_md {
            files.push((SKILL_MD, md.as_bytes()));
        }
        // Last: its presence marks the directory complete.
        files.push((MANIFEST_JSON, &manifest_json));
        // The same version installed again over files changed behind the store's back (what
        // a failed seal check tells the user to do): kept, they would stay changed.
        if version_dir.join(MANIFEST_JSON).exists() && !holds_exactly(&version_dir, &files) {
            fs::remove_dir_all(&version_dir).map_err(|e| Error::io("remove", &version_dir, e))?;
        }
        create_dir_whole(&version_dir, MANIFEST_JSON, |staging| {
            for (name, bytes) in &files {
                write_atomic(&staging.join(name), bytes)?;
            }
            Ok(())
        })?;

        let previous_dir = read_current(&skill_dir);
        let previous = previous_dir
            .as_ref()
            .and_then(|d| PackageManifest::read(&skill_dir.join(d).join(MANIFEST_JSON)).ok())
            .map(|m| m.version);
        write_atomic(&skill_dir.join(CURRENT), version_dir_name.as_bytes())?;
        // The version replaced stays for `skill rollback`; older ones go (`skill prune` takes
        // the previous one too).
        let keep = match previous_dir.filter(|d| *d != version_dir_name) {
            Some(previous) => {
                write_atomic(&skill_dir.join(PREVIOUS), previous.as_bytes())?;
                Some(previous)
            }
            None => read_named(&skill_dir, PREVIOUS),
        };
        for entry in fs::read_dir(&skill_dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let kept = name == version_dir_name.as_str() || keep.as_deref() == Some(&*name);
            if !kept && entry.path().is_dir() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let skill = InstalledSkill {
            manifest: manifest.clone(),
            origin: origin.cloned(),
            skill_yaml: skill_yaml_text.to_string(),
            skill_md: skill_md.map(str::to_string),
            dir: version_dir,
        };
        Ok(InstallOutcome { skill, previous })
    }

    /// Installed skills, sorted by name.
    pub fn list(&self) -> Result<Vec<InstalledSkill>> {
        let skills_dir = self.home.skills_dir();
        if !skills_dir.exists() {
            return Ok(Vec::new());
        }
        let _lock = FileLock::shared(&self.home.lock_file())?;
        let mut names: Vec<String> = fs::read_dir(&skills_dir)
            .map_err(|e| Error::io("read", &skills_dir, e))?
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        let mut skills = Vec::with_capacity(names.len());
        for name in names {
            if let Some(skill) = self.read_skill(&name)? {
                skills.push(skill);
            }
        }
        Ok(skills)
    }

    /// Each installed skill's name and the name of its current version directory, which
    /// changes whenever what is installed changes: cheap to read (one small file a skill), for
    /// caches that follow the store. Nothing is verified here; read a skill with `get`.
    pub fn current_versions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = fs::read_dir(self.home.skills_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let current = read_current(&e.path())?;
                (!name.starts_with('.')).then_some((name, current))
            })
            .collect();
        out.sort();
        out
    }

    /// One installed skill; the error lists what is installed.
    pub fn get(&self, name: &str) -> Result<InstalledSkill> {
        let found = if skill_manifest::manifest::is_legacy_name(name) {
            // Version directories are immutable and `current` is replaced atomically, so a
            // read needs no lock unless a concurrent install removed what it just resolved;
            // then it is read again under the shared lock. (This is on every `skill run`.)
            match self.read_skill(name) {
                Ok(found) => found,
                Err(_) => {
                    let _lock = FileLock::shared(&self.home.lock_file())?;
                    self.read_skill(name)?
                }
            }
        } else {
            None
        };
        match found {
            Some(skill) => Ok(skill),
            None => Err(self.not_installed(name)),
        }
    }

    fn not_installed(&self, name: &str) -> Error {
        let installed: Vec<String> = self
            .list()
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.manifest.name)
            .collect();
        let err = Error::not_found(format!("skill `{name}` is not installed"));
        if installed.is_empty() {
            return err
                .with_hint("no skills are installed")
                .with_remedy(Remedy::Install);
        }
        let suggest = suggestion(name, installed.iter().map(String::as_str));
        err.with_hint(format!(
            "{suggest}installed skills: {}",
            list_or_none(&installed)
        ))
    }

    fn read_skill(&self, name: &str) -> Result<Option<InstalledSkill>> {
        let skill_dir = self.skill_dir(name);
        let Some(current) = read_current(&skill_dir) else {
            return Ok(None);
        };
        let dir = skill_dir.join(&current);
        let read = |file: &str| {
            let path = dir.join(file);
            read_limited(&path, MAX_STORED_FILE)
        };
        let manifest_json = read(MANIFEST_JSON)?;
        let skill_yaml = read(SKILL_YAML)?;
        let seal = read(SEAL).unwrap_or_default();
        let optional = |file: &str| match read(file) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let origin_json = optional(ORIGIN_JSON)?;
        let skill_md = optional(SKILL_MD)?;
        let expected = self.seal(
            name,
            &current,
            &manifest_json,
            &skill_yaml,
            origin_json.as_deref(),
            skill_md.as_deref(),
        )?;
        if !crate::fsutil::constant_time_eq(expected.as_bytes(), seal.trim_ascii()) {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "the installed files of `{name}` changed since it was installed ({})",
                    dir.display()
                ),
            )
            .with_hint("something other than an install wrote into the store")
            .with_remedy(Remedy::Reinstall {
                skill: name.to_string(),
            }));
        }
        let manifest = PackageManifest::parse(&manifest_json, &dir.join(MANIFEST_JSON))?;
        let skill_yaml = String::from_utf8(skill_yaml).map_err(|_| {
            Error::invalid(format!("{} is not UTF-8", dir.join(SKILL_YAML).display()))
        })?;
        let origin = origin_json.and_then(|json| serde_json::from_slice(&json).ok());
        let skill_md = skill_md.map(|md| String::from_utf8_lossy(&md).into_owned());
        Ok(Some(InstalledSkill {
            manifest,
            origin,
            skill_yaml,
            skill_md,
            dir,
        }))
    }

    /// A keyed BLAKE3 MAC (this home's store key) over the skill's name, its version
    /// directory and the manifest and skill.yaml written there. Install writes it; every read
    /// checks it, so a file put into the store by anything else (a build pointed at it, a
    /// hand edit) is refused rather than trusted. The component is covered through its
    /// digest, which is in the manifest and checked whenever the component is read. The
    /// origin, when recorded, is covered too (versions installed before it was recorded
    /// have none, and keep their seal).
    fn seal(
        &self,
        name: &str,
        dir: &str,
        manifest: &[u8],
        skill_yaml: &[u8],
        origin: Option<&[u8]>,
        skill_md: Option<&[u8]>,
    ) -> Result<String> {
        let key = crate::fsutil::load_or_create_key(
            &self.home.store_key_file(),
            "without it installed skills cannot be verified: restore it from a backup, or delete it and reinstall every skill",
        )?;
        let mut mac = blake3::Hasher::new_keyed(&key);
        let skill_md = skill_md.map(|md| [SKILL_MD.as_bytes(), md]);
        for part in [name.as_bytes(), dir.as_bytes(), manifest, skill_yaml]
            .into_iter()
            .chain(origin)
            .chain(skill_md.into_iter().flatten())
        {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        Ok(mac.finalize().to_hex().to_string())
    }

    /// Makes the version installed before the current one current again (and the current one
    /// the one to roll back to). Returns (from, to) versions.
    pub fn rollback(&self, name: &str) -> Result<(String, String)> {
        let current = self.get(name)?;
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let skill_dir = self.skill_dir(name);
        let none = || {
            Error::not_found(format!("`{name}` has no earlier version to roll back to"))
                .with_hint("only the version replaced by the last install or update is kept (and `skill prune` removes it)")
        };
        let previous = read_named(&skill_dir, PREVIOUS).ok_or_else(none)?;
        let current_dir = read_current(&skill_dir).ok_or_else(none)?;
        if previous == current_dir || !skill_dir.join(&previous).join(MANIFEST_JSON).is_file() {
            return Err(none());
        }
        write_atomic(&skill_dir.join(CURRENT), previous.as_bytes())?;
        write_atomic(&skill_dir.join(PREVIOUS), current_dir.as_bytes())?;
        drop(_lock);
        // Read back through the seal: a damaged earlier version is not made current silently.
        let now = match self.get(name) {
            Ok(now) => now,
            Err(e) => {
                let _lock = FileLock::exclusive(&self.home.lock_file())?;
                write_atomic(&skill_dir.join(CURRENT), current_dir.as_bytes())?;
                write_atomic(&skill_dir.join(PREVIOUS), previous.as_bytes())?;
                return Err(e);
            }
        };
        Ok((current.manifest.version, now.manifest.version))
    }

    /// Version directories no one runs (everything but `current`), with their sizes; removed
    /// unless `dry_run`.
    pub fn prune(&self, dry_run: bool) -> Result<Vec<(PathBuf, u64)>> {
        let skills_dir = self.home.skills_dir();
        if !skills_dir.exists() {
            return Ok(Vec::new());
        }
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let mut freed = Vec::new();
        let mut skills: Vec<PathBuf> = fs::read_dir(&skills_dir)
            .map_err(|e| Error::io("read", &skills_dir, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        skills.sort();
        for skill_dir in skills {
            let Some(current) = read_current(&skill_dir) else {
                continue;
            };
            for entry in fs::read_dir(&skill_dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_name().to_string_lossy() == current || !path.is_dir() {
                    continue;
                }
                freed.push((path.clone(), dir_size(&path)));
                if !dry_run {
                    fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
                }
            }
            if !dry_run {
                let _ = fs::remove_file(skill_dir.join(PREVIOUS));
            }
        }
        Ok(freed)
    }

    /// AOT cache entries (`cache/aot/<component-sha256>-<engine>.cwasm[.seal]`, written by the
    /// engine) for components no installed version has, with their sizes; removed unless
    /// `dry_run`. Run after [`Store::prune`].
    pub fn prune_aot_cache(&self, dry_run: bool) -> Result<Vec<(PathBuf, u64)>> {
        let dir = self.home.aot_cache_dir();
        let mut kept: Vec<String> = Vec::new();
        let skills_dir = self.home.skills_dir();
        for skill in fs::read_dir(&skills_dir).into_iter().flatten().flatten() {
            for version in fs::read_dir(skill.path()).into_iter().flatten().flatten() {
                if let Ok(m) = PackageManifest::read(&version.path().join(MANIFEST_JSON)) {
                    kept.push(m.component.sha256);
                }
            }
        }
        let mut freed = Vec::new();
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((sha256, _)) = name.split_once('-') else {
                continue;
            };
            let cached = name.ends_with(".cwasm") || name.ends_with(".cwasm.seal");
            if !cached || sha256.len() != 64 || kept.iter().any(|k| k == sha256) {
                continue;
            }
            let path = entry.path();
            freed.push((path.clone(), entry.metadata().map_or(0, |m| m.len())));
            if !dry_run {
                fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            }
        }
        Ok(freed)
    }

    /// Removes a skill entirely, its instances with it. The directory is renamed away first,
    /// so readers never see it half-deleted.
    pub fn remove(&self, name: &str) -> Result<InstalledSkill> {
        let skill = self.get(name)?;
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let skills_dir = self.home.skills_dir();
        let skill_dir = self.skill_dir(name);
        let trash = skills_dir.join(format!("{REMOVED_PREFIX}{name}-{}", std::process::id()));
        fs::rename(&skill_dir, &trash).map_err(|e| Error::io("remove", &skill_dir, e))?;
        sync_dir(&skills_dir);
        sweep(&skills_dir, REMOVED_PREFIX);
        crate::instance::Instances::new(self.home.clone()).remove_all(name);
        Ok(skill)
    }
}

/// Bytes in the regular files under `dir` (symlinks are not followed).
pub fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Largest manifest.json or skill.yaml the store reads (install refuses larger ones first).
const MAX_STORED_FILE: u64 = 4 << 20;

/// Whether `dir` holds exactly these files with exactly these contents (nothing else is
/// compared: the store writes only these).
fn holds_exactly(dir: &Path, files: &[(&str, &[u8])]) -> bool {
    files
        .iter()
        .all(|(name, bytes)| fs::read(dir.join(name)).is_ok_and(|on_disk| on_disk == *bytes))
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::invalid(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

fn read_current(skill_dir: &Path) -> Option<String> {
    read_named(skill_dir, CURRENT)
}

/// A version directory name stored in `file` (`current`, `previous`), if it is a plain name.
fn read_named(skill_dir: &Path, file: &str) -> Option<String> {
    let text = fs::read_to_string(skill_dir.join(file)).ok()?;
    let name = text.trim();
    (!name.is_empty() && !name.contains(['/', '\\']) && name != "..").then(|| name.to_string())
}

/// Deletes leftovers of interrupted writes (entries named `prefix*`, and the `.tmp-*` files
/// of an interrupted atomic write) in `dir`. Only called under the exclusive lock. Best effort.
fn sweep(dir: &Path, prefix: &str) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) || name.starts_with(TMP_PREFIX) {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}
