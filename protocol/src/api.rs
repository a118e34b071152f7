//! Bodies of the HTTP API: the widget bootstrap, visitor sessions and agent login.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::names::named;
use crate::{Look, Problem};

/// Every HTTP error: `{ "error": { "code": "...", "message": "..." } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// One of [`crate::codes`]; stable, for programs.
    pub code: String,
    /// For people; may change between versions.
    pub message: String,
    /// `validation_failed`: what is wrong with each field, by field name, in English.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The same, as codes with their facts, for a client to word in its user's language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub problems: BTreeMap<String, Problem>,
    /// `channel_in_use`: the channels a delete refused, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    pub id: String,
    pub name: String,
    /// In English; `problem` is the same for a client to word.
    pub reason: String,
    pub problem: Problem,
}

/// Answer to `GET /v1/widget/{channel_key}`: everything the loader needs for one page view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetBootstrap {
    pub channel_key: String,
    pub visibility: Visibility,
    pub appearance: Appearance,
    /// The appearance as CSS custom properties (colours, icon, label, offsets, panel size),
    /// which the loader sets on its element for the launcher and the panel.
    pub style: String,
    /// Present when the channel requires a captcha before a chat opens.
    #[serde(default)]
    pub captcha: Option<CaptchaChallenge>,
    /// Signed by the gateway: visitor id, visit number and the server time of this page view.
    /// The browser passes it back verbatim; it cannot edit it.
    pub visit_ticket: String,
    /// Ask `GET /v1/widget/{key}/visibility` again after this long (dwell time running out,
    /// agents' presence, business hours); None: the decision holds for this page view.
    #[serde(default)]
    pub recheck_after_ms: Option<u64>,
    /// Keep the visit ticket in the browser's storage from this page view on: a repeat-visit
    /// rule needs to know the previous visits. Otherwise nothing is stored before the chat opens.
    #[serde(default)]
    pub remember_visits: bool,
    /// Nobody can chat now, and the channel takes messages meanwhile: the widget shows, and
    /// its panel asks for a message (the visibility says `visible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_message: Option<LeaveMessage>,
    /// The proactive greeting to show by the launcher now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proactive: Option<String>,
    /// An agent started a conversation with this visitor: open the chat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invited: bool,
}

/// What the panel says when it takes a message because nobody can chat now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaveMessage {
    /// When the business hours open next (ms since the epoch: the widget says it in the
    /// visitor's language and time zone); None when the hours are not what keeps the chat
    /// closed.
    #[serde(default)]
    pub back_at_ms: Option<i64>,
}

/// The gateway's decision for this page view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Visibility {
    Visible,
    /// `reason` is a stable code: `channel_offline`, `widget_hidden` (override) or a rule's
    /// `rule_…` code.
    Hidden {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Appearance {
    pub title: String,
    pub greeting: String,
    /// A CSS colour for the launcher, the panel's header and the visitor's bubbles.
    pub accent_color: String,
    pub position: LauncherPosition,
    /// A short sound when an agent's message arrives while the panel is closed (off unless
    /// the site owner turns it on).
    #[serde(default)]
    pub sound: bool,
    /// Light or dark panel: the visitor's system setting (`prefers-color-scheme`), or forced.
    #[serde(default)]
    pub theme: Theme,
    #[serde(flatten)]
    pub look: Look,
}

named! {
    #[derive(Default)]
    pub enum Theme {
        /// As the visitor's system says (`prefers-color-scheme`).
        #[default]
        Auto = "auto",
        Light = "light",
        Dark = "dark",
    }
}

named! {
    pub enum LauncherPosition {
        BottomRight = "bottom_right",
        BottomLeft = "bottom_left",
    }
}

named! {
    /// The captcha providers a channel can require. All four speak the same siteverify protocol.
    pub enum CaptchaProvider {
        RecaptchaV2 = "recaptcha_v2",
        /// Invisible, scored: the gateway also checks the score and the action.
        RecaptchaV3 = "recaptcha_v3",
        Hcaptcha = "hcaptcha",
        Turnstile = "turnstile",
    }
}

/// What the widget needs to render the provider's challenge: public values only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptchaChallenge {
    pub provider: CaptchaProvider,
    pub site_key: String,
    /// The provider's script, which renders the challenge (explicit rendering).
    pub script_url: String,
}

/// The action name the widget passes to reCAPTCHA v3, checked by the gateway.
pub const CAPTCHA_ACTION: &str = "livechat";

/// `POST /v1/sessions`: the visitor opens the chat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSession {
    pub channel_key: String,
    pub visit_ticket: String,
    /// The URL of the host page, shown to agents.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The provider's response token, when the channel requires a captcha.
    #[serde(default)]
    pub captcha_token: Option<String>,
    /// The site's signed word for who the visitor is (`LiveChat.identify`): a JWT (HS256, the
    /// channel's identity secret) with `sub`, `channel`, `exp` and optionally `email`, `name`.
    #[serde(default)]
    pub identity_token: Option<String>,
    /// What the host page said of the visitor (`LiveChat.setAttributes`): shown to agents as
    /// unverified.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    /// The panel was opened from the channel's proactive greeting: the conversation, once the
    /// visitor writes, starts with it.
    #[serde(default)]
    pub greeted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionCreated {
    /// Bound to channel, visitor and origin; presented at the visitor socket upgrade.
    pub session_token: String,
    pub visitor_id: String,
    pub expires_in_secs: u64,
    /// What the visitor may attach; None: no paperclip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploads: Option<UploadPolicy>,
    /// The gateway sends email: the panel may offer the transcript and replies by email.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email: bool,
    /// With email: a visitor left this long without an answer is offered replies by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_chat_secs: Option<u64>,
    /// The channel's questions before the first message, while this visitor has not answered
    /// them (`POST /v1/visitor/prechat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prechat: Option<PrechatQuestions>,
    /// How to ask for a rating once the conversation closes; None: the channel does not ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<crate::RatingScale>,
}

named! {
    /// Whether the pre-chat form asks for a field.
    #[derive(Default)]
    pub enum Ask {
        #[default]
        Off = "off",
        Optional = "optional",
        Required = "required",
    }
}

/// A channel's pre-chat form, as admins set it (`prechat` on the channel).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Prechat {
    pub name: Ask,
    pub email: Ask,
    pub phone: Ask,
    /// The visitor picks one; it sends the conversation to its queue. Empty: no topic asked.
    pub topics: Vec<Topic>,
    /// A box the visitor must tick, with the site owner's text; the version and the time of
    /// the consent are kept on the contact.
    pub consent: Option<Consent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Topic {
    pub label: String,
    pub queue_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub text: String,
    pub version: String,
}

/// The pre-chat form as the visitor sees it: topics by label only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrechatQuestions {
    pub name: Ask,
    pub email: Ask,
    pub phone: Ask,
    pub topics: Vec<String>,
    /// The text of the box to tick, if any.
    pub consent: Option<String>,
}

/// `POST /v1/visitor/prechat`: the visitor's answers (a field not asked is refused).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PrechatAnswers {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// One of the topics' labels.
    pub topic: Option<String>,
    /// The box was ticked.
    pub consent: bool,
}

/// What a channel accepts as files from its visitors (agents, the desk and the REST API may
/// send any kind, within the same size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadPolicy {
    pub max_bytes: u64,
    pub kinds: Vec<crate::FileKind>,
}

/// `POST /v1/agent/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for programs; browsers get the same token as an HttpOnly cookie.
    pub token: String,
    pub agent: AgentProfile,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentProfile {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// What the agent chose; it counts only while a console of theirs is connected.
    pub presence: AgentPresence,
    /// How many conversations the agent holds at once.
    pub capacity: u32,
    /// The queues the agent works: a chat waiting in one of them alerts their console.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
}

named! {
    /// What an agent's account may do. A login can be narrower than its account's role (a join
    /// link's login is an agent's in one channel, whatever the account).
    #[derive(Default)]
    pub enum Role {
        /// Answers conversations.
        #[default]
        Agent = "agent",
        /// Also manages channels, agents, queues and canned responses.
        Admin = "admin",
    }
}

named! {
    #[derive(Default)]
    pub enum AgentPresence {
        /// Takes conversations (while below capacity).
        #[default]
        Online = "online",
        /// Connected, but takes no new conversations.
        Away = "away",
        Offline = "offline",
    }
}

/// `PUT /v1/agent/presence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPresence {
    pub presence: AgentPresence,
}

/// `POST /v1/conversations/{id}/transfer`: to an agent (who gets it at once) or to a queue
/// (where it waits), with a note for whoever takes it over.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TransferRequest {
    pub agent_id: Option<String>,
    pub queue_id: Option<String>,
    pub note: Option<String>,
}

/// `POST /v1/conversations/{id}/agent-link`: a one-time link for a named agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AgentLinkRequest {
    pub agent_id: Option<String>,
    pub email: Option<String>,
    /// How long the link works; 600 s unless said.
    pub ttl_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLink {
    /// Logs the agent in and opens the conversation in the console; works once.
    pub url: String,
    pub expires_at_ms: i64,
}

/// What a person is called: the company's first and last names, else the name they gave (the
/// pre-chat form's); None without either. The console, the history and transcripts agree.
pub fn person_name(first: Option<&str>, last: Option<&str>, given: Option<&str>) -> Option<String> {
    let names = [first, last]
        .into_iter()
        .flatten()
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>();
    match names.is_empty() {
        false => Some(names.join(" ")),
        true => given.filter(|n| !n.is_empty()).map(str::to_owned),
    }
}

/// `GET /v1/contacts/{id}`: a visitor as a person, with everything known and every conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactView {
    pub id: String,
    #[serde(default)]
    pub channel_id: String,
    pub channel_key: String,
    pub visitor_id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// From the pre-chat form.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The consent the visitor gave: the text's version and when (ms).
    #[serde(default)]
    pub consent_version: Option<String>,
    #[serde(default)]
    pub consent_at_ms: Option<i64>,
    /// The site vouched for this person with a signed identity token (`external_id`, and the
    /// name and email it gave); when.
    #[serde(default)]
    pub verified_at_ms: Option<i64>,
    /// What the host page said of the visitor (`LiveChat.setAttributes`), not vouched for.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Agents may start a conversation with this person here (the channel is not receptive).
    #[serde(default)]
    pub startable: bool,
    pub labels: Vec<String>,
    /// Newest first, closed ones included.
    pub conversations: Vec<crate::ConversationSummary>,
}

/// Someone on a page of a channel now (`GET /v1/visitors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveVisitor {
    pub channel_id: String,
    pub channel_name: String,
    pub visitor_id: String,
    pub page_url: Option<String>,
    /// When this page view began (ms): the time on the page runs from here.
    pub viewed_at_ms: i64,
    /// Their visit number.
    pub visit: u32,
    /// The last call from their page (ms).
    pub seen_at_ms: i64,
    /// Set when the site identified them (verified).
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Their conversation in progress, if any.
    pub conversation_id: Option<String>,
    /// Agents may start a conversation with them (the channel is not receptive).
    pub startable: bool,
}

/// A page of visitors on the site now, most recent page views first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveVisitorPage {
    pub visitors: Vec<LiveVisitor>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `POST /v1/channels/{id}/conversations`: an agent (or the desk, or the bot) starts a
/// conversation with a visitor on the site now (`visitor_id`) or a known contact (`contact_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConversation {
    #[serde(default)]
    pub visitor_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// The caller's id for the first message: a retry with the same one starts nothing more.
    pub client_id: String,
    pub text: String,
    /// Who writes, with the channel secret; an agent's login writes as that agent.
    #[serde(default)]
    pub from: Option<Sender>,
}

/// Who writes a message sent through the REST API with the channel secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// One of the gateway's agents, by id.
    Agent(String),
    /// The channel's bot, by the name visitors see.
    Bot(String),
    /// An agent of the external desk, by the name visitors see.
    Desk(String),
}

/// The conversation started, with its first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationStarted {
    pub conversation: crate::ConversationSummary,
    pub message: crate::ChatMessage,
}

/// `PUT /v1/contacts/{id}`: fields sent replace the stored ones (an empty string clears one);
/// fields left out stay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ContactUpdate {
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A canned response: `/v1/canned-responses`. In a `PUT` the shortcut comes from the path.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CannedResponse {
    pub shortcut: String,
    pub text: String,
}

/// Expands a `/shortcut` at the end of `draft` into its canned text; None if nothing matches.
/// The console calls it when the agent presses Tab.
pub fn expand_shortcut(draft: &str, canned: &[CannedResponse]) -> Option<String> {
    let start = draft.rfind('/')?;
    let typed = &draft[start + 1..];
    let at_word_start = draft[..start]
        .chars()
        .next_back()
        .is_none_or(char::is_whitespace);
    if typed.is_empty() || !at_word_start {
        return None;
    }
    let found = canned.iter().find(|c| c.shortcut == typed)?;
    Some(format!("{}{}", &draft[..start], found.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_back_as_serde_writes_it() {
        for &role in Role::ALL {
            let json = serde_json::to_value(role).unwrap();
            assert_eq!(json, role.as_str());
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn a_shortcut_at_the_end_of_a_word_expands() {
        let canned = [CannedResponse {
            shortcut: "ship".into(),
            text: "We ship in 3 days.".into(),
        }];
        let cases = [
            ("/ship", Some("We ship in 3 days.")),
            ("Hello! /ship", Some("Hello! We ship in 3 days.")),
            ("/shipping", None),
            ("see http://x/ship", None),
            ("/", None),
            ("no shortcut", None),
        ];
        for (draft, expected) in cases {
            assert_eq!(
                expand_shortcut(draft, &canned).as_deref(),
                expected,
                "{draft}"
            );
        }
    }
}
