//! The live-chat gateway as a library: [`prepare`] builds the state (and the demo's fixtures
//! when the config asks), `app::router(state)` the HTTP surface, and [`serve`] runs it on an
//! already bound listener (tests bind port 0 and spawn it). `main.rs` only reads the config and
//! calls these.

pub mod agents;
pub mod app;
pub mod assets;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod captcha;
pub mod channels;
pub mod cobrowse;
pub mod config;
pub mod connections;
pub mod contacts;
pub mod conversations;
pub mod demo;
pub mod email;
pub mod error;
pub mod files;
pub mod housekeeping;
pub mod html;
pub mod hub;
pub mod identity;
pub mod limits;
pub mod live;
pub mod mailer;
pub mod memory;
pub mod openapi;
pub mod operations;
pub mod page_assets;
pub mod pagination;
pub mod peer;
pub mod presence;
pub mod queues;
pub mod reports;
pub mod retention;
pub mod routing;
pub mod rules;
pub mod socket;
pub mod state;
pub mod statistics;
pub mod store;
pub mod telemetry;
pub mod texts;
pub mod tokens;
pub mod transcripts;
pub mod visitors;
pub mod webhooks;

use axum::serve::ListenerExt;
use std::future::Future;
use tokio::net::TcpListener;

/// Milliseconds since the Unix epoch: the one clock every stored time uses.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds (from the config or a request) as milliseconds, saturating: a huge setting means
/// "for ever", never an overflow.
pub fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The state for `config`, with the demo channel and agents seeded when `config.demo` is set.
/// (The seeding lives here, not in `AppState::new`, because it goes through the agents'
/// module, which itself depends on the state.)
pub async fn prepare(config: config::Config) -> error::Result<state::AppState> {
    let state = state::AppState::new(config).await?;
    if state.config.demo {
        demo::seed(&state).await?;
    }
    Ok(state)
}

/// How long a stopping gateway waits for its sockets to finish closing.
const SOCKETS_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves until `shutdown` completes, then lets in-flight requests finish and closes every
/// socket with "going away".
pub async fn serve(
    listener: TcpListener,
    state: state::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Lives exactly as long as the server: a stopped gateway stops vouching for its agents.
    let heartbeat = tokio::spawn(presence::heartbeat(state.clone()));
    // Likewise the webhook worker: deliveries it leased go to another gateway when it stops.
    let deliveries = tokio::spawn(webhooks::delivery::run(state.clone()));
    let emails = tokio::spawn(email::run(state.clone()));
    let housekeeping = tokio::spawn(housekeeping::run(state.clone()));
    let retention = tokio::spawn(retention::run(state.clone()));
    let page_views = tokio::spawn(live::write_page_views(state.clone()));
    let search_index = tokio::spawn(conversations::history::index_behind(state.clone()));
    let sockets = state.sockets.clone();
    let drained = state.sockets.clone();
    // Connection info gives handlers the peer address (the captcha check sends it on).
    let service = app::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Requests in flight finish; sockets are told "going away" and close, so the graceful
    // shutdown does not wait on them.
    // No Nagle: a visitor's message is answered by small frames (its ack, its echo to the
    // visitor's tabs) whose second would otherwise wait for the first's TCP ack, which the
    // browser delays up to 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY refused");
        }
    });
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            shutdown.await;
            sockets.close_all();
        })
        .await;
    // A socket's closing handshake is bounded (`socket::going_away`); this bound is a margin
    // over it, for a socket still starting when the signal came.
    if tokio::time::timeout(SOCKETS_DRAIN, drained.drained())
        .await
        .is_err()
    {
        tracing::warn!("stopping with sockets still open");
    }
    heartbeat.abort();
    deliveries.abort();
    emails.abort();
    housekeeping.abort();
    retention.abort();
    page_views.abort();
    search_index.abort();
    served
}
