//! Visitors on the site now, and conversations the agents' side starts.
//!
//! `GET /v1/visitors` (any agent; a join link's login sees its one channel) lists who is on a
//! page of a channel now, from the loader's page-view calls (no socket on the host page);
//! `GET /v1/channels/{id}/visitors` is the same for the channel secret. `POST
//! /v1/channels/{id}/conversations` starts a conversation with one of them, or with a known
//! contact who is not on the site (they find it when they next open the chat, or by email):
//! any agent who sees the channel (writing as themselves), or the channel secret (as an agent,
//! the bot or the desk, named in `from`). A receptive channel refuses it before anything is
//! written.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{ConversationStarted, LiveVisitorPage, Problem, Sender, StartConversation};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthAgent, ChannelMember};
use crate::error::{ApiJson, Error, Result};
use crate::state::AppState;
use crate::store::{
    AgentRecord, ChannelRecord, ChannelRef, Identified, LiveFilter, NewMessage, OwnedAuthor,
    StartWith,
};
use crate::{now_ms, pagination};

/// The longest name a bot or desk agent may write under.
const MAX_SENDER_NAME_CHARS: usize = 60;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(visitors_now))
        .routes(routes!(channel_visitors_now))
        .routes(routes!(start))
}

/// Writes the page views the loader's calls recorded, every second, until aborted.
pub async fn write_page_views(state: AppState) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = state.store.flush_page_views().await {
            tracing::warn!(error = %e, "writing page views failed");
        }
    }
}

/// Pages that called within two heartbeats (and a little) are on the site now.
pub fn seen_after(state: &AppState, now_ms: i64) -> i64 {
    let heartbeat_ms = crate::secs_to_ms(state.config.visitor_heartbeat_secs.max(1));
    now_ms - 2 * heartbeat_ms - 5_000
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct VisitorsQuery {
    /// Only this channel's.
    channel_id: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

async fn page(state: &AppState, mut filter: LiveFilter) -> Result<LiveVisitorPage> {
    filter.seen_after_ms = seen_after(state, now_ms());
    let rows = state.store.live_visitors(&filter).await?;
    let next_cursor = pagination::next(&rows, filter.limit, |v| &v.visitor_id);
    Ok(LiveVisitorPage {
        visitors: rows.into_iter().map(|(_, v)| v).collect(),
        next_cursor,
    })
}

fn filter(query: VisitorsQuery) -> Result<LiveFilter> {
    Ok(LiveFilter {
        channel_id: query.channel_id.filter(|id| !id.is_empty()),
        after: pagination::after(query.cursor.as_deref())?,
        limit: pagination::limit(query.limit)?,
        ..LiveFilter::default()
    })
}

/// Who is on the site now, on every channel the login sees; the most recent page views first.
#[utoipa::path(
    get,
    path = "/v1/visitors",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    params(VisitorsQuery),
    responses((status = 200, description = "Done.", body = LiveVisitorPage))
)]
async fn visitors_now(
    State(state): State<AppState>,
    auth: AuthAgent,
    query: Result<Query<VisitorsQuery>, QueryRejection>,
) -> Result<Json<LiveVisitorPage>> {
    let Query(query) = query?;
    let filter = LiveFilter {
        channel_key: auth.scope.clone(),
        ..filter(query)?
    };
    Ok(Json(page(&state, filter).await?))
}

/// Who is on the channel's site now; the most recent page views first.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/visitors",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = []), ("agentCookie" = [])),
    params(VisitorsQuery),
    responses((status = 200, description = "Done.", body = LiveVisitorPage))
)]
async fn channel_visitors_now(
    State(state): State<AppState>,
    member: ChannelMember,
    query: Result<Query<VisitorsQuery>, QueryRejection>,
) -> Result<Json<LiveVisitorPage>> {
    let Query(query) = query?;
    let filter = LiveFilter {
        channel_id: Some(member.channel.id.clone()),
        ..filter(query)?
    };
    Ok(Json(page(&state, filter).await?))
}

/// Start a conversation with a visitor on the site now (`visitor_id`) or a known contact
/// (`contact_id`).
///
/// The visitor's page opens the chat with the message at its next call (within
/// `visitor_heartbeat_secs`); a contact who is not on the site finds it when they next open
/// the chat, or by email. Into their conversation in progress if they have one. A retry with
/// the same `client_id` starts nothing more. A receptive channel answers `409
/// channel_receptive` and writes nothing.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/conversations",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = []), ("agentCookie" = [])),
    request_body = StartConversation,
    responses(
        (status = 201, description = "Started.", body = ConversationStarted),
        (status = 200, description = "Already started with this client_id.", body = ConversationStarted)
    )
)]
async fn start(
    State(state): State<AppState>,
    member: ChannelMember,
    ApiJson(request): ApiJson<StartConversation>,
) -> Result<(StatusCode, Json<ConversationStarted>)> {
    let started = start_with(&state, &member.channel, member.agent.as_ref(), &request).await?;
    let status = match started.1 {
        true => StatusCode::OK,
        false => StatusCode::CREATED,
    };
    Ok((status, Json(started.0)))
}

/// Who writes the first line: the calling agent, or whom the secret's holder names.
async fn author_of(
    state: &AppState,
    agent: Option<&AgentRecord>,
    from: Option<&Sender>,
) -> Result<OwnedAuthor> {
    let named = |name: &str| {
        let name = name.trim();
        match name.chars().count() {
            1..=MAX_SENDER_NAME_CHARS => Ok(name.to_owned()),
            _ => Err(Error::field(
                "from",
                Problem::Characters {
                    min: 1,
                    max: MAX_SENDER_NAME_CHARS as u64,
                },
            )),
        }
    };
    Ok(match (agent, from) {
        (Some(agent), _) => OwnedAuthor::Agent(agent.clone()),
        (None, Some(Sender::Agent(id))) => match state.store.agent_by_id(id).await? {
            Some(agent) if agent.active => OwnedAuthor::Agent(agent),
            _ => return Err(Error::field("from", Problem::NoSuchAgent)),
        },
        (None, Some(Sender::Bot(name))) => OwnedAuthor::Bot(named(name)?),
        (None, Some(Sender::Desk(name))) => OwnedAuthor::Desk(named(name)?),
        (None, None) => return Err(Error::field("from", Problem::AuthorNeeded)),
    })
}

/// The person to write to: their visitor id, the browser whose page opens the chat, and their
/// external id when the site identified them.
struct Recipient {
    visitor_id: String,
    browser: String,
    external_id: Option<String>,
}

async fn recipient(
    state: &AppState,
    channel: &ChannelRecord,
    request: &StartConversation,
    now: i64,
) -> Result<Recipient> {
    match (&request.visitor_id, &request.contact_id) {
        (Some(browser), None) => {
            let live = state
                .store
                .live_visitor(&channel.id, browser, seen_after(state, now))
                .await?
                .ok_or(Error::VisitorGone)?;
            // Identified on the site: the conversation is the person's, as their chat will be.
            let visitor_id = match &live.external_id {
                Some(external_id) => {
                    let person = Identified {
                        external_id: external_id.clone(),
                        name: live.name.clone(),
                        email: live.email.clone(),
                    };
                    state
                        .store
                        .identify(&channel.id, browser, &person, now)
                        .await?
                }
                None => browser.clone(),
            };
            Ok(Recipient {
                visitor_id,
                browser: browser.clone(),
                external_id: live.external_id,
            })
        }
        (None, Some(contact_id)) => {
            let contact = state
                .store
                .contact(contact_id)
                .await?
                .filter(|c| c.channel_id == channel.id)
                .ok_or(Error::NotFound)?;
            Ok(Recipient {
                browser: contact.visitor_id.clone(),
                external_id: contact
                    .external_id
                    .filter(|_| contact.verified_at_ms.is_some()),
                visitor_id: contact.visitor_id,
            })
        }
        _ => Err(Error::BadRequest(
            "name exactly one of visitor_id (on the site now) and contact_id".into(),
        )),
    }
}

/// Starts the conversation; true if it was started before under this `client_id`.
pub async fn start_with(
    state: &AppState,
    channel: &ChannelRecord,
    agent: Option<&AgentRecord>,
    request: &StartConversation,
) -> Result<(ConversationStarted, bool)> {
    if channel.receptive {
        return Err(Error::ChannelReceptive);
    }
    let sender = author_of(state, agent, request.from.as_ref()).await?;
    let message = NewMessage::now(&request.client_id, &request.text);
    crate::conversations::validate(&message)?;
    let to = recipient(state, channel, request, message.sent_at_ms).await?;
    let appended = crate::conversations::start_conversation(
        state,
        &ChannelRef::from(channel),
        StartWith {
            visitor_id: &to.visitor_id,
            browser: &to.browser,
            external_id: to.external_id.as_deref(),
        },
        sender.borrowed(),
        message,
    )
    .await?;
    Ok((
        ConversationStarted {
            conversation: appended.conversation,
            message: appended.message,
        },
        appended.duplicate,
    ))
}
