//! Socket frames for `WS /v1/visitor/ws` and `WS /v1/agent/ws`.
//!
//! Messages are durable: each has a server-assigned, gap-free `seq` within its conversation. A
//! client tags every send with its own `client_id`; the server acknowledges with the `seq` only
//! once the message is committed, and a resend with the same `client_id` gets the same `seq` back
//! without storing a duplicate. A client reconnects with `resume_after` (the last `seq` it holds)
//! and receives everything after it.

use serde::{Deserialize, Serialize};

use crate::names::named;

/// Longest message text accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Largest socket frame accepted, in bytes (a full-length message of 4-byte characters fits).
pub const MAX_FRAME_BYTES: usize = 20 * 1024;

named! {
    pub enum ConversationStatus {
        /// Created by the visitor's first message; no agent has answered yet.
        Waiting = "waiting",
        /// An agent has it.
        Open = "open",
        Closed = "closed",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Agent {
        agent_id: String,
        name: String,
    },
    /// The channel's bot endpoint, answering before a human takes over.
    Bot {
        name: String,
    },
    /// An agent of the channel's external desk, answering through the inbound URL.
    Desk {
        name: String,
    },
    System,
}

named! {
    /// [`Author`]'s variants by name, as the store keeps a message's author.
    pub enum AuthorKind {
        Visitor = "visitor",
        Agent = "agent",
        Bot = "bot",
        Desk = "desk",
        System = "system",
    }
}

impl Author {
    pub fn kind(&self) -> AuthorKind {
        match self {
            Self::Visitor => AuthorKind::Visitor,
            Self::Agent { .. } => AuthorKind::Agent,
            Self::Bot { .. } => AuthorKind::Bot,
            Self::Desk { .. } => AuthorKind::Desk,
            Self::System => AuthorKind::System,
        }
    }
}

named! {
    /// Who answers a conversation.
    #[derive(Default)]
    pub enum Handler {
        /// The gateway's agents, through queues and the console.
        #[default]
        Agents = "agents",
        /// The channel's bot, until it hands over.
        Bot = "bot",
        /// The channel's external operator desk.
        Desk = "desk",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    pub conversation_id: String,
    pub seq: i64,
    pub author: Author,
    /// May be empty when the message carries attachments.
    pub text: String,
    /// The sender's own id for this message, so the sender can match it to its pending copy.
    pub client_id: String,
    pub sent_at_ms: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// Most files one message carries.
pub const MAX_ATTACHMENTS: usize = 5;
/// Longest file name kept, in characters (a longer one is cut, keeping its extension).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A file a message carries, as its readers see it. The console fetches its bytes from
/// `/v1/agent/files/{id}` with the agent's login; the visitor's socket frames, webhook payloads
/// and REST answers carry a signed, expiring `url` instead (a program with the visitor's
/// session token may also use `/v1/visitor/files/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: String,
    pub name: String,
    /// Decided by the gateway from the file's bytes, never from its name or the uploader.
    pub content_type: String,
    pub size: u64,
    /// A raster image's pixels; such an image also has a thumbnail (`?thumbnail=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A download link that needs no other credential, valid for a limited time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What the inbox shows of a message of files alone: "📎 photo.png" (and how many more).
pub fn attachments_preview(files: &[Attachment]) -> String {
    match files {
        [] => String::new(),
        [only] => format!("📎 {}", only.name),
        [first, rest @ ..] => format!("📎 {} +{}", first.name, rest.len()),
    }
}

/// A file's size for people: "12 KB", "3.4 MB". In whole numbers: float formatting would
/// cost the panel kilobytes.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{} KB", bytes / 1000),
        _ => {
            let tenths = bytes / 100_000;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

impl Attachment {
    /// Whether it is shown inline (a raster image) rather than as a file card.
    pub fn is_image(&self) -> bool {
        self.width.is_some()
    }
}

named! {
    /// The kinds of file a channel accepts, each a set of types recognised by their bytes.
    pub enum FileKind {
        /// PNG, JPEG, GIF, WebP.
        Image = "image",
        Pdf = "pdf",
        /// UTF-8 text (served as `text/plain`, whatever it contains).
        Text = "text",
        /// Word, Excel and PowerPoint documents (old and new), OpenDocument.
        Office = "office",
        /// ZIP, gzip, 7z, tar.
        Archive = "archive",
        /// Audio and video.
        Media = "media",
    }
}

/// What an agent's inbox shows of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    pub id: String,
    pub channel_key: String,
    pub channel_name: String,
    pub visitor_id: String,
    pub status: ConversationStatus,
    pub assigned_agent_id: Option<String>,
    pub last_seq: i64,
    pub last_text: String,
    pub page_url: Option<String>,
    pub updated_at_ms: i64,
    /// The visitor's contact (created at their first message).
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Where the visitor wrote from: the page's origin, which visit, the browser.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub visit: Option<u32>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub handler: Handler,
    /// The queue it waits in (or waited in) for an agent.
    #[serde(default)]
    pub queue_id: Option<String>,
    /// Started while nobody could chat: the visitor left a message (and maybe an address) for
    /// an answer later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
    /// Who wrote the last message (the console alerts its agent when it is the visitor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_author: Option<AuthorKind>,
    /// What its visitor thought of it, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<crate::Rating>,
}

named! {
    pub enum ConversationEventKind {
        Closed = "closed",
        TransferredToAgent = "transferred_to_agent",
        TransferredToQueue = "transferred_to_queue",
        /// The bot handed it to `desk` or `agents` (in the event's `target`).
        HandedOver = "handed_over",
    }
}

/// Something an agent did to a conversation (a transfer with its note, a close): shown to agents,
/// never to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationEvent {
    pub at_ms: i64,
    pub kind: ConversationEventKind,
    pub agent_name: Option<String>,
    /// The agent or queue id it went to, or who the bot handed it to.
    pub target: Option<String>,
    pub note: Option<String>,
}

/// Frames the widget sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorClientFrame {
    Send {
        client_id: String,
        text: String,
        /// Ids of files the visitor uploaded (`POST /v1/visitor/files`), at most
        /// [`MAX_ATTACHMENTS`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
    },
    /// The visitor is typing: ephemeral, never stored, and it counts as activity.
    Typing,
    /// The visitor leaves an email address for the conversation in progress: agents' replies
    /// they are not there to read go to it, and with `transcript` the whole conversation when
    /// it closes. Offered only when the gateway sends email (`SessionCreated::email`).
    Email { address: String, transcript: bool },
    /// The visitor's answer to a co-browsing request; accepting an active session again (a
    /// new page of the site) resumes it.
    CobrowseAnswer { session_id: String, accept: bool },
    /// The visitor lets the agent act on the page, or takes that back.
    CobrowseControl { session_id: String, granted: bool },
    /// The visitor stops sharing the page.
    CobrowseStop { session_id: String },
    /// A piece of the page's mirror: the JSON text of one batch of the co-browse module, cut
    /// into frames, `more` on each but the last. Relayed to the agents watching, never stored.
    Mirror {
        session_id: String,
        data: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
}

named! {
    /// Why the gateway ended a visitor session.
    pub enum EndReason {
        /// Nothing sent (message or typing) for the channel's inactivity timeout.
        Inactive = "inactive",
    }
}

/// Frames the gateway sends to the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorServerFrame {
    /// First frame after the upgrade: the visitor's current conversation, if any. The replay of
    /// messages after `resume_after` follows.
    Ready {
        conversation_id: Option<String>,
        status: Option<ConversationStatus>,
        /// The visitor rated that conversation already: the panel does not ask again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rated: bool,
        /// A co-browsing request waiting for an answer, or the session running (a new page
        /// resumes it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cobrowse: Option<crate::CobrowseInvite>,
    },
    Message {
        message: ChatMessage,
    },
    /// An agent is typing an answer.
    Typing {
        agent_name: String,
    },
    /// The conversation changed status: an agent closed it (writing again reopens it), or it
    /// reopened.
    Status {
        conversation_id: String,
        status: ConversationStatus,
    },
    Ack {
        client_id: String,
        conversation_id: String,
        seq: i64,
    },
    Error {
        code: String,
        message: String,
        client_id: Option<String>,
    },
    /// The address was saved, as `VisitorClientFrame::Email` asked.
    EmailSaved {
        address: String,
        transcript: bool,
    },
    /// The gateway ended this session and closes the socket. The conversation is kept: a new
    /// session for the same visitor resumes it.
    SessionEnded {
        reason: EndReason,
        /// The channel's timeout, for the message the widget shows.
        after_secs: i64,
    },
    /// A co-browsing request, or a change to the session (accepted, control, ended).
    Cobrowse {
        invite: crate::CobrowseInvite,
    },
    /// The agent points at this place of the page (CSS pixels from the document's corner).
    CobrowsePoint {
        x: i32,
        y: i32,
    },
    /// The agent, granted control, acts on the page.
    CobrowseAct {
        act: crate::CobrowseAct,
    },
    /// The agent's view lost track of the page: the module sends it afresh.
    CobrowseResync,
}

/// Frames the console sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentClientFrame {
    /// Start following one conversation: the server replays messages after `resume_after` and
    /// then streams new ones.
    Open {
        conversation_id: String,
        resume_after: i64,
    },
    Send {
        conversation_id: String,
        client_id: String,
        text: String,
        /// Ids of files the agent uploaded (`POST /v1/agent/files`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
    },
    /// The agent is typing in this conversation: shown to the visitor, never stored.
    Typing { conversation_id: String },
    /// The agent has read the conversation up to `seq` (kept, for unread counts everywhere).
    Read { conversation_id: String, seq: i64 },
    /// The next page of the inbox: conversations older than `before` (an `older` cursor).
    InboxOlder { before: InboxCursor },
    /// Start (or stop) receiving the mirror of the conversation's co-browsing session.
    Watch { conversation_id: String, on: bool },
    /// Point at a place of the visitor's page (CSS pixels from the document's corner).
    CobrowsePoint {
        conversation_id: String,
        x: i32,
        y: i32,
    },
    /// Act on the visitor's page, once they granted control.
    CobrowseAct {
        conversation_id: String,
        act: crate::CobrowseAct,
    },
    /// Ask the visitor's module for the page afresh.
    CobrowseResync { conversation_id: String },
}

/// Where a page of the inbox ended: the next page starts below this conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxCursor {
    pub updated_at_ms: i64,
    pub id: String,
}

/// Conversations in one inbox frame; older ones come a page at a time, on request.
pub const INBOX_PAGE: usize = 100;
/// A conversation summary's `last_text` is a preview cut to this many characters.
pub const PREVIEW_CHARS: usize = 140;

/// How long a typing notice shows unless renewed; clients send one every few seconds.
pub const TYPING_SHOWS_MS: u64 = 5000;

/// Frames the gateway sends to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentServerFrame {
    /// First frame after the upgrade: the conversations not closed with the latest activity
    /// (at most [`INBOX_PAGE`]), and where older ones continue if there are more.
    Inbox {
        conversations: Vec<ConversationSummary>,
        /// How far this agent has read each of them (by `seq`), for unread counts.
        #[serde(default)]
        read: std::collections::BTreeMap<String, i64>,
        #[serde(default)]
        older: Option<InboxCursor>,
    },
    /// The answer to `inbox_older`: the next page, added below the ones the console has.
    InboxPage {
        conversations: Vec<ConversationSummary>,
        #[serde(default)]
        read: std::collections::BTreeMap<String, i64>,
        older: Option<InboxCursor>,
    },
    /// A conversation was created or changed (new message, assignment, status).
    Conversation {
        conversation: ConversationSummary,
    },
    /// The visitor of a conversation this console follows is typing.
    Typing {
        conversation_id: String,
    },
    Message {
        message: ChatMessage,
    },
    Ack {
        client_id: String,
        conversation_id: String,
        seq: i64,
    },
    Error {
        code: String,
        message: String,
        client_id: Option<String>,
    },
    /// A co-browsing session of a followed conversation was asked for or changed.
    Cobrowse {
        session: crate::CobrowseSession,
    },
    /// A piece of a watched conversation's mirror, as the visitor's module sent it.
    Mirror {
        conversation_id: String,
        session_id: String,
        data: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(12_345), "12 KB");
        assert_eq!(human_size(3_456_789), "3.4 MB");
        assert_eq!(human_size(10_485_760), "10.4 MB");
    }

    #[test]
    fn frames_are_tagged_by_type_in_snake_case() {
        let frame = VisitorClientFrame::Send {
            client_id: "c1".into(),
            text: "hi".into(),
            attachments: Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"send","client_id":"c1","text":"hi"}"#,
            "a message without files is the frame it always was"
        );
        let parsed: AgentClientFrame =
            serde_json::from_str(r#"{"type":"open","conversation_id":"x","resume_after":3}"#)
                .unwrap();
        assert_eq!(
            parsed,
            AgentClientFrame::Open {
                conversation_id: "x".into(),
                resume_after: 3
            }
        );
    }

    #[test]
    fn unknown_frame_type_is_rejected() {
        assert!(serde_json::from_str::<VisitorClientFrame>(r#"{"type":"nope"}"#).is_err());
    }
}
