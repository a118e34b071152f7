//! What the reports count: how each conversation ended, judged when it closed.

use crate::names::named;

named! {
    /// How a conversation ended, judged at its close (defined in the gateway's `statistics`).
    pub enum Outcome {
        /// An agent or the desk replied.
        Answered = "answered",
        /// Only the bot replied, and it still had the conversation at the close.
        Bot = "bot",
        /// No person replied and it was left while nobody could chat (an offline message).
        Offline = "offline",
        /// No person replied though an agent had it: nobody answered before the visitor left.
        Missed = "missed",
        /// No person replied and it was still waiting for one (in a queue, or handed over by
        /// the bot) at the close: the visitor left while waiting.
        Abandoned = "abandoned",
    }
}

/// A closed conversation's statistics, as recorded when it closed (`null` while it is in
/// progress). Times in milliseconds; the README defines each.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationStatistics {
    pub outcome: Outcome,
    /// The agent who had it at the close, else the last one who wrote in it.
    pub agent_id: Option<String>,
    pub queue_id: String,
    pub handler: crate::Handler,
    pub closed_at_ms: i64,
    /// From the visitor's first message to the first reply (agent, bot or desk).
    pub wait_ms: Option<i64>,
    /// From when people could see it to the first reply of an agent or the desk.
    pub first_response_ms: Option<i64>,
    /// From that first reply to the close.
    pub handle_ms: Option<i64>,
    pub duration_ms: i64,
    pub visitor_messages: i64,
    pub agent_messages: i64,
    pub bot_messages: i64,
    pub desk_messages: i64,
    pub transfers: i64,
}
