//! Background upkeep on every gateway: closing conversations idle past their channel's setting
//! (each minute), and sweeping what the store no longer needs (hourly): expired rows, uploads
//! no message took, and the files' bytes no row names any more. Both are idempotent, so
//! gateways sharing a database need not take turns.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::files::blobs::ORPHAN_GRACE_MS;
use crate::state::AppState;
use crate::{conversations, files, now_ms};

const TICK: Duration = Duration::from_secs(60);
/// Pages that have not called for this long leave the live visitors' table at the next sweep.
const LIVE_VISITORS_KEPT_MS: i64 = 10 * 60 * 1000;

/// Ticks between two sweeps: an hour.
const SWEEP_EVERY_TICKS: u32 = 60;
/// Idle conversations closed per tick, so a backlog is worked off without a burst.
const CLOSE_PER_TICK: i64 = 500;
/// An expired join link is kept this long, so opening it says "expired" rather than "unknown".
const JOIN_LINKS_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// Runs until the gateway stops.
pub async fn run(state: AppState) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for tick in 0u32.. {
        ticks.tick().await;
        if let Err(e) = close_idle(&state, now_ms()).await {
            tracing::warn!(error = %e, "closing idle conversations failed");
        }
        if tick % SWEEP_EVERY_TICKS == 0 {
            if let Err(e) = sweep(&state, now_ms()).await {
                tracing::warn!(error = %e, "housekeeping sweep failed");
            }
        }
    }
}

/// Closes the conversations idle past their channel's `idle_close_secs` as of `now_ms`, as an
/// agent closing them would (the visitor's panel and every inbox hear of it); returns how many.
pub async fn close_idle(state: &AppState, now_ms: i64) -> Result<usize> {
    let mut closed = 0;
    for id in state
        .store
        .idle_conversation_ids(now_ms, CLOSE_PER_TICK)
        .await?
    {
        match conversations::close_conversation(state, None, &id).await {
            Ok(_) => closed += 1,
            // Closed meanwhile, by someone or another gateway.
            Err(Error::ConversationClosed | Error::ConversationNotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(closed)
}

/// One sweep as of `now_ms`; returns how many rows and blobs went.
pub async fn sweep(state: &AppState, now_ms: i64) -> Result<u64> {
    let session_ttl_ms = crate::secs_to_ms(state.config.session_ttl_secs);
    let rows = state
        .store
        .prune_expired(
            now_ms,
            now_ms.saturating_sub(session_ttl_ms),
            now_ms.saturating_sub(JOIN_LINKS_KEPT_MS),
        )
        .await?;
    let unsent = state
        .store
        .sweep_unsent_uploads(now_ms.saturating_sub(files::UNSENT_KEPT_MS))
        .await?;
    // Long after `live::seen_after`: a page gone quiet for a minute is not on the site.
    let gone = state
        .store
        .sweep_live_visitors(now_ms.saturating_sub(LIVE_VISITORS_KEPT_MS))
        .await?;
    let store = &state.store;
    let blobs = state
        .files
        .blobs
        .sweep(
            now_ms.saturating_sub(ORPHAN_GRACE_MS),
            |sha256| async move { store.blob_referenced(&sha256).await },
        )
        .await?;
    Ok(rows + unsent + gone + blobs as u64)
}
