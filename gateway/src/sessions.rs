//! Visitor sessions: the signed visit ticket of each page view, the short-lived session token
//! that `POST /v1/sessions` hands out, and the visitor socket `WS /v1/visitor/ws` it opens.
//!
//! No conversation exists until the visitor's first message: opening and closing the widget
//! stores nothing.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{CreateSession, EndReason, SessionCreated, VisitorClientFrame, VisitorServerFrame};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::time::Instant;

use crate::conversations;
use crate::error::{ApiJson, Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::socket::{self, Delivered, Incoming};
use crate::state::AppState;
use crate::store::ChannelRecord;
use crate::tokens::random_token;
use crate::{captcha, channels, limits, now_ms, rules};
use tokio::sync::broadcast::error::RecvError;

const VISIT_TICKET: &str = "visit-ticket";
const SESSION_TOKEN: &str = "session-token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/visitor/ws", get(visitor_ws))
}

/// Who is viewing the page, which visit this is, and when the page view began: all decided by
/// the gateway and signed, so the browser cannot claim a longer dwell or a later visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitTicket {
    /// Each ticket opens at most one chat; renewing gives the page view a new id.
    #[serde(default)]
    pub id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub visit: u32,
    /// When this page view began.
    pub viewed_at_ms: i64,
    #[serde(default)]
    pub issued_at_ms: i64,
    /// When this visitor id was first given out: it is remembered for `visitor_memory_secs`
    /// from then, not from its latest use, so a copied ticket cannot be kept alive for ever.
    #[serde(default)]
    pub first_seen_ms: i64,
}

/// A ticket opens a chat only this long after it was issued (the widget renews older ones), so a
/// ticket copied out of a browser is soon worthless, and used ids need not be kept for longer.
pub const TICKET_TTL_MS: i64 = 60 * 60 * 1000;

/// The longest page URL kept; longer ones are dropped rather than cut.
const MAX_PAGE_URL: usize = 2048;

/// The page URL if it is one: not too long, no control characters (which no URL has, and
/// PostgreSQL would refuse as NUL), else none.
pub fn page_url_within_limit(url: Option<String>) -> Option<String> {
    url.filter(|u| u.len() <= MAX_PAGE_URL && !u.chars().any(char::is_control))
}

/// The ticket for a new page view: a returning visitor (first seen less than `visitor_memory`
/// ago) keeps its id, and its visit number goes up when the previous page view is older than
/// the visit gap.
pub fn next_visit_ticket(
    previous: Option<VisitTicket>,
    channel_id: &str,
    now_ms: i64,
    config: &crate::config::Config,
) -> VisitTicket {
    let remembered = previous.filter(|prev| {
        now_ms.saturating_sub(prev.first_seen_ms) < crate::secs_to_ms(config.visitor_memory_secs)
    });
    let (visitor_id, visit, first_seen_ms) = match remembered {
        Some(prev) if now_ms - prev.viewed_at_ms >= crate::secs_to_ms(config.visit_gap_secs) => {
            (prev.visitor_id, prev.visit + 1, prev.first_seen_ms)
        }
        Some(prev) => (prev.visitor_id, prev.visit, prev.first_seen_ms),
        None => (uuid::Uuid::new_v4().to_string(), 1, now_ms),
    };
    VisitTicket {
        id: random_token(12),
        channel_id: channel_id.to_owned(),
        visitor_id,
        visit,
        viewed_at_ms: now_ms,
        issued_at_ms: now_ms,
        first_seen_ms,
    }
}

/// The same page view under a fresh ticket: for opening a chat again on a page where the first
/// ticket was used or grew old. Dwell time keeps counting from the page view's start. Only for
/// `page_view_max` after that start: a ticket copied out of a page is not a lasting credential.
pub fn renew_visit_ticket(
    ticket: VisitTicket,
    now_ms: i64,
    config: &crate::config::Config,
) -> Result<VisitTicket> {
    if now_ms.saturating_sub(ticket.viewed_at_ms) >= crate::secs_to_ms(config.page_view_max_secs) {
        return Err(Error::VisitTicketExpired);
    }
    Ok(VisitTicket {
        id: random_token(12),
        issued_at_ms: now_ms,
        ..ticket
    })
}

pub fn sign_visit_ticket(state: &AppState, ticket: &VisitTicket) -> String {
    state.signer.sign(VISIT_TICKET, ticket)
}

/// The ticket's claims if it is genuine and belongs to this channel.
pub fn verify_visit_ticket(state: &AppState, token: &str, channel_id: &str) -> Option<VisitTicket> {
    state
        .signer
        .verify::<VisitTicket>(VISIT_TICKET, token)
        .filter(|t| t.channel_id == channel_id)
}

/// What a session token grants: this visitor, on this channel, from this origin, until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Identifies this session, so the gateway can end it before the token expires.
    pub session_id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub origin: Option<String>,
    pub page_url: Option<String>,
    /// From the visit ticket, for agents.
    #[serde(default)]
    pub visit: Option<u32>,
    /// The browser's `User-Agent`, cut short, for agents.
    #[serde(default)]
    pub user_agent: Option<String>,
    pub expires_at_ms: i64,
}

/// Enough of a `User-Agent` to tell the browser and the system.
const MAX_USER_AGENT_CHARS: usize = 300;

/// Checks signature, expiry and origin binding.
pub fn verify_session_token(
    state: &AppState,
    token: &str,
    origin: Option<&str>,
    now_ms: i64,
) -> Result<SessionClaims> {
    let claims: SessionClaims = state
        .signer
        .verify(SESSION_TOKEN, token)
        .ok_or(Error::InvalidSessionToken)?;
    if claims.expires_at_ms <= now_ms {
        return Err(Error::SessionExpired);
    }
    if claims.origin.as_deref() != origin {
        return Err(Error::OriginNotAllowed(origin.unwrap_or("").to_owned()));
    }
    Ok(claims)
}

async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CreateSession>,
) -> Result<Json<SessionCreated>> {
    let origin = crate::auth::request_origin(&headers);
    let channel = channels::by_key(&state, &request.channel_key).await?;
    channels::check_origin(&channel, origin, &state.config.public_origin())?;
    let client = crate::peer::client_ip(&state.config, peer.ip(), &headers);
    // The ticket first: requests without a genuine one must not spend the channel's allowance.
    let ticket = verify_visit_ticket(&state, &request.visit_ticket, &channel.id)
        .ok_or(Error::InvalidVisitTicket)?;
    let now = now_ms();
    if now - ticket.issued_at_ms > TICKET_TTL_MS {
        return Err(Error::VisitTicketExpired);
    }
    let limits = &state.limits;
    limits::check(&[
        (&limits.sessions_per_ip, &crate::peer::limit_key(client)),
        (&limits.sessions_per_channel, &channel.id),
    ])?;
    let page_url = page_url_within_limit(request.page_url);
    let page_view = rules::PageView {
        visit: ticket.visit,
        viewed_at_ms: ticket.viewed_at_ms,
        page_url: page_url.as_deref(),
    };
    rules::decide_now(&state, &channel, page_view)
        .await?
        .allow_session()?;
    captcha::verify(
        &state,
        &channel,
        request.captcha_token.as_deref(),
        client,
        origin,
    )
    .await?;
    // Last, so a refused captcha leaves the ticket usable for the retry.
    if !state
        .store
        .use_visit_ticket(&ticket.id, ticket.issued_at_ms + TICKET_TTL_MS, now)
        .await?
    {
        return Err(Error::VisitTicketUsed);
    }
    let ttl_secs = state.config.session_ttl_secs;
    let claims = SessionClaims {
        session_id: random_token(16),
        channel_id: channel.id,
        visitor_id: ticket.visitor_id.clone(),
        origin: origin.map(str::to_owned),
        page_url,
        visit: Some(ticket.visit),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
        expires_at_ms: now.saturating_add(crate::secs_to_ms(ttl_secs)),
    };
    Ok(Json(SessionCreated {
        session_token: state.signer.sign(SESSION_TOKEN, &claims),
        visitor_id: ticket.visitor_id,
        expires_in_secs: ttl_secs,
    }))
}

#[derive(Debug, Deserialize)]
struct VisitorWsQuery {
    token: String,
    /// The conversation the client's `resume_after` refers to.
    conversation_id: Option<String>,
    #[serde(default)]
    resume_after: i64,
}

/// The upgrade re-checks the token and the `Origin` header: a socket is never opened for a
/// page the channel does not allow, whatever the browser's CORS handling did.
async fn visitor_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<VisitorWsQuery>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let Query(query) = query?;
    let origin = crate::auth::request_origin(&headers);
    let claims = verify_session_token(&state, &query.token, origin, now_ms())?;
    if state.store.session_ended(&claims.session_id).await? {
        return Err(Error::SessionEnded);
    }
    let channel = state
        .store
        .channel_by_id(&claims.channel_id)
        .await?
        .ok_or(Error::InvalidSessionToken)?;
    channels::check_origin(&channel, origin, &state.config.public_origin())?;
    let resume = query.conversation_id.map(|id| (id, query.resume_after));
    let client = crate::peer::client_ip(&state.config, peer.ip(), &headers);
    Ok(socket::configure(upgrade).on_upgrade(move |ws| async move {
        if let Err(e) = visitor_socket(state, channel, claims, client, ws, resume).await {
            tracing::warn!(error = %e, "visitor socket ended with an error");
        }
    }))
}

fn message_frame(message: protocol::ChatMessage) -> VisitorServerFrame {
    VisitorServerFrame::Message { message }
}

async fn visitor_socket(
    state: AppState,
    channel: ChannelRecord,
    claims: SessionClaims,
    ip: IpAddr,
    mut ws: WebSocket,
    resume: Option<(String, i64)>,
) -> Result<()> {
    // Subscribe before reading the store, so nothing committed in between is missed.
    let mut events = state.hub.subscribe(Topic::Visitor {
        channel_key: channel.key.clone(),
        visitor_id: claims.visitor_id.clone(),
    });
    let mut delivered = Delivered::default();
    let latest = state
        .store
        .latest_conversation(&channel.id, &claims.visitor_id)
        .await?;
    let ready = VisitorServerFrame::Ready {
        conversation_id: latest.as_ref().map(|c| c.id.clone()),
        status: latest.as_ref().map(|c| c.status),
    };
    if !socket::send(&mut ws, &ready).await {
        return Ok(());
    }
    // Where the visitor's typing notices go: the conversation they write in.
    let mut current = latest.as_ref().map(|c| c.id.clone());
    if let Some(conversation) = latest {
        let after = match resume {
            Some((id, after)) if id == conversation.id => after,
            _ => 0,
        };
        delivered.follow(&conversation.id, after);
        if !socket::catch_up(
            &mut ws,
            &state.store,
            &mut delivered,
            &conversation.id,
            message_frame,
        )
        .await?
        {
            return Ok(());
        }
    }
    // The session ends, on the server, after the channel's timeout without a message or typing.
    let idle_limit = Duration::from_secs(
        u64::try_from(channel.inactivity_timeout_secs)
            .unwrap_or(1)
            .max(1),
    );
    let mut idle_deadline = Instant::now() + idle_limit;
    let mut typing = socket::TypingThrottle::default();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(idle_deadline) => {
                return end_session(&state, &claims, &mut ws, EndReason::Inactive, channel.inactivity_timeout_secs).await;
            }
            incoming = socket::receive::<VisitorClientFrame>(&mut ws) => match incoming {
                Incoming::Frame(VisitorClientFrame::Typing) => {
                    idle_deadline = Instant::now() + idle_limit;
                    let now = std::time::Instant::now();
                    if let Some(conversation_id) = current.as_ref().filter(|id| typing.allow(id, now)) {
                        state.hub.publish(
                            Topic::Conversation(conversation_id.clone()),
                            HubEvent::Typing { conversation_id: conversation_id.clone(), agent_name: None },
                        );
                    }
                }
                Incoming::Frame(VisitorClientFrame::Send { client_id, text }) => {
                    idle_deadline = Instant::now() + idle_limit;
                    let reply = match conversations::post_visitor_message(&state, &channel, &claims, ip, &client_id, &text).await {
                        Ok(appended) => {
                            current = Some(appended.message.conversation_id.clone());
                            VisitorServerFrame::Ack {
                                client_id,
                                conversation_id: appended.message.conversation_id,
                                seq: appended.message.seq,
                            }
                        }
                        Err(e) => VisitorServerFrame::Error {
                            code: e.code().into(),
                            message: e.reported().error.message,
                            client_id: Some(client_id),
                        },
                    };
                    if !socket::send(&mut ws, &reply).await {
                        return Ok(());
                    }
                }
                Incoming::Refused(code, message) => {
                    let frame = VisitorServerFrame::Error { code: code.into(), message, client_id: None };
                    if !socket::send(&mut ws, &frame).await {
                        return Ok(());
                    }
                }
                Incoming::Ignored => {}
                Incoming::Closed => return Ok(()),
            },
            event = events.recv() => match event {
                Ok(HubEvent::Message(message)) => {
                    if !socket::deliver(&mut ws, &state.store, &mut delivered, message, message_frame).await? {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Conversation(conversation)) => {
                    let frame = VisitorServerFrame::Status { conversation_id: conversation.id, status: conversation.status };
                    if !socket::send(&mut ws, &frame).await {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Typing { agent_name: Some(agent_name), .. }) => {
                    if !socket::send(&mut ws, &VisitorServerFrame::Typing { agent_name }).await {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Typing { agent_name: None, .. }) => {}
                Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => {
                    if !socket::recover_lag(&mut ws, &state.store, &mut delivered, message_frame).await? {
                        return Ok(());
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// Records the end (so the token cannot reopen a socket), tells the widget why, and closes.
async fn end_session(
    state: &AppState,
    claims: &SessionClaims,
    ws: &mut WebSocket,
    reason: EndReason,
    after_secs: i64,
) -> Result<()> {
    let reason_name = match reason {
        EndReason::Inactive => "inactive",
    };
    let ended = protocol::EndedSession {
        session_id: claims.session_id.clone(),
        visitor_id: claims.visitor_id.clone(),
        reason: reason_name.to_owned(),
    };
    state
        .store
        .end_session(&ended, &claims.channel_id, now_ms())
        .await?;
    socket::send(ws, &VisitorServerFrame::SessionEnded { reason, after_secs }).await;
    let _ = ws.send(axum::extract::ws::Message::Close(None)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::Config;

    fn config() -> Config {
        Config {
            visit_gap_secs: 1800,
            visitor_memory_secs: 10 * 24 * 3600,
            page_view_max_secs: 3600,
            ..Config::default()
        }
    }

    #[test]
    fn a_new_visitor_starts_at_visit_one() {
        let t = next_visit_ticket(None, "c", 1_000, &config());
        assert_eq!(
            (
                t.visit,
                t.viewed_at_ms,
                t.first_seen_ms,
                t.channel_id.as_str()
            ),
            (1, 1_000, 1_000, "c")
        );
    }

    #[test]
    fn the_visit_number_grows_only_after_the_gap() {
        let first = next_visit_ticket(None, "c", 0, &config());
        let same_visit = next_visit_ticket(Some(first.clone()), "c", 1_799_999, &config());
        assert_eq!(
            (same_visit.visit, &same_visit.visitor_id),
            (1, &first.visitor_id)
        );
        let next_visit = next_visit_ticket(
            Some(same_visit.clone()),
            "c",
            1_799_999 + 1_800_000,
            &config(),
        );
        assert_eq!(
            (next_visit.visit, &next_visit.visitor_id),
            (2, &first.visitor_id)
        );
    }

    #[test]
    fn a_visitor_is_remembered_from_its_first_page_view_not_its_last() {
        let day = 24 * 3600 * 1000;
        let mut ticket = next_visit_ticket(None, "c", 0, &config());
        let first_id = ticket.visitor_id.clone();
        // Used every day, it still runs out ten days after the first page view.
        for at in (1..10).map(|d| d * day) {
            ticket = next_visit_ticket(Some(ticket), "c", at, &config());
            assert_eq!(ticket.visitor_id, first_id);
        }
        let later = next_visit_ticket(Some(ticket), "c", 10 * day, &config());
        assert_ne!(later.visitor_id, first_id);
        assert_eq!((later.visit, later.first_seen_ms), (1, 10 * day));
    }

    #[test]
    fn a_page_view_renews_its_ticket_for_a_bounded_time_only() {
        let ticket = next_visit_ticket(None, "c", 0, &config());
        let renewed = renew_visit_ticket(ticket.clone(), 3_599_999, &config()).unwrap();
        assert_ne!(renewed.id, ticket.id);
        assert_eq!((renewed.viewed_at_ms, renewed.issued_at_ms), (0, 3_599_999));
        assert!(matches!(
            renew_visit_ticket(renewed, 3_600_000, &config()),
            Err(Error::VisitTicketExpired)
        ));
    }
}
