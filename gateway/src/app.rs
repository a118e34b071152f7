//! The one place the gateway is assembled: `AppState` (config, store, hub, token signer) and the
//! router that merges every module's routes.

use axum::http::{header, Method, Request};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::limits::Limits;
use crate::presence::Connections;
use crate::store::Store;
use crate::tokens::{random_token, Signer};
use crate::{
    agents, assets, canned, channels, contacts, conversations, demo, openapi, queues, rules,
    sessions, webhooks,
};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub limits: Arc<Limits>,
    /// Agents connected to this gateway, for the presence heartbeat.
    pub connections: Arc<Connections>,
    /// One HTTP client for calls out (captcha providers), so connections are reused.
    pub http: reqwest::Client,
}

impl AppState {
    pub async fn new(config: Config) -> Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        // Kept in the database so that every gateway sharing it signs and verifies alike.
        let key = store
            .setting_or_insert("token_signing_key", || random_token(32))
            .await?;
        let hub = match &config.redis_url {
            // Gateways on one database share a namespace; other deployments on the same Redis
            // (and tests, each with its own database) never hear each other.
            Some(url) => {
                let namespace = store
                    .setting_or_insert("hub_namespace", || random_token(12))
                    .await?;
                Hub::relayed(url, &namespace)?
            }
            None => Hub::local(),
        };
        let state = Self {
            limits: Arc::new(Limits::from_config(&config)),
            config: Arc::new(config),
            store,
            hub: Arc::new(hub),
            connections: Arc::new(Connections::default()),
            signer: Arc::new(Signer::new(key.as_bytes())),
            http: reqwest::Client::builder()
                .user_agent(concat!("livechat-gateway/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Internal(format!("http client: {e}")))?,
        };
        if state.config.demo {
            demo::seed(&state).await?;
        }
        Ok(state)
    }
}

pub fn router(state: AppState) -> Router {
    // Visitor endpoints answer any origin at the CORS level so the widget can read the JSON
    // refusal; the channel's allow-list is enforced in the handlers themselves.
    let visitor_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    let visitor = channels::router()
        .merge(sessions::router())
        .layer(visitor_cors);
    Router::new()
        .merge(visitor)
        .merge(agents::router())
        .merge(agents::sync::router())
        .merge(agents::join::router())
        .merge(conversations::router())
        .merge(conversations::api::router())
        .merge(queues::router())
        .merge(contacts::router())
        .merge(canned::router())
        .merge(webhooks::router())
        .merge(channels::admin::router())
        .merge(rules::api::router())
        .merge(openapi::router())
        .merge(assets::router(&state))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(|| async { Error::NotFound })
        // Spans carry the path only: query strings hold session tokens, which never reach logs.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
