//! Filesystem grants are directories the user approved, not path strings.
//!
//! At approval a requested path is resolved to the real directory (symlinks followed once,
//! by the user's own `canonicalize`), checked against what must never be granted, and pinned
//! by device and inode. At call time it is opened again one component at a time without
//! following any symlink, and the directory reached must be the pinned one; otherwise the
//! grant stays closed and the caller says why. A skill that swaps a granted directory for a
//! symlink between two calls (or anyone else who does) gets nothing.
//!
//! Never granted: anything inside `$SKILL_HOME` (secrets, the store, every instance's data),
//! anything containing it, anything inside the private build tools, and a directory nested in
//! another writable grant of the same instance (the outer grant could replace it).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::home::SkillHome;
use skill_manifest::capabilities::{Access, Capabilities, HostPattern, PathGrant, expand_home};
use skill_manifest::error::{Error, Result};

/// A directory as it was when the user approved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedDir {
    /// As the skill asked for it (`~/notes`); the guest sees its expansion.
    pub requested: String,
    /// The real directory at approval, symlinks resolved.
    pub canonical: PathBuf,
    pub device: u64,
    pub inode: u64,
    pub access: Access,
}

impl ApprovedDir {
    /// The path the guest sees this directory at.
    pub fn guest_path(&self) -> String {
        expand_home(&self.requested)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| self.canonical.to_string_lossy().into_owned())
    }
}

/// What approving one requested path gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    Bound(ApprovedDir),
    /// The directory does not exist (yet): nothing is granted until it does and the user
    /// approves it again.
    Missing {
        requested: String,
        path: PathBuf,
        access: Access,
    },
}

impl Binding {
    pub fn requested(&self) -> &str {
        match self {
            Binding::Bound(d) => &d.requested,
            Binding::Missing { requested, .. } => requested,
        }
    }

    /// One line for a review or a listing: the real directory, as approved.
    pub fn describe(&self) -> String {
        let verb = |access: Access| skill_manifest::capabilities::capitalize(&access.to_string());
        let asked = |requested: &str, real: &Path| {
            let expanded = expand_home(requested).unwrap_or_else(|_| PathBuf::from(requested));
            if expanded == real {
                String::new()
            } else {
                format!(
                    " (asked for {})",
                    skill_manifest::text::escape(requested, false)
                )
            }
        };
        match self {
            Binding::Bound(d) => format!(
                "{} files in {}{}",
                verb(d.access),
                skill_manifest::text::escape(&d.canonical.to_string_lossy(), false),
                asked(&d.requested, &d.canonical)
            ),
            Binding::Missing {
                requested,
                path,
                access,
            } => format!(
                "{} files in {}{} (it does not exist yet, and stays closed until it does and is granted again)",
                verb(*access),
                skill_manifest::text::escape(&path.to_string_lossy(), false),
                asked(requested, path)
            ),
        }
    }
}

impl ApprovedDir {
    /// Its line in a listing.
    pub fn describe(&self) -> String {
        Binding::Bound(self.clone()).describe()
    }
}

/// Kernel interfaces mounted as directories: `/proc/self/mem` is the host process's memory,
/// `/proc/self/environ` its environment (secrets included), `/dev` its devices.
const SYSTEM_DIRS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Where grants must never reach: the skill home (and the build tools, when kept elsewhere).
pub struct Forbidden {
    home: PathBuf,
    tools: Option<PathBuf>,
}

impl Forbidden {
    pub fn of(home: &SkillHome) -> Self {
        let real = |p: &Path| resolve_existing_prefix(p).unwrap_or_else(|_| p.to_path_buf());
        Forbidden {
            home: real(home.root()),
            tools: Some(real(&home.tools_dir())),
        }
    }

    fn check(&self, real: &Path, shown: &str) -> Result<()> {
        for system in SYSTEM_DIRS {
            if real.starts_with(system) {
                return Err(Error::denied(format!(
                    "`{shown}` is in {system}, which is the running system itself (processes, their memory and environment, devices), not files"
                ))
                .with_hint("grant a directory of files"));
            }
        }
        let home = &self.home;
        if real.starts_with(home) {
            return Err(Error::denied(format!(
                "`{shown}` is inside the skill home ({}), where secrets, installed skills and every instance's data live",
                home.display()
            ))
            .with_hint("grant a directory outside it; the skill's own /data is already its to use"));
        }
        if home.starts_with(real) {
            return Err(Error::denied(format!(
                "`{shown}` ({}) contains the skill home ({}): granting it would expose every stored secret",
                real.display(),
                home.display()
            ))
            .with_hint("grant a narrower directory, or move the skill home elsewhere with SKILL_HOME"));
        }
        if let Some(tools) = &self.tools
            && (real.starts_with(tools) || tools.starts_with(real))
        {
            return Err(Error::denied(format!(
                "`{shown}` overlaps the private build tools ({}), which `skill build` runs",
                tools.display()
            ))
            .with_hint("grant a directory outside it"));
        }
        Ok(())
    }
}

/// Resolves, checks and pins each requested directory. `existing` are the instance's other
/// approved directories (kept alongside), for the nesting rule.
pub fn approve(
    home: &SkillHome,
    requested: &[PathGrant],
    existing: &[ApprovedDir],
) -> Result<Vec<Binding>> {
    let forbidden = Forbidden::of(home);
    let mut bindings = Vec::with_capacity(requested.len());
    for grant in requested {
        let expanded = expand_home(&grant.path)?;
        if !expanded.is_absolute() || expanded.components().any(|c| c == Component::ParentDir) {
            return Err(Error::invalid(format!(
                "filesystem path `{}` is not an absolute path without `..`",
                grant.path
            ))
            .with_hint("write an absolute path or one starting with `~/`"));
        }
        let real = resolve_existing_prefix(&expanded)?;
        if real == Path::new("/") {
            return Err(
                Error::denied(format!("`{}` is the whole filesystem", grant.path))
                    .with_hint("grant the directories the skill needs"),
            );
        }
        forbidden.check(&real, &grant.path)?;
        let binding = match std::fs::metadata(&real) {
            Ok(meta) if meta.is_dir() => {
                if let Some(kind) = kernel_filesystem(&real) {
                    return Err(Error::denied(format!(
                        "`{}` is a {kind} mount: the running system itself, not files",
                        grant.path
                    ))
                    .with_hint("grant a directory of files"));
                }
                use std::os::unix::fs::MetadataExt;
                Binding::Bound(ApprovedDir {
                    requested: grant.path.clone(),
                    canonical: real,
                    device: meta.dev(),
                    inode: meta.ino(),
                    access: grant.access,
                })
            }
            Ok(_) => {
                return Err(
                    Error::invalid(format!("`{}` is not a directory", grant.path))
                        .with_hint("grant the directory that holds it"),
                );
            }
            Err(_) => Binding::Missing {
                requested: grant.path.clone(),
                path: real,
                access: grant.access,
            },
        };
        bindings.push(binding);
    }
    // Nesting is checked on the real directories and on the paths as written: a path under
    // a writable grant can be re-pointed by the skill however it resolves today.
    let lexical = |requested: &str| expand_home(requested).unwrap_or_else(|_| requested.into());
    let all: Vec<(PathBuf, Access, String)> = bindings
        .iter()
        .map(|b| match b {
            Binding::Bound(d) => (d.canonical.clone(), d.access, d.requested.clone()),
            Binding::Missing {
                requested,
                path,
                access,
            } => (path.clone(), *access, requested.clone()),
        })
        .chain(
            existing
                .iter()
                .filter(|d| !bindings.iter().any(|b| b.requested() == d.requested))
                .map(|d| (d.canonical.clone(), d.access, d.requested.clone())),
        )
        .collect();
    check_nesting(&all)?;
    let as_written: Vec<(PathBuf, Access, String)> = all
        .iter()
        .map(|(_, access, shown)| (lexical(shown), *access, shown.clone()))
        .collect();
    check_nesting(&as_written)?;
    Ok(bindings)
}

/// A directory nested in a writable one of the same instance could be swapped by the skill
/// through the outer grant: refused (the outer grant already covers it anyway).
fn check_nesting(dirs: &[(PathBuf, Access, String)]) -> Result<()> {
    for (inner, _, inner_shown) in dirs {
        for (outer, access, outer_shown) in dirs {
            if inner != outer && inner.starts_with(outer) && *access == Access::ReadWrite {
                return Err(Error::invalid(format!(
                    "`{inner_shown}` is inside the writable grant `{outer_shown}`"
                ))
                .with_hint("the writable grant already covers it; revoke one of the two"));
            }
        }
    }
    Ok(())
}

/// `path` with symlinks resolved as far as it exists, and the rest appended: where a missing
/// directory would be if it were created now.
pub fn resolve_existing_prefix(path: &Path) -> Result<PathBuf> {
    let mut missing = Vec::new();
    let mut probe = path.to_path_buf();
    loop {
        match probe.canonicalize() {
            Ok(real) => {
                let mut real = real;
                for part in missing.iter().rev() {
                    real.push(part);
                }
                return Ok(real);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(name) = probe.file_name().map(|n| n.to_os_string()) else {
                    return Err(Error::io("resolve", path, e));
                };
                missing.push(name);
                if !probe.pop() {
                    return Err(Error::io("resolve", path, e));
                }
            }
            Err(e) => return Err(Error::io("resolve", path, e)),
        }
    }
}

/// Why an approved directory is not opened for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub path: PathBuf,
    pub why: String,
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is no longer the directory that was approved ({})",
            self.path.display(),
            self.why
        )
    }
}

/// Opens an approved directory for a call: from `/`, one component at a time, never
/// following a symlink, and only if it is still the same directory (device and inode).
pub fn open_approved(dir: &ApprovedDir) -> std::result::Result<OwnedFd, Closed> {
    let closed = |why: &str| Closed {
        path: dir.canonical.clone(),
        why: why.to_string(),
    };
    let fd = open_no_follow(&dir.canonical).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => closed("a symlink is on its path now"),
        Some(libc::ENOENT) => closed("it was removed"),
        _ => closed(&e.to_string()),
    })?;
    let (device, inode) = identity(&fd).map_err(|e| closed(&e.to_string()))?;
    if (device, inode) != (dir.device, dir.inode) {
        return Err(closed("another directory has taken its place"));
    }
    if let Some(kind) = kernel_filesystem(&fd_path(&fd)) {
        return Err(closed(&format!("it is a {kind} mount now")));
    }
    Ok(fd)
}

/// The kind of kernel interface mounted at `path` (procfs, sysfs...), if it is one: such a
/// mount anywhere exposes processes and devices, not files.
fn kernel_filesystem(path: &Path) -> Option<&'static str> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: `stat` is plain data; statfs fills it for a valid path.
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(c.as_ptr(), &mut stat) } != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)]
        let kind = match stat.f_type as i64 {
            0x9fa0 => "procfs",
            0x6265_6572 => "sysfs",
            0x1cd1 => "devpts",
            0x6462_6720 => "debugfs",
            0x7363_6673 => "securityfs",
            0x7472_6163 => "tracefs",
            0x27e0eb | 0x6367_7270 => "cgroup",
            0xcafe_4a11 => "bpf",
            _ => return None,
        };
        Some(kind)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// A directory handle for `path`, every component opened with `O_NOFOLLOW`.
pub fn open_no_follow(path: &Path) -> std::io::Result<OwnedFd> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let mut current = open_at(libc::AT_FDCWD, c"/")?;
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => {
                let name = CString::new(name.as_bytes())
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
                current = open_at(current.as_raw_fd(), &name)?;
            }
            _ => return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput)),
        }
    }
    Ok(current)
}

/// A directory handle for `path`, whose last component must not be a symlink (the parents
/// are the user's own: `$SKILL_HOME` may well live behind one).
pub fn open_dir_no_follow_last(path: &Path) -> std::io::Result<OwnedFd> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    open_at(libc::AT_FDCWD, &c)
}

fn open_at(dir: libc::c_int, name: &std::ffi::CStr) -> std::io::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    #[cfg(not(target_os = "linux"))]
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `name` is a valid C string; the returned descriptor is owned by the caller.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn identity(fd: &OwnedFd) -> std::io::Result<(u64, u64)> {
    // SAFETY: `stat` is plain data; fstat fills it for a valid descriptor.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((stat.st_dev as u64, stat.st_ino as u64))
}

/// The path under which the host opens a descriptor again (the same directory object, not
/// whatever the original path names now).
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    #[cfg(target_os = "linux")]
    return PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    #[cfg(not(target_os = "linux"))]
    return PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd()));
}

/// What one call may reach beyond its own memory. The default grants nothing at all.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    pub preopens: Vec<Preopen>,
    /// Environment variables the guest sees.
    pub env: Vec<(String, String)>,
    /// Hosts outgoing wasi:http requests may go to.
    pub network: Vec<HostPattern>,
    /// `skill@instance` the sandbox belongs to (empty for a call outside any instance), for
    /// remedies that name it.
    pub instance: String,
    /// Approved directories left closed, each with the reason (replaced, now a symlink...).
    pub closed: Vec<String>,
}

/// A directory the guest sees at `guest`: the host directory that was opened and checked
/// when the sandbox was made (never looked up by path again).
#[derive(Debug, Clone)]
pub struct Preopen {
    /// Where it was, for messages.
    pub host: std::path::PathBuf,
    pub dir: Arc<std::os::fd::OwnedFd>,
    pub guest: String,
    pub writable: bool,
}

/// The sandbox a call runs in: `data_dir` as the guest's `/data`, each approved directory
/// that is still the one approved (the others are left closed and listed in
/// `Sandbox::closed`), the granted environment variables and hosts.
pub fn sandbox(caps: &Capabilities, data_dir: &Path, dirs: &[ApprovedDir]) -> Result<Sandbox> {
    let data = open_dir_no_follow_last(data_dir).map_err(|e| Error::io("open", data_dir, e))?;
    let mut sandbox = Sandbox {
        preopens: vec![Preopen {
            host: data_dir.to_path_buf(),
            dir: std::sync::Arc::new(data),
            guest: crate::instance::GUEST_DATA_DIR.to_string(),
            writable: true,
        }],
        ..Default::default()
    };
    for dir in dirs {
        match open_approved(dir) {
            Ok(fd) => sandbox.preopens.push(Preopen {
                host: dir.canonical.clone(),
                dir: std::sync::Arc::new(fd),
                guest: dir.guest_path(),
                writable: dir.access == Access::ReadWrite,
            }),
            Err(closed) => sandbox.closed.push(closed.to_string()),
        }
    }
    for var in &caps.env {
        if let Ok(value) = std::env::var(var) {
            sandbox.env.push((var.clone(), value));
        }
    }
    for host in &caps.network {
        sandbox.network.push(HostPattern::parse(host)?);
    }
    Ok(sandbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(path: &Path, access: Access) -> PathGrant {
        PathGrant {
            path: path.to_string_lossy().into_owned(),
            access,
        }
    }

    #[test]
    fn grants_are_pinned_and_checked() {
        let root = tempfile::tempdir().unwrap();
        let root_path = root.path().canonicalize().unwrap();
        let home = SkillHome::at(root_path.join("home"));
        std::fs::create_dir_all(home.root()).unwrap();
        let work = root_path.join("work");
        std::fs::create_dir_all(work.join("inner")).unwrap();

        let bound = approve(&home, &[grant(&work, Access::Read)], &[]).unwrap();
        let Binding::Bound(dir) = &bound[0] else {
            panic!("{bound:?}")
        };
        assert_eq!(dir.canonical, work);
        let fd = open_approved(dir).unwrap();
        assert!(std::fs::read_dir(fd_path(&fd)).unwrap().count() >= 1);

        let inside = approve(&home, &[grant(&home.root().join("x/y"), Access::Read)], &[]);
        assert!(
            inside
                .unwrap_err()
                .message()
                .contains("inside the skill home")
        );
        let above = approve(&home, &[grant(&root_path, Access::Read)], &[]);
        assert!(
            above
                .unwrap_err()
                .message()
                .contains("contains the skill home")
        );
        let nested = approve(
            &home,
            &[
                grant(&work, Access::ReadWrite),
                grant(&work.join("inner"), Access::Read),
            ],
            &[],
        );
        assert!(
            nested
                .unwrap_err()
                .message()
                .contains("inside the writable grant")
        );
        let missing = approve(&home, &[grant(&work.join("later"), Access::Read)], &[]).unwrap();
        assert!(matches!(missing[0], Binding::Missing { .. }));
        for system in ["/proc", "/proc/self", "/sys/kernel", "/dev"] {
            let e = approve(&home, &[grant(Path::new(system), Access::Read)], &[]).unwrap_err();
            assert!(e.message().contains("running system"), "{system}: {e}");
        }
        // A path written under a writable grant is refused even when it resolves elsewhere
        // (the skill could re-point it through the outer grant).
        let elsewhere = root_path.join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, work.join("link")).unwrap();
        let linked = approve(
            &home,
            &[
                grant(&work, Access::ReadWrite),
                grant(&work.join("link"), Access::Read),
            ],
            &[],
        );
        assert!(
            linked
                .unwrap_err()
                .message()
                .contains("inside the writable grant")
        );

        // Swapped for a symlink, or replaced: closed.
        std::fs::rename(&work, root_path.join("moved")).unwrap();
        std::os::unix::fs::symlink(root_path.join("moved"), &work).unwrap();
        let closed = open_approved(dir).unwrap_err();
        assert!(
            closed.to_string().contains("no longer the directory"),
            "{closed}"
        );
        std::fs::remove_file(&work).unwrap();
        std::fs::create_dir(&work).unwrap();
        assert!(
            open_approved(dir)
                .unwrap_err()
                .why
                .contains("taken its place")
        );
    }
}
