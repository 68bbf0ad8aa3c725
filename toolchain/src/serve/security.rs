//! Who may talk to the server: loopback needs nothing; any other address needs a bearer
//! token on every request (but `/health` and `/ready`, for load balancers). `/mcp`
//! additionally checks Host and Origin against DNS rebinding (rmcp's own checks).

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use skill_runtime::{Error, Result};

/// Environment variable read when `--token` is not given.
pub const TOKEN_ENV: &str = "SKILL_SERVE_TOKEN";

/// `localhost` counts as loopback as well as 127.0.0.0/8 and ::1.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The token a server bound to `host` runs with; refuses a non-loopback bind without one.
pub fn required_token(host: &str, token: Option<String>) -> Result<Option<String>> {
    let token = token.filter(|t| !t.is_empty());
    if token.is_none() && !is_loopback_host(host) {
        return Err(Error::invalid(format!(
            "refusing to serve on {host} without a bearer token: anyone who can reach it could run your skills"
        ))
        .with_hint(format!(
            "set {TOKEN_ENV} (or pass --token) to a long random secret, e.g. `export {TOKEN_ENV}=$(openssl rand -hex 32)`; clients send `Authorization: Bearer <token>`"
        )));
    }
    if let Some(t) = &token
        && t.len() < 16
    {
        return Err(
            Error::invalid("the bearer token is shorter than 16 characters")
                .with_hint("use a long random secret, e.g. `openssl rand -hex 32`"),
        );
    }
    Ok(token)
}

/// Host names `/mcp` accepts in the `Host` header.
pub fn allowed_hosts(bind_host: &str, extra: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !is_loopback_host(bind_host) && bind_host != "0.0.0.0" && bind_host != "::" {
        hosts.push(bind_host.to_string());
    }
    hosts.extend(extra.iter().cloned());
    hosts
}

/// Browser origins `/mcp` accepts: local pages on any port, plus the configured CORS origins.
pub fn allowed_origins(cors: &[String]) -> Vec<String> {
    let mut origins: Vec<String> = [
        "http://localhost:*",
        "http://127.0.0.1:*",
        "http://[::1]:*",
        "https://localhost:*",
        "https://127.0.0.1:*",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    origins.extend(cors.iter().filter(|o| o.as_str() != "*").cloned());
    origins
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
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => {
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

/// Compares without returning early, so response time does not reveal a matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_need_no_token_others_do() {
        assert!(required_token("127.0.0.1", None).unwrap().is_none());
        assert!(required_token("localhost", None).unwrap().is_none());
        assert!(required_token("::1", None).unwrap().is_none());
        let err = required_token("0.0.0.0", None).unwrap_err();
        assert!(err.hint().unwrap().contains(TOKEN_ENV));
        assert!(required_token("0.0.0.0", Some("short".into())).is_err());
        assert!(
            required_token("0.0.0.0", Some("x".repeat(32)))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
