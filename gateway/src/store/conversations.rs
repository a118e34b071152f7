//! Conversations and their messages.
//!
//! Invariants kept here: a message's `seq` is the conversation's `last_seq` incremented in the
//! same transaction that inserts the message, so seqs are gap-free; the unique index on
//! `(conversation_id, client_id)` makes a resend return the stored message instead of a copy.
//! Every write transaction starts with a write, so SQLite takes its write lock up front and a
//! concurrent writer waits (busy timeout) instead of failing a read-to-write upgrade.

use protocol::{
    Author, ChatMessage, ConversationEvent, ConversationStatus, ConversationSummary, EndedSession,
    Handler, InboxCursor, HANDED_OVER_EVENT,
};
use sqlx::any::AnyRow;

use super::outbox::{enqueue, Event};
use super::{
    col_i64, col_opt_str, col_str, is_unique_violation, AgentRecord, ChannelRecord, Store,
};
use crate::error::{Error, Result};

/// A message as a client sends it.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub client_id: &'a str,
    pub text: &'a str,
    pub sent_at_ms: i64,
}

impl<'a> NewMessage<'a> {
    /// A message as a client sends it now.
    pub fn now(client_id: &'a str, text: &'a str) -> Self {
        Self {
            client_id,
            text,
            sent_at_ms: crate::now_ms(),
        }
    }
}

/// The outcome of an append.
#[derive(Debug, Clone)]
pub struct Appended {
    pub message: ChatMessage,
    pub conversation: ConversationSummary,
    /// The message was already stored under this `client_id`: nothing new was written.
    pub duplicate: bool,
    /// This message put the conversation in its queue: it created it, or reopened it.
    pub queued: bool,
}

/// Who writes a reply to the visitor.
#[derive(Debug, Clone, Copy)]
pub enum ReplyAuthor<'a> {
    /// One of the gateway's agents: the first to answer a waiting conversation takes it.
    Agent(&'a AgentRecord),
    /// The channel's bot, by its endpoint's name.
    Bot(&'a str),
    /// An agent of the channel's external desk, by the name the desk gave.
    Desk(&'a str),
}

impl ReplyAuthor<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Agent(_) => "agent",
            Self::Bot(_) => "bot",
            Self::Desk(_) => "desk",
        }
    }
}

/// `GET /v1/channels/{id}/conversations` filters; the cursor is the last row's `(created_at, id)`.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub queue_id: Option<String>,
    pub updated_since_ms: Option<i64>,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

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

/// The visitor's contact (created with their first conversation) on their open conversation.
async fn link_contact(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    channel_id: &str,
    visitor_id: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO contacts (id, channel_id, visitor_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (channel_id, visitor_id) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(channel_id)
    .bind(visitor_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE conversations SET contact_id = \
         (SELECT id FROM contacts WHERE channel_id = $1 AND visitor_id = $2) \
         WHERE channel_id = $1 AND visitor_id = $2 AND status <> 'closed'",
    )
    .bind(channel_id)
    .bind(visitor_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation_id: &str,
    at_ms: i64,
    kind: &str,
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
    .bind(kind)
    .bind(agent_id)
    .bind(target)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where a visitor's message comes from, recorded on the conversation it creates.
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitContext<'a> {
    pub page_url: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// The visit number from the visitor's ticket.
    pub visit: Option<u32>,
    pub user_agent: Option<&'a str>,
}

const SUMMARY_SELECT: &str = "SELECT c.id, ch.channel_key, ch.name AS channel_name, c.visitor_id, \
     c.status, c.assigned_agent_id, c.last_seq, c.last_text, c.page_url, c.updated_at, c.contact_id, \
     c.origin, c.visit, c.user_agent, c.handler, c.queue_id, c.created_at \
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id";

const MESSAGE_SELECT: &str = "SELECT m.conversation_id, m.seq, m.author_kind, m.author_agent_id, \
     a.name AS agent_name, m.author_name, m.body, m.client_id, m.sent_at \
     FROM messages m LEFT JOIN agents a ON a.id = m.author_agent_id";

fn status_name(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Waiting => "waiting",
        ConversationStatus::Open => "open",
        ConversationStatus::Closed => "closed",
    }
}

fn handler_name(handler: Handler) -> &'static str {
    match handler {
        Handler::Agents => "agents",
        Handler::Bot => "bot",
        Handler::Desk => "desk",
    }
}

fn handler_from_str(s: &str) -> Handler {
    match s {
        "bot" => Handler::Bot,
        "desk" => Handler::Desk,
        _ => Handler::Agents,
    }
}

/// The conversation as the transaction sees it (its own writes included).
pub(super) async fn conversation_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
) -> Result<Option<ConversationSummary>> {
    let sql = format!("{SUMMARY_SELECT} WHERE c.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(summary_from_row).transpose()
}

/// Every message of the conversation, oldest first, as the transaction sees them.
pub(super) async fn transcript_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
) -> Result<Vec<ChatMessage>> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 ORDER BY m.seq");
    let rows = sqlx::query(&sql).bind(id).fetch_all(&mut **tx).await?;
    rows.iter().map(message_from_row).collect()
}

/// Who answers a new conversation on the channel: its bot first, else its desk, else agents.
async fn first_handler(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    channel_id: &str,
) -> Result<Handler> {
    let kinds = sqlx::query(
        "SELECT kind FROM webhook_endpoints WHERE channel_id = $1 AND kind IN ('bot', 'desk')",
    )
    .bind(channel_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|row| col_str(row, "kind"))
    .collect::<Result<Vec<_>>>()?;
    Ok(if kinds.iter().any(|k| k == "bot") {
        Handler::Bot
    } else if kinds.iter().any(|k| k == "desk") {
        Handler::Desk
    } else {
        Handler::Agents
    })
}

fn status_from_str(s: &str) -> ConversationStatus {
    match s {
        "open" => ConversationStatus::Open,
        "closed" => ConversationStatus::Closed,
        _ => ConversationStatus::Waiting,
    }
}

fn summary_from_row(row: &AnyRow) -> Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: col_str(row, "id")?,
        channel_key: col_str(row, "channel_key")?,
        channel_name: col_str(row, "channel_name")?,
        visitor_id: col_str(row, "visitor_id")?,
        status: status_from_str(&col_str(row, "status")?),
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
        handler: handler_from_str(&col_str(row, "handler")?),
        queue_id: col_opt_str(row, "queue_id")?,
    })
}

fn message_from_row(row: &AnyRow) -> Result<ChatMessage> {
    let author = match col_str(row, "author_kind")?.as_str() {
        "visitor" => Author::Visitor,
        "agent" => Author::Agent {
            agent_id: col_opt_str(row, "author_agent_id")?.unwrap_or_default(),
            name: col_opt_str(row, "agent_name")?.unwrap_or_default(),
        },
        "bot" => Author::Bot {
            name: col_opt_str(row, "author_name")?.unwrap_or_default(),
        },
        "desk" => Author::Desk {
            name: col_opt_str(row, "author_name")?.unwrap_or_default(),
        },
        _ => Author::System,
    };
    Ok(ChatMessage {
        conversation_id: col_str(row, "conversation_id")?,
        seq: col_i64(row, "seq")?,
        author,
        text: col_str(row, "body")?,
        client_id: col_str(row, "client_id")?,
        sent_at_ms: col_i64(row, "sent_at")?,
    })
}

impl Store {
    /// Stores a visitor's message in the visitor's conversation in progress on this channel,
    /// creating the conversation if this is its first message.
    pub async fn append_visitor_message(
        &self,
        channel: &ChannelRecord,
        visitor_id: &str,
        context: VisitContext<'_>,
        message: NewMessage<'_>,
        reopen_after_ms: i64,
    ) -> Result<Appended> {
        let current = self.open_conversation_id(&channel.id, visitor_id).await?;
        if let Some(current) = &current {
            if let Some(existing) = self
                .message_by_client_id(current, message.client_id)
                .await?
            {
                return self.duplicate(existing).await;
            }
        }
        let mut tx = self.pool.begin().await?;
        // Closed recently: the same conversation comes back to whoever handled it. (A second
        // tab doing the same finds it no longer closed, and its insert below yields to it.) Only
        // tried when no conversation was open: most messages go to one that is.
        let reopened = current.is_none()
            && sqlx::query(
                "UPDATE conversations SET assigned_agent_id = NULL, closed_at = NULL, \
             status = CASE WHEN handler = 'agents' THEN 'waiting' ELSE 'open' END \
             WHERE id = (SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 \
                         AND status = 'closed' AND closed_at > $3 ORDER BY closed_at DESC LIMIT 1) \
             AND status = 'closed' AND NOT EXISTS (SELECT 1 FROM conversations o \
                 WHERE o.channel_id = $1 AND o.visitor_id = $2 AND o.status <> 'closed')",
            )
            .bind(&channel.id)
            .bind(visitor_id)
            .bind(reopen_after_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        // Only a first message can create the conversation (a race with a close aside).
        let handler = if current.is_none() && !reopened {
            first_handler(&mut tx, &channel.id).await?
        } else {
            Handler::Agents
        };
        let created = !reopened && sqlx::query(
            "INSERT INTO conversations (id, channel_id, visitor_id, status, last_seq, last_text, \
             page_url, origin, created_at, updated_at, queue_id, visit, user_agent, handler) \
             VALUES ($1, $2, $3, $4, 0, '', $5, $6, $7, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&channel.id)
        .bind(visitor_id)
        .bind(if handler == Handler::Agents { "waiting" } else { "open" })
        .bind(context.page_url)
        .bind(context.origin)
        .bind(message.sent_at_ms)
        .bind(&channel.queue_id)
        .bind(context.visit.map(i64::from))
        .bind(context.user_agent)
        .bind(handler_name(handler))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if created {
            link_contact(&mut tx, &channel.id, visitor_id, message.sent_at_ms).await?;
        }
        let row = sqlx::query(
            "UPDATE conversations SET last_seq = last_seq + 1, last_text = $1, updated_at = $2 \
             WHERE channel_id = $3 AND visitor_id = $4 AND status <> 'closed' \
             RETURNING id, last_seq, handler",
        )
        .bind(message.text)
        .bind(message.sent_at_ms)
        .bind(&channel.id)
        .bind(visitor_id)
        .fetch_one(&mut *tx)
        .await?;
        let conversation_id = col_str(&row, "id")?;
        let seq = col_i64(&row, "last_seq")?;
        let handler = handler_from_str(&col_str(&row, "handler")?);
        if let Err(e) = insert_message(&mut tx, &conversation_id, seq, None, message).await {
            drop(tx);
            return self
                .resolve_insert_conflict(e, &conversation_id, message.client_id)
                .await;
        }
        let mut events = Vec::new();
        if created {
            events.push(Event::about(
                &channel.id,
                "conversation.created",
                &conversation_id,
                message.sent_at_ms,
            ));
        }
        events.push(Event {
            message: Some(stored_message(
                &conversation_id,
                seq,
                Author::Visitor,
                message,
            )),
            ..Event::about(
                &channel.id,
                "message.created",
                &conversation_id,
                message.sent_at_ms,
            )
        });
        self.commit_with_events(tx, events).await?;
        let queued = (created || reopened) && handler == Handler::Agents;
        self.appended(&conversation_id, seq, queued).await
    }

    /// Stores a reply to the visitor: an agent's (the first to answer a waiting conversation
    /// takes it), the bot's or the external desk's.
    pub async fn append_reply(
        &self,
        conversation_id: &str,
        author: ReplyAuthor<'_>,
        message: NewMessage<'_>,
    ) -> Result<Appended> {
        if let Some(existing) = self
            .message_by_client_id(conversation_id, message.client_id)
            .await?
        {
            return self.duplicate(existing).await;
        }
        let mut tx = self.pool.begin().await?;
        let mut took_it = false;
        if let ReplyAuthor::Agent(agent) = author {
            took_it = sqlx::query(
                "UPDATE conversations SET assigned_agent_id = $1 \
                 WHERE id = $2 AND status <> 'closed' AND assigned_agent_id IS NULL",
            )
            .bind(&agent.id)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        }
        // An agent's answer makes the conversation theirs to handle; a bot's or desk's leaves
        // who handles it as it was.
        let row = sqlx::query(
            "UPDATE conversations SET last_seq = last_seq + 1, last_text = $1, updated_at = $2, \
             status = 'open', handler = CASE WHEN $3 = 'agent' THEN 'agents' ELSE handler END \
             WHERE id = $4 AND status <> 'closed' RETURNING last_seq, channel_id",
        )
        .bind(message.text)
        .bind(message.sent_at_ms)
        .bind(author.kind())
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            drop(tx);
            return match self.conversation(conversation_id).await? {
                Some(_) => Err(Error::ConversationClosed),
                None => Err(Error::ConversationNotFound),
            };
        };
        let seq = col_i64(&row, "last_seq")?;
        let channel_id = col_str(&row, "channel_id")?;
        if let Err(e) = insert_message(&mut tx, conversation_id, seq, Some(author), message).await {
            drop(tx);
            return self
                .resolve_insert_conflict(e, conversation_id, message.client_id)
                .await;
        }
        let stored_author = match author {
            ReplyAuthor::Agent(agent) => Author::Agent {
                agent_id: agent.id.clone(),
                name: agent.name.clone(),
            },
            ReplyAuthor::Bot(name) => Author::Bot { name: name.into() },
            ReplyAuthor::Desk(name) => Author::Desk { name: name.into() },
        };
        let mut events = Vec::new();
        if took_it {
            events.push(Event::about(
                &channel_id,
                "conversation.assigned",
                conversation_id,
                message.sent_at_ms,
            ));
        }
        events.push(Event {
            message: Some(stored_message(conversation_id, seq, stored_author, message)),
            ..Event::about(
                &channel_id,
                "message.created",
                conversation_id,
                message.sent_at_ms,
            )
        });
        self.commit_with_events(tx, events).await?;
        self.appended(conversation_id, seq, false).await
    }

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
        insert_event(&mut tx, id, now_ms, "closed", agent_id, None, None).await?;
        let event = Event::about(&channel_id, "conversation.closed", id, now_ms);
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
                "transferred_to_agent",
            ),
            TransferTo::Queue(queue_id) => (
                "UPDATE conversations SET queue_id = $1, assigned_agent_id = NULL, status = 'waiting', \
                 handler = 'agents', updated_at = $2 WHERE id = $3 AND status <> 'closed' \
                 RETURNING channel_id",
                queue_id,
                "transferred_to_queue",
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
                "conversation.assigned",
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
        let handler = handler_from_str(&col_str(&row, "handler")?);
        let channel_id = col_str(&row, "channel_id")?;
        insert_event(
            &mut tx,
            id,
            now_ms,
            "handed_over",
            None,
            Some(handler_name(handler)),
            note,
        )
        .await?;
        let event = Event {
            with_transcript: true,
            ..Event::about(&channel_id, HANDED_OVER_EVENT, id, now_ms)
        };
        self.commit_with_events(tx, vec![event]).await?;
        Ok(Some(handler))
    }

    /// Records that the visitor's session ended, with a `visitor.session_ended` event in the
    /// order of the visitor's conversation in progress, if any. Ending it twice is not an error
    /// and sends nothing more.
    pub async fn end_session(
        &self,
        session: &EndedSession,
        channel_id: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO ended_sessions (session_id, reason, ended_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&session.session_id)
        .bind(&session.reason)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(());
        }
        let current = sqlx::query(
            "SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 AND status <> 'closed'",
        )
        .bind(channel_id)
        .bind(&session.visitor_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| col_str(&row, "id"))
        .transpose()?;
        let event = Event {
            channel_id,
            event_type: "visitor.session_ended",
            conversation_id: current.as_deref(),
            message: None,
            with_transcript: false,
            session: Some(session.clone()),
            now_ms,
        };
        self.commit_with_events(tx, vec![event]).await
    }

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
            .bind(filter.status.map_or("", status_name))
            .bind(filter.queue_id.as_deref().unwrap_or(""))
            .bind(filter.updated_since_ms.unwrap_or(i64::MIN))
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((col_i64(row, "created_at")?, summary_from_row(row)?)))
            .collect()
    }

    /// Commits, and wakes the delivery worker if the events went to any endpoint.
    pub(super) async fn commit_with_events(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        events: Vec<Event<'_>>,
    ) -> Result<()> {
        let mut enqueued = false;
        for event in events {
            enqueued |= enqueue(&mut tx, event).await?;
        }
        tx.commit().await?;
        if enqueued {
            self.outbox_ready.notify_one();
        }
        Ok(())
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
                    kind: col_str(row, "kind")?,
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

    /// Every conversation not closed, most recently active first: the agents' inbox.
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

    async fn open_conversation_id(
        &self,
        channel_id: &str,
        visitor_id: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 AND status <> 'closed'",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| col_str(&r, "id")).transpose()
    }

    async fn message_by_client_id(
        &self,
        conversation_id: &str,
        client_id: &str,
    ) -> Result<Option<ChatMessage>> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND m.client_id = $2");
        let row = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// A failed insert that lost a race with its own resend is a duplicate, not an error.
    async fn resolve_insert_conflict(
        &self,
        err: sqlx::Error,
        conversation_id: &str,
        client_id: &str,
    ) -> Result<Appended> {
        if is_unique_violation(&err) {
            if let Some(existing) = self
                .message_by_client_id(conversation_id, client_id)
                .await?
            {
                return self.duplicate(existing).await;
            }
        }
        Err(err.into())
    }

    async fn duplicate(&self, message: ChatMessage) -> Result<Appended> {
        let conversation = self
            .conversation(&message.conversation_id)
            .await?
            .ok_or(Error::ConversationNotFound)?;
        Ok(Appended {
            message,
            conversation,
            duplicate: true,
            queued: false,
        })
    }

    async fn appended(&self, conversation_id: &str, seq: i64, queued: bool) -> Result<Appended> {
        let message = self
            .messages_after(conversation_id, seq - 1, 1)
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("committed message not found".into()))?;
        let conversation = self
            .conversation(conversation_id)
            .await?
            .ok_or(Error::ConversationNotFound)?;
        Ok(Appended {
            message,
            conversation,
            duplicate: false,
            queued,
        })
    }
}

/// The message as stored, for an event's payload before the commit.
fn stored_message(
    conversation_id: &str,
    seq: i64,
    author: Author,
    message: NewMessage<'_>,
) -> ChatMessage {
    ChatMessage {
        conversation_id: conversation_id.to_owned(),
        seq,
        author,
        text: message.text.to_owned(),
        client_id: message.client_id.to_owned(),
        sent_at_ms: message.sent_at_ms,
    }
}

async fn insert_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation_id: &str,
    seq: i64,
    author: Option<ReplyAuthor<'_>>,
    message: NewMessage<'_>,
) -> std::result::Result<(), sqlx::Error> {
    let (kind, agent_id, name) = match author {
        None => ("visitor", None, None),
        Some(ReplyAuthor::Agent(agent)) => ("agent", Some(agent.id.as_str()), None),
        Some(ReplyAuthor::Bot(name)) => ("bot", None, Some(name)),
        Some(ReplyAuthor::Desk(name)) => ("desk", None, Some(name)),
    };
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_agent_id, author_name, \
         body, client_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(conversation_id)
    .bind(seq)
    .bind(kind)
    .bind(agent_id)
    .bind(name)
    .bind(message.text)
    .bind(message.client_id)
    .bind(message.sent_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
