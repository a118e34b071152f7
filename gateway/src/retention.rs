//! Retention: each channel keeps its closed conversations for as many days as its
//! `retention_days` says (0: for ever). A background job deletes the older ones, with every row
//! that names them and their files' bytes, in batches of a few dozen, each its own short
//! transaction with a pause after it: on SQLite, whose one writer is also the one that stores
//! every visitor's message, no batch holds the write lock for long, so messages keep being
//! stored while a purge of any size runs (`cargo xtask bench` measures the longest wait).

use std::time::Duration;

use crate::error::Result;
use crate::files::blobs::Blobs;
use crate::state::AppState;
use crate::store::Store;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// How often the job looks for conversations past their time.
const EVERY: Duration = Duration::from_secs(3600);

/// How a purge went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub conversations: usize,
    pub batches: usize,
}

/// Runs the job until the gateway stops: a purge now, then every hour.
pub async fn run(state: AppState) {
    loop {
        let config = &state.config;
        let batch = config.retention_batch;
        let pause = Duration::from_millis(config.retention_pause_ms);
        match purge(
            &state.store,
            &state.files.blobs,
            crate::now_ms(),
            batch,
            pause,
        )
        .await
        {
            Ok(done) if done.conversations > 0 => {
                tracing::info!(
                    conversations = done.conversations,
                    batches = done.batches,
                    "retention: deleted old conversations"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "retention: the purge stopped; it goes on at the next run")
            }
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Deletes every channel's conversations closed longer ago than it keeps them, as of
/// `now_ms`: `batch` conversations per transaction, `pause` after each.
pub async fn purge(
    store: &Store,
    blobs: &Blobs,
    now_ms: i64,
    batch: i64,
    pause: Duration,
) -> Result<Purged> {
    let mut done = Purged::default();
    for (channel_id, days) in store.retaining_channels().await? {
        let before = now_ms.saturating_sub(days.saturating_mul(DAY_MS));
        loop {
            let (deleted, files) = store.purge_closed(&channel_id, before, batch).await?;
            if deleted == 0 {
                break;
            }
            done.conversations += deleted;
            done.batches += 1;
            crate::files::delete_unused(blobs, store, files).await?;
            tokio::time::sleep(pause).await;
        }
    }
    Ok(done)
}
