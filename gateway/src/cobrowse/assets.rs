//! What the console's mirror of a visitor's page loads: the page's images, stylesheets and
//! fonts, through the gateway only (`crate::page_assets` fetches and bounds them), and the empty
//! document the mirror is built in.
//!
//! Who may: the agents who may see the conversation (a join link's login, its channel's), and
//! only while its co-browsing session runs; only files from the conversation's own origin or
//! the channel's allowed origins, never a proxy to anywhere else.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use protocol::CobrowseState;
use serde::Deserialize;
use url::Url;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AgentConversation, AuthAgent};
use crate::error::{Error, Result};
use crate::page_assets::{self, Fetched};
use crate::state::AppState;

/// The mirror's document: nothing runs in it, nothing loads but from the gateway.
const FRAME_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'self' \
                            'unsafe-inline'; font-src 'self' data:; base-uri 'none'; \
                            form-action 'none'";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(asset))
        .routes(routes!(frame))
}

/// The address through which the mirror of conversation `id` loads `target`.
pub fn proxied(conversation_id: &str, target: &Url) -> String {
    let mut url = format!("/v1/conversations/{conversation_id}/cobrowse/asset?url=");
    url.extend(url::form_urlencoded::byte_serialize(
        target.as_str().as_bytes(),
    ));
    url
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AssetQuery {
    /// The file's absolute address on the visitor's site.
    url: String,
}

/// A file of the visitor's page, for the console's mirror.
///
/// For the agents who may see the conversation, while its co-browsing session runs; only from
/// the page's origin or the channel's allowed origins; images, stylesheets and fonts up to
/// 5 MB (a stylesheet's own links come through here too).
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/cobrowse/asset",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    params(AssetQuery),
    responses(
        (status = 200, description = "The file."),
        (status = 403, description = "`origin_not_allowed`: not from the site."),
        (status = 409, description = "`cobrowse_not_active`."),
        (status = 415, description = "`file_type_not_allowed`: not an image, stylesheet or font."),
        (status = 502, description = "`asset_unavailable`: the site did not give it."),
    )
)]
async fn asset(
    State(state): State<AppState>,
    AgentConversation { conversation, .. }: AgentConversation,
    query: std::result::Result<Query<AssetQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    let running = state
        .store
        .live_cobrowse(&conversation.id, crate::now_ms())
        .await?
        .is_some_and(|s| s.state == CobrowseState::Active);
    if !running {
        return Err(Error::CobrowseNotActive);
    }
    let target = Url::parse(&query.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Error::field("url", protocol::Problem::Url))?;
    let channel = state
        .store
        .channel_by_key(&conversation.channel_key)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    let allowed =
        page_assets::allowed_origins(conversation.origin.as_deref(), &channel.allowed_origins);
    let fetched = state
        .page_assets
        .get(target, &allowed, |link| proxied(&conversation.id, link))
        .await?;
    Ok(served(fetched))
}

fn served(fetched: Fetched) -> Response {
    let mut response = Response::new(Body::from(fetched.bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fetched.content_type),
    );
    crate::files::untrusted(
        headers,
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "private, max-age=600",
    );
    response
}

/// The empty document the console builds a page's mirror in.
///
/// Nothing runs in it, and it loads images, stylesheets and fonts from the gateway alone.
#[utoipa::path(
    get,
    path = "/v1/agent/cobrowse/frame",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "The document.", content_type = "text/html"))
)]
async fn frame(_: AuthAgent) -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, FRAME_POLICY),
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "<!DOCTYPE html><html><head></head><body></body></html>",
    )
        .into_response()
}
