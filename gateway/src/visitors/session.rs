//! `POST /v1/sessions`: a genuine, fresh, unused visit ticket (and a solved captcha, where the
//! channel asks) becomes a short-lived session token bound to the page's origin.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use protocol::{CreateSession, IdentityMode, Problem, SessionCreated};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tickets::{page_url_within_limit, verify_visit_ticket, TICKET_TTL_MS};
use crate::auth::{request_origin, SessionClaims, SESSION_TOKEN};
use crate::conversations::VisitorContext;
use crate::error::{ApiJson, Error, Result};
use crate::state::AppState;
use crate::store::{VisitContext, MAX_ATTRIBUTE_KEY_CHARS, MAX_ATTRIBUTE_VALUE_CHARS};
use crate::tokens::random_token;
use crate::{captcha, channels, identity, now_ms, peer, rules};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_session))
}

/// Enough of a `User-Agent` to tell the browser and the system.
const MAX_USER_AGENT_CHARS: usize = 300;

/// Open a chat session with a visit ticket (and a captcha token if required).
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "Widget",
    request_body = CreateSession,
    responses((status = 200, description = "Done.", body = SessionCreated))
)]
async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CreateSession>,
) -> Result<Json<SessionCreated>> {
    let origin = request_origin(&headers);
    let channel = channels::by_key(&state, &request.channel_key).await?;
    crate::auth::check_origin(&channel, origin, &state.config.public_origin())?;
    let client = peer::client_ip(&state.config, peer.ip(), &headers);
    // The ticket first: requests without a genuine one must not spend the channel's allowance.
    let ticket = verify_visit_ticket(&state, &request.visit_ticket, &channel.id)
        .ok_or(Error::InvalidVisitTicket)?;
    let now = now_ms();
    // Who the site says this is, checked before anything is spent or written.
    let person = match request.identity_token.as_deref() {
        Some(token) => Some(identity::verify(&channel, token, now)?),
        None if channel.identity == IdentityMode::Required => {
            return Err(Error::IdentityRequired);
        }
        None => None,
    };
    let attributes = request
        .attributes
        .as_ref()
        .map(checked_attributes)
        .transpose()?;
    if now - ticket.issued_at_ms > TICKET_TTL_MS {
        return Err(Error::VisitTicketExpired);
    }
    let limits = &state.limits;
    limits
        .check(&[
            (&limits.sessions_per_ip, &peer::limit_key(client)),
            (&limits.sessions_per_channel, &channel.id),
        ])
        .await?;
    let page_url = page_url_within_limit(request.page_url);
    let page_view = rules::PageView {
        visit: ticket.visit,
        viewed_at_ms: ticket.viewed_at_ms,
        page_url: page_url.as_deref(),
    };
    let decision = rules::decide_now(&state, &channel, page_view).await?;
    let offline = decision.leave_message(&channel, now).is_some();
    if !offline {
        decision.allow_session()?;
    }
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
    // The browser's anonymous history becomes the person's; the session is the person's.
    let visitor_id = match &person {
        Some(person) => {
            state
                .store
                .identify(&channel.id, &ticket.visitor_id, person, now)
                .await?
        }
        None => ticket.visitor_id.clone(),
    };
    if let Some(attributes) = attributes.filter(|a| !a.is_empty()) {
        state
            .store
            .set_attributes(&channel.id, &visitor_id, &attributes, now)
            .await?;
    }
    state
        .store
        .clear_invitation(&channel.id, &ticket.visitor_id)
        .await?;
    let ttl_secs = state.config.session_ttl_secs;
    let uploads = channel.visitor_upload_policy();
    let prechat = match super::prechat::questions(&channel.prechat) {
        Some(questions)
            if !state
                .store
                .answered_prechat(&channel.id, &visitor_id)
                .await? =>
        {
            Some(questions)
        }
        _ => None,
    };
    let missed_chat_secs = channel.missed_chat_secs;
    let rating =
        (channel.rating_scale != protocol::RatingScale::Off).then_some(channel.rating_scale);
    let claims = SessionClaims {
        session_id: random_token(16),
        channel_id: channel.id,
        visitor_id: visitor_id.clone(),
        origin: origin.map(str::to_owned),
        page_url,
        visit: Some(ticket.visit),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
        offline,
        greeting: channel
            .proactive
            .filter(|_| request.greeted && !offline)
            .map(|p| p.text),
        expires_at_ms: now.saturating_add(crate::secs_to_ms(ttl_secs)),
    };
    Ok(Json(SessionCreated {
        session_token: state.signer.sign(SESSION_TOKEN, &claims),
        visitor_id,
        expires_in_secs: ttl_secs,
        uploads,
        email: state.mailer.is_some(),
        missed_chat_secs: u64::try_from(missed_chat_secs)
            .ok()
            .filter(|secs| *secs > 0 && state.mailer.is_some()),
        prechat,
        rating,
    }))
}

/// The host page's attributes, within bounds: a few short strings, never a way to store a
/// document on the gateway.
fn checked_attributes(attributes: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    const MAX_PER_CALL: usize = 20;
    if attributes.len() > MAX_PER_CALL {
        return Err(Error::field(
            "attributes",
            Problem::TooMany {
                max: MAX_PER_CALL as u64,
            },
        ));
    }
    for (key, value) in attributes {
        let key_chars = key.trim().chars().count();
        if key_chars == 0
            || key_chars > MAX_ATTRIBUTE_KEY_CHARS
            || key.chars().any(char::is_control)
        {
            return Err(Error::field(
                &format!("attributes.{key}"),
                Problem::Characters {
                    min: 1,
                    max: MAX_ATTRIBUTE_KEY_CHARS as u64,
                },
            ));
        }
        if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS || value.chars().any(char::is_control)
        {
            return Err(Error::field(
                &format!("attributes.{key}"),
                Problem::AtMostCharacters {
                    max: MAX_ATTRIBUTE_VALUE_CHARS as u64,
                },
            ));
        }
    }
    Ok(attributes
        .iter()
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

impl SessionClaims {
    /// The visitor as a message from this session is limited and recorded.
    pub fn writer(&self, ip: IpAddr) -> VisitorContext<'_> {
        VisitorContext {
            session_id: &self.session_id,
            visitor_id: &self.visitor_id,
            ip,
            visit: VisitContext {
                page_url: self.page_url.as_deref(),
                origin: self.origin.as_deref(),
                visit: self.visit,
                user_agent: self.user_agent.as_deref(),
                offline: self.offline,
                greeting: self.greeting.as_deref(),
            },
        }
    }
}
