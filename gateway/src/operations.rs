//! `GET /metrics`: the Prometheus page of [`telemetry`], for a scraper holding the metrics
//! token. The gauges of what is there now (this gateway's sockets; the conversations waiting
//! and deliveries pending in the store) are read at each scrape, so they are exact.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Scraper;
use crate::error::Result;
use crate::state::AppState;
use crate::telemetry::{self, SocketKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// Operational metrics in the Prometheus text format.
///
/// Sockets open by kind, messages accepted, ack latency, store commit latency, the outbox
/// backlog and delivery latency, conversations waiting for an agent, rate-limit refusals,
/// captcha failures, and the allocator's bytes (allocated, resident).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Service",
    security(("metricsToken" = [])),
    responses((status = 200, description = "The Prometheus text format.", content_type = "text/plain"))
)]
async fn metrics(_: Scraper, State(state): State<AppState>) -> Result<impl IntoResponse> {
    for kind in SocketKind::ALL {
        telemetry::sockets_open(kind, state.sockets.open(kind));
    }
    if let Some((allocated, resident)) = crate::memory::allocator_bytes() {
        telemetry::allocator_bytes(allocated, resident);
    }
    telemetry::waiting_conversations(state.store.waiting_count().await?);
    telemetry::outbox_backlog(state.store.outbox_backlog().await?);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::render(),
    ))
}
