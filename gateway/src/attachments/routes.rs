//! Who may put files in and read them out, each with their own credential:
//!
//! | route | who |
//! | --- | --- |
//! | `POST /v1/visitor/files` | the visitor's chat session (`Authorization: Bearer`), from an allowed origin, on a channel that takes visitors' files |
//! | `GET /v1/visitor/files/{id}` | that visitor, for files of their own conversations and their own unsent uploads |
//! | `POST /v1/agent/files` | an agent login that may see the conversation named |
//! | `GET /v1/agent/files/{id}` | an agent login that may see the file's conversation (or its own unsent upload) |
//! | `POST /v1/channels/{id}/files` | the channel's secret, or an admin |
//! | `GET /v1/files/{id}?link=…` | whoever holds a signed, unexpired link (webhooks, REST answers) |
//!
//! Anyone else gets the same 404 as for a file that does not exist.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{Attachment, Problem};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::links;
use crate::auth::{AuthAgent, AuthVisitor, ChannelAccess};
use crate::error::{Error, Result};
use crate::files::Upload;
use crate::state::AppState;
use crate::store::{
    uploader_of_agent, uploader_of_visitor, ChannelRecord, StoredFile, API_UPLOADER,
};
use crate::{now_ms, peer};

pub fn router() -> OpenApiRouter<AppState> {
    // The widget calls from the host page: any origin at the CORS level, so it can read the
    // refusal; the session's own origin binding and the channel's allow-list decide.
    let any_origin = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(600));
    let visitor = OpenApiRouter::new()
        .routes(routes!(visitor_upload))
        .routes(routes!(visitor_download))
        .layer(any_origin);
    OpenApiRouter::new()
        .merge(visitor)
        .routes(routes!(agent_upload))
        .routes(routes!(agent_download))
        .routes(routes!(api_upload))
        .routes(routes!(link_download))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The file's name as the uploader knows it (shown to readers, cleaned).
    name: String,
    /// The uploader's own key for this upload, 1 to 64 characters: a retry with the same key
    /// gets the same file back and stores nothing twice.
    key: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AgentUploadQuery {
    /// The conversation the file is for (its channel's size limit applies).
    conversation_id: String,
    name: String,
    key: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DownloadQuery {
    /// The image's thumbnail instead of the file (`true`).
    #[serde(default)]
    thumbnail: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LinkQuery {
    /// The signed link's token.
    link: String,
    #[serde(default)]
    thumbnail: bool,
}

const MAX_KEY_CHARS: usize = 64;

/// Refuses a body the request already says is too large, before reading any of it.
fn check_declared_size(headers: &HeaderMap, channel: &ChannelRecord) -> Result<()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(size) if size > channel.uploads.max_bytes => Err(Error::FileTooLarge {
            max_bytes: channel.uploads.max_bytes,
        }),
        _ => Ok(()),
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(Error::field(
            "key",
            Problem::Characters {
                min: 1,
                max: MAX_KEY_CHARS as u64,
            },
        ));
    }
    Ok(())
}

async fn accept(
    state: &AppState,
    channel: &ChannelRecord,
    uploader: &str,
    query: (&str, &str),
    from_visitor: bool,
    body: Body,
) -> Result<Response> {
    let (name, key) = query;
    check_key(key)?;
    let upload = Upload {
        channel,
        uploader,
        key,
        name,
        from_visitor,
        body,
    };
    let stored = state.files.accept(&state.store, upload, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(stored.wire())).into_response())
}

/// Upload a file for the visitor's next message.
///
/// The body is the file's bytes (send it as `application/octet-stream`). Counted against the
/// same limits as the visitor's messages.
#[utoipa::path(
    post,
    path = "/v1/visitor/files",
    tag = "Widget",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("visitorSession" = [])),
    responses((status = 201, description = "Stored; send its id in a message.", body = Attachment))
)]
async fn visitor_upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    visitor: AuthVisitor,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Body,
) -> Result<Response> {
    let Query(query) = query?;
    let channel = &visitor.channel;
    if !channel.visitor_uploads {
        return Err(Error::UploadsDisabled);
    }
    check_declared_size(&headers, channel)?;
    let client = peer::client_ip(&state.config, peer.ip(), &headers);
    let limits = &state.limits;
    limits
        .check(&[
            (&limits.messages_per_session, &visitor.claims.session_id),
            (&limits.messages_per_ip, &peer::limit_key(client)),
            (&limits.messages_per_channel, &channel.id),
        ])
        .await?;
    let uploader = uploader_of_visitor(&visitor.claims.visitor_id);
    accept(
        &state,
        channel,
        &uploader,
        (&query.name, &query.key),
        true,
        body,
    )
    .await
}

/// A file of one of the visitor's conversations (or their own unsent upload).
#[utoipa::path(
    get,
    path = "/v1/visitor/files/{id}",
    tag = "Widget",
    params(("id" = String, Path), DownloadQuery),
    security(("visitorSession" = [])),
    responses((status = 200, description = "The file's bytes."))
)]
async fn visitor_download(
    State(state): State<AppState>,
    visitor: AuthVisitor,
    Path(id): Path<String>,
    query: Result<Query<DownloadQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    let file = found(&state, &id).await?;
    let own = match &file.conversation_id {
        Some(conversation_id) => state
            .store
            .conversation(conversation_id)
            .await?
            .is_some_and(|c| {
                c.visitor_id == visitor.claims.visitor_id && c.channel_key == visitor.channel.key
            }),
        None => file.uploader == uploader_of_visitor(&visitor.claims.visitor_id),
    };
    if !own || file.channel_id != visitor.claims.channel_id {
        return Err(Error::NotFound);
    }
    state.files.serve(&file, query.thumbnail).await
}

/// Upload a file for the agent's next message in a conversation.
#[utoipa::path(
    post,
    path = "/v1/agent/files",
    tag = "Agents",
    params(AgentUploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 201, description = "Stored; send its id in a message.", body = Attachment))
)]
async fn agent_upload(
    State(state): State<AppState>,
    auth: AuthAgent,
    headers: HeaderMap,
    query: Result<Query<AgentUploadQuery>, QueryRejection>,
    body: Body,
) -> Result<Response> {
    let Query(query) = query?;
    let conversation = auth.conversation(&state, &query.conversation_id).await?;
    let channel = crate::channels::by_key(&state, &conversation.channel_key).await?;
    check_declared_size(&headers, &channel)?;
    let uploader = uploader_of_agent(&auth.agent.id);
    accept(
        &state,
        &channel,
        &uploader,
        (&query.name, &query.key),
        false,
        body,
    )
    .await
}

/// A file of a conversation the agent may see (or their own unsent upload).
#[utoipa::path(
    get,
    path = "/v1/agent/files/{id}",
    tag = "Agents",
    params(("id" = String, Path), DownloadQuery),
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "The file's bytes."))
)]
async fn agent_download(
    State(state): State<AppState>,
    auth: AuthAgent,
    Path(id): Path<String>,
    query: Result<Query<DownloadQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    let file = found(&state, &id).await?;
    match &file.conversation_id {
        Some(conversation_id) => {
            auth.conversation(&state, conversation_id)
                .await
                .map_err(|_| Error::NotFound)?;
        }
        None if file.uploader == uploader_of_agent(&auth.agent.id) => {}
        None => return Err(Error::NotFound),
    }
    state.files.serve(&file, query.thumbnail).await
}

/// Upload a file for a message posted with the channel's secret (REST, desk, bot).
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/files",
    tag = "Integrations",
    params(("id" = String, Path, description = "The channel's id."), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("channelSecret" = []), ("agentToken" = [])),
    responses((status = 201, description = "Stored; send its id in a message.", body = Attachment))
)]
async fn api_upload(
    State(state): State<AppState>,
    access: ChannelAccess,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Body,
) -> Result<Response> {
    let Query(query) = query?;
    check_declared_size(&headers, &access.channel)?;
    accept(
        &state,
        &access.channel,
        API_UPLOADER,
        (&query.name, &query.key),
        false,
        body,
    )
    .await
}

/// A file through a signed link (from a webhook payload or a REST answer).
#[utoipa::path(
    get,
    path = "/v1/files/{id}",
    tag = "Integrations",
    params(("id" = String, Path), LinkQuery),
    responses(
        (status = 200, description = "The file's bytes."),
        (status = 410, description = "The link has expired.")
    )
)]
async fn link_download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    let conversation_id = links::verify(&state, &id, &query.link, now_ms())?;
    let file = found(&state, &id).await?;
    if file.conversation_id.as_deref() != Some(conversation_id.as_str()) {
        return Err(Error::NotFound);
    }
    state.files.serve(&file, query.thumbnail).await
}

async fn found(state: &AppState, id: &str) -> Result<StoredFile> {
    state.store.stored_file(id).await?.ok_or(Error::NotFound)
}
