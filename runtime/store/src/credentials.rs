//! Registry credentials from `skill login`: `$SKILL_HOME/credentials`, a JSON map
//! `registry → {username, password}` sealed with the secrets key (never plaintext on disk,
//! never in argv), written atomically under the store lock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fsutil::{FileLock, write_private};
use crate::home::SkillHome;
use crate::secrets::SecretBox;
use skill_manifest::error::{Error, Result};

const FILE: &str = "credentials";
/// Associated data: a credentials file does not decrypt as anything else, nor the reverse.
const CONTEXT: &str = "registry-credentials";

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({}, ********)", self.username)
    }
}

pub struct Credentials {
    home: SkillHome,
}

impl Credentials {
    pub fn new(home: SkillHome) -> Self {
        Credentials { home }
    }

    /// The stored credential for `registry` (`HOST[:PORT]`), if any.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>> {
        Ok(self.load()?.remove(registry))
    }

    /// Registries with a stored credential, sorted.
    pub fn registries(&self) -> Result<Vec<String>> {
        Ok(self.load()?.into_keys().collect())
    }

    pub fn set(&self, registry: &str, credential: Credential) -> Result<()> {
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let mut all = self.load()?;
        all.insert(registry.to_string(), credential);
        self.save(&all)
    }

    /// Forgets `registry`'s credential; whether there was one.
    pub fn remove(&self, registry: &str) -> Result<bool> {
        let _lock = FileLock::exclusive(&self.home.lock_file())?;
        let mut all = self.load()?;
        let had = all.remove(registry).is_some();
        if had {
            self.save(&all)?;
        }
        Ok(had)
    }

    fn load(&self) -> Result<BTreeMap<String, Credential>> {
        let path = self.home.root().join(FILE);
        let sealed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let plain = SecretBox::open(&self.home)?.unseal(&sealed, CONTEXT, &path)?;
        serde_json::from_slice(&plain).map_err(|e| {
            Error::invalid(format!("{} is damaged: {e}", path.display()))
                .with_hint("log in again: `skill logout REGISTRY`, then `skill login REGISTRY`")
        })
    }

    fn save(&self, all: &BTreeMap<String, Credential>) -> Result<()> {
        std::fs::create_dir_all(self.home.root())
            .map_err(|e| Error::io("create directory", self.home.root(), e))?;
        let plain = serde_json::to_vec(all).expect("credentials serialize");
        let sealed = SecretBox::open(&self.home)?.seal(&plain, CONTEXT)?;
        write_private(&self.home.root().join(FILE), &sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_sealed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::new(SkillHome::at(dir.path()));
        assert_eq!(creds.get("localhost:5000").unwrap(), None);
        let alice = Credential {
            username: "alice".into(),
            password: "hunter2-secret".into(),
        };
        creds.set("localhost:5000", alice.clone()).unwrap();
        assert_eq!(creds.get("localhost:5000").unwrap(), Some(alice));
        let on_disk = std::fs::read(dir.path().join(FILE)).unwrap();
        assert!(!on_disk.windows(14).any(|w| w == b"hunter2-secret"));
        assert!(!format!("{:?}", creds.get("localhost:5000").unwrap()).contains("hunter2"));
        assert!(creds.remove("localhost:5000").unwrap());
        assert!(!creds.remove("localhost:5000").unwrap());
        assert!(creds.registries().unwrap().is_empty());
    }
}
