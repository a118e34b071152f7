//! Each conversation's statistics (see [`crate::statistics`] for what they are), recorded in
//! the transaction that closes it, so a closed conversation always has them; forgotten when it
//! reopens, and recorded again at its next close.

use protocol::{
    AuthorKind, ConversationEventKind, ConversationFigures, ConversationStatistics, Handler,
};

use super::tx::Tx;
use super::{col_i64, col_name, col_opt_i64, col_opt_str, col_str, Store};
use crate::error::Result;
use crate::statistics::{AtClose, Timeline};

/// Records the statistics of conversation `id`, closed at `closed_at_ms`: called in the closing
/// transaction, after the close (on SQLite a transaction's first statement must be its write,
/// or another writer's commit meanwhile would fail it). Replaces what an earlier close recorded.
pub(super) async fn record_in(tx: &mut Tx<'_>, id: &str, closed_at_ms: i64) -> Result<()> {
    let Some(conversation) = tx
        .fetch_optional(
            "SELECT channel_id, queue_id, assigned_agent_id, handler, offline, created_at, \
             rating_score FROM conversations WHERE id = $1",
            &[id.into()],
        )
        .await?
    else {
        return Ok(());
    };
    let messages = tx
        .fetch_all(
            "SELECT author_kind, author_agent_id, sent_at FROM messages \
             WHERE conversation_id = $1 ORDER BY seq",
            &[id.into()],
        )
        .await?;
    let events = tx
        .fetch_all(
            "SELECT kind, at FROM conversation_events WHERE conversation_id = $1 ORDER BY at",
            &[id.into()],
        )
        .await?;
    let mut authored = Vec::with_capacity(messages.len());
    let mut last_writer = None;
    for row in &messages {
        authored.push((
            col_name::<AuthorKind>(row, "author_kind")?,
            col_i64(row, "sent_at")?,
        ));
        last_writer = col_opt_str(row, "author_agent_id")?.or(last_writer);
    }
    let happened = events
        .iter()
        .map(|row| {
            Ok((
                col_name::<ConversationEventKind>(row, "kind")?,
                col_i64(row, "at")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let handler: Handler = col_name(&conversation, "handler")?;
    // The agent who had it at the close, else the last who wrote in it.
    let assigned = col_opt_str(&conversation, "assigned_agent_id")?;
    let stats = Timeline {
        created_at_ms: col_i64(&conversation, "created_at")?,
        closed_at_ms,
        offline: col_i64(&conversation, "offline")? != 0,
        bot_held: handler == Handler::Bot,
        // Closing leaves who had it as it was: the agents' and nobody's is a waiting one.
        at_close: if handler == Handler::Agents && assigned.is_none() {
            AtClose::Waiting
        } else {
            AtClose::Held
        },
        messages: &authored,
        events: &happened,
    }
    .statistics();
    let agent_id = assigned.or(last_writer);
    tx.execute(
        "INSERT INTO conversation_stats (conversation_id, channel_id, queue_id, agent_id, \
         handler, outcome, created_at, closed_at, wait_ms, first_response_ms, handle_ms, \
         duration_ms, visitor_messages, agent_messages, bot_messages, desk_messages, transfers, \
         rating) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (conversation_id) DO UPDATE SET queue_id = excluded.queue_id, \
         agent_id = excluded.agent_id, handler = excluded.handler, outcome = excluded.outcome, \
         closed_at = excluded.closed_at, wait_ms = excluded.wait_ms, \
         first_response_ms = excluded.first_response_ms, handle_ms = excluded.handle_ms, \
         duration_ms = excluded.duration_ms, visitor_messages = excluded.visitor_messages, \
         agent_messages = excluded.agent_messages, bot_messages = excluded.bot_messages, \
         desk_messages = excluded.desk_messages, transfers = excluded.transfers, \
         rating = excluded.rating",
        &[
            id.into(),
            (&col_str(&conversation, "channel_id")?).into(),
            (&col_str(&conversation, "queue_id")?).into(),
            agent_id.as_deref().into(),
            handler.as_str().into(),
            stats.outcome.as_str().into(),
            col_i64(&conversation, "created_at")?.into(),
            closed_at_ms.into(),
            stats.wait_ms.into(),
            stats.first_response_ms.into(),
            stats.handle_ms.into(),
            stats.duration_ms.into(),
            stats.visitor_messages.into(),
            stats.agent_messages.into(),
            stats.bot_messages.into(),
            stats.desk_messages.into(),
            stats.transfers.into(),
            col_opt_i64(&conversation, "rating_score")?.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Forgets the statistics of a conversation that is no longer closed.
pub(super) async fn forget_in(tx: &mut Tx<'_>, id: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM conversation_stats WHERE conversation_id = $1",
        &[id.into()],
    )
    .await?;
    Ok(())
}

impl Store {
    /// What conversation `id` recorded when it last closed; None while it is in progress.
    pub async fn conversation_statistics(
        &self,
        id: &str,
    ) -> Result<Option<ConversationStatistics>> {
        let row = sqlx::query(
            "SELECT outcome, agent_id, queue_id, handler, closed_at, wait_ms, first_response_ms, \
             handle_ms, duration_ms, visitor_messages, agent_messages, bot_messages, \
             desk_messages, transfers FROM conversation_stats WHERE conversation_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ConversationStatistics {
                agent_id: col_opt_str(&row, "agent_id")?,
                queue_id: col_str(&row, "queue_id")?,
                handler: col_name(&row, "handler")?,
                closed_at_ms: col_i64(&row, "closed_at")?,
                figures: ConversationFigures {
                    outcome: col_name(&row, "outcome")?,
                    wait_ms: col_opt_i64(&row, "wait_ms")?,
                    first_response_ms: col_opt_i64(&row, "first_response_ms")?,
                    handle_ms: col_opt_i64(&row, "handle_ms")?,
                    duration_ms: col_i64(&row, "duration_ms")?,
                    visitor_messages: col_i64(&row, "visitor_messages")?,
                    agent_messages: col_i64(&row, "agent_messages")?,
                    bot_messages: col_i64(&row, "bot_messages")?,
                    desk_messages: col_i64(&row, "desk_messages")?,
                    transfers: col_i64(&row, "transfers")?,
                },
            })
        })
        .transpose()
    }
}
