//! Webhooks: per channel, any number of endpoints, each with its own secret and events, signed
//! in the Standard Webhooks format so receivers can use existing verifiers.
//!
//! Here: the endpoints (`/v1/channels/{id}/webhooks`, channel secret or admin), their delivery
//! log and replay, the signature, and the check of target URLs. Events enter the outbox in the
//! store's transactions (`store::outbox`); [`delivery`] sends them. A channel's bot and external
//! desk are endpoints too (kinds `bot` and `desk`), so they share the signing, retries, order
//! and log.

pub mod delivery;
pub mod target;

pub use target::check_target;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use protocol::{
    AuditAction, DeliveryPage, DeliveryView, EndpointKind, EventType, NewWebhookEndpoint, Problem,
    WebhookEndpointView, WEBHOOK_EVENTS,
};
use serde::Deserialize;
use sha2::Sha256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit;
use crate::auth::ChannelAccess;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::WebhookEndpoint;

const SECRET_PREFIX: &str = "whsec_";
const MAX_ENDPOINTS_PER_CHANNEL: usize = 20;
const MAX_NAME_CHARS: usize = 80;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
}

/// A new endpoint secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut key = [0u8; 24];
    OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one delivery: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{payload}` under the secret's key (Standard Webhooks).
pub fn sign(secret: &str, message_id: &str, timestamp_secs: i64, payload: &str) -> Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| Error::Internal(format!("webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(format!("{message_id}.{timestamp_secs}.{payload}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn view(endpoint: WebhookEndpoint) -> WebhookEndpointView {
    WebhookEndpointView {
        id: endpoint.id,
        url: endpoint.url,
        events: endpoint.events,
        secret: endpoint.secret,
        kind: endpoint.kind,
        name: endpoint.name,
    }
}

/// List the channel's endpoints.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/webhooks",
    tag = "Webhooks",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = Vec<WebhookEndpointView>))
)]
async fn list(
    State(state): State<AppState>,
    access: ChannelAccess,
) -> Result<Json<Vec<WebhookEndpointView>>> {
    let endpoints = state.store.webhook_endpoints(&access.channel.id).await?;
    Ok(Json(endpoints.into_iter().map(view).collect()))
}

/// Register an endpoint (a webhook, the channel's bot or its external desk).
///
/// The answer holds its signing secret.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/webhooks",
    tag = "Webhooks",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = NewWebhookEndpoint,
    responses((status = 201, description = "Created.", body = WebhookEndpointView))
)]
async fn create(
    State(state): State<AppState>,
    access: ChannelAccess,
    ApiJson(input): ApiJson<NewWebhookEndpoint>,
) -> Result<(StatusCode, Json<WebhookEndpointView>)> {
    let mut problems = std::collections::BTreeMap::new();
    if let Err(problem) = check_target(input.url.trim(), state.config.webhooks_allow_private).await
    {
        problems.insert("url".to_owned(), problem);
    }
    if input.kind != EndpointKind::Webhook && !input.events.is_empty() {
        problems.insert("events".to_owned(), Problem::NoEventFilter);
    }
    if input.name.chars().count() > MAX_NAME_CHARS {
        problems.insert(
            "name".to_owned(),
            Problem::AtMostCharacters {
                max: MAX_NAME_CHARS as u64,
            },
        );
    }
    let mut events = Vec::new();
    for (i, event) in input.events.iter().enumerate() {
        match event.parse::<EventType>() {
            Ok(event) if WEBHOOK_EVENTS.contains(&event) => events.push(event),
            _ => {
                problems.insert(
                    format!("events[{i}]"),
                    Problem::OneOf {
                        allowed: WEBHOOK_EVENTS.map(|e| e.as_str().to_owned()).to_vec(),
                    },
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    let existing = state.store.webhook_endpoints(&access.channel.id).await?;
    if existing.len() >= MAX_ENDPOINTS_PER_CHANNEL {
        return Err(Error::field(
            "url",
            Problem::TooMany {
                max: MAX_ENDPOINTS_PER_CHANNEL as u64,
            },
        ));
    }
    if input.kind != EndpointKind::Webhook && existing.iter().any(|e| e.kind == input.kind) {
        return Err(Error::field("kind", Problem::OneBotOneDesk));
    }
    let name = match (input.name.trim(), input.kind) {
        ("", EndpointKind::Bot) => "Assistant",
        ("", EndpointKind::Desk) => "Support",
        (name, _) => name,
    }
    .to_owned();
    events.sort_by_key(|e| e.as_str());
    events.dedup();
    let actor = audit::by_admin_or_secret(access.admin.as_ref(), &access.channel);
    let channel_id = access.channel.id.clone();
    let endpoint = WebhookEndpoint {
        id: uuid::Uuid::new_v4().to_string(),
        channel_id: access.channel.id,
        url: input.url.trim().to_owned(),
        secret: new_secret(),
        events,
        kind: input.kind,
        name,
    };
    state
        .store
        .insert_webhook_endpoint(&endpoint, now_ms())
        .await?;
    let added = view(endpoint);
    let changes = audit::changes(&serde_json::Value::Null, &audit::json(&added)?);
    let action = AuditAction::WebhookAdded;
    audit::record(
        &state,
        &actor,
        action,
        Some(&channel_id),
        Some(&added.id),
        changes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Delete an endpoint with its delivery log.
#[utoipa::path(
    delete,
    path = "/v1/channels/{id}/webhooks/{endpoint_id}",
    tag = "Webhooks",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 204, description = "Done."))
)]
async fn remove(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, endpoint_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let removed = state
        .store
        .webhook_endpoints(&access.channel.id)
        .await?
        .into_iter()
        .find(|e| e.id == endpoint_id);
    if state
        .store
        .delete_webhook_endpoint(&access.channel.id, &endpoint_id)
        .await?
    {
        // A deleted bot's or desk's conversations may now wait for agents.
        crate::routing::spawn_route_queue(&state, &access.channel.queue_id);
        let actor = audit::by_admin_or_secret(access.admin.as_ref(), &access.channel);
        let before = removed.map(view).map(|v| audit::json(&v)).transpose()?;
        let changes = audit::changes(&before.unwrap_or_default(), &serde_json::Value::Null);
        let (channel, action) = (
            Some(access.channel.id.as_str()),
            AuditAction::WebhookRemoved,
        );
        audit::record(&state, &actor, action, channel, Some(&endpoint_id), changes).await?;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries",
    tag = "Webhooks",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(PageQuery),
    responses((status = 200, description = "Done.", body = DeliveryPage))
)]
async fn deliveries(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, endpoint_id)): Path<(String, String)>,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<DeliveryPage>> {
    let Query(page) = page?;
    let limit = crate::pagination::limit(page.limit)?;
    let before = page
        .cursor
        .as_deref()
        .map(crate::pagination::decode)
        .transpose()?;
    state
        .store
        .webhook_endpoint(&access.channel.id, &endpoint_id)
        .await?
        .ok_or(Error::NotFound)?;
    let rows = state.store.deliveries(&endpoint_id, before, limit).await?;
    let next_cursor = crate::pagination::next(&rows, limit, |d| &d.id);
    Ok(Json(DeliveryPage {
        deliveries: rows.into_iter().map(|(_, d)| d).collect(),
        next_cursor,
    }))
}

/// Send a delivery again, with the same webhook-id.
///
/// A failed one after the receiver is fixed, or any to resend it.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
    tag = "Webhooks",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = DeliveryView))
)]
async fn replay(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, endpoint_id, delivery_id)): Path<(String, String, String)>,
) -> Result<Json<DeliveryView>> {
    state
        .store
        .webhook_endpoint(&access.channel.id, &endpoint_id)
        .await?
        .ok_or(Error::NotFound)?;
    state
        .store
        .replay_delivery(&endpoint_id, &delivery_id, now_ms())
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let fresh = new_secret();
        assert!(fresh.starts_with("whsec_") && sign(&fresh, "m", 1, "{}").is_ok());
    }
}
