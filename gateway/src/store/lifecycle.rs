//! A conversation's lifecycle after its first message: closed, transferred, handed over by the
//! bot. Each change and its webhook events commit together.

use protocol::{ConversationEventKind, EventType, Handler};

use super::emails::enqueue_transcript_in;
use super::outbox::Event;
use super::statistics;
use super::tx::Tx;
use super::{col_name, col_str, Store};
use crate::error::Result;

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, Copy)]
pub enum TransferTo<'a> {
    Agent(&'a str),
    Queue(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub struct Transfer<'a> {
    pub to: TransferTo<'a>,
    /// For the agents who take it over; never shown to the visitor.
    pub note: Option<&'a str>,
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation_id: &str,
    at_ms: i64,
    kind: ConversationEventKind,
    agent_id: Option<&str>,
    target: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversation_events (conversation_id, at, kind, agent_id, target, note) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(conversation_id)
    .bind(at_ms)
    .bind(kind.as_str())
    .bind(agent_id)
    .bind(target)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Closes the conversation; false if it was closed already. `agent_id`: who closed it, None
    /// for an integration.
    pub async fn close_conversation(
        &self,
        id: &str,
        agent_id: Option<&str>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(
            "UPDATE conversations SET status = 'closed', closed_at = $1, updated_at = $1 \
             WHERE id = $2 AND status <> 'closed' RETURNING channel_id",
        )
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = closed else {
            return Ok(false);
        };
        let channel_id = col_str(&row, "channel_id")?;
        statistics::record_in(&mut Tx::Sqlx(&mut tx), id, now_ms).await?;
        insert_event(
            &mut tx,
            id,
            now_ms,
            ConversationEventKind::Closed,
            agent_id,
            None,
            None,
        )
        .await?;
        enqueue_transcript_in(&mut Tx::Sqlx(&mut tx), id, now_ms).await?;
        let event = Event::about(&channel_id, EventType::ConversationClosed, id, now_ms);
        self.commit_with_events(tx, vec![event]).await?;
        Ok(true)
    }

    /// Hands an open conversation to another agent (who gets it at once) or to a queue (where
    /// it waits, unassigned); false if it is closed or missing. Either way the gateway's agents
    /// handle it from then on, whoever did before.
    pub async fn transfer(
        &self,
        id: &str,
        by_agent_id: Option<&str>,
        target: &Transfer<'_>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let (sql, value, kind) = match target.to {
            TransferTo::Agent(agent_id) => (
                "UPDATE conversations SET assigned_agent_id = $1, status = 'open', handler = 'agents', \
                 updated_at = $2 WHERE id = $3 AND status <> 'closed' RETURNING channel_id",
                agent_id,
                ConversationEventKind::TransferredToAgent,
            ),
            TransferTo::Queue(queue_id) => (
                "UPDATE conversations SET queue_id = $1, assigned_agent_id = NULL, status = 'waiting', \
                 handler = 'agents', updated_at = $2 WHERE id = $3 AND status <> 'closed' \
                 RETURNING channel_id",
                queue_id,
                ConversationEventKind::TransferredToQueue,
            ),
        };
        let moved = sqlx::query(sql)
            .bind(value)
            .bind(now_ms)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = moved else {
            return Ok(false);
        };
        let channel_id = col_str(&row, "channel_id")?;
        let mut events = Vec::new();
        if let TransferTo::Agent(agent_id) = target.to {
            // An assignment like any other: it moves the agent's turn (see `assign_waiting`).
            sqlx::query("UPDATE agents SET last_assigned_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(agent_id)
                .execute(&mut *tx)
                .await?;
            events.push(Event::about(
                &channel_id,
                EventType::ConversationAssigned,
                id,
                now_ms,
            ));
        }
        insert_event(
            &mut tx,
            id,
            now_ms,
            kind,
            by_agent_id,
            Some(value),
            target.note,
        )
        .await?;
        self.commit_with_events(tx, events).await?;
        Ok(true)
    }

    /// The bot hands the conversation to humans: the channel's desk if it has one (which gets
    /// the transcript), else the agents' queue. Returns who handles it now; None if the bot no
    /// longer did (closed, already handed over, taken by an agent).
    pub async fn hand_over(
        &self,
        id: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<Handler>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE conversations SET updated_at = $1, \
             handler = CASE WHEN EXISTS (SELECT 1 FROM webhook_endpoints w \
                 WHERE w.channel_id = conversations.channel_id AND w.kind = 'desk') \
                 THEN 'desk' ELSE 'agents' END, \
             status = CASE WHEN EXISTS (SELECT 1 FROM webhook_endpoints w \
                 WHERE w.channel_id = conversations.channel_id AND w.kind = 'desk') \
                 THEN 'open' ELSE 'waiting' END \
             WHERE id = $2 AND handler = 'bot' AND status <> 'closed' \
             RETURNING handler, channel_id",
        )
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let handler: Handler = col_name(&row, "handler")?;
        let channel_id = col_str(&row, "channel_id")?;
        insert_event(
            &mut tx,
            id,
            now_ms,
            ConversationEventKind::HandedOver,
            None,
            Some(handler.as_str()),
            note,
        )
        .await?;
        let event = Event {
            with_transcript: true,
            ..Event::about(&channel_id, EventType::HandedOver, id, now_ms)
        };
        self.commit_with_events(tx, vec![event]).await?;
        Ok(Some(handler))
    }
}
