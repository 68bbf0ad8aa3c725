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

/// How long one git command may take (a fetch of a large repository over a slow link).
const GIT_DEADLINE: Duration = Duration::from_secs(600);

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
        let bad = |why: &str| {
            Error::invalid(format!(
                "`{}` is not a git source: {why}",
                skill_manifest::text::escape(source, false)
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
        if url.contains("::") {
            return Err(bad("remote helpers (`transport::address`) are not allowed"));
        }
        if url.starts_with('-') {
            return Err(bad("it starts with `-`"));
        }
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

    /// Whether the reference names one commit forever (a full commit id).
    pub fn is_pinned(&self) -> bool {
        self.reference.as_deref().is_some_and(is_full_commit)
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
        if !root.join(CHECKOUT_DONE).is_file() {
            checkout(&db, &commit, &root)?;
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

    /// The commit the reference names now, fetched into `db`.
    fn fetch_commit(&self, db: &Path, source: &GitSource) -> Result<String> {
        let wanted = source.reference.as_deref().unwrap_or("HEAD");
        let shallow = git(
            Some(db),
            &["fetch", "--quiet", "--depth=1", "--no-tags", "--"],
            &[source.url.as_ref(), wanted.as_ref()],
        );
        match shallow {
            Ok(_) => {}
            // A commit id: servers need not serve one by id, and a short one is not a ref at
            // all. Fetch everything and look it up.
            Err(e) if unknown_ref(&e) && looks_like_commit(wanted) => {
                git(
                    Some(db),
                    &["fetch", "--quiet", "--"],
                    &[
                        source.url.as_ref(),
                        "+refs/heads/*:refs/skill/heads/*".as_ref(),
                        "+refs/tags/*:refs/skill/tags/*".as_ref(),
                    ],
                )
                .map_err(|e| classify(e, source))?;
                let spec = format!("{wanted}^{{commit}}");
                return git(
                    Some(db),
                    &["rev-parse", "--verify", "--quiet"],
                    &[spec.as_ref()],
                )
                .map(|out| out.trim().to_string())
                .map_err(|_| unknown_reference(source));
            }
            Err(e) => return Err(classify(e, source)),
        }
        let commit = git(
            Some(db),
            &["rev-parse", "--verify", "--quiet"],
            &["FETCH_HEAD^{commit}".as_ref()],
        )
        .map_err(|_| unknown_reference(source))?
        .trim()
        .to_string();
        Ok(commit)
    }

    /// The commit the source's reference names in the remote now, without fetching it (for
    /// `skill update`): `None` when the remote has no such branch or tag (a commit id).
    pub fn remote_commit(&self, source: &GitSource) -> Result<Option<String>> {
        let wanted = source.reference.as_deref().unwrap_or("HEAD");
        let out = git(
            None,
            &["ls-remote", "--"],
            &[source.url.as_ref(), wanted.as_ref()],
        )
        .map_err(|e| classify(e, source))?;
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
fn remote_refs(source: &GitSource, limit: usize) -> Vec<String> {
    let Ok(out) = git(
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

fn unknown_reference(source: &GitSource) -> Error {
    let reference = source.reference.as_deref().unwrap_or("HEAD");
    let refs = remote_refs(source, 12);
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
fn classify(error: GitError, source: &GitSource) -> Error {
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
        return unknown_reference(source);
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

/// Marks a checkout complete (written last, inside the renamed directory).
const CHECKOUT_DONE: &str = ".skill-checkout";

/// Writes the files of `commit` to `root`: aside first, then renamed into place.
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
    let mut command = git_command(Some(db));
    command
        .env("GIT_INDEX_FILE", &index)
        .arg("--work-tree")
        .arg(&work)
        .args(["checkout", "--quiet", "--force", commit, "--", "."]);
    run(command)?;
    std::fs::write(work.join(CHECKOUT_DONE), commit)
        .map_err(|e| Error::io("write", &work.join(CHECKOUT_DONE), e))?;
    if root.exists() {
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

fn git_command(git_dir: Option<&Path>) -> Command {
    let mut command = Command::new("git");
    if let Some(dir) = git_dir {
        command.arg("--git-dir").arg(dir);
    }
    command
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
    git_dir: Option<&Path>,
    args: &[&str],
    extra: &[&std::ffi::OsStr],
) -> std::result::Result<String, GitError> {
    let mut command = git_command(git_dir);
    command.args(args).args(extra);
    run(command)
}

/// Runs a git command under [`GIT_DEADLINE`], its output bounded.
fn run(mut command: Command) -> std::result::Result<String, GitError> {
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
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > GIT_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(stdout),
        Some(_) => Err(GitError {
            stderr,
            timed_out: false,
            not_started: false,
        }),
        None => Err(GitError {
            stderr,
            timed_out: true,
            not_started: false,
        }),
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
        ] {
            assert!(GitSource::parse(source).is_err(), "{source}");
        }
        assert!(GitSource::parse("http://127.0.0.1:8080/r.git").is_ok());
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
