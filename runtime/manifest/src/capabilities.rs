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
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Most entries (directories, hosts, variables) one skill may ask for.
const MAX_REQUESTS: usize = 256;

/// `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters: what shells and programs accept as a
/// name, and nothing that could carry terminal escapes into a review.
pub fn validate_env_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("is not a variable name"))
    }
}

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
    /// Skills whose tools this one may call (`call-tool`). Never written in skill.yaml's
    /// `capabilities:`: filled in from `skill_dependencies`, so that calling them is reviewed
    /// and approved per instance like any other permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
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
            && self.calls.is_empty()
    }

    /// Rejects what could never be granted safely, before anyone is asked.
    pub fn validate(&self) -> Result<()> {
        for grant in &self.filesystem {
            crate::text::check_text("a filesystem path in skill.yaml", &grant.path, 4096, false)?;
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
        if self.filesystem.len() + self.network.len() + self.env.len() > MAX_REQUESTS {
            return Err(Error::invalid(format!(
                "skill.yaml asks for more than {MAX_REQUESTS} capabilities"
            )));
        }
        for host in &self.network {
            HostPattern::parse(host)?;
        }
        for var in &self.env {
            validate_env_name(var).map_err(|e| {
                Error::invalid(format!(
                    "`{}` in capabilities.env {}",
                    crate::text::escape(var, false),
                    e.message()
                ))
                .with_hint("environment variable names are letters, digits and `_`, not starting with a digit")
            })?;
        }
        self.limits.apply(&Limits::default())?;
        Ok(())
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
            calls: self
                .calls
                .iter()
                .filter(|c| !granted.calls.contains(c))
                .cloned()
                .collect(),
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
                crate::text::escape(&g.path, false)
            ));
        }
        for h in &self.network {
            let shown = HostPattern::parse(h).map_or_else(
                |_| crate::text::escape(h, false).into_owned(),
                |p| p.to_string(),
            );
            lines.push(format!("Connect to {shown} over HTTP(S)"));
        }
        for v in &self.env {
            lines.push(format!(
                "Read the environment variable {}",
                crate::text::escape(v, false)
            ));
        }
        for skill in &self.calls {
            lines.push(format!(
                "Call the tools of {} (which run with {}'s own permissions and secrets)",
                crate::text::escape(skill, false),
                crate::text::escape(skill, false)
            ));
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

pub fn capitalize(s: &str) -> String {
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

/// Where a request goes: an IP literal, or a host name (lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ip(IpAddr),
    Name(String),
}

impl Target {
    /// The host part of a request's authority (`[::1]` for IPv6). `None` when it is neither a
    /// canonical IP address nor a valid DNS name (`127.1` and `0x7f000001` included).
    pub fn parse(host: &str) -> Option<Target> {
        let host = host.to_ascii_lowercase();
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return inner
                .parse::<std::net::Ipv6Addr>()
                .ok()
                .map(|ip| Target::Ip(ip.into()));
        }
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            return Some(Target::Ip(ip.into()));
        }
        if let Ok(ip) = host.parse::<std::net::Ipv6Addr>() {
            return Some(Target::Ip(ip.into()));
        }
        dns_name(&host).then_some(Target::Name(host))
    }
}

/// A valid DNS name that cannot be read as a number: labels of 1-63 letters, digits and inner
/// hyphens, at most 253 characters, and a last label that is not numeric (resolvers read
/// `2130706433`, `127.1` and `0x7f.1` as IPv4 addresses).
fn dns_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let numeric = |l: &str| {
        l.chars().all(|c| c.is_ascii_digit())
            || (l.starts_with("0x") && l[2..].chars().all(|c| c.is_ascii_hexdigit()))
    };
    !name.is_empty()
        && name.len() <= 253
        && labels.iter().all(label_ok)
        && !numeric(labels.last().expect("split gives one"))
}

/// A granted network host: an exact name (`api.github.com`), a wildcard over a name's
/// subdomains (`*.example.com`, not `example.com` itself), or an IP literal (`127.0.0.1`,
/// `[::1]`), each with an optional port. Without a port only 80 and 443 are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: PatternHost,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternHost {
    Name(String),
    Subdomains(String),
    Ip(IpAddr),
}

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!("`{pattern}` is not a host to grant: {why}")).with_hint(
                "write a host name such as `api.example.com`, `*.example.com` (its subdomains) or an IP address such as `203.0.113.7`, optionally with `:PORT`",
            )
        };
        let text = pattern.trim().to_ascii_lowercase();
        if text.contains("://") || text.contains('/') {
            return Err(bad("give the host alone, without scheme or path"));
        }
        if text.contains('@') {
            return Err(bad("user info is not part of a host"));
        }
        let (host, port) = split_host_port(&text)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let host = if let Some(suffix) = host.strip_prefix("*.") {
            if !dns_name(suffix) {
                return Err(bad("a wildcard covers the subdomains of a host name"));
            }
            if !suffix.contains('.') {
                return Err(bad(
                    "a wildcard over a top-level domain matches far too much",
                ));
            }
            PatternHost::Subdomains(suffix.to_string())
        } else {
            match Target::parse(host) {
                Some(Target::Ip(ip)) if ip.is_unspecified() => {
                    return Err(bad(
                        "the unspecified address means this machine; grant the address of the service instead",
                    ));
                }
                Some(Target::Ip(ip)) => PatternHost::Ip(ip),
                Some(Target::Name(name)) => PatternHost::Name(name),
                None => {
                    return Err(bad(
                        "not a host name or an IP address written the usual way (e.g. 127.0.0.1, not 127.1 or 2130706433)",
                    ));
                }
            }
        };
        Ok(HostPattern { host, port })
    }

    /// For an IP literal that is not a global address: what kind it is (loopback, private...).
    pub fn local_kind(&self) -> Option<&'static str> {
        match self.host {
            PatternHost::Ip(ip) => non_global(ip),
            _ => None,
        }
    }

    /// Whether a request to `target` on `port` is granted by this pattern.
    pub fn allows(&self, target: &Target, port: u16) -> bool {
        let port_ok = match self.port {
            Some(p) => p == port,
            None => port == 80 || port == 443,
        };
        port_ok
            && match (&self.host, target) {
                (PatternHost::Name(n), Target::Name(t)) => n == t,
                (PatternHost::Subdomains(s), Target::Name(t)) => {
                    t.len() > s.len() + 1
                        && t.ends_with(s.as_str())
                        && t.as_bytes()[t.len() - s.len() - 1] == b'.'
                }
                (PatternHost::Ip(ip), Target::Ip(t)) => ip == t,
                _ => false,
            }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            PatternHost::Name(n) => f.write_str(n)?,
            PatternHost::Subdomains(s) => write!(f, "*.{s}")?,
            PatternHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            PatternHost::Ip(ip) => write!(f, "{ip}")?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// `host[:port]`, `[v6]:port`, or a bare IPv6 address. `None` when the port is not a port.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p > 0);
    if text.starts_with('[') {
        let end = text.find(']')?;
        let (host, rest) = text.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(p) => Some((host, Some(port(p)?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    if text.matches(':').count() > 1 {
        return Some((text, None));
    }
    match text.split_once(':') {
        Some((host, p)) => Some((host, Some(port(p)?))),
        None => Some((text, None)),
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

/// Why an address is not one a host name may lead to, if it is not.
pub fn non_global(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() {
                Some("multicast")
            } else if v4.is_broadcast() || a >= 240 {
                Some("reserved")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared address space")
            } else if v4.is_documentation()
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0)
            {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_global(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("unique local")
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
                // Local-use NAT64 (64:ff9b:1::/48): whatever the network maps it to.
                Some("reserved")
            } else if s[..6] == [0; 6] {
                // IPv4-compatible (::a.b.c.d, deprecated): the IPv4 address decides.
                non_global(embedded_v4(s[6], s[7]))
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64: the embedded IPv4 address decides.
                non_global(embedded_v4(s[6], s[7]))
            } else if s[0] == 0x2002 {
                // 6to4 likewise.
                non_global(embedded_v4(s[1], s[2]))
            } else if s[0] == 0x2001 && s[1] == 0xdb8 {
                Some("reserved")
            } else {
                None
            }
        }
    }
}

/// The IPv4 address carried in two 16-bit groups of an IPv6 address.
fn embedded_v4(high: u16, low: u16) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::from(
        (u32::from(high) << 16) | u32::from(low),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_by_subdomain() {
        let name = |h: &str| Target::parse(h).unwrap();
        let exact = HostPattern::parse("api.github.com").unwrap();
        assert!(exact.allows(&name("api.github.com"), 443));
        assert!(exact.allows(&name("API.github.com"), 80));
        assert!(
            !exact.allows(&name("api.github.com"), 8080),
            "no port: 80 and 443 only"
        );
        assert!(!exact.allows(&name("evil-api.github.com"), 443));
        assert!(!exact.allows(&name("api.github.com.evil.org"), 443));
        let wild = HostPattern::parse("*.example.com").unwrap();
        assert!(wild.allows(&name("a.example.com"), 443));
        assert!(wild.allows(&name("a.b.example.com"), 443));
        assert!(!wild.allows(&name("example.com"), 443));
        assert!(!wild.allows(&name("badexample.com"), 443));
        let port = HostPattern::parse("127.0.0.1:8080").unwrap();
        assert!(port.allows(&name("127.0.0.1"), 8080));
        assert!(!port.allows(&name("127.0.0.1"), 9090));
        assert!(
            !port.allows(&name("localhost"), 8080),
            "a name is not its address"
        );
        let v6 = HostPattern::parse("[::1]:3000").unwrap();
        assert_eq!(v6.to_string(), "[::1]:3000");
        assert!(v6.allows(&name("[::1]"), 3000));
        for bad in [
            "https://x.com/",
            "*",
            "2130706433",
            "0x7f000001",
            "127.1",
            "0177.0.0.1",
            "*.1",
            "*.0.0.1",
            "*.com",
            ".",
            "a..b.com",
            "user@host.com",
            "host.com:0",
            "host.com:99999",
            "-bad.com",
            "x.com.",
            "",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "`{bad}` was accepted");
        }
        assert_eq!(
            HostPattern::parse(" API.Example.COM ").unwrap().to_string(),
            "api.example.com"
        );
    }

    #[test]
    fn env_names() {
        for ok in ["LANG", "_X", "a1_B"] {
            assert!(validate_env_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "A-B", "LANG\r\u{1b}[2A", "A=B", "A B"] {
            assert!(validate_env_name(bad).is_err(), "{bad}");
        }
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

    #[test]
    fn addresses_a_name_may_not_lead_to() {
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("100.64.0.1", "shared address space"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd00::1", "unique local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b:1::1", "reserved"),
            ("::127.0.0.1", "loopback"),
            ("::10.0.0.1", "private"),
        ] {
            assert_eq!(non_global(ip.parse().unwrap()), Some(kind), "{ip}");
        }
        for ip in ["93.184.215.14", "1.1.1.1", "2606:4700::1111"] {
            assert_eq!(non_global(ip.parse().unwrap()), None, "{ip}");
        }
    }
}
