//! Who may talk to the server.
//!
//! - Every route checks the `Host` header against the names the server answers to (DNS
//!   rebinding: a page whose name resolves to 127.0.0.1 sends its own name as Host), and,
//!   when a browser sends an `Origin`, that origin against the configured ones: none unless
//!   `--cors-origin` names them (browsers apply no CORS to WebSockets, so this check is what
//!   keeps web pages out of `/api/v1/ws`).
//! - Loopback needs no token but can use one (`--token auto`); any other address needs a bearer
//!   token on every request (but `/health` and `/ready`, for load balancers). A Unix socket
//!   (`--unix`) is guarded by its file permissions instead.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use skill_engine::{Error, Result, SkillHome};

/// Environment variable read when `--token` is not given.
pub const TOKEN_ENV: &str = "SKILL_SERVE_TOKEN";
/// Where `--token auto` keeps the token it generated (0600), for clients to read.
pub const TOKEN_FILE: &str = "serve.token";

/// `localhost` counts as loopback as well as 127.0.0.0/8 and ::1.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The token a server runs with: `auto` makes one (kept in `$SKILL_HOME/serve.token`, 0600,
/// and reused), `file:PATH` reads one. A non-loopback bind without a token is refused.
pub fn required_token(
    home: &SkillHome,
    host: &str,
    token: Option<String>,
) -> Result<Option<String>> {
    let token = match token.filter(|t| !t.is_empty()).as_deref() {
        Some("auto") => Some(auto_token(home)?),
        Some(spec) if spec.starts_with("file:") => Some(read_token_file(Path::new(&spec[5..]))?),
        Some(token) => Some(token.to_string()),
        None => None,
    };
    if token.is_none() && !is_loopback_host(host) {
        return Err(Error::invalid(format!(
            "refusing to serve on {host} without a bearer token: anyone who can reach it could run your skills"
        ))
        .with_hint(format!(
            "pass --token auto (a random token, saved in $SKILL_HOME/{TOKEN_FILE}), or set {TOKEN_ENV} to a long random secret; clients send `Authorization: Bearer <token>`"
        )));
    }
    if let Some(t) = &token
        && t.len() < 16
    {
        return Err(
            Error::invalid("the bearer token is shorter than 16 characters").with_hint(
                "use --token auto, or a long random secret such as `openssl rand -hex 32`",
            ),
        );
    }
    Ok(token)
}

/// The token in `$SKILL_HOME/serve.token`, made (random, 0600) when there is none.
fn auto_token(home: &SkillHome) -> Result<String> {
    let path = home.root().join(TOKEN_FILE);
    if let Ok(existing) = read_token_file(&path) {
        return Ok(existing);
    }
    let token = skill_store::fsutil::random_hex(32)?;
    skill_store::fsutil::write_private(&path, format!("{token}\n").as_bytes())?;
    Ok(token)
}

/// A token from a file: its first line, trimmed.
fn read_token_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    if token.is_empty() {
        return Err(Error::invalid(format!("{} holds no token", path.display()))
            .with_hint("write a long random secret on its first line, or use --token auto"));
    }
    Ok(token)
}

/// Host names every route accepts in the `Host` header.
pub fn allowed_hosts(bind_host: &str, extra: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !is_loopback_host(bind_host) && bind_host != "0.0.0.0" && bind_host != "::" {
        hosts.push(bind_host.to_string());
    }
    hosts.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
    hosts
}

/// `host` or `host:port` is listed as is, or its host part is listed without a port.
pub fn host_allowed(value: &str, allowed: &[String]) -> bool {
    let value = value.to_ascii_lowercase();
    let name = match value.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => value.as_str(),
    };
    allowed.iter().any(|a| *a == value || a == name)
}

/// The browser origins the server answers: exactly the configured ones (`--cors-origin`),
/// where `http://localhost:*` matches any port and `*` any origin.
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    pub fn new(configured: &[String]) -> Self {
        Origins(
            configured
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        )
    }

    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.0.iter().any(|allowed| {
            allowed == "*"
                || *allowed == origin
                || allowed.strip_suffix(":*").is_some_and(|base| {
                    origin == base
                        || origin
                            .strip_prefix(base)
                            .and_then(|rest| rest.strip_prefix(':'))
                            .is_some_and(|port| {
                                !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                            })
                })
        })
    }

    /// For rmcp's own check behind the guard (which is stricter): the configured origins
    /// and loopback pages (the guard lets only this server's own origin through of those).
    pub fn for_rmcp(&self) -> Vec<String> {
        [
            "http://localhost:*",
            "http://127.0.0.1:*",
            "http://[::1]:*",
            "https://localhost:*",
            "https://127.0.0.1:*",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(self.0.iter().filter(|o| o.as_str() != "*").cloned())
        .collect()
    }
}

/// What the guard layer checks on every request.
pub struct Guard {
    pub hosts: Vec<String>,
    pub origins: Origins,
}

impl Guard {
    /// Why a request must be refused, if it must.
    pub fn refusal(&self, headers: &HeaderMap, authority: Option<&str>) -> Option<String> {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or(authority);
        let host = match host {
            Some(host) if host_allowed(host, &self.hosts) => host,
            Some(host) => {
                return Some(format!(
                    "this server does not answer to the name `{}`",
                    skill_manifest::text::escape(host, false)
                ));
            }
            None => return Some("the request names no host".to_string()),
        };
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("(not text)");
            // A page of this very server's own origin is no other site (a rebinding page's
            // origin carries its own name, which is not an allowed Host).
            let same_origin = ["http://", "https://"]
                .iter()
                .any(|scheme| origin.eq_ignore_ascii_case(&format!("{scheme}{host}")));
            if !same_origin && !self.origins.allows(origin) {
                return Some(format!(
                    "pages from `{}` may not use this server",
                    skill_manifest::text::escape(origin, false)
                ));
            }
        }
        None
    }
}

/// The answer to a request the guard refuses.
pub fn forbidden(why: String) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({ "error": {
            "kind": "forbidden",
            "message": why,
            "hint": "a server reached under another name needs --allowed-host NAME; a web page needs --cors-origin ORIGIN",
        } })),
    )
        .into_response()
}

pub async fn require_token(
    State(token): State<Arc<String>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/health" || path == "/ready" {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given)
            if skill_store::fsutil::constant_time_eq(given.as_bytes(), token.as_bytes()) =>
        {
            next.run(request).await
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({ "error": {
                "kind": "unauthorized",
                "message": "missing or wrong bearer token",
                "hint": "send `Authorization: Bearer <token>` with the server's token",
            } })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_need_no_token_others_do() {
        let dir = tempfile::tempdir().unwrap();
        let home = SkillHome::at(dir.path());
        assert!(required_token(&home, "127.0.0.1", None).unwrap().is_none());
        assert!(required_token(&home, "localhost", None).unwrap().is_none());
        assert!(required_token(&home, "::1", None).unwrap().is_none());
        let err = required_token(&home, "0.0.0.0", None).unwrap_err();
        assert!(err.hint().unwrap().contains(TOKEN_ENV));
        assert!(required_token(&home, "0.0.0.0", Some("short".into())).is_err());
        assert!(
            required_token(&home, "0.0.0.0", Some("x".repeat(32)))
                .unwrap()
                .is_some()
        );
        // `auto` makes a token once and keeps it, readable by the owner only.
        let auto = required_token(&home, "0.0.0.0", Some("auto".into()))
            .unwrap()
            .unwrap();
        assert_eq!(auto.len(), 64);
        assert_eq!(
            required_token(&home, "127.0.0.1", Some("auto".into())).unwrap(),
            Some(auto.clone())
        );
        let file = format!("file:{}", dir.path().join(TOKEN_FILE).display());
        assert_eq!(
            required_token(&home, "0.0.0.0", Some(file)).unwrap(),
            Some(auto)
        );
    }

    #[test]
    fn hosts_match_with_or_without_a_port() {
        let allowed: Vec<String> = ["localhost", "127.0.0.1", "[::1]", "example.com:8443"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(host_allowed("127.0.0.1:3000", &allowed));
        assert!(host_allowed("LOCALHOST", &allowed));
        assert!(host_allowed("[::1]:80", &allowed));
        assert!(host_allowed("example.com:8443", &allowed));
        assert!(!host_allowed("example.com:80", &allowed));
        assert!(!host_allowed("evil.example:3000", &allowed));
        assert!(!host_allowed("localhost.evil.example", &allowed));
    }

    #[test]
    fn the_guard_checks_host_and_origin() {
        let guard = Guard {
            hosts: allowed_hosts("127.0.0.1", &[]),
            origins: Origins::new(&["http://localhost:5173".into()]),
        };
        let headers = |pairs: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            map
        };
        assert!(
            guard
                .refusal(&headers(&[("host", "127.0.0.1:3000")]), None)
                .is_none()
        );
        assert!(
            guard
                .refusal(&headers(&[("host", "evil.example:3000")]), None)
                .is_some()
        );
        assert!(guard.refusal(&headers(&[]), None).is_some());
        assert!(
            guard
                .refusal(&headers(&[]), Some("localhost:3000"))
                .is_none()
        );
        // Its own origin, and the configured one; nothing else.
        let with_origin = |origin: &str| {
            guard.refusal(
                &headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]),
                None,
            )
        };
        assert!(with_origin("http://127.0.0.1:3000").is_none());
        assert!(with_origin("http://localhost:5173").is_none());
        assert!(with_origin("http://localhost:8080").is_some());
        assert!(with_origin("http://127.0.0.1:3001").is_some());
        assert!(with_origin("null").is_some());
        assert!(with_origin("http://evil.example").is_some());
    }

    #[test]
    fn origins_only_as_configured() {
        let none = Origins::new(&[]);
        assert!(!none.allows("http://localhost:5173"));
        assert!(!none.allows("null"));
        let some = Origins::new(&["http://localhost:*".into(), "https://app.example".into()]);
        assert!(some.allows("http://localhost:5173"));
        assert!(some.allows("http://localhost"));
        assert!(!some.allows("http://localhost.evil.example"));
        assert!(!some.allows("http://localhost:5173.evil.example"));
        assert!(some.allows("https://app.example"));
        assert!(!some.allows("https://app.example.evil"));
        assert!(Origins::new(&["*".into()]).allows("http://anything"));
    }
}
