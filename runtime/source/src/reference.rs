//! What a user names when a skill comes from a registry, and where that is.
//!
//! - `NAME[@REQ]` — a skill name with an optional semver requirement (`^1.2`, `~1.2.3`,
//!   `>=1, <2`, `=1.2.0`, `*`; a bare version `1.2.0` pins exactly). It lives at
//!   `<default registry>/NAME`, or `<override>/NAME` for `NAMESPACE/NAME` when the settings name
//!   that namespace.
//! - `oci://HOST[:PORT]/PATH[:TAG | @sha256:DIGEST | @REQ]` — a full reference, anywhere a
//!   name works (`@REQ` is a semver requirement, as for names).

use std::fmt;

use semver::{Version, VersionReq};
use skill_manifest::error::{Error, ErrorKind, Result};

/// Where registries are and which of them speak plain HTTP (from the global settings).
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// `HOST[:PORT][/NAMESPACE…]` bare names resolve under.
    pub default: Option<String>,
    /// `NAMESPACE` → `HOST[:PORT][/PATH…]`, for names `NAMESPACE/NAME`.
    pub namespaces: Vec<(String, String)>,
    /// Registries reached over plain HTTP besides loopback ones (`HOST[:PORT]`).
    pub insecure: Vec<String>,
}

impl RegistryConfig {
    /// Whether `registry` (`HOST[:PORT]`) is spoken to over plain HTTP: loopback addresses
    /// and the hosts the settings list, nothing else.
    pub fn is_plain_http(&self, registry: &str) -> bool {
        is_loopback(registry) || self.insecure.iter().any(|h| h == registry)
    }
}

/// `HOST[:PORT]` names this machine by a literal loopback name or address.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A repository in a registry: `HOST[:PORT]` and the path under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub registry: String,
    pub path: String,
}

impl Repository {
    /// The skill name the repository holds (its last path segment).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// Which version of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The highest semver tag matching the requirement.
    Newest(VersionReq),
    /// Exactly this tag.
    Tag(String),
    /// Exactly this manifest (`sha256:…`).
    Digest(String),
}

/// A parsed `NAME[@REQ]` or `oci://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub repository: Repository,
    pub pick: Pick,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pick {
            Pick::Newest(req) if *req == VersionReq::STAR => write!(f, "{}", self.repository),
            Pick::Newest(req) => write!(f, "{} ({req})", self.repository),
            Pick::Tag(tag) => write!(f, "{}:{tag}", self.repository),
            Pick::Digest(digest) => write!(f, "{}@{digest}", self.repository),
        }
    }
}

/// Whether `text` is meant as a registry reference rather than a path.
pub fn looks_like_reference(text: &str) -> bool {
    text.starts_with("oci://")
        || (!text.starts_with(['.', '/', '~'])
            && !text.contains('\\')
            && text.split('@').next().is_some_and(|name| {
                let segments: Vec<&str> = name.split('/').collect();
                segments.len() <= 2 && segments.iter().all(|s| is_name_segment(s))
            }))
}

fn is_name_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Request {
    /// Parses `NAME[@REQ]`, `NAMESPACE/NAME[@REQ]` or `oci://…` against the settings.
    pub fn parse(text: &str, config: &RegistryConfig) -> Result<Request> {
        if let Some(rest) = text.strip_prefix("oci://") {
            return parse_full(rest);
        }
        let (name, requirement) = match text.split_once('@') {
            Some((name, req)) => (name, Some(req)),
            None => (text, None),
        };
        let pick = match requirement {
            None => Pick::Newest(VersionReq::STAR),
            Some(req) => Pick::Newest(parse_requirement(req)?),
        };
        let (namespace, skill) = match name.split_once('/') {
            Some((ns, skill)) => (Some(ns), skill),
            None => (None, name),
        };
        if !is_name_segment(skill) || namespace.is_some_and(|ns| !is_name_segment(ns)) {
            return Err(Error::invalid(format!(
                "`{}` is neither a skill name nor an oci:// reference",
                skill_manifest::text::escape(text, false)
            ))
            .with_hint(
                "a name is lowercase letters, digits, `-` and `_` (e.g. `hello`, `team/hello@^1.2`); a path starts with `./` or `/`",
            ));
        }
        let base = match namespace {
            Some(ns) => match config.namespaces.iter().find(|(n, _)| n == ns) {
                Some((_, base)) => base.clone(),
                None => format!("{}/{ns}", default_host(config, text)?),
            },
            None => config.default.clone().ok_or_else(|| no_default(text))?,
        };
        let base = base.trim_end_matches('/');
        let (registry, prefix) = match base.split_once('/') {
            Some((registry, prefix)) => (registry, Some(prefix)),
            None => (base, None),
        };
        let registry = normalize_registry(registry)?;
        if let Some(prefix) = prefix {
            check_path(prefix).map_err(|why| {
                Error::invalid(format!(
                    "the registry setting `{}` has a bad path: {why}",
                    skill_manifest::text::escape(base, false)
                ))
                .with_hint("HOST[:PORT][/NAMESPACE…], e.g. ghcr.io/acme")
            })?;
        }
        let path = match prefix {
            Some(prefix) => format!("{prefix}/{skill}"),
            None => skill.to_string(),
        };
        Ok(Request {
            repository: Repository { registry, path },
            pick,
        })
    }
}

fn no_default(text: &str) -> Error {
    Error::new(
        ErrorKind::NotConfigured,
        format!(
            "`{}` does not exist here, and no registry is set to look it up in",
            skill_manifest::text::escape(text, false)
        ),
    )
    .with_hint(
        "a path starts with `./` or `/`; for a registry set `[registry] default = \"ghcr.io/acme\"` in $SKILL_HOME/config.toml, SKILL_REGISTRY or --registry, or give a full oci://HOST/PATH reference",
    )
}

fn default_host(config: &RegistryConfig, text: &str) -> Result<String> {
    let default = config.default.as_deref().ok_or_else(|| no_default(text))?;
    Ok(default.split('/').next().unwrap_or(default).to_string())
}

/// `^1.2`, `>=1, <2`, `*`; a bare `1.2.0` means exactly that version.
pub fn parse_requirement(text: &str) -> Result<VersionReq> {
    if let Ok(version) = Version::parse(text) {
        return Ok(VersionReq::parse(&format!("={version}")).expect("a version is a requirement"));
    }
    VersionReq::parse(text).map_err(|e| {
        Error::invalid(format!(
            "`{}` is not a version requirement: {e}",
            skill_manifest::text::escape(text, false)
        ))
        .with_hint("e.g. `1.2.0` (exactly), `^1.2` (compatible), `~1.2.3`, `>=1, <2`, `*`")
    })
}

fn parse_full(rest: &str) -> Result<Request> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "`oci://{}` is not a registry reference: {why}",
            skill_manifest::text::escape(rest, false)
        ))
        .with_hint("oci://HOST[:PORT]/PATH/NAME[:TAG] or oci://HOST/PATH/NAME@sha256:DIGEST")
    };
    let (registry, tail) = rest.split_once('/').ok_or_else(|| {
        if rest.contains('@') {
            normalize_registry(rest)
                .err()
                .unwrap_or_else(|| bad("no path"))
        } else {
            bad("no path")
        }
    })?;
    let registry = normalize_registry(registry)?;
    let (path, pick) = if let Some((path, requirement)) = tail
        .split_once('@')
        .filter(|(_, after)| !after.starts_with("sha256:"))
    {
        (path, Pick::Newest(parse_requirement(requirement)?))
    } else if let Some((path, digest)) = tail.split_once('@') {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| bad("only sha256 digests are known"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("a sha256 digest is 64 lowercase hex digits"));
        }
        (path, Pick::Digest(digest.to_string()))
    } else {
        // A `:` after the last `/` starts a tag.
        let last = tail.rsplit('/').next().unwrap_or(tail);
        match last.split_once(':') {
            Some((_, tag)) => {
                let path = &tail[..tail.len() - tag.len() - 1];
                if !is_tag(tag) {
                    return Err(bad("a tag is up to 128 letters, digits, `_`, `.` and `-`"));
                }
                (path, Pick::Tag(tag.to_string()))
            }
            None => (tail, Pick::Newest(VersionReq::STAR)),
        }
    };
    check_path(path).map_err(bad)?;
    Ok(Request {
        repository: Repository {
            registry,
            path: path.to_string(),
        },
        pick,
    })
}

/// `HOST[:PORT]` in the one spelling trust scopes, credentials and recorded origins are
/// compared in: the host lowercased, without a trailing dot or the default HTTPS port. (A
/// scope `GHCR.IO` or `ghcr.io:443` must not be a different registry from `ghcr.io`.)
pub fn normalize_registry(registry: &str) -> Result<String> {
    if registry.contains('@') {
        // Never echoed: it is most likely `user:password@host`.
        return Err(Error::invalid("a registry reference must not carry credentials")
            .with_hint("log in instead: `skill login HOST -u USER` (the password is asked, or read from --password-stdin)"));
    }
    let lower = registry.to_ascii_lowercase();
    let (host, port) = match lower.strip_prefix('[') {
        Some(_) => match lower.split_once(']') {
            Some((ip, rest)) => (format!("{ip}]"), rest.strip_prefix(':').map(str::to_string)),
            None => (lower.clone(), None),
        },
        None => match lower.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (lower.clone(), None),
        },
    };
    let host = host.strip_suffix('.').unwrap_or(&host).to_string();
    let normalized = match port.as_deref() {
        None | Some("443") => host,
        Some(port) => format!("{host}:{port}"),
    };
    check_registry(&normalized)?;
    Ok(normalized)
}

/// `HOST[:PORT]`: letters, digits, `.`, `-`, an optional port, or a bracketed IPv6 address.
fn check_registry(registry: &str) -> Result<()> {
    let ok = if let Some(rest) = registry.strip_prefix('[') {
        rest.split_once(']').is_some_and(|(ip, port)| {
            ip.parse::<std::net::Ipv6Addr>().is_ok()
                && (port.is_empty() || port.strip_prefix(':').is_some_and(is_port))
        })
    } else {
        let (host, port) = match registry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        };
        !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && port.is_none_or(is_port)
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{}` is not a registry host",
            skill_manifest::text::escape(registry, false)
        ))
        .with_hint("a registry is HOST or HOST:PORT, e.g. ghcr.io or localhost:5000"))
    }
}

/// A repository path: `/`-separated parts of lowercase letters, digits, `.`, `_` and `-`,
/// none of them `.` or `..` (a URL would resolve those to another repository).
fn check_path(path: &str) -> std::result::Result<(), &'static str> {
    let ok = !path.is_empty()
        && path.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(
            "a repository path is lowercase letters, digits, `.`, `_` and `-`, in `/`-separated parts (no `.` or `..`)",
        )
    }
}

fn is_port(p: &str) -> bool {
    p.parse::<u16>().is_ok_and(|p| p > 0)
}

pub fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !tag.starts_with(['.', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RegistryConfig {
        RegistryConfig {
            default: Some("ghcr.io/acme".into()),
            namespaces: vec![("corp".into(), "harbor.corp.example:8443/skills".into())],
            insecure: vec![],
        }
    }

    #[test]
    fn names_resolve_through_the_settings() {
        let r = Request::parse("hello", &config()).unwrap();
        assert_eq!(r.repository.to_string(), "ghcr.io/acme/hello");
        assert_eq!(r.pick, Pick::Newest(VersionReq::STAR));
        let r = Request::parse("hello@^1.2", &config()).unwrap();
        assert_eq!(r.pick, Pick::Newest(VersionReq::parse("^1.2").unwrap()));
        let r = Request::parse("hello@1.2.0", &config()).unwrap();
        assert_eq!(r.pick, Pick::Newest(VersionReq::parse("=1.2.0").unwrap()));
        let r = Request::parse("corp/hello", &config()).unwrap();
        assert_eq!(
            r.repository.to_string(),
            "harbor.corp.example:8443/skills/hello"
        );
        let r = Request::parse("team/hello", &config()).unwrap();
        assert_eq!(r.repository.to_string(), "ghcr.io/team/hello");
        let err = Request::parse("hello", &RegistryConfig::default()).unwrap_err();
        assert!(err.message().contains("no registry is set"), "{err}");
        assert!(Request::parse("hello@banana", &config()).is_err());
        assert!(Request::parse("Hello", &config()).is_err());
    }

    #[test]
    fn full_references() {
        let r = Request::parse("oci://localhost:5000/a/b/hello:1.0.0", &config()).unwrap();
        assert_eq!(r.repository.registry, "localhost:5000");
        assert_eq!(r.repository.path, "a/b/hello");
        assert_eq!(r.repository.name(), "hello");
        assert_eq!(r.pick, Pick::Tag("1.0.0".into()));
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = Request::parse(&format!("oci://[::1]:5000/hello@{digest}"), &config()).unwrap();
        assert_eq!(r.pick, Pick::Digest(digest));
        let r = Request::parse("oci://localhost:5000/hello", &config()).unwrap();
        assert_eq!(r.pick, Pick::Newest(VersionReq::STAR));
        let r = Request::parse("oci://localhost:5000/hello@^1.2", &config()).unwrap();
        assert_eq!(r.pick, Pick::Newest(VersionReq::parse("^1.2").unwrap()));
        for bad in [
            "oci://localhost:5000",
            "oci://localhost:99999/x",
            "oci://local host/x",
            "oci://localhost/X",
            "oci://localhost/x@sha256:zz",
            "oci://localhost/x@banana",
            "oci://localhost/x:",
            "oci://localhost//x",
            "oci://localhost/x/../y",
            "oci://localhost/./y",
        ] {
            assert!(Request::parse(bad, &config()).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_spelling_per_registry() {
        for spelling in ["GHCR.IO", "ghcr.io:443", "ghcr.io.", "Ghcr.Io.:443"] {
            let r = Request::parse(&format!("oci://{spelling}/acme/x"), &config()).unwrap();
            assert_eq!(r.repository.registry, "ghcr.io", "{spelling}");
        }
        let r = Request::parse("oci://LOCALHOST:5000/x", &config()).unwrap();
        assert_eq!(r.repository.registry, "localhost:5000");
        let err = Request::parse("oci://alice:Secr3t@host/x", &config()).unwrap_err();
        assert!(!err.to_string().contains("Secr3t"), "{err}");
        let err = Request::parse("oci://alice:Secr3t@host", &config()).unwrap_err();
        assert!(!err.to_string().contains("Secr3t"), "{err}");
    }

    #[test]
    fn plain_http_only_for_loopback_or_listed() {
        let config = RegistryConfig {
            insecure: vec!["registry.lan:5000".into()],
            ..config()
        };
        for yes in [
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "registry.lan:5000",
        ] {
            assert!(config.is_plain_http(yes), "{yes}");
        }
        for no in [
            "ghcr.io",
            "127.0.0.1.example.com:5000",
            "registry.lan",
            "localhostx:1",
        ] {
            assert!(!config.is_plain_http(no), "{no}");
        }
    }

    #[test]
    fn paths_are_not_references() {
        for path in [
            "./hello",
            "/tmp/x",
            "../x",
            "~/x",
            "examples/rust-skill/x/y",
        ] {
            assert!(!looks_like_reference(path), "{path}");
        }
        for name in ["hello", "hello@^1", "team/hello", "oci://x/y"] {
            assert!(looks_like_reference(name), "{name}");
        }
    }
}
