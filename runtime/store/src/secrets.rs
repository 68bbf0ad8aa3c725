//! Secrets at rest: XChaCha20-Poly1305 with a random 24-byte nonce per write, the instance's
//! identity as associated data (a secrets file copied to another instance does not decrypt),
//! and a 32-byte key in `$SKILL_HOME/secret.key` (0600).
//!
//! The key is created once, with create-if-absent semantics, so two processes racing to create
//! it end up with the same key. A damaged key is an error, never silently replaced: that would
//! make every stored secret unreadable.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::home::SkillHome;
use skill_manifest::error::{Error, ErrorKind, Remedy, Result};

const MAGIC: &[u8; 4] = b"SKS1";
const NONCE_LEN: usize = 24;

pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    pub fn open(home: &SkillHome) -> Result<Self> {
        let key = load_or_create_key(&home.secret_key_file())?;
        Ok(SecretBox {
            cipher: XChaCha20Poly1305::new((&key).into()),
        })
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::internal(format!("no randomness for a nonce: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::internal("encrypting secrets failed"))?;
        Ok([MAGIC.as_slice(), &nonce, &sealed].concat())
    }

    pub fn unseal(&self, data: &[u8], context: &str, path: &Path) -> Result<Vec<u8>> {
        let damaged = || {
            Error::new(
                ErrorKind::Io,
                format!(
                    "{} cannot be decrypted (damaged, or written with another key)",
                    path.display()
                ),
            )
            .with_hint("the old values cannot be recovered")
            .with_remedy(Remedy::SetSecretsAgain)
        };
        let body = data.strip_prefix(MAGIC.as_slice()).ok_or_else(damaged)?;
        if body.len() < NONCE_LEN {
            return Err(damaged());
        }
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| damaged())
    }
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32]> {
    crate::fsutil::load_or_create_key(
        path,
        "restore it from a backup; without it stored secrets cannot be read",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_context_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let home = SkillHome::at(dir.path());
        let sb = SecretBox::open(&home).unwrap();
        let sealed = sb.seal(b"hunter2", "aws@prod").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        let p = Path::new("x");
        assert_eq!(sb.unseal(&sealed, "aws@prod", p).unwrap(), b"hunter2");
        assert!(sb.unseal(&sealed, "aws@staging", p).is_err());
        // Reopening reads the same key.
        let again = SecretBox::open(&home).unwrap();
        assert_eq!(again.unseal(&sealed, "aws@prod", p).unwrap(), b"hunter2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.secret_key_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(home.secret_key_file(), b"short").unwrap();
        assert!(SecretBox::open(&home).is_err());
    }
}
