//! Conversations: posting a visitor's or an agent's message (validated, limited, committed,
//! then published), typing notices both ways, and the bot's hand-over. The sockets call these
//! functions; so do the REST API and the tests.
//! Agents' actions on a conversation are HTTP calls under `/v1/conversations/{id}/`: accept,
//! close, transfer, and the events (transfers with notes, closes) agents see. [`api`] is the
//! same for integrations, by channel.

pub mod api;
pub mod history;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use protocol::{
    ConversationEvent, ConversationSummary, Problem, TransferRequest, MAX_MESSAGE_CHARS,
};
use std::net::IpAddr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AgentConversation;
use crate::error::{ApiJson, Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::now_ms;
use crate::state::AppState;
use crate::store::{
    AgentRecord, Appended, ChannelRef, NewMessage, ReplyAuthor, StartWith, Transfer, TransferTo,
    VisitContext,
};
use crate::transcripts::TranscriptQuery;

/// The visitor writing, as their session vouches: what a visitor's message is limited by and
/// recorded with.
#[derive(Debug, Clone, Copy)]
pub struct VisitorContext<'a> {
    pub session_id: &'a str,
    pub visitor_id: &'a str,
    pub ip: IpAddr,
    pub visit: VisitContext<'a>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accept))
        .routes(routes!(close))
        .routes(routes!(transfer))
        .routes(routes!(events))
        .routes(routes!(transcript))
}

/// Download the conversation's transcript.
///
/// Plain text or HTML, as an attachment; its files as links valid for a while.
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/transcript",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    params(TranscriptQuery),
    responses((status = 200, description = "The file: text/plain, or text/html with `format=html`.", body = String, content_type = "text/plain"))
)]
async fn transcript(
    State(state): State<AppState>,
    access: AgentConversation,
    query: std::result::Result<Query<TranscriptQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    crate::transcripts::download(&state, &access.conversation, query.format).await
}

/// Take a waiting conversation.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/accept",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn accept(
    State(state): State<AppState>,
    access: AgentConversation,
) -> Result<Json<ConversationSummary>> {
    let id = &access.conversation.id;
    Ok(Json(
        crate::routing::accept(&state, &access.auth.agent, id).await?,
    ))
}

/// Tells every inbox and the visitor's tabs that the conversation changed status.
async fn announce_status(state: &AppState, id: &str) -> Result<ConversationSummary> {
    let summary = crate::routing::announce(state, id).await?;
    state.hub.publish(
        Topic::Visitor {
            channel_key: summary.channel_key.clone(),
            visitor_id: summary.visitor_id.clone(),
        },
        HubEvent::Conversation(summary.clone()),
    );
    Ok(summary)
}

/// Closes the conversation: the visitor's panel says so, and the agent's slot frees up. `agent`:
/// who closed it; None for an integration (the REST API, an external desk).
pub async fn close_conversation(
    state: &AppState,
    agent: Option<&AgentRecord>,
    id: &str,
) -> Result<ConversationSummary> {
    let before = state
        .store
        .conversation(id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    if !state
        .store
        .close_conversation(id, agent.map(|a| a.id.as_str()), now_ms())
        .await?
    {
        return Err(Error::ConversationClosed);
    }
    let summary = announce_status(state, id).await?;
    // A closed conversation shows no page any more.
    crate::cobrowse::end(state, &summary).await?;
    if let Some(holder) = before.assigned_agent_id {
        crate::routing::spawn_route_agent_queues(state, &holder);
    }
    Ok(summary)
}

/// Close a conversation.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/close",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn close(
    State(state): State<AppState>,
    access: AgentConversation,
) -> Result<Json<ConversationSummary>> {
    let id = &access.conversation.id;
    Ok(Json(
        close_conversation(&state, Some(&access.auth.agent), id).await?,
    ))
}

/// Hands the conversation to another agent or to a queue, with a note for whoever takes it.
pub async fn transfer_conversation(
    state: &AppState,
    agent: Option<&AgentRecord>,
    id: &str,
    request: &TransferRequest,
) -> Result<ConversationSummary> {
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_MESSAGE_CHARS) {
        return Err(Error::field(
            "note",
            Problem::AtMostCharacters {
                max: MAX_MESSAGE_CHARS as u64,
            },
        ));
    }
    let to = match (&request.agent_id, &request.queue_id) {
        (Some(agent_id), None) => match state.store.agent_by_id(agent_id).await? {
            Some(target) if target.active => TransferTo::Agent(agent_id),
            _ => return Err(Error::field("agent_id", Problem::NoSuchAgent)),
        },
        (None, Some(queue_id)) => match state.store.queue(queue_id).await? {
            Some(_) => TransferTo::Queue(queue_id),
            None => return Err(Error::field("queue_id", Problem::NoSuchQueue)),
        },
        _ => return Err(Error::field("agent_id", Problem::AgentOrQueue)),
    };
    let moved = state
        .store
        .transfer(
            id,
            agent.map(|a| a.id.as_str()),
            &Transfer { to, note },
            now_ms(),
        )
        .await?;
    if !moved {
        return match state.store.conversation(id).await? {
            Some(_) => Err(Error::ConversationClosed),
            None => Err(Error::ConversationNotFound),
        };
    }
    let summary = crate::routing::announce(state, id).await?;
    if let TransferTo::Queue(queue_id) = to {
        crate::routing::spawn_route_queue(state, queue_id);
    }
    Ok(summary)
}

/// Transfer to an agent or a queue.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/transfer",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    request_body = TransferRequest,
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn transfer(
    State(state): State<AppState>,
    access: AgentConversation,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Json<ConversationSummary>> {
    let id = &access.conversation.id;
    let summary = transfer_conversation(&state, Some(&access.auth.agent), id, &request).await?;
    Ok(Json(summary))
}

// Transfers and closes, with notes: for agents only.
/// Transfers, notes and closes, for agents.
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/events",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = Vec<ConversationEvent>))
)]
async fn events(
    State(state): State<AppState>,
    access: AgentConversation,
) -> Result<Json<Vec<ConversationEvent>>> {
    Ok(Json(
        state
            .store
            .conversation_events(&access.conversation.id)
            .await?,
    ))
}

/// Longest `client_id` accepted: a UUID fits with room to spare.
const MAX_CLIENT_ID_CHARS: usize = 64;

/// Checks a message as a client sent it; the text is stored exactly as written.
pub fn validate(message: &NewMessage<'_>) -> Result<()> {
    let NewMessage {
        client_id, text, ..
    } = *message;
    if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(Error::BadRequest(format!(
            "client_id must be 1 to {MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    if message.attachments.len() > protocol::MAX_ATTACHMENTS {
        return Err(Error::TooManyAttachments {
            max: protocol::MAX_ATTACHMENTS,
        });
    }
    if text.trim().is_empty() && message.attachments.is_empty() {
        return Err(Error::MessageEmpty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::MessageTooLong {
            max: MAX_MESSAGE_CHARS,
        });
    }
    Ok(())
}

pub async fn post_visitor_message(
    state: &AppState,
    channel: &ChannelRef,
    visitor: VisitorContext<'_>,
    message: NewMessage<'_>,
) -> Result<Appended> {
    validate(&message)?;
    let limits = &state.limits;
    limits
        .check(&[
            (&limits.messages_per_session, visitor.session_id),
            (&limits.messages_per_ip, &crate::peer::limit_key(visitor.ip)),
            (&limits.messages_per_channel, &channel.id),
        ])
        .await?;
    let window_ms = crate::secs_to_ms(state.config.reopen_window_secs);
    let reopen_after_ms = message.sent_at_ms.saturating_sub(window_ms);
    let appended = state
        .store
        .append_visitor_message(
            channel,
            visitor.visitor_id,
            visitor.visit,
            message,
            reopen_after_ms,
        )
        .await?;
    publish(state, &appended);
    if appended.queued {
        // Off the visitor's path: the ack does not wait for routing, and a routing failure
        // only leaves the conversation waiting for the next pass or an agent's accept.
        // The conversation's queue: a pre-chat topic may have chosen another than the channel's.
        let queue = appended.conversation.queue_id.as_deref();
        crate::routing::spawn_route_queue(state, queue.unwrap_or(&channel.queue_id));
    }
    Ok(appended)
}

/// How long after a reply its email is due: email waits for a burst of replies to end, and
/// needs SMTP.
fn email_after_ms(state: &AppState) -> Option<i64> {
    state
        .mailer
        .as_ref()
        .map(|_| crate::secs_to_ms(state.config.email_batch_secs))
}

/// A reply to the visitor: an agent's, the bot's or the external desk's.
pub async fn post_reply(
    state: &AppState,
    author: ReplyAuthor<'_>,
    conversation_id: &str,
    message: NewMessage<'_>,
) -> Result<Appended> {
    validate(&message)?;
    let appended = state
        .store
        .append_reply(conversation_id, author, message, email_after_ms(state))
        .await?;
    publish(state, &appended);
    Ok(appended)
}

/// The agents' side starts a conversation (or writes in the visitor's conversation in
/// progress): committed, then published like a reply, so the inbox and any open panel see it.
pub async fn start_conversation(
    state: &AppState,
    channel: &ChannelRef,
    with: StartWith<'_>,
    author: ReplyAuthor<'_>,
    message: NewMessage<'_>,
) -> Result<Appended> {
    validate(&message)?;
    let appended = state
        .store
        .start_conversation(channel, with, author, message, email_after_ms(state))
        .await?;
    publish(state, &appended);
    Ok(appended)
}

/// The bot hands the conversation to humans (see `Store::hand_over`); agents' inboxes learn of
/// it, and the queue is routed if it went there.
pub async fn hand_over(state: &AppState, id: &str, note: Option<&str>) -> Result<()> {
    let handler = state.store.hand_over(id, note, now_ms()).await?;
    if handler.is_some() {
        let summary = crate::routing::announce(state, id).await?;
        if let (Some(protocol::Handler::Agents), Some(queue_id)) = (handler, &summary.queue_id) {
            crate::routing::spawn_route_queue(state, queue_id);
        }
    }
    Ok(())
}

/// The conversation someone is typing in, and whose it is.
#[derive(Debug, Clone, Copy)]
pub struct TypingIn<'a> {
    pub conversation_id: &'a str,
    pub channel_key: &'a str,
    pub visitor_id: &'a str,
}

impl<'a> From<&'a ConversationSummary> for TypingIn<'a> {
    fn from(conversation: &'a ConversationSummary) -> Self {
        Self {
            conversation_id: &conversation.id,
            channel_key: &conversation.channel_key,
            visitor_id: &conversation.visitor_id,
        }
    }
}

/// Someone is typing (an agent, or with `None` the visitor): the other side sees it for a few
/// seconds. A visitor's notice goes to the agents following the conversation, an agent's to the
/// visitor's tabs. Nothing is stored; each socket throttles its own notices first.
pub fn typing(state: &AppState, at: TypingIn<'_>, agent: Option<&AgentRecord>) {
    let event = HubEvent::Typing {
        conversation_id: at.conversation_id.to_owned(),
        agent_name: agent.map(|a| a.name.clone()),
    };
    let topic = match agent {
        Some(_) => Topic::Visitor {
            channel_key: at.channel_key.to_owned(),
            visitor_id: at.visitor_id.to_owned(),
        },
        None => Topic::Conversation(at.conversation_id.to_owned()),
    };
    state.hub.publish(topic, event);
}

/// Tells the visitor's tabs, the agents following the conversation and every inbox. Called
/// only after the commit; a duplicate was published the first time and is not published again.
fn publish(state: &AppState, appended: &Appended) {
    if appended.duplicate {
        return;
    }
    let conversation = &appended.conversation;
    state.hub.publish(
        Topic::Visitor {
            channel_key: conversation.channel_key.clone(),
            visitor_id: conversation.visitor_id.clone(),
        },
        HubEvent::Message(appended.message.clone()),
    );
    state.hub.publish(
        Topic::Conversation(conversation.id.clone()),
        HubEvent::Message(appended.message.clone()),
    );
    state
        .hub
        .publish(Topic::Inbox, HubEvent::Conversation(conversation.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_validated_with_stable_codes() {
        fn validate(client_id: &str, text: &str) -> Result<()> {
            super::validate(&NewMessage::now(client_id, text))
        }
        assert!(validate("c1", "hello").is_ok());
        assert_eq!(validate("c1", "  \n").unwrap_err().code(), "message_empty");
        let ids = ["f1".to_owned()];
        let files = NewMessage::now("c1", "").with_attachments("visitor:v", &ids);
        assert!(
            super::validate(&files).is_ok(),
            "files alone make a message"
        );
        let many = vec!["f".to_owned(); protocol::MAX_ATTACHMENTS + 1];
        let too_many = NewMessage::now("c1", "hi").with_attachments("visitor:v", &many);
        assert_eq!(
            super::validate(&too_many).unwrap_err().code(),
            "too_many_attachments"
        );
        let long = "é".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            validate("c1", &long).unwrap_err().code(),
            "message_too_long"
        );
        assert!(validate("c1", &"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert_eq!(validate("", "hi").unwrap_err().code(), "bad_request");
        assert_eq!(
            validate(&"x".repeat(65), "hi").unwrap_err().code(),
            "bad_request"
        );
    }
}
