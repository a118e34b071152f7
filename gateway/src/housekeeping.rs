//! Sweeps what the store no longer needs, hourly, on every gateway (the deletes are idempotent,
//! so gateways sharing a database need not take turns).

use std::time::Duration;

use crate::now_ms;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(3600);
/// An expired join link is kept this long, so opening it says "expired" rather than "unknown".
const JOIN_LINKS_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// Runs until the gateway stops.
pub async fn run(state: AppState) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = sweep(&state, now_ms()).await {
            tracing::warn!(error = %e, "housekeeping failed");
        }
    }
}

/// One sweep as of `now_ms`; returns how many rows went.
pub async fn sweep(state: &AppState, now_ms: i64) -> crate::error::Result<u64> {
    let session_ttl_ms =
        i64::try_from(state.config.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    state
        .store
        .prune_expired(
            now_ms,
            now_ms.saturating_sub(session_ttl_ms),
            now_ms.saturating_sub(JOIN_LINKS_KEPT_MS),
        )
        .await
}
