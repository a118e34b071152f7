//! Webhooks: per channel, any number of endpoints, each with its own secret and events, signed
//! in the Standard Webhooks format so receivers can use existing verifiers.
//!
//! Here: the endpoints (`/v1/channels/{id}/webhooks`, channel secret or admin), their delivery
//! log and replay, the signature, and the check of target URLs. Events enter the outbox in the
//! store's transactions (`store::outbox`); [`delivery`] sends them. A channel's bot and external
//! desk are endpoints too (kinds `bot` and `desk`), so they share the signing, retries, order
//! and log.

pub mod delivery;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use protocol::{
    DeliveryPage, DeliveryView, EndpointKind, NewWebhookEndpoint, WebhookEndpointView,
    WEBHOOK_EVENTS,
};
use serde::Deserialize;
use sha2::Sha256;
use std::net::IpAddr;

use crate::app::AppState;
use crate::channels::ChannelAccess;
use crate::error::{Error, Result};
use crate::now_ms;
use crate::store::WebhookEndpoint;

const SECRET_PREFIX: &str = "whsec_";
const MAX_URL_CHARS: usize = 2048;
const MAX_ENDPOINTS_PER_CHANNEL: usize = 20;
const MAX_NAME_CHARS: usize = 80;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/channels/{id}/webhooks", get(list).post(create))
        .route("/v1/channels/{id}/webhooks/{endpoint_id}", delete(remove))
        .route(
            "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries",
            get(deliveries),
        )
        .route(
            "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
            post(replay),
        )
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

/// Addresses a webhook must not reach unless the operator allows it: the gateway's own host
/// and its private networks are not the public internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // Carrier-grade NAT, shared address space.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Checks a target URL: http(s), no credentials in it, and (unless `allow_private`) a host that
/// resolves only to public addresses. Called when an endpoint is registered and again before
/// each delivery, since DNS can change in between.
pub async fn check_target(url: &str, allow_private: bool) -> std::result::Result<(), String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("at most {MAX_URL_CHARS} characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; the signature authenticates deliveries".into());
    }
    let host = parsed.host_str().ok_or("has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| format!("{host} does not resolve"))?
            .map(|socket| socket.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if !allow_private {
        if let Some(ip) = addresses.into_iter().find(|ip| is_private(*ip)) {
            return Err(format!(
                "{host} is a private, loopback or link-local address ({ip}); \
                 set webhooks_allow_private for self-hosted receivers"
            ));
        }
    }
    Ok(())
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

async fn list(
    State(state): State<AppState>,
    access: ChannelAccess,
) -> Result<Json<Vec<WebhookEndpointView>>> {
    let endpoints = state.store.webhook_endpoints(&access.channel.id).await?;
    Ok(Json(endpoints.into_iter().map(view).collect()))
}

async fn create(
    State(state): State<AppState>,
    access: ChannelAccess,
    body: Result<Json<NewWebhookEndpoint>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookEndpointView>)> {
    let Json(input) = body?;
    let mut problems = std::collections::BTreeMap::new();
    if let Err(problem) = check_target(input.url.trim(), state.config.webhooks_allow_private).await
    {
        problems.insert("url".to_owned(), problem);
    }
    if input.kind != EndpointKind::Webhook && !input.events.is_empty() {
        problems.insert(
            "events".to_owned(),
            "a bot or desk receives the visitor's messages of the conversations it handles; \
             it takes no event filter"
                .to_owned(),
        );
    }
    if input.name.chars().count() > MAX_NAME_CHARS {
        problems.insert(
            "name".to_owned(),
            format!("at most {MAX_NAME_CHARS} characters"),
        );
    }
    for (i, event) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&event.as_str()) {
            problems.insert(
                format!("events[{i}]"),
                format!("{event:?} is not one of {}", WEBHOOK_EVENTS.join(", ")),
            );
        }
    }
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    let existing = state.store.webhook_endpoints(&access.channel.id).await?;
    if existing.len() >= MAX_ENDPOINTS_PER_CHANNEL {
        return Err(Error::field(
            "url",
            format!("a channel has at most {MAX_ENDPOINTS_PER_CHANNEL} endpoints"),
        ));
    }
    if input.kind != EndpointKind::Webhook && existing.iter().any(|e| e.kind == input.kind) {
        return Err(Error::field(
            "kind",
            "a channel has at most one bot and one desk; delete the current one first",
        ));
    }
    let name = match (input.name.trim(), input.kind) {
        ("", EndpointKind::Bot) => "Assistant",
        ("", EndpointKind::Desk) => "Support",
        (name, _) => name,
    }
    .to_owned();
    let mut events = input.events;
    events.sort();
    events.dedup();
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
    Ok((StatusCode::CREATED, Json(view(endpoint))))
}

async fn remove(
    State(state): State<AppState>,
    access: ChannelAccess,
    Path((_, endpoint_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    if state
        .store
        .delete_webhook_endpoint(&access.channel.id, &endpoint_id)
        .await?
    {
        // A deleted bot's or desk's conversations may now wait for agents.
        crate::routing::spawn_route_queue(&state, &access.channel.queue_id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// The endpoint's delivery log, newest first.
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

/// Sends a delivery again (a failed one after the receiver is fixed, or any to resend it).
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

    #[test]
    fn private_loopback_and_link_local_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "100.128.0.1",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn target_urls_are_checked() {
        assert!(check_target("https://93.184.216.34/hook", false)
            .await
            .is_ok());
        for (url, allow) in [
            ("ftp://93.184.216.34/hook", false),
            ("https://user:pw@93.184.216.34/hook", false),
            ("http://127.0.0.1:9000/hook", false),
            ("http://[::1]/hook", false),
            ("http://localhost/hook", false),
            ("not a url", true),
        ] {
            assert!(check_target(url, allow).await.is_err(), "{url}");
        }
        assert!(check_target("http://127.0.0.1:9000/hook", true)
            .await
            .is_ok());
    }
}
