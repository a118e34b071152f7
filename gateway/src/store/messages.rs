//! Appending messages: a visitor's (which may create or reopen the conversation) and a reply
//! (an agent's, the bot's, the desk's).
//!
//! Invariants kept here: a message's `seq` is the conversation's `last_seq` incremented in the
//! same transaction that inserts the message, so seqs are gap-free; the unique index on
//! `(conversation_id, client_id)` makes a resend return the stored message instead of a copy.
//! Both appends go through the store's writer ([`super::group_commit`]): on SQLite, the appends
//! waiting at one moment share one transaction and one commit.

use futures_util::future::BoxFuture;
use protocol::{
    Attachment, Author, AuthorKind, ChatMessage, ConversationStatus, ConversationSummary,
    EndpointKind, EventType, Handler,
};
use std::sync::LazyLock;

use super::attachments::attach_in;
use super::conversations::{
    conversation_in, message_by_client_id_in, open_conversation_id_in, summary_from_row,
    SUMMARY_COLUMNS,
};
use super::emails::enqueue_replies_in;
use super::group_commit::{Write, Written};
use super::outbox::{enqueue_all, Event};
use super::statistics;
use super::tx::{Row, Tx};
use super::{col_i64, col_name, col_str, is_unique_violation, AgentRecord, ChannelRef, Store};
use crate::error::{Error, Result};
use crate::telemetry;

/// A message as a client sends it.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub client_id: &'a str,
    pub text: &'a str,
    pub sent_at_ms: i64,
    /// The unsent uploads it carries, by id, and whose they must be (`attachments.uploader`).
    pub attachments: &'a [String],
    pub uploader: &'a str,
}

impl<'a> NewMessage<'a> {
    /// A message as a client sends it now.
    pub fn now(client_id: &'a str, text: &'a str) -> Self {
        Self {
            client_id,
            text,
            sent_at_ms: crate::now_ms(),
            attachments: &[],
            uploader: "",
        }
    }

    /// The message carrying these uploads of `uploader`'s.
    pub fn with_attachments(self, uploader: &'a str, attachments: &'a [String]) -> Self {
        Self {
            attachments,
            uploader,
            ..self
        }
    }
}

/// Who may attach an upload to a message: the one who uploaded it (`attachments.uploader`).
pub fn uploader_of_visitor(visitor_id: &str) -> String {
    format!("visitor:{visitor_id}")
}

pub fn uploader_of_agent(agent_id: &str) -> String {
    format!("agent:{agent_id}")
}

/// Uploads made with the channel's secret (the REST API, its desk and bot).
pub const API_UPLOADER: &str = "api";

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
    fn kind(&self) -> AuthorKind {
        match self {
            Self::Agent(_) => AuthorKind::Agent,
            Self::Bot(_) => AuthorKind::Bot,
            Self::Desk(_) => AuthorKind::Desk,
        }
    }
}

/// Where a visitor's message comes from, recorded on the conversation it creates.
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitContext<'a> {
    pub page_url: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// The visit number from the visitor's ticket.
    pub visit: Option<u32>,
    pub user_agent: Option<&'a str>,
    /// Written while nobody could chat (the channel took a message instead).
    pub offline: bool,
    /// The proactive greeting the visitor answers: a new conversation starts with it.
    pub greeting: Option<&'a str>,
}

/// The visitor's contact (created with their first conversation) on their open conversation.
async fn link_contact(
    tx: &mut Tx<'_>,
    channel_id: &str,
    visitor_id: &str,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO contacts (id, channel_id, visitor_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (channel_id, visitor_id) DO NOTHING",
        &[
            (&uuid::Uuid::new_v4().to_string()).into(),
            channel_id.into(),
            visitor_id.into(),
            now_ms.into(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE conversations SET contact_id = \
         (SELECT id FROM contacts WHERE channel_id = $1 AND visitor_id = $2) \
         WHERE channel_id = $1 AND visitor_id = $2 AND status <> 'closed'",
        &[channel_id.into(), visitor_id.into()],
    )
    .await?;
    Ok(())
}

/// Who answers a new conversation on the channel: its bot first, else its desk, else agents.
async fn first_handler(tx: &mut Tx<'_>, channel_id: &str) -> Result<Handler> {
    let kinds = tx
        .fetch_all(
            "SELECT kind FROM webhook_endpoints WHERE channel_id = $1 AND kind IN ('bot', 'desk')",
            &[channel_id.into()],
        )
        .await?
        .iter()
        .map(|row| col_name(row, "kind"))
        .collect::<Result<Vec<EndpointKind>>>()?;
    Ok(if kinds.contains(&EndpointKind::Bot) {
        Handler::Bot
    } else if kinds.contains(&EndpointKind::Desk) {
        Handler::Desk
    } else {
        Handler::Agents
    })
}

/// The two appends' conversation updates, each returning the summary the events carry and how
/// many endpoints the channel has (none: no event to put in the outbox); built once, not per
/// message.
///
/// A visitor's append advances the open conversation only if it does not hold the message
/// already: for most messages (to an open conversation, on a channel without endpoints) this
/// one statement and the insert are all.
static VISITOR_APPEND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE conversations SET last_seq = last_seq + 1, last_text = $1, updated_at = $2, \
         last_author = 'visitor' WHERE channel_id = $3 AND visitor_id = $4 AND status <> 'closed' \
         AND NOT EXISTS (SELECT 1 FROM messages m \
                         WHERE m.conversation_id = conversations.id AND m.client_id = $5) \
         RETURNING {SUMMARY_COLUMNS}, \
         (SELECT COUNT(*) FROM webhook_endpoints w WHERE w.channel_id = $3) AS endpoints"
    )
});
// An agent's answer makes the conversation theirs to handle; a bot's or desk's leaves who
// handles it as it was.
static REPLY_APPEND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE conversations SET last_seq = last_seq + 1, last_text = $1, updated_at = $2, \
         last_author = $3, status = 'open', \
         handler = CASE WHEN $3 = 'agent' THEN 'agents' ELSE handler END \
         WHERE id = $4 AND status <> 'closed' RETURNING {SUMMARY_COLUMNS}, channel_id, \
         (SELECT COUNT(*) FROM webhook_endpoints w \
          WHERE w.channel_id = conversations.channel_id) AS endpoints"
    )
});

impl Store {
    /// Stores a visitor's message in the visitor's conversation in progress on this channel,
    /// creating the conversation if this is its first message.
    pub async fn append_visitor_message(
        &self,
        channel: &ChannelRef,
        visitor_id: &str,
        context: VisitContext<'_>,
        message: NewMessage<'_>,
        reopen_after_ms: i64,
    ) -> Result<Appended> {
        let append = VisitorAppend {
            channel_id: channel.id.clone(),
            queue_id: channel.queue_id.clone(),
            visitor_id: visitor_id.to_owned(),
            page_url: context.page_url.map(str::to_owned),
            origin: context.origin.map(str::to_owned),
            visit: context.visit,
            user_agent: context.user_agent.map(str::to_owned),
            offline: context.offline,
            greeting: context.greeting.map(str::to_owned),
            message: OwnedMessage::from(message),
            reopen_after_ms,
        };
        match self.write(append).await {
            // Lost a race with its own resend, on another connection (PostgreSQL only: on
            // SQLite every append runs in one writer, after the other).
            Err(Error::Database(e)) if is_unique_violation(&e) => {
                let mut conn = self.pool.acquire().await?;
                let mut tx = Tx::Sqlx(&mut conn);
                let Some(id) = open_conversation_id_in(&mut tx, &channel.id, visitor_id).await?
                else {
                    return Err(e.into());
                };
                existing_in(&mut tx, &id, message.client_id)
                    .await?
                    .ok_or(e.into())
            }
            outcome => outcome,
        }
        .inspect(accepted)
    }

    /// Stores a reply to the visitor: an agent's (the first to answer a waiting conversation
    /// takes it), the bot's or the external desk's.
    /// With `email_after_ms`, the visitor's contact (if it has an address) is emailed the
    /// reply that long after, with any others made meanwhile, unless they read it in the chat.
    pub async fn append_reply(
        &self,
        conversation_id: &str,
        author: ReplyAuthor<'_>,
        message: NewMessage<'_>,
        email_after_ms: Option<i64>,
    ) -> Result<Appended> {
        let append = ReplyAppend {
            conversation_id: conversation_id.to_owned(),
            author: OwnedAuthor::from(author),
            message: OwnedMessage::from(message),
            email_after_ms,
        };
        match self.write(append).await {
            // As for a visitor's message.
            Err(Error::Database(e)) if is_unique_violation(&e) => {
                let mut conn = self.pool.acquire().await?;
                existing_in(&mut Tx::Sqlx(&mut conn), conversation_id, message.client_id)
                    .await?
                    .ok_or(e.into())
            }
            outcome => outcome,
        }
        .inspect(accepted)
    }
}

/// Counts a message that was new.
fn accepted(appended: &Appended) {
    if !appended.duplicate {
        telemetry::message_accepted(appended.message.author.kind().as_str());
    }
}

/// The message already stored under this `client_id`, as a duplicate append's outcome.
async fn existing_in(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    client_id: &str,
) -> Result<Option<Appended>> {
    let Some(message) = message_by_client_id_in(tx, conversation_id, client_id).await? else {
        return Ok(None);
    };
    let conversation = conversation_in(tx, conversation_id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    Ok(Some(Appended {
        message,
        conversation,
        duplicate: true,
        queued: false,
    }))
}

/// A message as the client sent it, owned: an append waits for the writer beyond its caller's
/// borrows.
struct OwnedMessage {
    client_id: String,
    text: String,
    sent_at_ms: i64,
    attachments: Vec<String>,
    uploader: String,
}

impl From<NewMessage<'_>> for OwnedMessage {
    fn from(message: NewMessage<'_>) -> Self {
        Self {
            client_id: message.client_id.to_owned(),
            text: message.text.to_owned(),
            sent_at_ms: message.sent_at_ms,
            attachments: message.attachments.to_vec(),
            uploader: message.uploader.to_owned(),
        }
    }
}

impl OwnedMessage {
    fn borrowed(&self) -> NewMessage<'_> {
        NewMessage {
            client_id: &self.client_id,
            text: &self.text,
            sent_at_ms: self.sent_at_ms,
            attachments: &self.attachments,
            uploader: &self.uploader,
        }
    }
}

/// A visitor's message on its way to the writer.
struct VisitorAppend {
    channel_id: String,
    queue_id: String,
    visitor_id: String,
    page_url: Option<String>,
    origin: Option<String>,
    visit: Option<u32>,
    user_agent: Option<String>,
    offline: bool,
    greeting: Option<String>,
    message: OwnedMessage,
    reopen_after_ms: i64,
}

impl Write for VisitorAppend {
    type Output = Appended;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<Appended>>> {
        Box::pin(self.append(tx))
    }
}

/// What starting the visitor's conversation found.
enum Start {
    /// One is open already (with this message in it, unless another connection opened it
    /// since the append looked).
    Open(String),
    /// None was open: a recently closed one was reopened, or a new one created (or neither,
    /// when another connection's insert won: the append then finds theirs).
    Started { created: bool, reopened: bool },
}

impl VisitorAppend {
    async fn append(&self, tx: &mut Tx<'_>) -> Result<Written<Appended>> {
        let channel_id = self.channel_id.as_str();
        let message = self.message.borrowed();
        let (row, created, reopened) = match self.advance(tx).await? {
            Some(row) => (row, false, false),
            None => {
                let (created, reopened) = match self.start_conversation(tx).await? {
                    Start::Open(current) => {
                        if let Some(existing) = existing_in(tx, &current, message.client_id).await?
                        {
                            return Ok(Written {
                                value: existing,
                                enqueued: false,
                            });
                        }
                        (false, false)
                    }
                    Start::Started { created, reopened } => (created, reopened),
                };
                let row = self.advance(tx).await?.ok_or_else(|| {
                    Error::Internal("no conversation open after starting one".into())
                })?;
                (row, created, reopened)
            }
        };
        let mut conversation = summary_from_row(&row)?;
        let conversation_id = conversation.id.clone();
        let seq = conversation.last_seq;
        let files = with_files(tx, channel_id, &mut conversation, message).await?;
        insert_message(tx, &conversation_id, seq, None, message, &files).await?;
        let stored = stored_message(&conversation_id, seq, Author::Visitor, message, files);
        let mut events = Vec::new();
        if created {
            events.push(Event {
                summary: Some(conversation.clone()),
                ..Event::about(
                    channel_id,
                    EventType::ConversationCreated,
                    &conversation_id,
                    message.sent_at_ms,
                )
            });
        }
        events.push(Event {
            message: Some(stored.clone()),
            summary: Some(conversation.clone()),
            ..Event::about(
                channel_id,
                EventType::MessageCreated,
                &conversation_id,
                message.sent_at_ms,
            )
        });
        let enqueued = col_i64(&row, "endpoints")? > 0 && enqueue_all(tx, events).await?;
        let queued = (created || reopened) && conversation.handler == Handler::Agents;
        Ok(Written {
            value: Appended {
                message: stored,
                conversation,
                duplicate: false,
                queued,
            },
            enqueued,
        })
    }

    /// Advances the visitor's open conversation for this message, unless it holds it already;
    /// the row has the conversation's summary and the channel's endpoint count.
    async fn advance(&self, tx: &mut Tx<'_>) -> Result<Option<Row>> {
        tx.fetch_optional(
            &VISITOR_APPEND,
            &[
                (&self.message.text).into(),
                self.message.sent_at_ms.into(),
                (&self.channel_id).into(),
                (&self.visitor_id).into(),
                (&self.message.client_id).into(),
            ],
        )
        .await
    }

    /// Reopens the visitor's recently closed conversation or creates one, if none is open.
    async fn start_conversation(&self, tx: &mut Tx<'_>) -> Result<Start> {
        let (channel_id, visitor_id) = (self.channel_id.as_str(), self.visitor_id.as_str());
        if let Some(current) = open_conversation_id_in(tx, channel_id, visitor_id).await? {
            return Ok(Start::Open(current));
        }
        // Closed recently: the same conversation comes back to whoever handled it. (A second
        // tab doing the same finds it no longer closed, and its insert below yields to it.)
        let reopened = tx
            .execute(
                "UPDATE conversations SET assigned_agent_id = NULL, closed_at = NULL, \
             status = CASE WHEN handler = 'agents' THEN 'waiting' ELSE 'open' END \
             WHERE id = (SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 \
                         AND status = 'closed' AND closed_at > $3 ORDER BY closed_at DESC LIMIT 1) \
             AND status = 'closed' AND NOT EXISTS (SELECT 1 FROM conversations o \
                 WHERE o.channel_id = $1 AND o.visitor_id = $2 AND o.status <> 'closed')",
                &[
                    channel_id.into(),
                    visitor_id.into(),
                    self.reopen_after_ms.into(),
                ],
            )
            .await?
            == 1;
        if reopened {
            // Open again: its statistics are recorded anew when it next closes.
            if let Some(id) = open_conversation_id_in(tx, channel_id, visitor_id).await? {
                statistics::forget_in(tx, &id).await?;
            }
            return Ok(Start::Started {
                created: false,
                reopened,
            });
        }
        let handler = first_handler(tx, channel_id).await?;
        let status = match handler {
            Handler::Agents => ConversationStatus::Waiting,
            Handler::Bot | Handler::Desk => ConversationStatus::Open,
        };
        let created = tx
            .execute(
                // The topic the visitor picked before their first message chose its queue.
                "INSERT INTO conversations (id, channel_id, visitor_id, status, last_seq, \
                 last_text, page_url, origin, created_at, updated_at, queue_id, visit, user_agent, \
                 handler, offline) VALUES ($1, $2, $3, $4, 0, '', $5, $6, $7, $7, \
                 COALESCE((SELECT topic_queue_id FROM contacts WHERE channel_id = $2 \
                           AND visitor_id = $3), $8), $9, $10, $11, $12) ON CONFLICT DO NOTHING",
                &[
                    (&uuid::Uuid::new_v4().to_string()).into(),
                    channel_id.into(),
                    visitor_id.into(),
                    status.as_str().into(),
                    self.page_url.as_deref().into(),
                    self.origin.as_deref().into(),
                    self.message.sent_at_ms.into(),
                    (&self.queue_id).into(),
                    self.visit.map(i64::from).into(),
                    self.user_agent.as_deref().into(),
                    handler.as_str().into(),
                    i64::from(self.offline).into(),
                ],
            )
            .await?
            == 1;
        if created {
            link_contact(tx, channel_id, visitor_id, self.message.sent_at_ms).await?;
            if let Some(greeting) = &self.greeting {
                self.greet(tx, greeting).await?;
            }
        }
        Ok(Start::Started {
            created,
            reopened: false,
        })
    }
}

impl VisitorAppend {
    /// Puts the greeting the visitor answered first in their new conversation, as the line
    /// they saw by the launcher (from the channel, not from the browser).
    async fn greet(&self, tx: &mut Tx<'_>, greeting: &str) -> Result<()> {
        let Some(id) = open_conversation_id_in(tx, &self.channel_id, &self.visitor_id).await?
        else {
            return Ok(());
        };
        tx.execute(
            "UPDATE conversations SET last_seq = 1 WHERE id = $1",
            &[(&id).into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO messages (conversation_id, seq, author_kind, body, client_id, sent_at) \
             VALUES ($1, 1, $2, $3, 'proactive-greeting', $4)",
            &[
                (&id).into(),
                AuthorKind::System.as_str().into(),
                greeting.into(),
                self.message.sent_at_ms.into(),
            ],
        )
        .await?;
        Ok(())
    }
}

/// Who writes a reply, owned (see [`OwnedMessage`]).
pub enum OwnedAuthor {
    Agent(AgentRecord),
    Bot(String),
    Desk(String),
}

impl From<ReplyAuthor<'_>> for OwnedAuthor {
    fn from(author: ReplyAuthor<'_>) -> Self {
        match author {
            ReplyAuthor::Agent(agent) => Self::Agent(agent.clone()),
            ReplyAuthor::Bot(name) => Self::Bot(name.to_owned()),
            ReplyAuthor::Desk(name) => Self::Desk(name.to_owned()),
        }
    }
}

impl OwnedAuthor {
    pub fn borrowed(&self) -> ReplyAuthor<'_> {
        match self {
            Self::Agent(agent) => ReplyAuthor::Agent(agent),
            Self::Bot(name) => ReplyAuthor::Bot(name),
            Self::Desk(name) => ReplyAuthor::Desk(name),
        }
    }
}

/// A reply on its way to the writer.
struct ReplyAppend {
    conversation_id: String,
    author: OwnedAuthor,
    message: OwnedMessage,
    email_after_ms: Option<i64>,
}

impl Write for ReplyAppend {
    type Output = Appended;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<Appended>>> {
        Box::pin(self.append(tx))
    }
}

impl ReplyAppend {
    async fn append(&self, tx: &mut Tx<'_>) -> Result<Written<Appended>> {
        reply_in(
            tx,
            &self.conversation_id,
            self.author.borrowed(),
            self.message.borrowed(),
            self.email_after_ms,
            None,
        )
        .await
    }
}

/// Stores a reply in the conversation. `created`: the reply starts it (an agent's first line),
/// so its `conversation.created` event goes first.
async fn reply_in(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    author: ReplyAuthor<'_>,
    message: NewMessage<'_>,
    email_after_ms: Option<i64>,
    created: Option<ConversationSummary>,
) -> Result<Written<Appended>> {
    if let Some(existing) = existing_in(tx, conversation_id, message.client_id).await? {
        return Ok(Written {
            value: existing,
            enqueued: false,
        });
    }
    let mut took_it = false;
    if let ReplyAuthor::Agent(agent) = author {
        took_it = tx
            .execute(
                "UPDATE conversations SET assigned_agent_id = $1 \
                 WHERE id = $2 AND status <> 'closed' AND assigned_agent_id IS NULL",
                &[(&agent.id).into(), conversation_id.into()],
            )
            .await?
            == 1;
    }
    let row = tx
        .fetch_optional(
            &REPLY_APPEND,
            &[
                message.text.into(),
                message.sent_at_ms.into(),
                author.kind().as_str().into(),
                conversation_id.into(),
            ],
        )
        .await?;
    let Some(row) = row else {
        return match conversation_in(tx, conversation_id).await? {
            Some(_) => Err(Error::ConversationClosed),
            None => Err(Error::ConversationNotFound),
        };
    };
    let mut conversation = summary_from_row(&row)?;
    let seq = conversation.last_seq;
    let channel_id = col_str(&row, "channel_id")?;
    let files = with_files(tx, &channel_id, &mut conversation, message).await?;
    insert_message(tx, conversation_id, seq, Some(author), message, &files).await?;
    let stored_author = match author {
        ReplyAuthor::Agent(agent) => Author::Agent {
            agent_id: agent.id.clone(),
            name: agent.name.clone(),
        },
        ReplyAuthor::Bot(name) => Author::Bot { name: name.into() },
        ReplyAuthor::Desk(name) => Author::Desk { name: name.into() },
    };
    let stored = stored_message(conversation_id, seq, stored_author, message, files);
    if let Some(after_ms) = email_after_ms {
        let sent_at = message.sent_at_ms;
        enqueue_replies_in(tx, conversation_id, seq - 1, sent_at + after_ms, sent_at).await?;
    }
    let mut events = Vec::new();
    if let Some(summary) = created {
        events.push(Event {
            summary: Some(summary),
            ..Event::about(
                &channel_id,
                EventType::ConversationCreated,
                conversation_id,
                message.sent_at_ms,
            )
        });
    }
    if took_it {
        events.push(Event {
            summary: Some(conversation.clone()),
            ..Event::about(
                &channel_id,
                EventType::ConversationAssigned,
                conversation_id,
                message.sent_at_ms,
            )
        });
    }
    events.push(Event {
        message: Some(stored.clone()),
        summary: Some(conversation.clone()),
        ..Event::about(
            &channel_id,
            EventType::MessageCreated,
            conversation_id,
            message.sent_at_ms,
        )
    });
    let enqueued = col_i64(&row, "endpoints")? > 0 && enqueue_all(tx, events).await?;
    Ok(Written {
        value: Appended {
            message: stored,
            conversation,
            duplicate: false,
            queued: false,
        },
        enqueued,
    })
}

/// Who an agent, the desk or the bot starts a conversation with: a visitor id (a verified
/// person's, or a browser's). Their pages on the site now open the chat: the browser's with that
/// visitor id, and a verified person's by `external_id`.
#[derive(Debug, Clone, Copy)]
pub struct StartWith<'a> {
    pub visitor_id: &'a str,
    pub browser: &'a str,
    pub external_id: Option<&'a str>,
}

/// A first line from the agents' side on its way to the writer: the conversation is created
/// with it (or, if the visitor has one in progress, it goes there).
struct StartAppend {
    channel_id: String,
    queue_id: String,
    visitor_id: String,
    browser: String,
    external_id: Option<String>,
    author: OwnedAuthor,
    message: OwnedMessage,
    email_after_ms: Option<i64>,
}

impl Write for StartAppend {
    type Output = Appended;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<Appended>>> {
        Box::pin(self.append(tx))
    }
}

impl StartAppend {
    async fn append(&self, tx: &mut Tx<'_>) -> Result<Written<Appended>> {
        let (channel_id, visitor_id) = (self.channel_id.as_str(), self.visitor_id.as_str());
        let author = self.author.borrowed();
        let message = self.message.borrowed();
        let mut created = None;
        let id = match open_conversation_id_in(tx, channel_id, visitor_id).await? {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                let handler = match author {
                    ReplyAuthor::Agent(_) => Handler::Agents,
                    ReplyAuthor::Bot(_) => Handler::Bot,
                    ReplyAuthor::Desk(_) => Handler::Desk,
                };
                tx.execute(
                    "INSERT INTO conversations (id, channel_id, visitor_id, status, last_seq, \
                     last_text, created_at, updated_at, queue_id, handler) \
                     VALUES ($1, $2, $3, 'open', 0, '', $4, $4, $5, $6)",
                    &[
                        (&id).into(),
                        channel_id.into(),
                        visitor_id.into(),
                        message.sent_at_ms.into(),
                        (&self.queue_id).into(),
                        handler.as_str().into(),
                    ],
                )
                .await?;
                link_contact(tx, channel_id, visitor_id, message.sent_at_ms).await?;
                created = conversation_in(tx, &id).await?;
                id
            }
        };
        tx.execute(
            "UPDATE live_visitors SET invited_at = $4 \
             WHERE channel_id = $1 AND (visitor_id = $2 OR external_id = $3)",
            &[
                channel_id.into(),
                (&self.browser).into(),
                self.external_id.as_deref().into(),
                message.sent_at_ms.into(),
            ],
        )
        .await?;
        reply_in(tx, &id, author, message, self.email_after_ms, created).await
    }
}

impl Store {
    /// Starts a conversation with the visitor with the agents' side's first line: an agent's
    /// (who then has it), the bot's or the desk's. Into their conversation in progress, if they
    /// have one. A retry with the same `client_id` finds the message stored.
    pub async fn start_conversation(
        &self,
        channel: &ChannelRef,
        with: StartWith<'_>,
        author: ReplyAuthor<'_>,
        message: NewMessage<'_>,
        email_after_ms: Option<i64>,
    ) -> Result<Appended> {
        let start = StartAppend {
            channel_id: channel.id.clone(),
            queue_id: channel.queue_id.clone(),
            visitor_id: with.visitor_id.to_owned(),
            browser: with.browser.to_owned(),
            external_id: with.external_id.map(str::to_owned),
            author: OwnedAuthor::from(author),
            message: OwnedMessage::from(message),
            email_after_ms,
        };
        self.write(start).await.inspect(accepted)
    }
}

/// The message's uploads, given to it (the conversation was advanced to its `seq`); for a
/// message of files alone the inbox preview names the first one.
async fn with_files(
    tx: &mut Tx<'_>,
    channel_id: &str,
    conversation: &mut ConversationSummary,
    message: NewMessage<'_>,
) -> Result<Vec<Attachment>> {
    if message.attachments.is_empty() {
        return Ok(Vec::new());
    }
    let files = attach_in(
        tx,
        channel_id,
        message.uploader,
        message.attachments,
        &conversation.id,
        conversation.last_seq,
    )
    .await?;
    if message.text.is_empty() {
        let preview = protocol::attachments_preview(&files);
        tx.execute(
            "UPDATE conversations SET last_text = $1 WHERE id = $2",
            &[(&preview).into(), (&conversation.id).into()],
        )
        .await?;
        conversation.last_text = preview;
    }
    Ok(files)
}

/// The message as stored, for an event's payload before the commit.
fn stored_message(
    conversation_id: &str,
    seq: i64,
    author: Author,
    message: NewMessage<'_>,
    attachments: Vec<Attachment>,
) -> ChatMessage {
    ChatMessage {
        conversation_id: conversation_id.to_owned(),
        seq,
        author,
        text: message.text.to_owned(),
        client_id: message.client_id.to_owned(),
        sent_at_ms: message.sent_at_ms,
        attachments,
    }
}

async fn insert_message(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    seq: i64,
    author: Option<ReplyAuthor<'_>>,
    message: NewMessage<'_>,
    attachments: &[Attachment],
) -> Result<()> {
    let attachments = match attachments {
        [] => None,
        files => Some(serde_json::to_string(files).map_err(|e| Error::Internal(e.to_string()))?),
    };
    let (kind, agent_id, name) = match author {
        None => (AuthorKind::Visitor, None, None),
        Some(author @ ReplyAuthor::Agent(agent)) => (author.kind(), Some(agent.id.as_str()), None),
        Some(author @ (ReplyAuthor::Bot(name) | ReplyAuthor::Desk(name))) => {
            (author.kind(), None, Some(name))
        }
    };
    tx.execute(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_agent_id, author_name, \
         body, client_id, sent_at, attachments) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            conversation_id.into(),
            seq.into(),
            kind.as_str().into(),
            agent_id.into(),
            name.into(),
            message.text.into(),
            message.client_id.into(),
            message.sent_at_ms.into(),
            attachments.as_deref().into(),
        ],
    )
    .await?;
    Ok(())
}
