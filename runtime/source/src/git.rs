//! Skills from git repositories: `https://…/repo.git`, `ssh://…`, `git://…`, `file://…`,
//! `git@host:user/repo.git`, `github:user/repo`, `gitlab:user/repo`, each with an optional
//! `//SUBDIR` (a skill inside a larger repository) and `#REF` (branch, tag or commit).
//!
//! Fetched with the system `git`, as cargo's `git-fetch-with-cli` and uv do: the user's
//! credential helpers, SSH config and proxies just work. One bare repository per URL under
//! `$SKILL_HOME/cache/git/db/`, fetched shallow where the server allows it; one checkout per
//! commit under `$SKILL_HOME/cache/git/checkouts/`, written aside and renamed into place, so a
//! checkout is whole or absent. What is checked out is hostile like any skill: `SUBDIR` may not
//! leave the checkout (through `..` or a symlink), and `skill.yaml` must be a regular file.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use skill_manifest::error::{Error, ErrorKind, Result};
use skill_store::SkillHome;
use skill_store::fsutil::{FileLock, sha256_hex};

/// How long one git command may take (a fetch of a large repository over a slow link);
/// `SKILL_GIT_TIMEOUT` (seconds) changes it.
const GIT_DEADLINE: Duration = Duration::from_secs(600);

/// The most a checkout may hold.
pub const MAX_CHECKOUT_BYTES: u64 = 1 << 30;
pub const MAX_CHECKOUT_FILES: u64 = 100_000;

fn git_deadline() -> Duration {
    std::env::var("SKILL_GIT_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(GIT_DEADLINE, Duration::from_secs)
}

/// The transports a git source may use. `ext::` and other remote helpers run commands.
const ALLOWED_PROTOCOLS: &str = "file:git:http:https:ssh";

/// A git source as the user wrote it, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// What `git fetch` is given (shorthands expanded).
    pub url: String,
    /// A branch, tag or commit; `None`: the remote's default branch.
    pub reference: Option<String>,
    /// The skill's directory inside the repository, `/`-separated, normalized.
    pub subdir: Option<String>,
}

impl fmt::Display for GitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)?;
        if let Some(subdir) = &self.subdir {
            write!(f, "//{subdir}")?;
        }
        if let Some(reference) = &self.reference {
            write!(f, "#{reference}")?;
        }
        Ok(())
    }
}

/// Whether `source` is written as a git source (it may still be malformed: [`GitSource::parse`]
/// says how). An scp-like `user@host:path` is one only when no such path exists; the caller
/// decides that, as for registry names.
pub fn looks_like_git(source: &str) -> bool {
    const SCHEMES: [&str; 7] = [
        "https://", "http://", "ssh://", "git://", "file://", "github:", "gitlab:",
    ];
    SCHEMES.iter().any(|s| source.starts_with(s)) || scp_like(source)
}

/// Whether `source` starts with a scheme only git sources use (unlike `user@host:path`, which
/// a local path could also be).
pub fn is_url(source: &str) -> bool {
    looks_like_git(source) && !scp_like(source)
}

/// `user@host:path` (git's scp-like syntax); not `name@version` (no colon) or a Windows drive.
fn scp_like(source: &str) -> bool {
    let Some((user_host, path)) = source.split_once(':') else {
        return false;
    };
    let Some((user, host)) = user_host.split_once('@') else {
        return false;
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    word(user) && word(host) && !path.is_empty() && !path.starts_with("//")
}

impl GitSource {
    pub fn parse(source: &str) -> Result<GitSource> {
        let shown = redacted(source);
        let bad = |why: &str| {
            Error::invalid(format!(
                "`{}` is not a git source: {why}",
                skill_manifest::text::escape(&shown, false)
            ))
            .with_hint("e.g. https://github.com/acme/skills.git//weather#v1.2.0, github:acme/hello#main, git@host:acme/hello.git")
        };
        if source.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("it contains spaces or control characters"));
        }
        let (rest, reference) = match source.rsplit_once('#') {
            Some((rest, reference)) => (rest, Some(reference)),
            None => (source, None),
        };
        if let Some(reference) = reference {
            check_reference(reference).map_err(|why| bad(&why))?;
        }
        // `//SUBDIR`: the first `//` after the scheme's own.
        let after_scheme = rest.find("://").map_or(0, |at| at + 3);
        let (base, subdir) = match rest[after_scheme..].find("//") {
            Some(at) => (
                &rest[..after_scheme + at],
                Some(&rest[after_scheme + at + 2..]),
            ),
            None => (rest, None),
        };
        let subdir = match subdir {
            Some(dir) => Some(normalize_subdir(dir).map_err(|why| bad(&why))?),
            None => None,
        };
        let url = if let Some(path) = base.strip_prefix("github:") {
            format!(
                "https://github.com/{}.git",
                shorthand_path(path).map_err(|w| bad(&w))?
            )
        } else if let Some(path) = base.strip_prefix("gitlab:") {
            format!(
                "https://gitlab.com/{}.git",
                shorthand_path(path).map_err(|w| bad(&w))?
            )
        } else {
            base.to_string()
        };
        // The authority of a `scheme://` URL: credentials there would be stored (origin.json,
        // the lock file) and shown; only an SSH user name (not a secret) may be given.
        if let Some((scheme, rest)) = url.split_once("://") {
            let authority = rest.split('/').next().unwrap_or_default();
            if let Some((userinfo, _)) = authority.rsplit_once('@')
                && (scheme != "ssh" || userinfo.contains(':'))
            {
                return Err(bad(
                    "credentials in the URL would be stored and shown; use a git credential helper (or an SSH key)",
                ));
            }
        }
        if url.contains("::") {
            return Err(bad("remote helpers (`transport::address`) are not allowed"));
        }
        if url.starts_with('-') {
            return Err(bad("it starts with `-`"));
        }
        // (No userinfo is left in an http:// URL here: the host is the whole authority.)
        let plain_host = url
            .strip_prefix("http://")
            .map(|rest| rest.split('/').next().unwrap_or_default());
        if plain_host.is_some_and(|host| !crate::reference::is_loopback(host)) {
            return Err(bad(
                "plain HTTP would carry the repository (and any credential) unencrypted; use https://",
            ));
        }
        Ok(GitSource {
            url,
            reference: reference.map(str::to_string),
            subdir,
        })
    }

    /// Whether the reference names one commit forever (a commit id, full or short).
    pub fn is_pinned(&self) -> bool {
        self.reference.as_deref().is_some_and(looks_like_commit)
    }
}

/// `source` with any credentials in its authority replaced by `…` (for messages).
fn redacted(source: &str) -> String {
    let Some((scheme, rest)) = source.split_once("://") else {
        return source.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://…@{host}{}", &rest[end..]),
        None => source.to_string(),
    }
}

fn shorthand_path(path: &str) -> std::result::Result<String, String> {
    let path = path.trim_end_matches(".git");
    let parts: Vec<&str> = path.split('/').collect();
    let word = |s: &&str| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if parts.len() < 2 || !parts.iter().all(word) {
        return Err("write it as github:OWNER/REPO (or gitlab:GROUP/…/REPO)".to_string());
    }
    Ok(path.to_string())
}

/// A branch, tag or commit name git accepts, and nothing `git fetch` would take as an option
/// or a refspec with a destination.
fn check_reference(reference: &str) -> std::result::Result<(), String> {
    let bad = reference.is_empty()
        || reference.starts_with('-')
        || reference.starts_with('/')
        || reference.ends_with('/')
        || reference.ends_with(".lock")
        || reference.contains("..")
        || reference.contains("//")
        || reference.contains("@{")
        || reference
            .chars()
            .any(|c| matches!(c, ':' | '^' | '~' | '?' | '*' | '[' | '\\') || c.is_control());
    if bad {
        Err(format!("`{reference}` is not a branch, tag or commit name"))
    } else {
        Ok(())
    }
}

fn normalize_subdir(dir: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return Err("the directory after `//` is empty".to_string());
    }
    if parts.contains(&"..") || dir.starts_with('/') {
        return Err("the directory after `//` must stay inside the repository".to_string());
    }
    Ok(parts.join("/"))
}

fn is_full_commit(reference: &str) -> bool {
    reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit())
}

fn looks_like_commit(reference: &str) -> bool {
    (7..=40).contains(&reference.len()) && reference.chars().all(|c| c.is_ascii_hexdigit())
}

/// A commit of a git source, checked out.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The full commit id.
    pub commit: String,
    /// The repository's files at that commit.
    pub root: PathBuf,
    /// The skill's directory: `root`, or `root/SUBDIR`.
    pub project: PathBuf,
}

/// The git cache of one `$SKILL_HOME`.
pub struct GitCache {
    dir: PathBuf,
    checkouts: PathBuf,
}

impl GitCache {
    pub fn new(home: &SkillHome) -> GitCache {
        GitCache {
            dir: home.root().join("cache/git"),
            checkouts: home.git_checkouts_dir(),
        }
    }

    fn db(&self, source: &GitSource) -> PathBuf {
        self.dir
            .join("db")
            .join(&sha256_hex(source.url.as_bytes())[..16])
    }

    /// Fetches the source's reference and checks its commit out (or finds it checked out).
    pub fn fetch(&self, source: &GitSource) -> Result<Checkout> {
        let db = self.db(source);
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("create directory", &self.dir, e))?;
        let _lock = FileLock::exclusive(&db.with_extension("lock"))?;
        if !db.join("HEAD").is_file() {
            let _ = std::fs::remove_dir_all(&db);
            git(
                &self.dir,
                None,
                &["init", "--bare", "--quiet", "--"],
                &[db.as_os_str()],
            )?;
        }
        let commit = self.fetch_commit(&db, source)?;
        let checkouts = self
            .checkouts
            .join(&sha256_hex(source.url.as_bytes())[..16]);
        let root = checkouts.join(&commit);
        // The marker sits beside the checkout, outside the tree the repository controls (a
        // file of that name in the repository could be a symlink to anywhere).
        let done = checkouts.join(format!("{commit}.done"));
        if !std::fs::symlink_metadata(&done).is_ok_and(|m| m.is_file()) {
            self.check_size(&db, &commit)?;
            checkout(&db, &commit, &root)?;
            std::fs::write(&done, b"").map_err(|e| Error::io("write", &done, e))?;
        }
        let project = match &source.subdir {
            Some(subdir) => inside(&root, subdir)?,
            None => root.clone(),
        };
        Ok(Checkout {
            commit,
            root,
            project,
        })
    }

    /// Refuses a commit whose files would take more than [`MAX_CHECKOUT_BYTES`] or
    /// [`MAX_CHECKOUT_FILES`] (a few kilobytes of repository can hold gigabytes of files).
    fn check_size(&self, db: &Path, commit: &str) -> Result<()> {
        let listing = git(
            &self.dir,
            Some(db),
            &["ls-tree", "-r", "-l", "--full-tree", commit],
            &[],
        )?;
        let (mut bytes, mut files) = (0u64, 0u64);
        for line in listing.lines() {
            let size = line
                .split_whitespace()
                .nth(3)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            bytes = bytes.saturating_add(size);
            files += 1;
        }
        if bytes > MAX_CHECKOUT_BYTES || files > MAX_CHECKOUT_FILES {
            return Err(Error::invalid(format!(
                "commit {commit} holds {files} files, {bytes} bytes: more than a skill's checkout may ({MAX_CHECKOUT_FILES} files, {MAX_CHECKOUT_BYTES} bytes)"
            ))
            .with_hint("point //SUBDIR at the skill in a smaller repository, or install a built skill from a registry"));
        }
        Ok(())
    }

    /// Removes every fetched repository and checkout (`skill prune`): a cache, fetched again
    /// when needed. Returns what was (or, dry, would be) removed and its size.
    pub fn clear(&self, dry_run: bool) -> Result<Vec<(PathBuf, u64)>> {
        let mut removed = Vec::new();
        for part in ["db", "checkouts"] {
            let dir = self.dir.join(part);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let size = skill_store::store::dir_size(&path);
                if !dry_run {
                    let gone = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                    gone.map_err(|e| Error::io("remove", &path, e))?;
                }
                removed.push((path, size));
            }
        }
        Ok(removed)
    }

    /// The commit the reference names now, fetched into `db`.
    fn fetch_commit(&self, db: &Path, source: &GitSource) -> Result<String> {
        let wanted = source.reference.as_deref().unwrap_or("HEAD");
        // A hex reference is a commit id, never a branch or tag of that name (which anyone
        // who can push could create to take a pin over). A short one is looked up among
        // everything fetched; a full one is fetched by id.
        if looks_like_commit(wanted) && !is_full_commit(wanted) {
            return self.fetch_all_and_find(db, source, wanted);
        }
        let shallow = git(
            &self.dir,
            Some(db),
            &["fetch", "--quiet", "--depth=1", "--no-tags", "--"],
            &[source.url.as_ref(), wanted.as_ref()],
        );
        match shallow {
            Ok(_) => {}
            // A commit id: servers need not serve one by id, and a short one is not a ref at
            // all. Fetch everything and look it up.
            Err(e) if unknown_ref(&e) && is_full_commit(wanted) => {
                return self.fetch_all_and_find(db, source, wanted);
            }
            Err(e) => return Err(classify(&self.dir, e, source)),
        }
        let commit = git(
            &self.dir,
            Some(db),
            &["rev-parse", "--verify", "--quiet"],
            &["FETCH_HEAD^{commit}".as_ref()],
        )
        .map_err(|_| unknown_reference(&self.dir, source))?
        .trim()
        .to_string();
        if is_full_commit(wanted) && commit != wanted.to_ascii_lowercase() {
            return Err(unknown_reference(&self.dir, source));
        }
        Ok(commit)
    }

    /// Fetches every branch and tag, then finds the commit `id` (a prefix or a full id).
    fn fetch_all_and_find(&self, db: &Path, source: &GitSource, id: &str) -> Result<String> {
        git(
            &self.dir,
            Some(db),
            &["fetch", "--quiet", "--"],
            &[
                source.url.as_ref(),
                "+refs/heads/*:refs/skill/heads/*".as_ref(),
                "+refs/tags/*:refs/skill/tags/*".as_ref(),
            ],
        )
        .map_err(|e| classify(&self.dir, e, source))?;
        let spec = format!("{id}^{{commit}}");
        let commit = git(
            &self.dir,
            Some(db),
            &["rev-parse", "--verify", "--quiet"],
            &[spec.as_ref()],
        )
        .map(|out| out.trim().to_string())
        .map_err(|_| unknown_reference(&self.dir, source))?;
        if !commit.starts_with(&id.to_ascii_lowercase()) {
            return Err(unknown_reference(&self.dir, source));
        }
        Ok(commit)
    }

    /// The commit the source's reference names in the remote now, without fetching it (for
    /// `skill update`): `None` when the remote has no such branch or tag (a commit id).
    pub fn remote_commit(&self, source: &GitSource) -> Result<Option<String>> {
        let wanted = source.reference.as_deref().unwrap_or("HEAD");
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("create directory", &self.dir, e))?;
        let out = git(
            &self.dir,
            None,
            &["ls-remote", "--"],
            &[source.url.as_ref(), wanted.as_ref()],
        )
        .map_err(|e| classify(&self.dir, e, source))?;
        // The order git's own lookup uses (`git fetch URL NAME`): the exact name (HEAD), then
        // a tag (the commit an annotated tag points to: its `^{}` line), then a branch.
        let (mut exact, mut tag, mut peeled, mut branch) = (None, None, None, None);
        for line in out.lines() {
            let Some((id, name)) = line.split_once('\t') else {
                continue;
            };
            let slot = if name == wanted {
                &mut exact
            } else if name == format!("refs/tags/{wanted}^{{}}") {
                &mut peeled
            } else if name == format!("refs/tags/{wanted}") {
                &mut tag
            } else if name == format!("refs/heads/{wanted}") {
                &mut branch
            } else {
                continue;
            };
            *slot = Some(id.to_string());
        }
        Ok(exact.or(peeled).or(tag).or(branch))
    }
}

/// Branches and tags of the remote (for an unknown-reference error), at most `limit`.
fn remote_refs(cwd: &Path, source: &GitSource, limit: usize) -> Vec<String> {
    let Ok(out) = git(
        cwd,
        None,
        &["ls-remote", "--heads", "--tags", "--"],
        &[source.url.as_ref()],
    ) else {
        return Vec::new();
    };
    out.lines()
        .filter_map(|l| l.split_once('\t').map(|(_, name)| name))
        .filter(|n| !n.ends_with("^{}"))
        .filter_map(|n| {
            n.strip_prefix("refs/heads/")
                .or(n.strip_prefix("refs/tags/"))
        })
        .map(|n| skill_manifest::text::escape(n, false).into_owned())
        .take(limit)
        .collect()
}

impl GitCache {
    /// The directories of a checkout that hold a skill.yaml (for a wrong `//SUBDIR`).
    pub fn projects_in(root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![(root.to_path_buf(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            if found.len() >= 20 || depth > 4 {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = entries.flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_file() && name == "skill.yaml" {
                    let rel = dir.strip_prefix(root).unwrap_or(&dir);
                    found.push(rel.to_string_lossy().into_owned());
                } else if kind.is_dir()
                    && !matches!(
                        name.to_str(),
                        Some(".git" | "target" | "node_modules" | ".venv")
                    )
                {
                    stack.push((entry.path(), depth + 1));
                }
            }
        }
        found.sort();
        found
    }
}

/// Whether an error came from a reference the remote does not have.
fn unknown_ref(error: &GitError) -> bool {
    let text = error.stderr.to_ascii_lowercase();
    text.contains("couldn't find remote ref")
        || text.contains("not our ref")
        || text.contains("no such remote ref")
        || text.contains("unadvertised object")
}

fn unknown_reference(cwd: &Path, source: &GitSource) -> Error {
    let reference = source.reference.as_deref().unwrap_or("HEAD");
    let refs = remote_refs(cwd, source, 12);
    let hint = if refs.is_empty() {
        "name a branch, a tag or a commit id the repository has".to_string()
    } else {
        format!("branches and tags there: {}", refs.join(", "))
    };
    Error::not_found(format!(
        "{} has no branch, tag or commit `{}`",
        source.url,
        skill_manifest::text::escape(reference, false)
    ))
    .with_hint(hint)
}

/// One error for a failed fetch, by what git said.
fn classify(cwd: &Path, error: GitError, source: &GitSource) -> Error {
    if error.timed_out {
        return Error::new(
            ErrorKind::Timeout,
            format!(
                "fetching {} took longer than {} s",
                source.url,
                GIT_DEADLINE.as_secs()
            ),
        )
        .with_hint("check the network, or fetch it yourself and install the directory");
    }
    if error.not_started {
        return Error::not_found("git is not installed (skill fetches git sources with it)")
            .with_hint(
                "install git (e.g. `apt install git`), or install from a directory or a registry",
            );
    }
    if unknown_ref(&error) {
        return unknown_reference(cwd, source);
    }
    let text = error.stderr.to_ascii_lowercase();
    let said = last_line(&error.stderr);
    let access = [
        "authentication failed",
        "could not read username",
        "could not read password",
        "permission denied",
        "repository not found",
        "access denied",
        "not exported",
        "terminal prompts disabled",
        "does not appear to be a git repository",
        "returned error: 401",
        "returned error: 403",
        "returned error: 404",
    ];
    if access.iter().any(|p| text.contains(p)) {
        return Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot read the repository {}: {said}", source.url),
        )
        .with_hint(format!(
            "check the URL, and that `git ls-remote {}` works in this shell (a credential helper for HTTPS, an SSH key for ssh://)",
            source.url
        ));
    }
    Error::new(
        ErrorKind::Io,
        format!("cannot fetch {}: {said}", source.url),
    )
    .with_hint(format!(
        "`git ls-remote {}` must work in this shell",
        source.url
    ))
}

fn last_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("git failed");
    let line = line.strip_prefix("fatal: ").unwrap_or(line);
    let line = line.strip_prefix("remote error: ").unwrap_or(line);
    skill_manifest::text::escape(&line.chars().take(300).collect::<String>(), false).into_owned()
}

/// `root/subdir`, which must be a directory inside `root` (not through a symlink leaving it).
fn inside(root: &Path, subdir: &str) -> Result<PathBuf> {
    let path = root.join(subdir);
    let listed = || {
        let found = GitCache::projects_in(root);
        if found.is_empty() {
            "the repository has no skill.yaml at all".to_string()
        } else {
            format!(
                "skill projects in the repository: {}",
                found
                    .iter()
                    .map(|d| if d.is_empty() {
                        "(the root)".to_string()
                    } else {
                        format!("//{d}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let Ok(canonical) = path.canonicalize() else {
        return Err(
            Error::not_found(format!("the repository has no directory `{subdir}`"))
                .with_hint(listed()),
        );
    };
    let root = root
        .canonicalize()
        .map_err(|e| Error::io("open", root, e))?;
    if !canonical.starts_with(&root) || !canonical.is_dir() {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("`{subdir}` leaves the repository (a symlink) or is not a directory"),
        )
        .with_hint(listed()));
    }
    Ok(canonical)
}

/// Checks that a checkout's project has a regular skill.yaml; lists the projects if not.
pub fn check_project(checkout: &Checkout, source: &GitSource) -> Result<()> {
    let yaml = checkout.project.join("skill.yaml");
    match std::fs::symlink_metadata(&yaml) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("skill.yaml in {source} is not a regular file (a symlink?)"),
        )
        .with_hint("a skill's skill.yaml must be a file in the repository itself")),
        Err(_) => {
            let found = GitCache::projects_in(&checkout.root);
            let hint = if found.is_empty() {
                "the repository has no skill.yaml at all: is it a skill project?".to_string()
            } else {
                let base = GitSource {
                    subdir: None,
                    ..source.clone()
                };
                format!(
                    "skill projects in the repository: {}",
                    found
                        .iter()
                        .map(|d| {
                            let mut s = GitSource {
                                subdir: (!d.is_empty()).then(|| d.clone()),
                                ..base.clone()
                            }
                            .to_string();
                            s.truncate(300);
                            s
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            Err(Error::not_found(format!("no skill.yaml in {source}")).with_hint(hint))
        }
    }
}

/// Writes the files of `commit` to `root`: aside first, then renamed into place (the caller
/// marks it complete).
fn checkout(db: &Path, commit: &str, root: &Path) -> Result<()> {
    let parent = root.parent().expect("a checkout has a parent");
    std::fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
    let aside = tempfile::Builder::new()
        .prefix(".checkout-")
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a directory in", parent, e))?;
    let index = aside.path().join(".git-index");
    let work = aside.path().join("files");
    std::fs::create_dir(&work).map_err(|e| Error::io("create directory", &work, e))?;
    let mut command = git_command(parent, Some(db));
    command
        .env("GIT_INDEX_FILE", &index)
        .arg("--work-tree")
        .arg(&work)
        .args(["checkout", "--quiet", "--force", commit, "--", "."]);
    run(command)?;
    if std::fs::symlink_metadata(root).is_ok() {
        // An incomplete one (killed before its marker): replace it.
        let _ = std::fs::remove_dir_all(root);
    }
    std::fs::rename(&work, root).map_err(|e| Error::io("move into place", root, e))
}

/// What a failed git command left to classify.
#[derive(Debug)]
struct GitError {
    stderr: String,
    timed_out: bool,
    not_started: bool,
}

impl From<GitError> for Error {
    fn from(e: GitError) -> Error {
        Error::new(
            ErrorKind::Io,
            format!("git failed: {}", last_line(&e.stderr)),
        )
    }
}

/// A git command run in `cwd` (the cache directory), never discovering a repository above it:
/// the configuration of a repository the user happens to stand in (`core.gitProxy`,
/// `core.sshCommand`…) must not apply to a fetch.
fn git_command(cwd: &Path, git_dir: Option<&Path>) -> Command {
    let mut command = Command::new("git");
    if let Some(dir) = git_dir {
        command.arg("--git-dir").arg(dir);
    }
    command
        .current_dir(cwd)
        .env("GIT_CEILING_DIRECTORIES", cwd)
        // A stalled HTTP transfer ends well before the deadline.
        .env("GIT_HTTP_LOW_SPEED_LIMIT", "1")
        .env("GIT_HTTP_LOW_SPEED_TIME", "60")
        .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS)
        // Never wait for a password no one will type; credential helpers still answer.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    command
}

/// Runs `git [--git-dir DIR] ARGS… EXTRA…`; stdout on success.
fn git(
    cwd: &Path,
    git_dir: Option<&Path>,
    args: &[&str],
    extra: &[&std::ffi::OsStr],
) -> std::result::Result<String, GitError> {
    let mut command = git_command(cwd, git_dir);
    command.args(args).args(extra);
    run(command)
}

/// Runs a git command under [`GIT_DEADLINE`], its output bounded.
fn run(mut command: Command) -> std::result::Result<String, GitError> {
    use std::os::unix::process::CommandExt;
    // Its own process group: a deadline kills git's helpers (git-remote-https, ssh) too, which
    // would otherwise keep the pipes open.
    command.process_group(0);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError {
            stderr: e.to_string(),
            timed_out: false,
            not_started: e.kind() == std::io::ErrorKind::NotFound,
        })?;
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if kept.len() < (1 << 20) {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            String::from_utf8_lossy(&kept).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let deadline = git_deadline();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let Some(status) = status else {
        // SAFETY: signals the process group git leads (created above); no memory involved.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
        // The readers are not joined: a helper that escaped the group could hold the pipes.
        return Err(GitError {
            stderr: String::new(),
            timed_out: true,
            not_started: false,
        });
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(GitError {
            stderr,
            timed_out: false,
            not_started: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_split_into_url_subdir_and_reference() {
        let parsed = |s: &str| GitSource::parse(s).unwrap();
        assert_eq!(
            parsed("https://example.com/acme/skills.git//tools/weather#v1.2.0"),
            GitSource {
                url: "https://example.com/acme/skills.git".into(),
                reference: Some("v1.2.0".into()),
                subdir: Some("tools/weather".into()),
            }
        );
        assert_eq!(
            parsed("github:acme/hello").url,
            "https://github.com/acme/hello.git"
        );
        assert_eq!(
            parsed("gitlab:g/sub/r#main").url,
            "https://gitlab.com/g/sub/r.git"
        );
        assert_eq!(
            parsed("git@host.example:acme/hello.git//x")
                .subdir
                .as_deref(),
            Some("x")
        );
        assert_eq!(parsed("file:///srv/repo.git").url, "file:///srv/repo.git");
        assert_eq!(
            parsed("git://127.0.0.1:9418/repo//a/./b/#t")
                .subdir
                .as_deref(),
            Some("a/b")
        );
        assert_eq!(
            parsed("https://h/r.git//a#v1").to_string(),
            "https://h/r.git//a#v1"
        );
        assert!(parsed(&format!("https://h/r#{}", "a".repeat(40))).is_pinned());
        assert!(!parsed("https://h/r#main").is_pinned());
    }

    #[test]
    fn hostile_sources_are_refused() {
        for source in [
            "ext::sh -c touch% /tmp/pwned",
            "https://h/r.git#--upload-pack=touch",
            "https://h/r.git#main:refs/heads/x",
            "https://h/r.git//../../etc",
            "https://h/r.git///etc",
            "github:../x",
            "github:acme",
            "http://example.com/r.git",
            "https://h/r.git#a b",
            "https://h/r.git#",
            "https://user:token@h/r.git",
            "https://token@h/r.git",
            "http://localhost:x@192.0.2.2/good.git",
            "ssh://git:pw@h/r.git",
        ] {
            assert!(GitSource::parse(source).is_err(), "{source}");
        }
        assert!(GitSource::parse("http://127.0.0.1:8080/r.git").is_ok());
        assert!(GitSource::parse("ssh://git@h/r.git").is_ok());
        let refused = GitSource::parse("https://u:hunter2@h/r.git")
            .unwrap_err()
            .to_string();
        assert!(!refused.contains("hunter2"), "{refused}");
        assert!(
            GitSource::parse("https://h/r#b8ca4eed")
                .unwrap()
                .is_pinned()
        );
    }

    #[test]
    fn what_looks_like_git() {
        for yes in [
            "https://h/r",
            "github:a/b",
            "git@h:a/b.git",
            "file:///x",
            "ssh://h/r",
        ] {
            assert!(looks_like_git(yes), "{yes}");
        }
        for no in [
            "hello",
            "hello@^1.2",
            "team/hello@1.0.0",
            "./dir",
            "oci://h/r:1",
            "C:/x",
        ] {
            assert!(!looks_like_git(no), "{no}");
        }
    }
}
