//! Signatures other tools verify: cosign's key-based format. A signature is an ECDSA P-256
//! (SHA-256) signature over a "simple signing" JSON payload that names the manifest digest;
//! it is stored in the same repository under the tag `sha256-<hex>.sig` as an image manifest
//! whose layers are payloads (`application/vnd.dev.cosign.simplesigning.v1+json`), each with
//! its base64 signature in the `dev.cosignproject.cosign/signature` annotation. Public keys
//! are SPKI PEM (`cosign verify --key skill.pub` reads them), private keys PKCS#8 PEM.

use base64::Engine as _;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature};
pub use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use skill_manifest::error::{Error, Result};

pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Largest signature payload read (a real one is ~250 bytes).
pub const MAX_PAYLOAD: i64 = 64 << 10;

/// A new key pair: (private PKCS#8 PEM, public SPKI PEM).
pub fn generate() -> Result<(String, String)> {
    let key = SigningKey::random(&mut rand_core::OsRng);
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::internal(format!("cannot encode the key: {e}")))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::internal(format!("cannot encode the key: {e}")))?;
    Ok((private.to_string(), public))
}

pub fn parse_private(pem: &str, shown: &str) -> Result<SigningKey> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
        Error::invalid(format!(
            "{shown} is not an unencrypted P-256 private key (PKCS#8 PEM): {e}"
        ))
        .with_hint("make one with `skill key generate NAME`")
    })
}

pub fn parse_public(pem: &str, shown: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
        Error::invalid(format!("{shown} is not a P-256 public key (PEM): {e}"))
            .with_hint("use the .pub file `skill key generate` wrote, or a cosign.pub")
    })
}

/// The payload cosign signs for `docker_reference` (`REGISTRY/PATH`) at `digest`.
pub fn payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": { "docker-reference": docker_reference },
            "image": { "docker-manifest-digest": digest },
            "type": "cosign container image signature",
        },
        "optional": null,
    }))
    .expect("a payload serializes")
}

/// Base64 of the DER signature, as cosign writes it.
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let signature: Signature = key.sign(payload);
    let der: DerSignature = signature.to_der();
    base64::engine::general_purpose::STANDARD.encode(der.as_bytes())
}

/// Whether `signature` (base64 DER) is `key`'s over `payload`, and the payload vouches for
/// exactly `digest`.
pub fn verifies(key: &VerifyingKey, payload: &[u8], signature: &str, digest: &str) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = DerSignature::from_bytes(&der) else {
        return false;
    };
    if key.verify(payload, &signature).is_err() {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(payload).is_ok_and(|p| {
        p["critical"]["image"]["docker-manifest-digest"] == digest
            && p["critical"]["type"] == "cosign container image signature"
    })
}

/// The name of the first trusted key with a valid signature of `digest` among
/// `signatures` ((payload, base64 signature) pairs); keys that do not parse are skipped.
pub fn first_valid<'a>(
    keys: &'a [skill_store::trust::TrustedKey],
    signatures: &[(Vec<u8>, String)],
    digest: &str,
) -> Option<&'a str> {
    keys.iter().find_map(|key| {
        let public = parse_public(&key.public_key, &key.name).ok()?;
        signatures
            .iter()
            .any(|(payload, signature)| verifies(&public, payload, signature, digest))
            .then_some(key.name.as_str())
    })
}

/// The tag a manifest's signatures live under: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_only_the_named_digest() {
        let (private, public) = generate().unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        let key = parse_private(&private, "k").unwrap();
        let public = parse_public(&public, "p").unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let payload = payload("localhost:5000/acme/hello", &digest);
        let signature = sign(&key, &payload);
        assert!(verifies(&public, &payload, &signature, &digest));
        let other = format!("sha256:{}", "b".repeat(64));
        assert!(!verifies(&public, &payload, &signature, &other));
        let mut changed = payload.clone();
        changed[10] ^= 1;
        assert!(!verifies(&public, &changed, &signature, &digest));
        let (_, stranger) = generate().unwrap();
        let stranger = parse_public(&stranger, "s").unwrap();
        assert!(!verifies(&stranger, &payload, &signature, &digest));
        assert!(!verifies(&public, &payload, "not base64!", &digest));
        assert_eq!(
            signature_tag(&digest),
            format!("sha256-{}.sig", "a".repeat(64))
        );
    }
}
