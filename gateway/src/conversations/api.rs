//! The conversations REST API of a channel (`/v1/channels/{id}/conversations…`, channel secret
//! or an admin login), for help-desk tools and scripts: list with filters and a cursor, read
//! with messages by `seq`, answer as an agent, assign, transfer, close. And the channel's
//! inbound URL (`/v1/channels/{id}/inbound`), through which an external desk answers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use protocol::{
    ApiAgentMessage, AssignRequest, ChatMessage, ConversationPage, ConversationStatus,
    ConversationSummary, ConversationTranscript, DeskAction, Handler, Problem, TransferRequest,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::attachments::links;
use crate::auth::ChannelAccess;
use crate::error::{ApiJson, Error, Result};
use crate::pagination;
use crate::state::AppState;
use crate::store::{AgentRecord, ConversationFilter, NewMessage, ReplyAuthor, API_UPLOADER};
use crate::transcripts::TranscriptQuery;

/// A desk's name for the person it writes as.
const MAX_AUTHOR_CHARS: usize = 80;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read))
        .routes(routes!(transcript))
        .routes(routes!(post_message))
        .routes(routes!(assign))
        .routes(routes!(transfer))
        .routes(routes!(close))
        .routes(routes!(inbound))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `waiting`, `open` or `closed`.
    status: Option<String>,
    /// Only this queue's.
    queue_id: Option<String>,
    /// Unix milliseconds: only conversations with activity since.
    updated_since: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

/// The query as a store filter, every field checked.
fn filter(query: ListQuery) -> Result<ConversationFilter> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<ConversationStatus>)
        .transpose()
        .map_err(|e| Error::field("status", e.into()))?;
    Ok(ConversationFilter {
        status,
        queue_id: query.queue_id,
        updated_since_ms: query.updated_since,
        after: pagination::after(query.cursor.as_deref())?,
        limit: pagination::limit(query.limit)?,
    })
}

/// List the channel's conversations, oldest created first.
///
/// Paging never returns one twice, whatever is created meanwhile.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/conversations",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(ListQuery),
    responses((status = 200, description = "Done.", body = ConversationPage))
)]
async fn list(
    State(state): State<AppState>,
    access: ChannelAccess,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ConversationPage>> {
    let Query(query) = query?;
    let filter = filter(query)?;
    let rows = state
        .store
        .channel_conversations(&access.channel.id, &filter)
        .await?;
    let next_cursor = pagination::next(&rows, filter.limit, |c| &c.id);
    Ok(Json(ConversationPage {
        conversations: rows.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
    }))
}

/// The channel's conversation; another channel's reads as missing.
async fn of_channel(
    state: &AppState,
    access: &ChannelAccess,
    id: &str,
) -> Result<ConversationSummary> {
    state
        .store
        .conversation(id)
        .await?
        .filter(|c| c.channel_key == access.channel.key)
        .ok_or(Error::ConversationNotFound)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MessagesQuery {
    /// Messages after this seq (default 0: from the first).
    #[serde(default)]
    after_seq: i64,
    /// Messages per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

/// Read a conversation with its messages by seq.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/conversations/{conversation_id}",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(MessagesQuery),
    responses((status = 200, description = "Done.", body = ConversationTranscript))
)]
async fn read(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<ConversationTranscript>> {
    let Query(query) = query?;
    let limit = pagination::limit(query.limit)?;
    let conversation = of_channel(&state, &access, &id).await?;
    let now = crate::now_ms();
    let messages: Vec<ChatMessage> = state
        .store
        .messages_after(&id, query.after_seq, limit)
        .await?
        .into_iter()
        .map(|message| links::with_links(&state, message, now))
        .collect();
    let next_after_seq = messages
        .last()
        .filter(|_| i64::try_from(messages.len()).unwrap_or(i64::MAX) >= limit)
        .map(|m| m.seq);
    Ok(Json(ConversationTranscript {
        conversation,
        messages,
        next_after_seq,
        statistics: state.store.conversation_statistics(&id).await?,
    }))
}

/// Download a conversation's transcript.
///
/// Plain text or HTML, as an attachment; its files as links valid for a while.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/conversations/{conversation_id}/transcript",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(TranscriptQuery),
    responses((status = 200, description = "The file: text/plain, or text/html with `format=html`.", body = String, content_type = "text/plain"))
)]
async fn transcript(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<TranscriptQuery>, QueryRejection>,
) -> Result<axum::response::Response> {
    let Query(query) = query?;
    let conversation = of_channel(&state, &access, &id).await?;
    crate::transcripts::download(&state, &conversation, query.format).await
}

/// The agent a REST call acts as: the one named, or the calling admin.
async fn acting_agent(
    state: &AppState,
    access: &ChannelAccess,
    agent_id: Option<&str>,
) -> Result<AgentRecord> {
    match (agent_id, &access.admin) {
        (Some(id), _) => match state.store.agent_by_id(id).await? {
            Some(agent) if agent.active => Ok(agent),
            _ => Err(Error::field("agent_id", Problem::NoSuchAgent)),
        },
        (None, Some(admin)) => Ok(admin.clone()),
        (None, None) => Err(Error::field("agent_id", Problem::AuthorNeeded)),
    }
}

/// Answer the visitor as an agent.
///
/// A retry with the same client_id stores the message once.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/conversations/{conversation_id}/messages",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = ApiAgentMessage,
    responses((status = 200, description = "Done.", body = ChatMessage))
)]
async fn post_message(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ApiAgentMessage>,
) -> Result<Json<ChatMessage>> {
    of_channel(&state, &access, &id).await?;
    let agent = acting_agent(&state, &access, input.agent_id.as_deref()).await?;
    let message = NewMessage::now(&input.client_id, &input.text)
        .with_attachments(API_UPLOADER, &input.attachments);
    let appended = super::post_reply(&state, ReplyAuthor::Agent(&agent), &id, message).await?;
    Ok(Json(links::with_links(
        &state,
        appended.message,
        crate::now_ms(),
    )))
}

/// Give the conversation to an agent.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/conversations/{conversation_id}/assign",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = AssignRequest,
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn assign(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<AssignRequest>,
) -> Result<Json<ConversationSummary>> {
    let request = TransferRequest {
        agent_id: Some(input.agent_id),
        queue_id: None,
        note: None,
    };
    transfer_in_channel(&state, &access, &id, &request).await
}

/// Hand the conversation to an agent or a queue, with a note for agents.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/conversations/{conversation_id}/transfer",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = TransferRequest,
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn transfer(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Json<ConversationSummary>> {
    transfer_in_channel(&state, &access, &id, &request).await
}

async fn transfer_in_channel(
    state: &AppState,
    access: &ChannelAccess,
    id: &str,
    request: &TransferRequest,
) -> Result<Json<ConversationSummary>> {
    of_channel(state, access, id).await?;
    let summary = super::transfer_conversation(state, access.admin.as_ref(), id, request).await?;
    Ok(Json(summary))
}

/// Close the conversation.
///
/// The visitor writing again within the reopen window reopens it.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/conversations/{conversation_id}/close",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn close(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ConversationSummary>> {
    of_channel(&state, &access, &id).await?;
    Ok(Json(
        super::close_conversation(&state, access.admin.as_ref(), &id).await?,
    ))
}

/// The channel's inbound URL: an external desk answers or closes a conversation it handles.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/inbound",
    tag = "Conversations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = DeskAction,
    responses((status = 200, description = "Done.", body = ConversationSummary))
)]
async fn inbound(
    State(state): State<AppState>,
    access: ChannelAccess,
    ApiJson(action): ApiJson<DeskAction>,
) -> Result<Json<ConversationSummary>> {
    let conversation_id = match &action {
        DeskAction::Message {
            conversation_id, ..
        }
        | DeskAction::Close { conversation_id } => conversation_id,
    };
    let conversation = of_channel(&state, &access, conversation_id).await?;
    if conversation.handler != Handler::Desk {
        return Err(Error::ConversationNotAtDesk);
    }
    match action {
        DeskAction::Message {
            conversation_id,
            client_id,
            text,
            author_name,
            attachments,
        } => {
            let name = author_name.trim();
            if name.is_empty() || name.chars().count() > MAX_AUTHOR_CHARS {
                return Err(Error::field(
                    "author_name",
                    Problem::Characters {
                        min: 1,
                        max: MAX_AUTHOR_CHARS as u64,
                    },
                ));
            }
            let message =
                NewMessage::now(&client_id, &text).with_attachments(API_UPLOADER, &attachments);
            let appended =
                super::post_reply(&state, ReplyAuthor::Desk(name), &conversation_id, message)
                    .await?;
            Ok(Json(appended.conversation))
        }
        DeskAction::Close { conversation_id } => Ok(Json(
            super::close_conversation(&state, None, &conversation_id).await?,
        )),
    }
}
