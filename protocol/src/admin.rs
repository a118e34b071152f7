//! Bodies of the admin REST API (`/v1/admin/…`).

use serde::{Deserialize, Serialize};

use crate::names::named;

use crate::{Appearance, CaptchaProvider, FileKind, UploadPolicy};

/// The largest upload a new channel accepts: 10 MiB.
pub const DEFAULT_UPLOAD_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The kinds a new channel accepts from visitors.
pub const DEFAULT_UPLOAD_KINDS: [FileKind; 4] = [
    FileKind::Image,
    FileKind::Pdf,
    FileKind::Text,
    FileKind::Office,
];

fn yes() -> bool {
    true
}

pub fn default_upload_policy() -> UploadPolicy {
    UploadPolicy {
        max_bytes: DEFAULT_UPLOAD_MAX_BYTES,
        kinds: DEFAULT_UPLOAD_KINDS.to_vec(),
    }
}

/// A channel as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: String,
    /// Public: goes in the snippet.
    pub key: String,
    /// Server-to-server credential for this channel's REST API. Rotatable.
    pub secret: String,
    pub name: String,
    pub inactivity_timeout_secs: i64,
    /// A conversation without activity this long closes by itself; 0: never.
    #[serde(default)]
    pub idle_close_secs: i64,
    /// Exact origins; empty means any origin.
    pub allowed_origins: Vec<String>,
    pub online: bool,
    pub receptive: bool,
    /// The queue its new conversations wait in.
    pub queue_id: String,
    pub state: ChannelState,
    /// Why the state is `error`.
    pub error: Option<String>,
    pub captcha: Option<CaptchaView>,
    pub appearance: Appearance,
    /// Whether visitors may attach files at all.
    #[serde(default = "yes")]
    pub visitor_uploads: bool,
    /// The largest file anyone may send in this channel's conversations, and the kinds visitors
    /// may send.
    #[serde(default = "default_upload_policy")]
    pub uploads: UploadPolicy,
    /// The name the channel's emails come from; None: its title.
    #[serde(default)]
    pub email_sender_name: Option<String>,
    /// What the widget does while a visibility rule fails.
    #[serde(default)]
    pub when_unavailable: WhenUnavailable,
    /// The questions before the first message.
    #[serde(default)]
    pub prechat: crate::Prechat,
    /// A visitor waiting this long for an answer is offered replies by email (when the
    /// gateway sends email); 0: never.
    #[serde(default)]
    pub missed_chat_secs: i64,
    /// The key the site's back end signs identity tokens with (HS256, see the README's
    /// "Verified visitors"); None until an admin creates one by rotating it. Admins only.
    #[serde(default)]
    pub identity_secret: Option<String>,
    /// Whether visitors must be identified by the site to chat.
    #[serde(default)]
    pub identity: IdentityMode,
    /// How the panel asks visitors to rate a conversation once it closes.
    #[serde(default)]
    pub rating_scale: crate::RatingScale,
    /// Conversations closed this many days ago are deleted with everything in them (a
    /// background job, in small batches); 0: kept for ever.
    #[serde(default)]
    pub retention_days: i64,
    /// A message the launcher shows as a bubble on some pages after some time.
    #[serde(default)]
    pub proactive: Option<Proactive>,
    /// What the widget says instead of its own texts, by language (`GET /v1/admin/texts` lists
    /// them).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub texts: crate::ChannelTexts,
    /// Whether agents may ask to see visitors' pages, and what is never sent of them.
    #[serde(default)]
    pub cobrowse: crate::CobrowseSettings,
    /// The `<script>` tag to paste into the site's pages.
    pub snippet: String,
    /// A page on the gateway with the chat on it, to share as a link (emails, QR codes).
    pub chat_url: String,
}

named! {
    /// What a channel does while a visibility rule fails (outside business hours, no agent
    /// online, ...).
    #[derive(Default)]
    pub enum WhenUnavailable {
        /// The widget does not show.
        #[default]
        Hide = "hide",
        /// The launcher shows and the panel takes a message (and an email address, when the
        /// gateway sends email) for the agents to answer later.
        LeaveMessage = "leave_message",
    }
}

named! {
    /// Whether a channel's visitors must be identified by the site (`LiveChat.identify`).
    #[derive(Default)]
    pub enum IdentityMode {
        /// Anyone may chat; identified visitors are matched with their contact.
        #[default]
        Optional = "optional",
        /// Only visitors with a valid identity token may open a chat (`401 identity_required`).
        Required = "required",
    }
}

/// The proactive greeting: the launcher shows `text` as a bubble once the visitor has spent
/// `after_secs` on a page matching one of `pages` (none: any page), while the widget shows.
/// Nothing is stored until the visitor answers; their conversation then starts with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proactive {
    pub text: String,
    #[serde(default)]
    pub after_secs: u32,
    /// Page URL patterns as in the page URL rule (`/pricing*`).
    #[serde(default)]
    pub pages: Vec<String>,
}

named! {
    pub enum ChannelState {
        Online = "online",
        Offline = "offline",
        /// Online, but something keeps it from working (say, a captcha secret the provider rejects).
        Error = "error",
    }
}

/// A channel's captcha as admins see it: the secret is write-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptchaView {
    pub provider: CaptchaProvider,
    pub site_key: String,
    pub min_score: Option<f64>,
}

/// `POST /v1/admin/channels/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteChannels {
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelsDeleted {
    pub deleted: Vec<String>,
}

/// An agent as admins see it (`/v1/admin/agents`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentView {
    pub id: String,
    /// The id another system gave this agent, when synced from it.
    pub external_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: crate::Role,
    pub capacity: u32,
    pub presence: crate::AgentPresence,
    pub active: bool,
    pub queues: Vec<String>,
}

/// `PUT /v1/admin/agents/external/{external_id}`: create or update the agent that system knows
/// by that id. Fields left out keep their value (or their default, for a new agent).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SyncAgent {
    pub email: Option<String>,
    pub name: Option<String>,
    /// `agent` (default) or `admin`.
    pub role: Option<String>,
    pub capacity: Option<u32>,
    /// Sets the password; an agent created without one logs in only by a join link.
    pub password: Option<String>,
    /// false deactivates: no login, counted by no rule; the history stays.
    pub active: Option<bool>,
    /// The ids of the queues the agent works; a new agent without them joins the default queue.
    pub queues: Option<Vec<String>>,
}

/// A queue as admins see it (`/v1/admin/queues`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueView {
    pub id: String,
    pub name: String,
    /// On: new conversations go to the available member holding the fewest (round-robin on
    /// ties). Off: members accept them from the queue.
    pub auto_assign: bool,
}

/// `POST /v1/admin/queues` (name required) and `PATCH /v1/admin/queues/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct QueueInput {
    pub name: Option<String>,
    pub auto_assign: Option<bool>,
}

/// `GET /v1/team`: who and where a conversation can be transferred to (any agent may ask).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    pub agents: Vec<Colleague>,
    pub queues: Vec<QueueView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Colleague {
    pub id: String,
    pub name: String,
    /// What they chose; whether they are connected is not said here.
    pub presence: crate::AgentPresence,
}
