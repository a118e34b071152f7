//! Channels as visitors meet them: lookup by the public key in the snippet, the allowed-origins
//! check, and `GET /v1/widget/{channel_key}`, the loader's one request per page view.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::{Json, Router};
use protocol::WidgetBootstrap;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::store::ChannelRecord;
use crate::{captcha, now_ms, rules, sessions};

pub mod admin;

/// The visitor-facing route; the admin API is in [`admin`].
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/widget/{channel_key}", get(widget_bootstrap))
}

pub async fn by_key(state: &AppState, key: &str) -> Result<ChannelRecord> {
    state
        .store
        .channel_by_key(key)
        .await?
        .ok_or_else(|| Error::ChannelNotFound(key.to_owned()))
}

/// The `Origin` header, if the client sent one.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
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

#[derive(Debug, Deserialize)]
struct BootstrapQuery {
    /// The visit ticket this browser kept from an earlier page view, if it kept one.
    ticket: Option<String>,
}

async fn widget_bootstrap(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
    query: Result<Query<BootstrapQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<WidgetBootstrap>> {
    let Query(query) = query?;
    let channel = by_key(&state, &channel_key).await?;
    check_origin(
        &channel,
        request_origin(&headers),
        &state.config.public_url(),
    )?;
    let previous = query
        .ticket
        .as_deref()
        .and_then(|t| sessions::verify_visit_ticket(&state, t, &channel.id));
    let ticket =
        sessions::next_visit_ticket(previous, &channel.id, now_ms(), state.config.visit_gap_secs);
    Ok(Json(WidgetBootstrap {
        channel_key: channel.key.clone(),
        visibility: rules::visibility(&channel),
        appearance: channel.appearance.clone(),
        captcha: captcha::challenge(&state, &channel),
        visit_ticket: sessions::sign_visit_ticket(&state, &ticket),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Appearance, LauncherPosition};

    const OWN: &str = "https://chat.gateway.example";

    fn channel(origins: &[&str]) -> ChannelRecord {
        ChannelRecord {
            id: "c".into(),
            key: "k".into(),
            name: "n".into(),
            secret: "s".into(),
            inactivity_timeout_secs: 60,
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            online: true,
            receptive: false,
            captcha: None,
            last_error: None,
            appearance: Appearance {
                title: "t".into(),
                greeting: "g".into(),
                accent_color: "#000".into(),
                position: LauncherPosition::BottomRight,
            },
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
