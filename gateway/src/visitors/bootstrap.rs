//! The loader's requests: `GET /v1/widget/{channel_key}` once per page view (the decision, the
//! appearance, a new visit ticket) and `…/visibility` to recheck the same page view. Each call
//! also tells agents the visitor is on the site now ([`crate::store::LivePageView`]); while the
//! widget shows, the page calls back every `visitor_heartbeat_secs` so that a conversation an
//! agent starts reaches it without a socket.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use protocol::{IdentityMode, VisibilityUpdate, WidgetBootstrap};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tickets::{
    next_visit_ticket, page_url_within_limit, renew_visit_ticket, sign_visit_ticket,
    verify_visit_ticket, VisitTicket,
};
use crate::auth::page_origin;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{ChannelRecord, LivePageView};
use crate::{captcha, channels, email, identity, now_ms, rules};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(widget_bootstrap))
        .routes(routes!(widget_recheck))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageViewQuery {
    /// The bootstrap: the ticket this browser kept from an earlier page view, if it kept one.
    /// A recheck: this page view's ticket.
    ticket: Option<String>,
    /// The host page's URL, for page URL rules.
    page: Option<String>,
    /// The bootstrap: the token of an email's chat link (`#livechat=…`), which makes this page
    /// view the visitor the email went to, while the link is in time.
    resume: Option<String>,
    /// The site's identity token for the visitor (`LiveChat.identify`): agents see who is on
    /// the site; a channel requiring identity shows only with a valid one.
    identity: Option<String>,
}

/// Channel lookup and origin check shared by the loader's two requests.
pub(super) async fn visited_channel(
    state: &AppState,
    channel_key: &str,
    headers: &HeaderMap,
) -> Result<ChannelRecord> {
    let channel = channels::by_key(state, channel_key).await?;
    let own = state.config.public_origin();
    crate::auth::check_origin(&channel, page_origin(headers, &own), &own)?;
    Ok(channel)
}

fn page_view<'a>(ticket: &VisitTicket, page_url: Option<&'a str>) -> rules::PageView<'a> {
    rules::PageView {
        visit: ticket.visit,
        viewed_at_ms: ticket.viewed_at_ms,
        page_url,
    }
}

/// What a page view is told at one of its calls, beside its ticket.
struct PageAnswer {
    visibility: protocol::Visibility,
    leave_message: Option<protocol::LeaveMessage>,
    recheck_after_ms: Option<u64>,
    proactive: Option<String>,
    invited: bool,
}

/// Decides for the page view now, and records that the visitor is on the site.
async fn answer(
    state: &AppState,
    channel: &ChannelRecord,
    ticket: &VisitTicket,
    page_url: Option<String>,
    identity_token: Option<&str>,
    now: i64,
) -> Result<PageAnswer> {
    let view = page_view(ticket, page_url.as_deref());
    let decision = rules::decide_now(state, channel, view).await?;
    let leave_message = decision.leave_message(channel, now);
    let person = identity_token.and_then(|token| identity::verify(channel, token, now).ok());
    let admitted = person.is_some() || channel.identity == IdentityMode::Optional;
    // The widget shows when the rules say so, or to take a message while nobody can chat.
    let visibility = match (admitted, &leave_message) {
        (false, _) => protocol::Visibility::Hidden {
            reason: protocol::codes::IDENTITY_REQUIRED.to_owned(),
        },
        (true, Some(_)) => protocol::Visibility::Visible,
        (true, None) => decision.visibility(),
    };
    let shown = visibility == protocol::Visibility::Visible;
    let greeting = match shown && leave_message.is_none() {
        true => rules::proactive::greeting(channel.proactive.as_ref(), &view, now),
        false => rules::proactive::Greeting::default(),
    };
    let heartbeat_ms = shown.then(|| state.config.visitor_heartbeat_secs.max(1) * 1000);
    let recheck_after_ms = [decision.recheck_after_ms, greeting.due_in_ms, heartbeat_ms]
        .into_iter()
        .flatten()
        .min()
        .filter(|_| admitted);
    let (external_id, name, email) = match person {
        Some(p) => (Some(p.external_id), p.name, p.email),
        None => (None, None, None),
    };
    let invited = shown
        && state
            .store
            .take_invitation(&channel.id, &ticket.visitor_id)
            .await?;
    state.store.record_page_view(LivePageView {
        channel_id: channel.id.clone(),
        visitor_id: ticket.visitor_id.clone(),
        page_url,
        viewed_at_ms: ticket.viewed_at_ms,
        visit: ticket.visit,
        external_id,
        name,
        email,
        now_ms: now,
    });
    Ok(PageAnswer {
        visibility,
        leave_message: leave_message.filter(|_| admitted),
        recheck_after_ms,
        proactive: greeting.text,
        invited,
    })
}

/// Bootstrap: appearance, the visibility decision and a visit ticket.
///
/// Once per page view, from a page the channel allows.
#[utoipa::path(
    get,
    path = "/v1/widget/{channel_key}",
    tag = "Widget",
    params(PageViewQuery),
    responses((status = 200, description = "Done.", body = WidgetBootstrap))
)]
async fn widget_bootstrap(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
    query: Result<Query<PageViewQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<WidgetBootstrap>> {
    let Query(query) = query?;
    let channel = visited_channel(&state, &channel_key, &headers).await?;
    let now = now_ms();
    let resumed = match query.resume.as_deref() {
        Some(token) => email::tokens::resume(&state, token, &channel.id, now).await?,
        None => None,
    };
    let previous = query
        .ticket
        .as_deref()
        .and_then(|t| verify_visit_ticket(&state, t, &channel.id));
    let mut ticket = next_visit_ticket(previous, &channel.id, now, &state.config);
    if let Some(visitor_id) = resumed {
        ticket.visitor_id = visitor_id;
    }
    let page_url = page_url_within_limit(query.page);
    let answer = answer(
        &state,
        &channel,
        &ticket,
        page_url,
        query.identity.as_deref(),
        now,
    )
    .await?;
    Ok(Json(WidgetBootstrap {
        channel_key: channel.key.clone(),
        visibility: answer.visibility,
        leave_message: answer.leave_message,
        recheck_after_ms: answer.recheck_after_ms,
        remember_visits: channel.rules.repeat_visit.enabled,
        style: protocol::style(&channel.appearance),
        appearance: channel.appearance.clone(),
        captcha: captcha::challenge(&state, &channel),
        visit_ticket: sign_visit_ticket(&state, &ticket),
        proactive: answer.proactive,
        invited: answer.invited,
    }))
}

/// Decide again for the same page view; renews its ticket.
#[utoipa::path(
    get,
    path = "/v1/widget/{channel_key}/visibility",
    tag = "Widget",
    params(PageViewQuery),
    responses((status = 200, description = "Done.", body = VisibilityUpdate))
)]
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
        .and_then(|t| verify_visit_ticket(&state, t, &channel.id))
        .ok_or(Error::InvalidVisitTicket)?;
    // Refused before any work if the page view is past renewing.
    let now = now_ms();
    let renewed = renew_visit_ticket(ticket, now, &state.config)?;
    let page_url = page_url_within_limit(query.page);
    let answer = answer(
        &state,
        &channel,
        &renewed,
        page_url,
        query.identity.as_deref(),
        now,
    )
    .await?;
    Ok(Json(VisibilityUpdate {
        visibility: answer.visibility,
        leave_message: answer.leave_message,
        recheck_after_ms: answer.recheck_after_ms,
        visit_ticket: sign_visit_ticket(&state, &renewed),
        proactive: answer.proactive,
        invited: answer.invited,
    }))
}
