//! Channels: lookup by the public key in the snippet and the allowed-origins check, which every
//! visitor-facing request goes through; the admins' API to create and configure them is in
//! [`admin`].

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::ChannelRecord;

pub mod admin;

pub async fn by_key(state: &AppState, key: &str) -> Result<ChannelRecord> {
    state
        .store
        .channel_by_key(key)
        .await?
        .ok_or_else(|| Error::ChannelNotFound(key.to_owned()))
}

/// An empty allow-list admits any origin; otherwise the origin must equal one entry exactly
/// (scheme, host and port as the browser serialises them). A request without an `Origin` header
/// is refused by a restricted channel: browsers always send it on the widget's cross-origin
/// calls, so its absence means a client outside a browser page. The gateway's own origin is
/// always allowed: it serves each channel's hosted chat page (`/chat/{key}`).
pub fn check_origin(channel: &ChannelRecord, origin: Option<&str>, own_origin: &str) -> Result<()> {
    if channel.allowed_origins.is_empty() || origin == Some(own_origin) {
        return Ok(());
    }
    match origin {
        Some(origin)
            if channel
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin) =>
        {
            Ok(())
        }
        other => Err(Error::OriginNotAllowed(other.unwrap_or("").to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://chat.gateway.example";

    fn channel(origins: &[&str]) -> ChannelRecord {
        ChannelRecord {
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            ..ChannelRecord::new("n", 60)
        }
    }

    #[test]
    fn empty_allow_list_admits_any_origin_even_none() {
        assert!(check_origin(&channel(&[]), Some("https://a.example"), OWN).is_ok());
        assert!(check_origin(&channel(&[]), None, OWN).is_ok());
    }

    #[test]
    fn origins_compare_exactly() {
        let c = channel(&["https://shop.example"]);
        assert!(check_origin(&c, Some("https://shop.example"), OWN).is_ok());
        for wrong in [
            "https://shop.example/",
            "https://SHOP.example",
            "http://shop.example",
            "https://shop.example:8443",
            "https://shop.example.evil",
            "null",
        ] {
            assert!(
                check_origin(&c, Some(wrong), OWN).is_err(),
                "{wrong} must be refused"
            );
        }
        assert!(check_origin(&c, None, OWN).is_err());
        assert!(
            check_origin(&c, Some(OWN), OWN).is_ok(),
            "the hosted chat page is the channel's own"
        );
    }
}
