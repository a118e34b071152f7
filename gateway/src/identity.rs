//! Visitors the site vouches for: the site's back end signs a short-lived JWT (HS256, the
//! channel's identity secret) naming its user, the host page passes it to
//! `LiveChat.identify({ token })`, and the gateway checks it here before it believes a word.
//!
//! The token's `sub` becomes the contact's external id; its `name` and `email` are verified
//! fields. A token lives at most [`MAX_LIFETIME_SECS`] (a token copied out of a page is soon
//! worthless), clocks may differ by [`LEEWAY_SECS`], and it names its channel (a token for one
//! site is no good on another site sharing the same back end).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::store::{ChannelRecord, Identified};

/// The furthest ahead a token's `exp` may be.
pub const MAX_LIFETIME_SECS: i64 = 10 * 60;
/// How far the site's clock and ours may disagree.
pub const LEEWAY_SECS: u64 = 120;
/// Bigger is not a token the README's three lines sign; refused before any parsing.
const MAX_TOKEN_BYTES: usize = 2048;
/// The longest `sub`, `name` or `email` kept.
const MAX_CLAIM_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    channel: String,
    exp: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// The person the token names, if the channel's identity secret signed it for this channel and
/// it is in time; `invalid_identity` saying why not otherwise.
pub fn verify(channel: &ChannelRecord, token: &str, now_ms: i64) -> Result<Identified> {
    let refused = |why: &str| Error::InvalidIdentity(why.to_owned());
    let secret = channel
        .identity_secret
        .as_deref()
        .ok_or_else(|| refused("the channel has no identity secret yet"))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refused("too long"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => refused("expired"),
        jsonwebtoken::errors::ErrorKind::InvalidSignature => refused("wrong signature"),
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => refused("must be signed with HS256"),
        _ => refused("not a token with sub, channel and exp"),
    })?
    .claims;
    let latest_exp = now_ms / 1000 + MAX_LIFETIME_SECS + i64::try_from(LEEWAY_SECS).unwrap_or(0);
    if claims.exp > latest_exp {
        return Err(refused("expires more than 10 minutes ahead"));
    }
    if claims.channel != channel.key {
        return Err(refused("for another channel"));
    }
    let sub = claims.sub.trim();
    if sub.is_empty() || sub.chars().count() > MAX_CLAIM_CHARS {
        return Err(refused("sub must be 1 to 200 characters"));
    }
    let field = |value: Option<String>| {
        value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_CLAIM_CHARS)
    };
    Ok(Identified {
        external_id: sub.to_owned(),
        name: field(claims.name),
        email: field(claims.email).and_then(|e| crate::email::valid_address(&e).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const NOW_MS: i64 = 1_800_000_000_000;

    fn channel() -> ChannelRecord {
        ChannelRecord {
            identity_secret: Some("s3cret-of-the-site".into()),
            ..ChannelRecord::new("Shop", 60)
        }
    }

    fn sign(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn claims(channel: &ChannelRecord, exp_in_secs: i64) -> serde_json::Value {
        json!({"sub": "user-42", "channel": channel.key, "exp": NOW_MS / 1000 + exp_in_secs,
               "name": "Ada", "email": "ada@example.com"})
    }

    fn why(result: Result<Identified>) -> String {
        match result {
            Err(Error::InvalidIdentity(why)) => why,
            other => panic!("expected invalid_identity, got {other:?}"),
        }
    }

    // jsonwebtoken checks `exp` against the real clock: the tests sign relative to it.
    fn real_now_ms() -> i64 {
        crate::now_ms()
    }

    #[test]
    fn a_token_the_site_signed_names_the_person() {
        let channel = channel();
        let now = real_now_ms();
        let token = sign(
            json!({"sub": " user-42 ", "channel": channel.key, "exp": now / 1000 + 300,
                   "name": "Ada", "email": "not an address"}),
            "s3cret-of-the-site",
        );
        let who = verify(&channel, &token, now).unwrap();
        assert_eq!(
            who,
            Identified {
                external_id: "user-42".into(),
                name: Some("Ada".into()),
                email: None,
            }
        );
    }

    #[test]
    fn forged_expired_long_lived_and_foreign_tokens_are_refused() {
        let channel = channel();
        let now = real_now_ms();
        let at = |secs: i64| {
            let mut c = claims(&channel, 0);
            c["exp"] = json!(now / 1000 + secs);
            c
        };
        assert_eq!(
            why(verify(&channel, &sign(at(300), "guessed"), now)),
            "wrong signature"
        );
        // Two minutes of skew are forgiven, not more.
        assert!(verify(&channel, &sign(at(-100), "s3cret-of-the-site"), now).is_ok());
        assert_eq!(
            why(verify(&channel, &sign(at(-200), "s3cret-of-the-site"), now)),
            "expired"
        );
        assert_eq!(
            why(verify(&channel, &sign(at(3600), "s3cret-of-the-site"), now)),
            "expires more than 10 minutes ahead"
        );
        let mut foreign = at(300);
        foreign["channel"] = json!("another-key");
        assert_eq!(
            why(verify(&channel, &sign(foreign, "s3cret-of-the-site"), now)),
            "for another channel"
        );
        let mut anonymous = at(300);
        anonymous.as_object_mut().unwrap().remove("sub");
        assert!(verify(&channel, &sign(anonymous, "s3cret-of-the-site"), now).is_err());
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &at(300),
            &EncodingKey::from_secret(b"s3cret-of-the-site"),
        )
        .unwrap();
        assert!(verify(&channel, &hs512, now).is_err());
        assert!(verify(&channel, "not.a.jwt", now).is_err());
        assert!(verify(&channel, &"x".repeat(5000), now).is_err());
    }

    #[test]
    fn a_channel_without_an_identity_secret_identifies_nobody() {
        let mut channel = channel();
        let token = sign(claims(&channel, 300), "s3cret-of-the-site");
        channel.identity_secret = None;
        assert!(verify(&channel, &token, NOW_MS).is_err());
    }
}
