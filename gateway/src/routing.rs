//! Routing: a new conversation waits in its channel's queue until an agent takes it. With
//! auto-assignment on, it goes to the available member with the fewest conversations held (ties:
//! the one assigned longest ago, i.e. round-robin); otherwise members accept it themselves, and
//! of two accepting at once one wins and the other is told.
//!
//! The queue is routed again whenever something could let a waiting conversation through: a
//! conversation arrives, an agent connects or comes back online.

use protocol::ConversationSummary;

use crate::error::{Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::state::AppState;
use crate::store::AgentRecord;
use crate::{now_ms, presence};

/// Assignments made by one routing pass at most; the next event routes the rest.
const MAX_ASSIGNMENTS_PER_PASS: usize = 200;
/// Lost compare-and-set rounds tolerated per pass (another gateway routing the same agents).
const MAX_CONFLICTS_PER_PASS: usize = 20;

/// Tells every inbox that the conversation changed.
pub async fn announce(state: &AppState, conversation_id: &str) -> Result<ConversationSummary> {
    let summary = state
        .store
        .conversation(conversation_id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    state
        .hub
        .publish(Topic::Inbox, HubEvent::Conversation(summary.clone()));
    Ok(summary)
}

/// Assigns the queue's waiting conversations, oldest first, while an agent is available.
pub async fn route_queue(state: &AppState, queue_id: &str) -> Result<()> {
    match state.store.queue(queue_id).await? {
        Some(queue) if queue.auto_assign => {}
        _ => return Ok(()),
    }
    let (mut assigned, mut conflicts) = (0, 0);
    while assigned < MAX_ASSIGNMENTS_PER_PASS && conflicts < MAX_CONFLICTS_PER_PASS {
        let Some(conversation_id) = state.store.oldest_waiting(queue_id).await? else {
            return Ok(());
        };
        let now = now_ms();
        let Some(candidate) = state
            .store
            .next_candidate(queue_id, presence::seen_after(state, now))
            .await?
        else {
            return Ok(());
        };
        let won = state
            .store
            .assign_waiting(
                &conversation_id,
                &candidate.agent_id,
                Some(candidate.last_assigned_at),
                now,
            )
            .await?;
        if won {
            assigned += 1;
            announce(state, &conversation_id).await?;
        } else {
            conflicts += 1;
        }
    }
    Ok(())
}

/// Routes the queue in the background; a failure is logged and waits for the next pass.
pub fn spawn_route_queue(state: &AppState, queue_id: &str) {
    let (state, queue_id) = (state.clone(), queue_id.to_owned());
    tokio::spawn(async move {
        if let Err(e) = route_queue(&state, &queue_id).await {
            tracing::warn!(error = %e, queue = %queue_id, "routing failed");
        }
    });
}

/// Routes, in the background, every queue the agent belongs to.
pub fn spawn_route_agent_queues(state: &AppState, agent_id: &str) {
    let (state, agent_id) = (state.clone(), agent_id.to_owned());
    tokio::spawn(async move {
        if let Err(e) = route_agent_queues(&state, &agent_id).await {
            tracing::warn!(error = %e, "routing failed");
        }
    });
}

/// Routes every queue the agent belongs to: after they connect or come back online.
pub async fn route_agent_queues(state: &AppState, agent_id: &str) -> Result<()> {
    for queue_id in state.store.agent_queue_ids(agent_id).await? {
        route_queue(state, &queue_id).await?;
    }
    Ok(())
}

/// The agent takes a waiting conversation; `conversation_taken` if someone else has it.
pub async fn accept(
    state: &AppState,
    agent: &AgentRecord,
    conversation_id: &str,
) -> Result<ConversationSummary> {
    if state
        .store
        .assign_waiting(conversation_id, &agent.id, None, now_ms())
        .await?
    {
        return announce(state, conversation_id).await;
    }
    match state.store.conversation(conversation_id).await? {
        None => Err(Error::ConversationNotFound),
        Some(c) if c.assigned_agent_id.as_deref() == Some(agent.id.as_str()) => Ok(c),
        Some(_) => Err(Error::ConversationTaken),
    }
}
