//! `AppState`: everything a handler reaches (config, store, hub, token signer, limits),
//! built in one place from the config.

use std::sync::Arc;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::connections::{Connections, Sockets};
use crate::error::{Error, Result};
use crate::files::Files;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::mailer::Mailer;
use crate::store::Store;
use crate::tokens::{random_token, Signer};

/// A handle on the gateway's shared parts: one pointer, so every socket and request that
/// keeps the state keeps 8 bytes (each idle socket holds one for its whole life).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub config: Arc<Config>,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub signer: Arc<Signer>,
    pub limits: Arc<Limits>,
    /// Agents connected to this gateway, for the presence heartbeat.
    pub connections: Arc<Connections>,
    /// Every socket open here: the cap, and the signal that closes them at shutdown.
    pub sockets: Arc<Sockets>,
    /// One HTTP client for calls out (captcha providers), so connections are reused.
    pub http: reqwest::Client,
    /// Password hashes computed at once (see `agents::argon2_work`).
    pub password_checks: Arc<Semaphore>,
    /// Attachments: uploads in, bytes out.
    pub files: Arc<Files>,
    /// SMTP, when configured: email to visitors.
    pub mailer: Option<Mailer>,
    /// Files of visitors' pages fetched for co-browsing mirrors.
    pub page_assets: Arc<crate::page_assets::PageAssets>,
}

impl AppState {
    /// The state over a migrated store, without fixtures ([`crate::prepare`] adds the demo's).
    pub async fn new(config: Config) -> Result<Self> {
        crate::telemetry::install();
        let store = Store::connect(&config.database_url).await?;
        // Kept in the database so that every gateway sharing it signs and verifies alike.
        let key = store
            .setting_or_insert("token_signing_key", || random_token(32))
            .await?;
        // Gateways on one database share a namespace in Redis; other deployments on the same
        // Redis (and tests, each with its own database) never hear or limit each other.
        let namespace = match &config.redis_url {
            Some(_) => Some(
                store
                    .setting_or_insert("hub_namespace", || random_token(12))
                    .await?,
            ),
            None => None,
        };
        let hub = Arc::new(match (&config.redis_url, &namespace) {
            (Some(url), Some(namespace)) => Hub::relayed(url, namespace)?,
            _ => Hub::local(),
        });
        let limits = Limits::from_config(&config, namespace.as_deref())?;
        let sockets = Sockets::new(config.max_sockets, hub.clone());
        let files = Files::open(&config)?;
        let mailer = Mailer::from_config(&config)?;
        let state = Self(Arc::new(Parts {
            files: Arc::new(files),
            mailer,
            page_assets: Arc::new(crate::page_assets::PageAssets::new()?),
            limits: Arc::new(limits),
            config: Arc::new(config),
            store,
            hub,
            connections: Arc::new(Connections::default()),
            sockets: Arc::new(sockets),
            signer: Arc::new(Signer::new(key.as_bytes())),
            http: reqwest::Client::builder()
                .user_agent(concat!("livechat-gateway/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Internal(format!("http client: {e}")))?,
            // Half the cores: logins wait their turn while sockets keep the rest.
            password_checks: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
        }));
        Ok(state)
    }
}
