//! Who we are to a registry: the credential `skill login` stored (sealed), else what Docker's
//! `config.json` says (`auths`, `credHelpers`, `credsStore`, as every OCI tool reads it), else
//! anonymous. Bearer-token exchange after a registry's `WWW-Authenticate` challenge is
//! `oci-client`'s.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
pub use oci_client::secrets::RegistryAuth;
use skill_manifest::error::Result;
use skill_store::SkillHome;
use skill_store::credentials::Credentials;

/// A credential and where it came from (said in errors, never the secret).
#[derive(Clone)]
pub struct Login {
    pub auth: RegistryAuth,
    pub from: String,
}

impl Login {
    pub fn anonymous() -> Login {
        Login {
            auth: RegistryAuth::Anonymous,
            from: "anonymous".into(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self.auth, RegistryAuth::Anonymous)
    }
}

/// The credential to use for `registry` (`HOST[:PORT]`).
pub fn login_for(home: &SkillHome, registry: &str) -> Result<Login> {
    if let Some(c) = Credentials::new(home.clone()).get(registry)? {
        return Ok(Login {
            auth: RegistryAuth::Basic(c.username, c.password),
            from: "skill login".into(),
        });
    }
    Ok(docker_login(registry).unwrap_or_else(Login::anonymous))
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// `https://host:port/v1/` → `host:port`, as Docker keys its `auths`.
fn normalize(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn docker_login(registry: &str) -> Option<Login> {
    let path = docker_config_path()?;
    let file = std::fs::File::open(&path).ok()?;
    let mut text = String::new();
    file.take(1 << 20).read_to_string(&mut text).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.get(registry))
        .or_else(|| config.get("credsStore"))
        .and_then(|h| h.as_str());
    if let Some(helper) = helper
        && let Some((username, secret)) = credential_helper(helper, registry)
    {
        return Some(Login {
            auth: RegistryAuth::Basic(username, secret),
            from: format!("docker-credential-{helper}"),
        });
    }
    let auths = config.get("auths")?.as_object()?;
    let entry = auths
        .iter()
        .find(|(key, _)| normalize(key) == registry)
        .map(|(_, v)| v)?;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(Login {
        auth: RegistryAuth::Basic(username.to_string(), password.to_string()),
        from: path.display().to_string(),
    })
}

/// Docker's credential-helper protocol: `docker-credential-NAME get`, the registry on stdin,
/// `{"Username": …, "Secret": …}` on stdout. Bounded in time and output.
fn credential_helper(name: &str, registry: &str) -> Option<(String, String)> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return None;
    }
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let _ = child.stdin.take()?.write_all(registry.as_bytes());
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(64 << 10).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let out = reader.join().ok()?;
    let reply: serde_json::Value = serde_json::from_slice(&out).ok()?;
    Some((
        reply.get("Username")?.as_str()?.to_string(),
        reply.get("Secret")?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_keys_normalize() {
        assert_eq!(normalize("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize("localhost:5000"), "localhost:5000");
        assert_eq!(normalize("http://127.0.0.1:5000/"), "127.0.0.1:5000");
    }
}
