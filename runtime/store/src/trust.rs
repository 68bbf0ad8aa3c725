//! Signing keys and trust policy under `$SKILL_HOME`:
//!
//! - `keys/NAME.key` — a private signing key (`skill key generate`), sealed with the secrets
//!   key; `keys/NAME.pub` — its public key, PEM, to hand to others.
//! - `trust.json` — which public keys a registry or namespace (`HOST[:PORT][/PATH]`) must be
//!   signed with. A repository is governed by the longest scope it is in.
//!
//! Key formats are checked by the source crate (which knows the algorithm); this is storage.

use serde::{Deserialize, Serialize};

use crate::fsutil::{FileLock, write_atomic, write_private};
use crate::home::SkillHome;
use crate::secrets::SecretBox;
use skill_manifest::error::{Error, ErrorKind, Result};

const TRUST_FILE: &str = "trust.json";
const KEYS_DIR: &str = "keys";
const KEY_CONTEXT: &str = "signing-key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub name: String,
    /// SPKI PEM.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustScope {
    /// `HOST[:PORT]` or `HOST[:PORT]/PATH`.
    pub scope: String,
    pub keys: Vec<TrustedKey>,
}

pub struct Trust {
    home: SkillHome,
}

impl Trust {
    pub fn new(home: SkillHome) -> Self {
        Trust { home }
    }

    pub fn list(&self) -> Result<Vec<TrustScope>> {
        let path = self.home.root().join(TRUST_FILE);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        serde_json::from_slice(&text).map_err(|e| {
            Error::invalid(format!("{} is damaged: {e}", path.display())).with_hint(
                "fix it, or remove it and add the trusted keys again (`skill trust add`)",
            )
        })
    }

    /// Trusts `public_key` (as `name`) for `scope`; a key of the same name there is replaced.
    pub fn add(&self, scope: &str, key: TrustedKey) -> Result<()> {
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let mut all = self.list()?;
        match all.iter_mut().find(|s| s.scope == scope) {
            Some(existing) => {
                existing.keys.retain(|k| k.name != key.name);
                existing.keys.push(key);
            }
            None => all.push(TrustScope {
                scope: scope.to_string(),
                keys: vec![key],
            }),
        }
        all.sort_by(|a, b| a.scope.cmp(&b.scope));
        self.save(&all)
    }

    /// Removes one key of a scope, or the whole scope; how many keys went.
    pub fn remove(&self, scope: &str, name: Option<&str>) -> Result<usize> {
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let mut all = self.list()?;
        let mut removed = 0;
        for s in all.iter_mut().filter(|s| s.scope == scope) {
            let before = s.keys.len();
            s.keys.retain(|k| name.is_some_and(|n| k.name != n));
            removed += before - s.keys.len();
        }
        all.retain(|s| !s.keys.is_empty());
        if removed > 0 {
            self.save(&all)?;
        }
        Ok(removed)
    }

    /// The policy for `repository` (`HOST[:PORT]/PATH`): the longest scope that is it or
    /// contains it.
    pub fn policy_for(&self, repository: &str) -> Result<Option<TrustScope>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|s| {
                repository == s.scope
                    || repository
                        .strip_prefix(s.scope.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|s| s.scope.len()))
    }

    fn save(&self, all: &[TrustScope]) -> Result<()> {
        let json = serde_json::to_vec_pretty(all).expect("trust serializes");
        write_atomic(&self.home.root().join(TRUST_FILE), &json)
    }
}

/// Private signing keys made by `skill key generate`.
pub struct SigningKeys {
    home: SkillHome,
}

impl SigningKeys {
    pub fn new(home: SkillHome) -> Self {
        SigningKeys { home }
    }

    fn dir(&self) -> std::path::PathBuf {
        self.home.root().join(KEYS_DIR)
    }

    /// Stores a new key pair; refuses to replace an existing key (that would orphan every
    /// signature made with it). Returns the public key's path.
    pub fn create(
        &self,
        name: &str,
        private_pem: &str,
        public_pem: &str,
    ) -> Result<std::path::PathBuf> {
        check_key_name(name)?;
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let private = self.dir().join(format!("{name}.key"));
        if private.exists() {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("a signing key named `{name}` already exists"),
            )
            .with_hint(
                "choose another name; replacing a key would orphan the signatures made with it",
            ));
        }
        crate::fsutil::create_private_dir(&self.dir())?;
        let sealed = SecretBox::open(&self.home)?.seal(private_pem.as_bytes(), KEY_CONTEXT)?;
        let public = self.dir().join(format!("{name}.pub"));
        write_atomic(&public, public_pem.as_bytes())?;
        write_private(&private, &sealed)?;
        Ok(public)
    }

    /// The private key PEM of `name`.
    pub fn private_pem(&self, name: &str) -> Result<String> {
        check_key_name(name)?;
        let path = self.dir().join(format!("{name}.key"));
        let sealed = std::fs::read(&path).map_err(|e| {
            Error::io("read", &path, e)
                .with_hint("make one with `skill key generate NAME`, or pass a PEM file")
        })?;
        let pem = SecretBox::open(&self.home)?.unseal(&sealed, KEY_CONTEXT, &path)?;
        String::from_utf8(pem).map_err(|_| Error::invalid(format!("{} is damaged", path.display())))
    }
}

fn check_key_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`{}` is not a key name",
            skill_manifest::text::escape(name, false)
        ))
        .with_hint("lowercase letters, digits, `-` and `_`, at most 64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_scope_governs() {
        let dir = tempfile::tempdir().unwrap();
        let trust = Trust::new(SkillHome::at(dir.path()));
        let key = |name: &str| TrustedKey {
            name: name.into(),
            public_key: format!("PEM {name}"),
        };
        trust.add("ghcr.io", key("all")).unwrap();
        trust.add("ghcr.io/acme", key("acme")).unwrap();
        let policy = |r: &str| trust.policy_for(r).unwrap().map(|s| s.keys[0].name.clone());
        assert_eq!(policy("ghcr.io/acme/hello").as_deref(), Some("acme"));
        assert_eq!(policy("ghcr.io/acmex/hello").as_deref(), Some("all"));
        assert_eq!(policy("ghcr.iox/acme/hello"), None);
        assert_eq!(trust.remove("ghcr.io/acme", None).unwrap(), 1);
        assert_eq!(policy("ghcr.io/acme/hello").as_deref(), Some("all"));
    }
}
