//! What a skill asks for in `skill.yaml` (`capabilities:`), what the user approved for one
//! instance (a [`Grants`] record), and how the two are compared and described in plain words.
//!
//! ```yaml
//! capabilities:
//!   filesystem:
//!     - path: ~/notes          # `~` is the user's home; the guest sees the same path
//!       access: read           # read | read-write
//!   network: [api.github.com, "*.example.com"]
//!   env: [LANG]                # host variables passed through
//!   limits: { timeout: 10s, memory: 64MiB, output: 1MiB }
//! ```

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::runtime::{Limits, Preopen, Sandbox};

/// The `capabilities:` section of skill.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Capabilities {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filesystem: Vec<PathGrant>,
    /// Hosts the skill may reach over wasi:http: `api.example.com` or `*.example.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network: Vec<String>,
    /// Host environment variables the guest may read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "LimitSpec::is_empty")]
    pub limits: LimitSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathGrant {
    pub path: String,
    #[serde(default)]
    pub access: Access,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    Read,
    ReadWrite,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::ReadWrite => "read and write",
        })
    }
}

/// Limits as written by people: `timeout: 10s`, `memory: 64MiB`, `output: 1MiB`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl LimitSpec {
    pub fn is_empty(&self) -> bool {
        self.timeout.is_none() && self.memory.is_none() && self.output.is_none()
    }

    /// Sets one limit from `key=value` (`timeout=5s`), checking the value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "timeout" => {
                parse_duration(value)?;
                self.timeout = Some(value.to_string());
            }
            "memory" => {
                parse_size(value)?;
                self.memory = Some(value.to_string());
            }
            "output" => {
                parse_size(value)?;
                self.output = Some(value.to_string());
            }
            other => {
                return Err(
                    Error::invalid(format!("unknown limit `{other}`")).with_hint(
                        "limits are timeout (e.g. 10s), memory (e.g. 64MiB) and output (e.g. 1MiB)",
                    ),
                );
            }
        }
        Ok(())
    }

    /// `base` with these values laid over it.
    pub fn apply(&self, base: &Limits) -> Result<Limits> {
        let mut limits = base.clone();
        if let Some(t) = &self.timeout {
            limits.timeout = parse_duration(t)?;
        }
        if let Some(m) = &self.memory {
            limits.memory_bytes = parse_size(m)?;
        }
        if let Some(o) = &self.output {
            limits.output_bytes = parse_size(o)?;
        }
        Ok(limits)
    }

    /// Later values win, field by field.
    pub fn overlay(&self, over: &LimitSpec) -> LimitSpec {
        LimitSpec {
            timeout: over.timeout.clone().or_else(|| self.timeout.clone()),
            memory: over.memory.clone().or_else(|| self.memory.clone()),
            output: over.output.clone().or_else(|| self.output.clone()),
        }
    }
}

impl Capabilities {
    pub fn is_empty(&self) -> bool {
        self.filesystem.is_empty()
            && self.network.is_empty()
            && self.env.is_empty()
            && self.limits.is_empty()
    }

    /// Rejects what could never be granted safely, before anyone is asked.
    pub fn validate(&self) -> Result<()> {
        for grant in &self.filesystem {
            let expanded = expand_home(&grant.path)?;
            if !expanded.is_absolute() {
                return Err(Error::invalid(format!(
                    "filesystem path `{}` in skill.yaml is not absolute",
                    grant.path
                ))
                .with_hint("write an absolute path or one starting with `~/`"));
            }
            if expanded.components().any(|c| c == Component::ParentDir) {
                return Err(Error::invalid(format!(
                    "filesystem path `{}` in skill.yaml contains `..`",
                    grant.path
                )));
            }
            if expanded == Path::new("/") {
                return Err(
                    Error::invalid("skill.yaml asks for the whole filesystem (`/`)")
                        .with_hint("ask for the directories the skill needs"),
                );
            }
        }
        for host in &self.network {
            HostPattern::parse(host)?;
        }
        for var in &self.env {
            if var.is_empty() || var.contains('=') {
                return Err(Error::invalid(format!(
                    "`{var}` in capabilities.env is not a variable name"
                )));
            }
        }
        self.limits.apply(&Limits::default())?;
        Ok(())
    }

    /// A sandbox granting exactly these capabilities, with `data_dir` as the guest's `/data`.
    /// A granted directory that does not exist (yet) is simply not there for the guest.
    pub fn sandbox(&self, data_dir: &Path) -> Result<Sandbox> {
        let mut sandbox = Sandbox {
            preopens: vec![Preopen {
                host: data_dir.to_path_buf(),
                guest: crate::instance::GUEST_DATA_DIR.to_string(),
                writable: true,
            }],
            ..Default::default()
        };
        for grant in &self.filesystem {
            let host = expand_home(&grant.path)?;
            if host.is_dir() {
                sandbox.preopens.push(Preopen {
                    guest: host.to_string_lossy().into_owned(),
                    host,
                    writable: grant.access == Access::ReadWrite,
                });
            }
        }
        for var in &self.env {
            if let Ok(value) = std::env::var(var) {
                sandbox.env.push((var.clone(), value));
            }
        }
        for host in &self.network {
            sandbox.network.push(HostPattern::parse(host)?);
        }
        Ok(sandbox)
    }

    /// What `self` asks for beyond `granted` (limits count when they are larger).
    pub fn beyond(&self, granted: &Capabilities) -> Capabilities {
        let mut more = Capabilities {
            filesystem: self
                .filesystem
                .iter()
                .filter(|g| {
                    !granted.filesystem.iter().any(|h| {
                        h.path == g.path && (h.access == Access::ReadWrite || g.access == h.access)
                    })
                })
                .cloned()
                .collect(),
            network: self
                .network
                .iter()
                .filter(|h| !granted.network.contains(h))
                .cloned()
                .collect(),
            env: self
                .env
                .iter()
                .filter(|v| !granted.env.contains(v))
                .cloned()
                .collect(),
            limits: LimitSpec::default(),
        };
        let larger =
            |asked: &Option<String>, had: &Option<String>, parse: fn(&str) -> Option<u128>| {
                match (asked, had) {
                    (Some(a), Some(h)) => parse(a).zip(parse(h)).is_some_and(|(a, h)| a > h),
                    (Some(_), None) => true,
                    _ => false,
                }
                .then(|| asked.clone())
                .flatten()
            };
        let secs = |s: &str| parse_duration(s).ok().map(|d| d.as_millis());
        let bytes = |s: &str| parse_size(s).ok().map(|b| b as u128);
        more.limits.timeout = larger(&self.limits.timeout, &granted.limits.timeout, secs);
        more.limits.memory = larger(&self.limits.memory, &granted.limits.memory, bytes);
        more.limits.output = larger(&self.limits.output, &granted.limits.output, bytes);
        more
    }

    /// One plain line per request, for the install review.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for g in &self.filesystem {
            lines.push(format!(
                "{} files in {}",
                capitalize(&g.access.to_string()),
                g.path
            ));
        }
        for h in &self.network {
            lines.push(format!("Connect to {h} over HTTP(S)"));
        }
        for v in &self.env {
            lines.push(format!("Read the environment variable {v}"));
        }
        if let Some(t) = &self.limits.timeout {
            lines.push(format!("Run for up to {t} per call"));
        }
        if let Some(m) = &self.limits.memory {
            lines.push(format!("Use up to {m} of memory"));
        }
        if let Some(o) = &self.limits.output {
            lines.push(format!("Write up to {o} of output"));
        }
        lines
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `~/x` → `$HOME/x`; other paths unchanged.
pub fn expand_home(path: &str) -> Result<PathBuf> {
    if path == "~" || path.starts_with("~/") {
        let home = std::env::var_os("HOME")
            .ok_or_else(|| Error::invalid(format!("`{path}` needs $HOME, which is not set")))?;
        Ok(PathBuf::from(home).join(path.trim_start_matches('~').trim_start_matches('/')))
    } else {
        Ok(PathBuf::from(path))
    }
}

/// A granted network host: exact (`api.github.com`) or a wildcard (`*.example.com`, which
/// matches subdomains only, not `example.com` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<Self> {
        let p = pattern.trim().to_ascii_lowercase();
        let name = p.strip_prefix("*.").unwrap_or(&p);
        let ok = !name.is_empty()
            && !name.contains('*')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
        if !ok {
            return Err(
                Error::invalid(format!("`{pattern}` is not a host name")).with_hint(
                    "write a host such as `api.example.com` or `*.example.com` (no scheme or path)",
                ),
            );
        }
        Ok(HostPattern(p))
    }

    /// `host` may carry a port (`localhost:8080`); a pattern without one matches any port.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let (name, _) = split_port(&host);
        let (pattern_name, pattern_port) = split_port(&self.0);
        if pattern_port.is_some() && host != self.0 {
            return false;
        }
        match pattern_name.strip_prefix("*.") {
            Some(suffix) => name.len() > suffix.len() + 1 && name.ends_with(&format!(".{suffix}")),
            None => name == pattern_name,
        }
    }
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => (name, Some(port)),
        _ => (host, None),
    }
}

/// `500ms`, `10s`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (number, unit) = split_unit(t);
    let value: f64 = number
        .parse()
        .map_err(|_| bad_limit(text, "a duration such as 10s or 500ms"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(bad_limit(text, "a duration such as 10s or 500ms")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 24.0 * 3600.0) {
        return Err(bad_limit(text, "a duration between 1ms and 24h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `64MiB`, `1GiB`, `512KiB`, `1MB`, or a bare number of bytes.
pub fn parse_size(text: &str) -> Result<usize> {
    let t = text.trim();
    let (number, unit) = split_unit(t);
    let value: f64 = number
        .parse()
        .map_err(|_| bad_limit(text, "a size such as 64MiB"))?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad_limit(text, "a size such as 64MiB")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && (1.0..=64.0 * 1024.0 * 1024.0 * 1024.0).contains(&bytes)) {
        return Err(bad_limit(text, "a size between 1 byte and 64GiB"));
    }
    Ok(bytes as usize)
}

fn split_unit(t: &str) -> (&str, &str) {
    let at = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    (t[..at].trim(), t[at..].trim())
}

fn bad_limit(text: &str, expected: &str) -> Error {
    Error::invalid(format!("`{text}` is not {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_by_subdomain() {
        let exact = HostPattern::parse("api.github.com").unwrap();
        assert!(exact.matches("api.github.com"));
        assert!(exact.matches("API.github.com:443"));
        assert!(!exact.matches("evil-api.github.com"));
        assert!(!exact.matches("api.github.com.evil.org"));
        let wild = HostPattern::parse("*.example.com").unwrap();
        assert!(wild.matches("a.example.com"));
        assert!(wild.matches("a.b.example.com"));
        assert!(!wild.matches("example.com"));
        assert!(!wild.matches("badexample.com"));
        let port = HostPattern::parse("127.0.0.1:8080").unwrap();
        assert!(port.matches("127.0.0.1:8080"));
        assert!(!port.matches("127.0.0.1:9090"));
        assert!(HostPattern::parse("https://x.com/").is_err());
        assert!(HostPattern::parse("*").is_err());
    }

    #[test]
    fn limits_parse_and_compare() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert!(parse_size("lots").is_err());
        assert!(parse_duration("-1s").is_err());
        let asked = Capabilities {
            limits: LimitSpec {
                memory: Some("128MiB".into()),
                timeout: Some("5s".into()),
                ..Default::default()
            },
            network: vec!["a.com".into(), "b.com".into()],
            ..Default::default()
        };
        let granted = Capabilities {
            limits: LimitSpec {
                memory: Some("64MiB".into()),
                timeout: Some("10s".into()),
                ..Default::default()
            },
            network: vec!["a.com".into()],
            ..Default::default()
        };
        let more = asked.beyond(&granted);
        assert_eq!(more.network, vec!["b.com".to_string()]);
        assert_eq!(more.limits.memory.as_deref(), Some("128MiB"));
        assert_eq!(more.limits.timeout, None);
        assert!(asked.beyond(&asked).is_empty());
    }
}
