//! Agents' presence: what each agent chose (online, away, offline), counted only while one of
//! their connections is alive.
//!
//! Liveness is a heartbeat in the store, not a flag flipped on disconnect: each gateway refreshes
//! `seen_at` for the agents connected to it, and an agent whose `seen_at` is older than the grace
//! period reads as offline. So a console reload inside the grace period changes nothing, a
//! gateway that dies takes its agents offline, and every gateway sharing the database agrees.

use std::time::Duration;

use crate::connections::ConnectionGuard;
use crate::error::Result;
use crate::now_ms;
use crate::state::AppState;
use crate::store::AgentCounts;

/// Counts the agent as connected from now until the guard drops, and as seen now. (Routing
/// their queues' waiting conversations to them is the caller's next step.)
pub async fn connect(state: &AppState, agent_id: &str) -> Result<ConnectionGuard> {
    let guard = state.connections.open(agent_id);
    state
        .store
        .touch_agents(&[agent_id.to_owned()], now_ms())
        .await?;
    Ok(guard)
}

fn grace_ms(state: &AppState) -> i64 {
    crate::secs_to_ms(state.config.presence_grace_secs)
}

/// Members of the queue counted by presence at `now_ms`.
pub async fn agent_counts(state: &AppState, queue_id: &str, now_ms: i64) -> Result<AgentCounts> {
    state
        .store
        .agent_counts(queue_id, seen_after(state, now_ms))
        .await
}

/// Agents seen after this instant count as connected.
pub fn seen_after(state: &AppState, now_ms: i64) -> i64 {
    now_ms - grace_ms(state)
}

/// Refreshes `seen_at` for this gateway's connected agents, four times per grace period, so a
/// connected agent never ages out. Runs until aborted.
pub async fn heartbeat(state: AppState) {
    let period = Duration::from_millis(u64::try_from(grace_ms(&state) / 4).unwrap_or(1000))
        .max(Duration::from_millis(100));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let connected = state.connections.connected();
        if let Err(e) = state.store.touch_agents(&connected, now_ms()).await {
            tracing::warn!(error = %e, "presence heartbeat failed");
        }
    }
}
