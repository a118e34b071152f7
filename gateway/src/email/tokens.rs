//! The two tokens an email carries, both under the gateway's signing key and both expiring:
//!
//! - the **reply address** (`reply+{token}@…`): which conversation a visitor's emailed answer
//!   belongs to. Mail systems may change the case of an address and cap its local part at 64
//!   characters, so it is compact lower-case hex: the conversation's UUID, the expiry, and 8
//!   bytes of the MAC (forging one takes 2^64 tries at an endpoint behind its own secret).
//! - the **chat link** (`/chat/{key}#livechat={token}`): opens the chat on the channel's page as
//!   the visitor, for the conversation the email is about, and for no other (see [`resume`]).

use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::tokens::hex;

const REPLY_ADDRESS: &str = "email-reply";
const CHAT_LINK: &str = "email-chat-link";
const MAC_BYTES: usize = 8;

/// Why a reply token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not one the gateway signed.
    Forged,
    Expired,
}

/// The reply token of a conversation, valid until `expires_at_secs`.
pub fn reply_token(
    state: &AppState,
    conversation_id: &str,
    expires_at_secs: u32,
) -> Option<String> {
    let id = uuid::Uuid::parse_str(conversation_id).ok()?;
    let mut signed = id.as_bytes().to_vec();
    signed.extend_from_slice(&expires_at_secs.to_be_bytes());
    let mac = state.signer.tag(REPLY_ADDRESS, &signed);
    signed.extend_from_slice(&mac[..MAC_BYTES]);
    Some(hex(&signed))
}

/// The conversation a reply token names, if the gateway signed it and it has not expired.
pub fn verify_reply_token(state: &AppState, token: &str, now_secs: i64) -> Result<String, Refused> {
    let bytes = unhex(&token.to_ascii_lowercase()).ok_or(Refused::Forged)?;
    if bytes.len() != 16 + 4 + MAC_BYTES {
        return Err(Refused::Forged);
    }
    let (signed, mac) = bytes.split_at(20);
    if !state.signer.tag_matches(REPLY_ADDRESS, signed, mac) {
        return Err(Refused::Forged);
    }
    let expires = u32::from_be_bytes([signed[16], signed[17], signed[18], signed[19]]);
    if i64::from(expires) <= now_secs {
        return Err(Refused::Expired);
    }
    let id = uuid::Uuid::from_slice(&signed[..16]).map_err(|_| Refused::Forged)?;
    Ok(id.to_string())
}

/// The token in a reply address: `reply+{token}@domain` for a configured `reply@domain`.
pub fn token_in_address<'a>(address: &'a str, reply_to: &str) -> Option<&'a str> {
    let (local, domain) = address.rsplit_once('@')?;
    let (base_local, base_domain) = reply_to.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(base_domain) {
        return None;
    }
    let (base, token) = local.split_once('+')?;
    base.eq_ignore_ascii_case(base_local).then_some(token)
}

/// `reply@domain` with the token: `reply+{token}@domain`.
pub fn address_with_token(reply_to: &str, token: &str) -> Option<String> {
    let (local, domain) = reply_to.rsplit_once('@')?;
    Some(format!("{local}+{token}@{domain}"))
}

#[derive(Debug, Serialize, Deserialize)]
struct ChatLink {
    /// Channel, visitor, conversation.
    ch: String,
    v: String,
    c: String,
    exp: i64,
}

/// The link that reopens the conversation on the channel's chat page.
pub fn chat_link(
    state: &AppState,
    channel: (&str, &str),
    visitor_id: &str,
    conversation_id: &str,
    expires_at_ms: i64,
) -> String {
    let (channel_id, channel_key) = channel;
    let token = state.signer.sign(
        CHAT_LINK,
        &ChatLink {
            ch: channel_id.to_owned(),
            v: visitor_id.to_owned(),
            c: conversation_id.to_owned(),
            exp: expires_at_ms,
        },
    );
    format!(
        "{}/chat/{channel_key}#livechat={token}",
        state.config.public_url()
    )
}

/// The visitor a chat link lets its holder be on this channel: only while the link is in
/// time, and only while its conversation is still the visitor's latest (the widget shows the
/// latest; a newer conversation is not the link's to open).
pub async fn resume(
    state: &AppState,
    token: &str,
    channel_id: &str,
    now_ms: i64,
) -> crate::error::Result<Option<String>> {
    let Some(link) = state
        .signer
        .verify::<ChatLink>(CHAT_LINK, token)
        .filter(|link| link.ch == channel_id && link.exp > now_ms)
    else {
        return Ok(None);
    };
    let latest = state.store.latest_conversation(channel_id, &link.v).await?;
    Ok(latest.filter(|c| c.id == link.c).map(|_| link.v))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_addresses_carry_the_token_between_plus_and_at() {
        let token = "00ff";
        let address = address_with_token("reply@in.shop.example", token).unwrap();
        assert_eq!(address, "reply+00ff@in.shop.example");
        assert_eq!(
            token_in_address("Reply+00FF@IN.shop.example", "reply@in.shop.example"),
            Some("00FF")
        );
        assert_eq!(
            token_in_address("other+00ff@in.shop.example", "reply@in.shop.example"),
            None
        );
        assert_eq!(
            token_in_address("reply+00ff@elsewhere.example", "reply@in.shop.example"),
            None
        );
        assert_eq!(
            token_in_address("reply@in.shop.example", "reply@in.shop.example"),
            None
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }
}
