//! Queues, their members, and the assignment of conversations to agents.
//!
//! Every assignment moves the agent's `last_assigned_at` in the same transaction, compared and
//! set: two assignments racing for one agent cannot both pass, so an agent's capacity holds on
//! both backends without row locks, and ties go to the agent assigned longest ago.

use protocol::EventType;
use sqlx::any::AnyRow;

use super::outbox::Event;
use super::{col_i64, col_str, placeholders, Store};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub id: String,
    pub name: String,
    pub auto_assign: bool,
}

/// The queue every channel and agent starts in.
pub const DEFAULT_QUEUE: &str = "default";

fn queue_from_row(row: &AnyRow) -> Result<QueueRecord> {
    Ok(QueueRecord {
        id: col_str(row, "id")?,
        name: col_str(row, "name")?,
        auto_assign: col_i64(row, "auto_assign")? != 0,
    })
}

/// An agent who could take a conversation now, as read before assigning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: String,
    /// Compared when assigning: if it moved, someone else assigned to this agent meanwhile.
    pub last_assigned_at: i64,
}

/// Conversations an agent holds: assigned and not closed.
const HOLDING: &str = "(SELECT COUNT(*) FROM conversations h \
                       WHERE h.assigned_agent_id = a.id AND h.status <> 'closed')";

impl Store {
    pub async fn queues(&self) -> Result<Vec<QueueRecord>> {
        let rows = sqlx::query("SELECT id, name, auto_assign FROM queues ORDER BY lower(name), id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(queue_from_row).collect()
    }

    pub async fn queue(&self, id: &str) -> Result<Option<QueueRecord>> {
        let row = sqlx::query("SELECT id, name, auto_assign FROM queues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(queue_from_row).transpose()
    }

    /// Creates or replaces the queue; false if another queue has the name.
    pub async fn save_queue(&self, queue: &QueueRecord, now_ms: i64) -> Result<bool> {
        let saved = sqlx::query(
            "INSERT INTO queues (id, name, auto_assign, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, auto_assign = excluded.auto_assign",
        )
        .bind(&queue.id)
        .bind(&queue.name)
        .bind(i64::from(queue.auto_assign))
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match saved {
            Ok(_) => Ok(true),
            Err(e) if super::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The ids of the queues the agent belongs to.
    pub async fn agent_queue_ids(&self, agent_id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT queue_id FROM queue_members WHERE agent_id = $1 ORDER BY queue_id")
                .bind(agent_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| col_str(r, "queue_id")).collect()
    }

    /// Replaces the agent's queues with these (which must exist).
    pub async fn set_agent_queues(&self, agent_id: &str, queue_ids: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM queue_members WHERE agent_id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        for queue_id in queue_ids {
            sqlx::query("INSERT INTO queue_members (queue_id, agent_id) VALUES ($1, $2)")
                .bind(queue_id)
                .bind(agent_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Which of these queue ids exist.
    pub async fn existing_queue_ids(&self, ids: &[String]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM queues WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|r| col_str(r, "id")).collect()
    }

    /// The member of the queue who should get the next conversation: online (connected since
    /// `seen_after_ms`, not away), below capacity, fewest conversations held, then the one
    /// assigned longest ago.
    pub async fn next_candidate(
        &self,
        queue_id: &str,
        seen_after_ms: i64,
    ) -> Result<Option<Candidate>> {
        let sql = format!(
            "SELECT a.id, a.last_assigned_at FROM agents a \
             JOIN queue_members m ON m.agent_id = a.id AND m.queue_id = $1 \
             WHERE a.active = 1 AND a.presence = 'online' AND a.seen_at > $2 AND {HOLDING} < a.capacity \
             ORDER BY {HOLDING}, a.last_assigned_at, a.id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(queue_id)
            .bind(seen_after_ms)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Candidate {
                agent_id: col_str(&r, "id")?,
                last_assigned_at: col_i64(&r, "last_assigned_at")?,
            })
        })
        .transpose()
    }

    /// The queue's oldest conversation nobody holds yet.
    pub async fn oldest_waiting(&self, queue_id: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT id FROM conversations WHERE queue_id = $1 AND status = 'waiting' \
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(queue_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| col_str(&r, "id")).transpose()
    }

    /// Gives a waiting conversation to the agent. `expected_last_assigned_at`: the candidate's,
    /// for routing (the assignment fails if another one reached the agent first); None for an
    /// agent accepting it themselves. Returns whether it was assigned.
    pub async fn assign_waiting(
        &self,
        conversation_id: &str,
        agent_id: &str,
        expected_last_assigned_at: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE agents SET last_assigned_at = $1 WHERE id = $2 \
             AND ($3 IS NULL OR last_assigned_at = $3)",
        )
        .bind(now_ms)
        .bind(agent_id)
        .bind(expected_last_assigned_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            return Ok(false);
        }
        let taken = sqlx::query(
            "UPDATE conversations SET assigned_agent_id = $1, status = 'open', updated_at = $2 \
             WHERE id = $3 AND status = 'waiting' AND assigned_agent_id IS NULL \
             RETURNING channel_id",
        )
        .bind(agent_id)
        .bind(now_ms)
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = taken else {
            return Ok(false);
        };
        let channel_id = col_str(&row, "channel_id")?;
        let event = Event::about(
            &channel_id,
            EventType::ConversationAssigned,
            conversation_id,
            now_ms,
        );
        self.commit_with_events(tx, vec![event]).await?;
        Ok(true)
    }
}
