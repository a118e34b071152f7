//! One-time agent join links: `POST /v1/conversations/{id}/agent-link` (channel secret or
//! admin) returns a URL that logs a named agent in and opens that conversation in the console.
//! It works once and expires; a used, expired or unknown link gets a page that says so.
//!
//! Opening the link (GET) only shows a Join button; the POST behind it uses the link. So a chat
//! tool that fetches links to preview them does not burn the link before the agent clicks.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use protocol::{AgentLink, AgentLinkRequest, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{login_cookie, open_login};
use crate::auth::{check_same_origin, ConversationAccess};
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::JoinRefusal;
use crate::tokens::{random_token, sha256_hex};

const DEFAULT_TTL_SECS: u64 = 600;
const MAX_TTL_SECS: u64 = 24 * 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(join_page, join))
}

/// A one-time link that logs an agent in on this conversation.
///
/// The login it gives acts in the conversation's channel only, as a plain agent.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/agent-link",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = AgentLinkRequest,
    responses((status = 201, description = "Created.", body = AgentLink))
)]
async fn create(
    State(state): State<AppState>,
    access: ConversationAccess,
    ApiJson(request): ApiJson<AgentLinkRequest>,
) -> Result<(StatusCode, Json<AgentLink>)> {
    let agent = match (&request.agent_id, &request.email) {
        (Some(id), None) => state.store.agent_by_id(id).await?,
        (None, Some(email)) => {
            state
                .store
                .agent_by_email(&email.trim().to_lowercase())
                .await?
        }
        _ => None,
    }
    .filter(|a| a.active)
    .ok_or_else(|| Error::field("agent_id", Problem::NoSuchAgent))?;
    let ttl_secs = request.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl_secs) {
        return Err(Error::field(
            "ttl_secs",
            Problem::Seconds {
                min: 1,
                max: MAX_TTL_SECS,
            },
        ));
    }
    let token = random_token(32);
    let expires_at_ms = now_ms().saturating_add(crate::secs_to_ms(ttl_secs));
    state
        .store
        .insert_join_link(
            &sha256_hex(&token),
            &agent.id,
            &access.conversation_id,
            expires_at_ms,
        )
        .await?;
    let link = AgentLink {
        url: format!("{}/join/{token}", state.config.public_url()),
        expires_at_ms,
    };
    Ok((StatusCode::CREATED, Json(link)))
}

fn page(status: StatusCode, code: &str, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">\
         <h1 data-code=\"{code}\">{title}</h1>{body}</body></html>"
    );
    (status, Html(page)).into_response()
}

fn refusal_page(refusal: JoinRefusal) -> Response {
    let (status, code, title, text) = match refusal {
        JoinRefusal::Used => (
            StatusCode::GONE,
            "join_link_used",
            "This link was already used",
            "A join link works once. Ask for a new one, or log in to the console.",
        ),
        JoinRefusal::Expired => (
            StatusCode::GONE,
            "join_link_expired",
            "This link has expired",
            "Join links work for a few minutes. Ask for a new one, or log in to the console.",
        ),
        JoinRefusal::Unknown => (
            StatusCode::NOT_FOUND,
            "join_link_unknown",
            "This link is not valid",
            "Check that the whole link was copied, or log in to the console.",
        ),
    };
    let body = format!("<p>{text}</p><p><a href=\"/console/\">Log in to the console</a></p>");
    page(status, code, title, &body)
}

/// The join link's page.
///
/// A button, or why the link cannot be used; opening the page does not use the link.
#[utoipa::path(
    get,
    path = "/join/{token}",
    tag = "Agents",
    responses((status = 200, description = "An HTML page.", content_type = "text/html"))
)]
async fn join_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response> {
    let refusal = state
        .store
        .join_link_refusal(&sha256_hex(&token), now_ms())
        .await?;
    Ok(match refusal {
        Some(refusal) => refusal_page(refusal),
        None => page(
            StatusCode::OK,
            "join_link_ready",
            "Join the conversation",
            "<p>This link logs you in and opens the conversation. It works once.</p>\
             <form method=\"post\"><button type=\"submit\" data-testid=\"join\">Join</button></form>",
        ),
    })
}

// Uses the link: logs the agent in (cookie) and opens the conversation in the console. The
// login acts in the conversation's channel only, as a plain agent, whoever minted the link
// and whatever the account's role: a channel secret never grants more than its channel.
// The Join form is the gateway's own page: a foreign page may not submit it.
/// Use the join link: logs in and opens the conversation.
///
/// Only the gateway's own page may submit it.
#[utoipa::path(
    post,
    path = "/join/{token}",
    tag = "Agents",
    responses((status = 303, description = "To the conversation in the console, with the login cookie set."))
)]
async fn join(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response> {
    check_same_origin(&headers, &state.config)?;
    let outcome = state
        .store
        .use_join_link(&sha256_hex(&token), now_ms())
        .await?;
    let (agent_id, conversation_id) = match outcome {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal_page(refusal)),
    };
    let agent = state
        .store
        .agent_by_id(&agent_id)
        .await?
        .filter(|a| a.active)
        .ok_or(Error::Unauthorized)?;
    let channel_id = state
        .store
        .conversation_channel_id(&conversation_id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    let login = open_login(&state, &agent, Some(&channel_id)).await?;
    let console = format!("/console/#conversation={conversation_id}");
    let location = HeaderValue::from_str(&console).map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, login_cookie(&state, &login)?),
            (header::LOCATION, location),
        ],
    )
        .into_response())
}
