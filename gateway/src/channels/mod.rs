//! Channels as visitors meet them: lookup by the public key in the snippet, the allowed-origins
//! check, and `GET /v1/widget/{channel_key}`, the loader's one request per page view.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use protocol::{VisibilityUpdate, WidgetBootstrap};
use serde::Deserialize;

use crate::auth::request_origin;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::ChannelRecord;
use crate::{captcha, now_ms, rules, sessions};

pub mod admin;

/// The visitor-facing route; the admin API is in [`admin`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/widget/{channel_key}", get(widget_bootstrap))
        .route("/v1/widget/{channel_key}/visibility", get(widget_recheck))
}

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

#[derive(Debug, Deserialize)]
struct PageViewQuery {
    /// The bootstrap: the ticket this browser kept from an earlier page view, if it kept one.
    /// A recheck: this page view's ticket.
    ticket: Option<String>,
    /// The host page's URL, for page URL rules.
    page: Option<String>,
}

/// Channel lookup and origin check shared by the loader's two requests.
async fn visited_channel(
    state: &AppState,
    channel_key: &str,
    headers: &HeaderMap,
) -> Result<ChannelRecord> {
    let channel = by_key(state, channel_key).await?;
    check_origin(
        &channel,
        request_origin(headers),
        &state.config.public_origin(),
    )?;
    Ok(channel)
}

fn page_view<'a>(ticket: &sessions::VisitTicket, page_url: Option<&'a str>) -> rules::PageView<'a> {
    rules::PageView {
        visit: ticket.visit,
        viewed_at_ms: ticket.viewed_at_ms,
        page_url,
    }
}

/// A new page view: the decision, the appearance, and a new visit ticket.
async fn widget_bootstrap(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
    query: Result<Query<PageViewQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<WidgetBootstrap>> {
    let Query(query) = query?;
    let channel = visited_channel(&state, &channel_key, &headers).await?;
    let previous = query
        .ticket
        .as_deref()
        .and_then(|t| sessions::verify_visit_ticket(&state, t, &channel.id));
    let ticket = sessions::next_visit_ticket(previous, &channel.id, now_ms(), &state.config);
    let page_url = sessions::page_url_within_limit(query.page);
    let decision =
        rules::decide_now(&state, &channel, page_view(&ticket, page_url.as_deref())).await?;
    Ok(Json(WidgetBootstrap {
        channel_key: channel.key.clone(),
        visibility: decision.visibility(),
        recheck_after_ms: decision.recheck_after_ms,
        remember_visits: channel.rules.repeat_visit.enabled,
        appearance: channel.appearance.clone(),
        captcha: captcha::challenge(&state, &channel),
        visit_ticket: sessions::sign_visit_ticket(&state, &ticket),
    }))
}

/// The same page view again: presence or the clock may have changed the decision. Also renews
/// the ticket, so the widget can open another chat on this page.
async fn widget_recheck(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
    query: Result<Query<PageViewQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<VisibilityUpdate>> {
    let Query(query) = query?;
    let channel = visited_channel(&state, &channel_key, &headers).await?;
    let ticket = query
        .ticket
        .as_deref()
        .and_then(|t| sessions::verify_visit_ticket(&state, t, &channel.id))
        .ok_or(Error::InvalidVisitTicket)?;
    // Refused before any work if the page view is past renewing.
    let renewed = sessions::renew_visit_ticket(ticket, now_ms(), &state.config)?;
    let page_url = sessions::page_url_within_limit(query.page);
    let decision =
        rules::decide_now(&state, &channel, page_view(&renewed, page_url.as_deref())).await?;
    Ok(Json(VisibilityUpdate {
        visibility: decision.visibility(),
        recheck_after_ms: decision.recheck_after_ms,
        visit_ticket: sessions::sign_visit_ticket(&state, &renewed),
    }))
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
