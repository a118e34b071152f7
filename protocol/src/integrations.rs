//! What crosses the gateway's edge to other systems: webhook deliveries and their log, the
//! conversations REST API, a bot's replies and an external desk's inbound calls.

use serde::{Deserialize, Serialize};

use crate::names::named;

use crate::wire::{ChatMessage, ConversationSummary, EndReason};

named! {
    /// What a webhook delivery is about: its payload's `type`.
    pub enum EventType {
        ConversationCreated = "conversation.created",
        MessageCreated = "message.created",
        ConversationAssigned = "conversation.assigned",
        ConversationClosed = "conversation.closed",
        /// The visitor rated a closed conversation (or changed their rating): the rating is
        /// in the conversation's summary.
        ConversationRated = "conversation.rated",
        VisitorSessionEnded = "visitor.session_ended",
        /// A contact was erased on request: forget what earlier events told of them.
        ContactErased = "contact.erased",
        /// Sent to a desk endpoint when a bot hands a conversation over to it, with the
        /// transcript; not one a webhook can subscribe to.
        HandedOver = "conversation.handed_over",
    }
}

/// The events a webhook endpoint can subscribe to.
pub const WEBHOOK_EVENTS: [EventType; 7] = [
    EventType::ConversationCreated,
    EventType::MessageCreated,
    EventType::ConversationAssigned,
    EventType::ConversationClosed,
    EventType::ConversationRated,
    EventType::VisitorSessionEnded,
    EventType::ContactErased,
];

named! {
    /// Where one delivery stands.
    pub enum DeliveryStatus {
        /// Not yet delivered; tried again at `next_attempt_at_ms`.
        Pending = "pending",
        Delivered = "delivered",
        /// Retried for as long as the gateway retries, and given up.
        Failed = "failed",
    }
}

named! {
    /// What an endpoint is for.
    #[derive(Default)]
    pub enum EndpointKind {
        /// Receives the events it subscribed to.
        #[default]
        Webhook = "webhook",
        /// Sees each visitor message first and answers with [`BotResponse`]; at most one per channel.
        Bot = "bot",
        /// An external operator desk: receives the visitor's messages of the conversations it
        /// handles and answers through the channel's inbound URL; at most one per channel.
        Desk = "desk",
    }
}

/// `POST /v1/channels/{id}/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NewWebhookEndpoint {
    pub url: String,
    /// Some of [`WEBHOOK_EVENTS`]; empty: all of them. Bots and desks get their own events.
    pub events: Vec<String>,
    pub kind: EndpointKind,
    /// The name the visitor sees on a bot's or desk's messages (default "Assistant" or "Support").
    pub name: String,
}

/// A webhook endpoint, with the secret its receiver verifies signatures with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<EventType>,
    /// `whsec_…`, as Standard Webhooks verifiers take it.
    pub secret: String,
    #[serde(default)]
    pub kind: EndpointKind,
    #[serde(default)]
    pub name: String,
}

/// The body of every delivery: `{"type", "timestamp", "data"}` as Standard Webhooks suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub data: WebhookData,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookData {
    pub channel_id: String,
    /// The conversation as it is right after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationSummary>,
    /// `message.created`: the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<ChatMessage>,
    /// `conversation.handed_over`: every message so far, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<ChatMessage>>,
    /// `visitor.session_ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<EndedSession>,
    /// The conversation's contact as it is at the event: the company's fields and what the
    /// visitor gave in the pre-chat form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<WebhookContact>,
    /// `contact.erased`: whom, by the ids earlier events gave; nothing else is left of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased: Option<ErasedContact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasedContact {
    pub contact_id: String,
    pub visitor_id: String,
    /// The conversations that were theirs, now gone.
    pub conversation_ids: Vec<String>,
}

/// `GET /v1/contacts/{id}/export`: everything the gateway holds about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactExport {
    pub exported_at_ms: i64,
    pub contact: crate::ContactView,
    /// Every conversation, oldest first, whole.
    pub conversations: Vec<ExportedConversation>,
    /// Every email the gateway sent them or was to send them.
    pub emails: Vec<EmailView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedConversation {
    pub conversation: ConversationSummary,
    pub messages: Vec<ChatMessage>,
    /// Transfers, hand-overs and closes, with agents' notes.
    pub events: Vec<crate::ConversationEvent>,
    pub statistics: Option<crate::ConversationStatistics>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookContact {
    pub id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub consent_version: Option<String>,
    pub consent_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndedSession {
    pub session_id: String,
    pub visitor_id: String,
    pub reason: EndReason,
}

/// One event's delivery to one endpoint: the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: String,
    /// The `webhook-id` header: the same on every attempt and replay.
    pub event_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub created_at_ms: i64,
    pub last_attempt_at_ms: Option<i64>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at_ms: Option<i64>,
    pub delivered_at_ms: Option<i64>,
}

/// `GET /v1/channels/{id}/webhooks/{endpoint_id}/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// What a bot endpoint answers to a visitor's message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotResponse {
    #[serde(default)]
    pub replies: Vec<BotReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BotReply {
    /// A message to the visitor.
    Message {
        #[serde(default)]
        text: String,
        /// Files uploaded with the channel's secret (`POST /v1/channels/{id}/files`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
    },
    /// Hand the conversation to humans: the channel's desk if it has one, else its queue. The
    /// note is for the agents who take it over.
    Switch {
        #[serde(default)]
        note: Option<String>,
    },
}

/// `POST /v1/channels/{id}/inbound`: an external desk acting on a conversation it handles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeskAction {
    /// A desk agent's answer. `client_id` makes a retried call store it once.
    Message {
        conversation_id: String,
        client_id: String,
        #[serde(default)]
        text: String,
        /// The desk agent's name, shown to the visitor.
        author_name: String,
        /// Files uploaded with the channel's secret (`POST /v1/channels/{id}/files`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<String>,
    },
    Close {
        conversation_id: String,
    },
}

/// `GET /v1/channels/{id}/conversations`: oldest first by creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPage {
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /v1/channels/{id}/conversations/{conversation_id}`: the conversation and its messages
/// after `after_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationTranscript {
    pub conversation: ConversationSummary,
    pub messages: Vec<ChatMessage>,
    /// Pass as `after_seq` for more; absent when these are the last.
    pub next_after_seq: Option<i64>,
    /// Recorded when it closed; `null` while it is in progress.
    pub statistics: Option<crate::ConversationStatistics>,
}

/// `POST /v1/channels/{id}/conversations/{conversation_id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiAgentMessage {
    /// Who writes: required with the channel secret; an admin writes as themselves by default.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The caller's id for this message: a retry with the same one stores it once.
    pub client_id: String,
    #[serde(default)]
    pub text: String,
    /// Files uploaded with the channel's secret (`POST /v1/channels/{id}/files`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// `POST /v1/channels/{id}/conversations/{conversation_id}/assign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignRequest {
    pub agent_id: String,
}

named! {
    /// What an email to a visitor carries.
    pub enum EmailKind {
        /// Agents' replies the visitor was not in the chat to read, with the conversation so
        /// far and a link back to it.
        Replies = "replies",
        /// The whole conversation, asked for by the visitor, sent when it closed.
        Transcript = "transcript",
    }
}

named! {
    /// Where one email stands.
    pub enum EmailStatus {
        /// Not yet sent; tried (again) when due.
        Pending = "pending",
        Sent = "sent",
        /// Retried for as long as the gateway retries, and given up.
        Failed = "failed",
        /// Not sent: the visitor read the replies in the chat before it was due.
        Skipped = "skipped",
    }
}

/// One email to a visitor: the email log (`GET /v1/admin/channels/{id}/emails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailView {
    pub id: String,
    pub conversation_id: String,
    pub kind: EmailKind,
    pub recipient: String,
    pub status: EmailStatus,
    pub attempts: i64,
    pub created_at_ms: i64,
    pub last_attempt_at_ms: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at_ms: Option<i64>,
}

/// Answer to `POST /v1/email/inbound`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundEmailOutcome {
    pub conversation_id: String,
    /// The visitor's message the email became; None for an automatic reply, which is dropped.
    pub seq: Option<i64>,
}
