//! Signed tokens and random secrets.
//!
//! A signed token is `base64url(json claims) "." base64url(HMAC-SHA256(purpose "." payload))`.
//! The purpose is part of the MAC, so a visit ticket can never be replayed as a session token
//! (or the reverse) even though both are signed with the same key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, purpose: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(purpose.as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }

    /// The MAC of `bytes` for `purpose`, for a compact token that carries only its start.
    pub fn tag(&self, purpose: &str, bytes: &[u8]) -> [u8; 32] {
        self.mac(purpose, bytes).finalize().into_bytes().into()
    }

    /// Whether `tag` is the start (8 bytes or more) of the MAC of `bytes` for `purpose`,
    /// compared in constant time.
    pub fn tag_matches(&self, purpose: &str, bytes: &[u8], tag: &[u8]) -> bool {
        tag.len() >= 8 && self.mac(purpose, bytes).verify_truncated_left(tag).is_ok()
    }

    pub fn sign<T: Serialize>(&self, purpose: &str, claims: &T) -> String {
        let json = serde_json::to_vec(claims).expect("claims serialize");
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.tag(purpose, payload.as_bytes()));
        format!("{payload}.{tag}")
    }

    /// The claims, if the token was signed by this key for this purpose.
    pub fn verify<T: DeserializeOwned>(&self, purpose: &str, token: &str) -> Option<T> {
        let (payload, tag) = token.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        // verify_slice compares in constant time.
        self.mac(purpose, payload.as_bytes())
            .verify_slice(&tag)
            .ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// `bytes` random bytes from the OS, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Compares a presented secret with the real one by their digests, so the comparison's timing
/// says nothing about how much of the secret was right.
pub fn same_secret(presented: &str, real: &str) -> bool {
    Sha256::digest(presented.as_bytes()) == Sha256::digest(real.as_bytes())
}

/// Hex SHA-256, for storing bearer tokens without storing the tokens themselves.
pub fn sha256_hex(input: &str) -> String {
    hex(&Sha256::digest(input.as_bytes()))
}

/// Lower-case hexadecimal, as digests are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        who: String,
    }

    #[test]
    fn a_token_verifies_only_with_its_key_and_purpose() {
        let signer = Signer::new(b"key one");
        let token = signer.sign("visit", &Claims { who: "v1".into() });
        assert_eq!(
            signer.verify::<Claims>("visit", &token),
            Some(Claims { who: "v1".into() })
        );
        assert_eq!(signer.verify::<Claims>("session", &token), None);
        assert_eq!(
            Signer::new(b"key two").verify::<Claims>("visit", &token),
            None
        );
    }

    #[test]
    fn an_edited_payload_is_refused() {
        let signer = Signer::new(b"key");
        let token = signer.sign("visit", &Claims { who: "v1".into() });
        let (_, tag) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"who":"v2"}"#);
        assert_eq!(
            signer.verify::<Claims>("visit", &format!("{forged}.{tag}")),
            None
        );
        assert_eq!(signer.verify::<Claims>("visit", "garbage"), None);
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
    }
}
