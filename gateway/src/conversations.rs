//! Conversations: posting a visitor's or an agent's message (validated, committed, then
//! published) and the inbox the agents see. The sockets call these functions; so do the tests.
//! Agents' actions on a conversation are HTTP calls: `POST /v1/conversations/{id}/accept`.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use protocol::{ConversationSummary, MAX_MESSAGE_CHARS};
use std::net::IpAddr;

use crate::agents::AuthAgent;
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::limits;
use crate::sessions::SessionClaims;
use crate::store::{AgentRecord, Appended, ChannelRecord, NewMessage, VisitContext};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/conversations/{id}/accept", post(accept))
}

async fn accept(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
) -> Result<Json<ConversationSummary>> {
    Ok(Json(
        crate::routing::accept(&state, &auth.agent, &id).await?,
    ))
}

/// Longest `client_id` accepted: a UUID fits with room to spare.
const MAX_CLIENT_ID_CHARS: usize = 64;

/// Checks a message as a client sent it; the text is stored exactly as written.
pub fn validate(client_id: &str, text: &str) -> Result<()> {
    if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(Error::BadRequest(format!(
            "client_id must be 1 to {MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    if text.trim().is_empty() {
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
    channel: &ChannelRecord,
    claims: &SessionClaims,
    ip: IpAddr,
    client_id: &str,
    text: &str,
) -> Result<Appended> {
    validate(client_id, text)?;
    let limits = &state.limits;
    limits::check(&[
        (&limits.messages_per_session, &claims.session_id),
        (&limits.messages_per_ip, &ip.to_string()),
        (&limits.messages_per_channel, &channel.id),
    ])?;
    let context = VisitContext {
        page_url: claims.page_url.as_deref(),
        origin: claims.origin.as_deref(),
    };
    let message = NewMessage::now(client_id, text);
    let appended = state
        .store
        .append_visitor_message(channel, &claims.visitor_id, context, message)
        .await?;
    publish(state, &appended);
    if appended.created {
        // Off the visitor's path: the ack does not wait for routing, and a routing failure
        // only leaves the conversation waiting for the next pass or an agent's accept.
        crate::routing::spawn_route_queue(state, &channel.queue_id);
    }
    Ok(appended)
}

pub async fn post_agent_message(
    state: &AppState,
    agent: &AgentRecord,
    conversation_id: &str,
    client_id: &str,
    text: &str,
) -> Result<Appended> {
    validate(client_id, text)?;
    let message = NewMessage::now(client_id, text);
    let appended = state
        .store
        .append_agent_message(conversation_id, agent, message)
        .await?;
    publish(state, &appended);
    Ok(appended)
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
        assert!(validate("c1", "hello").is_ok());
        assert_eq!(validate("c1", "  \n").unwrap_err().code(), "message_empty");
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
