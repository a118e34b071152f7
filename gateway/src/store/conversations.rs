//! Conversations and their messages as read: the summary and message row mappers, the
//! transaction-scoped reads the outbox and the appends share, and the queries behind the inbox,
//! the REST API and a contact's history. Writes are in `messages.rs` (appends) and
//! `lifecycle.rs` (close, transfer, hand-over).

use protocol::{
    Author, AuthorKind, ChatMessage, ConversationEvent, ConversationStatus, ConversationSummary,
    InboxCursor, Rating,
};
use std::sync::LazyLock;

use super::tx::{Columns, Tx};
use super::{col_i64, col_name, col_opt_str, col_str, Store};
use crate::error::Result;

/// `GET /v1/channels/{id}/conversations` filters; the cursor is the last row's `(created_at, id)`.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub queue_id: Option<String>,
    pub updated_since_ms: Option<i64>,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// A conversation summary's columns as an `UPDATE conversations … RETURNING` can name them
/// (the channel's through subqueries), so a write returns the summary it made.
pub(super) const SUMMARY_COLUMNS: &str = "id, \
     (SELECT channel_key FROM channels WHERE channels.id = conversations.channel_id) AS channel_key, \
     (SELECT name FROM channels WHERE channels.id = conversations.channel_id) AS channel_name, \
     visitor_id, status, assigned_agent_id, last_seq, last_text, page_url, updated_at, contact_id, \
     origin, visit, user_agent, handler, queue_id, created_at, offline, last_author, \
     rating_score, rating_scale, rating_comment, rated_at";

/// A summary's columns from `conversations c JOIN channels ch`.
macro_rules! summary_fields {
    () => {
        "c.id, ch.channel_key, ch.name AS channel_name, c.visitor_id, \
         c.status, c.assigned_agent_id, c.last_seq, c.last_text, c.page_url, c.updated_at, \
         c.contact_id, c.origin, c.visit, c.user_agent, c.handler, c.queue_id, c.created_at, \
         c.offline, c.last_author, c.rating_score, c.rating_scale, c.rating_comment, c.rated_at"
    };
}
pub(super) use summary_fields;

const SUMMARY_SELECT: &str = concat!(
    "SELECT ",
    summary_fields!(),
    " FROM conversations c JOIN channels ch ON ch.id = c.channel_id"
);

const MESSAGE_SELECT: &str = "SELECT m.conversation_id, m.seq, m.author_kind, m.author_agent_id, \
     a.name AS agent_name, m.author_name, m.body, m.client_id, m.sent_at, m.attachments \
     FROM messages m LEFT JOIN agents a ON a.id = m.author_agent_id";

/// The conversation as the transaction sees it (its own writes included).
pub(super) async fn conversation_in(
    tx: &mut Tx<'_>,
    id: &str,
) -> Result<Option<ConversationSummary>> {
    let row = tx.fetch_optional(&CONVERSATION_BY_ID, &[id.into()]).await?;
    row.as_ref().map(summary_from_row).transpose()
}

static CONVERSATION_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("{SUMMARY_SELECT} WHERE c.id = $1"));
static MESSAGE_BY_CLIENT_ID: LazyLock<String> =
    LazyLock::new(|| format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND m.client_id = $2"));
static TRANSCRIPT: LazyLock<String> =
    LazyLock::new(|| format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 ORDER BY m.seq"));

/// The visitor's conversation in progress on the channel, as the transaction sees it.
pub(super) async fn open_conversation_id_in(
    tx: &mut Tx<'_>,
    channel_id: &str,
    visitor_id: &str,
) -> Result<Option<String>> {
    let row = tx
        .fetch_optional(
            "SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 \
             AND status <> 'closed'",
            &[channel_id.into(), visitor_id.into()],
        )
        .await?;
    row.map(|r| col_str(&r, "id")).transpose()
}

/// The message stored under this `client_id` in the conversation, as the transaction sees it.
pub(super) async fn message_by_client_id_in(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    client_id: &str,
) -> Result<Option<ChatMessage>> {
    let row = tx
        .fetch_optional(
            &MESSAGE_BY_CLIENT_ID,
            &[conversation_id.into(), client_id.into()],
        )
        .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// Every message of the conversation, oldest first, as the transaction sees them.
pub(super) async fn transcript_in(tx: &mut Tx<'_>, id: &str) -> Result<Vec<ChatMessage>> {
    let rows = tx.fetch_all(&TRANSCRIPT, &[id.into()]).await?;
    rows.iter().map(message_from_row).collect()
}

pub(super) fn summary_from_row(row: &impl Columns) -> Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: col_str(row, "id")?,
        channel_key: col_str(row, "channel_key")?,
        channel_name: col_str(row, "channel_name")?,
        visitor_id: col_str(row, "visitor_id")?,
        status: col_name(row, "status")?,
        assigned_agent_id: col_opt_str(row, "assigned_agent_id")?,
        last_seq: col_i64(row, "last_seq")?,
        last_text: col_str(row, "last_text")?
            .chars()
            .take(protocol::PREVIEW_CHARS)
            .collect(),
        page_url: col_opt_str(row, "page_url")?,
        updated_at_ms: col_i64(row, "updated_at")?,
        contact_id: col_opt_str(row, "contact_id")?,
        origin: col_opt_str(row, "origin")?,
        visit: super::col_opt_i64(row, "visit")?.and_then(|v| u32::try_from(v).ok()),
        user_agent: col_opt_str(row, "user_agent")?,
        handler: col_name(row, "handler")?,
        queue_id: col_opt_str(row, "queue_id")?,
        offline: col_i64(row, "offline")? != 0,
        last_author: super::col_opt_name(row, "last_author")?,
        rating: rating_from_row(row)?,
    })
}

fn rating_from_row(row: &impl Columns) -> Result<Option<Rating>> {
    let (Some(score), Some(scale), Some(rated_at_ms)) = (
        super::col_opt_i64(row, "rating_score")?,
        super::col_opt_name(row, "rating_scale")?,
        super::col_opt_i64(row, "rated_at")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(Rating {
        score: u8::try_from(score).unwrap_or_default(),
        scale,
        comment: col_opt_str(row, "rating_comment")?,
        rated_at_ms,
    }))
}

pub(super) fn message_from_row(row: &impl Columns) -> Result<ChatMessage> {
    let author = match col_name(row, "author_kind")? {
        AuthorKind::Visitor => Author::Visitor,
        AuthorKind::Agent => Author::Agent {
            agent_id: col_opt_str(row, "author_agent_id")?.unwrap_or_default(),
            name: col_opt_str(row, "agent_name")?.unwrap_or_default(),
        },
        AuthorKind::Bot => Author::Bot {
            name: col_opt_str(row, "author_name")?.unwrap_or_default(),
        },
        AuthorKind::Desk => Author::Desk {
            name: col_opt_str(row, "author_name")?.unwrap_or_default(),
        },
        AuthorKind::System => Author::System,
    };
    Ok(ChatMessage {
        conversation_id: col_str(row, "conversation_id")?,
        seq: col_i64(row, "seq")?,
        author,
        text: col_str(row, "body")?,
        client_id: col_str(row, "client_id")?,
        sent_at_ms: col_i64(row, "sent_at")?,
        attachments: match col_opt_str(row, "attachments")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                crate::error::Error::Internal(format!("corrupt message attachments: {e}"))
            })?,
            None => Vec::new(),
        },
    })
}

impl Store {
    /// The channel's conversations matching the filter, oldest created first, after the cursor.
    /// Creation order never changes, so paging visits each conversation once however many are
    /// created or updated meanwhile.
    pub async fn channel_conversations(
        &self,
        channel_id: &str,
        filter: &ConversationFilter,
    ) -> Result<Vec<(i64, ConversationSummary)>> {
        let (after_at, after_id) = filter.after.clone().unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "{SUMMARY_SELECT} WHERE c.channel_id = $1 \
             AND (c.created_at > $2 OR (c.created_at = $2 AND c.id > $3)) \
             AND ($4 = '' OR c.status = $4) AND ($5 = '' OR c.queue_id = $5) AND c.updated_at >= $6 \
             ORDER BY c.created_at, c.id LIMIT $7"
        );
        let rows = sqlx::query(&sql)
            .bind(channel_id)
            .bind(after_at)
            .bind(after_id)
            .bind(filter.status.map_or("", ConversationStatus::as_str))
            .bind(filter.queue_id.as_deref().unwrap_or(""))
            .bind(filter.updated_since_ms.unwrap_or(i64::MIN))
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((col_i64(row, "created_at")?, summary_from_row(row)?)))
            .collect()
    }

    /// Every conversation of the contact, newest first.
    pub async fn contact_conversations(
        &self,
        contact_id: &str,
    ) -> Result<Vec<ConversationSummary>> {
        let sql =
            format!("{SUMMARY_SELECT} WHERE c.contact_id = $1 ORDER BY c.updated_at DESC, c.id");
        let rows = sqlx::query(&sql)
            .bind(contact_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// What agents did to the conversation, oldest first.
    pub async fn conversation_events(&self, id: &str) -> Result<Vec<ConversationEvent>> {
        let rows = sqlx::query(
            "SELECT e.at, e.kind, e.agent_id, a.name AS agent_name, e.target, e.note \
             FROM conversation_events e LEFT JOIN agents a ON a.id = e.agent_id \
             WHERE e.conversation_id = $1 ORDER BY e.at, e.kind",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConversationEvent {
                    at_ms: col_i64(row, "at")?,
                    kind: col_name(row, "kind")?,
                    agent_name: col_opt_str(row, "agent_name")?,
                    target: col_opt_str(row, "target")?,
                    note: col_opt_str(row, "note")?,
                })
            })
            .collect()
    }

    /// Messages with `seq > after_seq`, oldest first, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ChatMessage>> {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationSummary>> {
        let sql = format!("{SUMMARY_SELECT} WHERE c.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(summary_from_row).transpose()
    }

    /// The visitor's most recent conversation on this channel: the one in progress, or else the
    /// last closed one (so a returning visitor still sees how it ended).
    pub async fn latest_conversation(
        &self,
        channel_id: &str,
        visitor_id: &str,
    ) -> Result<Option<ConversationSummary>> {
        let sql = format!(
            "{SUMMARY_SELECT} WHERE c.channel_id = $1 AND c.visitor_id = $2 \
             ORDER BY CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END, c.updated_at DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(channel_id)
            .bind(visitor_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(summary_from_row).transpose()
    }

    /// Conversations not closed whose channel closes idle ones and that have had no activity
    /// for that long, at most `limit`, the longest idle first.
    pub async fn idle_conversation_ids(&self, now_ms: i64, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.id FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
             WHERE c.status <> 'closed' AND ch.idle_close_secs > 0 \
             AND c.updated_at < $1 - ch.idle_close_secs * 1000 \
             ORDER BY c.updated_at LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| col_str(r, "id")).collect()
    }

    /// Conversations waiting for an agent, every channel's.
    pub async fn waiting_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM conversations WHERE status = $1")
            .bind(ConversationStatus::Waiting.as_str())
            .fetch_one(&self.pool)
            .await?;
        col_i64(&row, "n")
    }

    /// The id of the conversation's channel.
    pub async fn conversation_channel_id(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT channel_id FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| col_str(&r, "channel_id")).transpose()
    }

    /// Up to `limit` conversations not closed, latest activity first, starting below `before`
    /// and, for a scoped login, of that channel only.
    pub async fn active_conversations(
        &self,
        before: Option<&InboxCursor>,
        channel_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>> {
        let sql = format!(
            "{SUMMARY_SELECT} WHERE c.status <> 'closed' \
             AND (c.updated_at < $1 OR (c.updated_at = $1 AND c.id < $2)) \
             AND ($3 = '' OR ch.channel_key = $3) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(before.map_or(i64::MAX, |b| b.updated_at_ms))
            .bind(before.map_or("", |b| b.id.as_str()))
            .bind(channel_key.unwrap_or(""))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(summary_from_row).collect()
    }
}
