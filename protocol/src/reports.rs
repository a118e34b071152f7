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
    /// The agent who had it at the close, else the last one who wrote in it.
    pub agent_id: Option<String>,
    pub queue_id: String,
    pub handler: crate::Handler,
    pub closed_at_ms: i64,
    #[serde(flatten)]
    pub figures: ConversationFigures,
}

/// What a conversation's messages and events came to (the gateway's `statistics` works them
/// out).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationFigures {
    pub outcome: Outcome,
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

/// `GET /v1/reports`: the conversations created in a period (closed ones: a conversation's
/// figures are recorded when it closes), counted and timed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub from_ms: i64,
    pub to_ms: i64,
    /// The IANA time zone the days and hours are in.
    pub time_zone: String,
    pub totals: OutcomeCounts,
    /// How the period's conversations were rated.
    #[serde(default)]
    pub ratings: crate::RatingCounts,
    /// Each day of the period (`YYYY-MM-DD`), with the conversations created that day.
    pub days: Vec<DayCount>,
    /// Conversations by weekday (Monday first) and hour of the day: 7 rows of 24.
    pub week_hours: Vec<Vec<i64>>,
    pub wait: Distribution,
    pub first_response: Distribution,
    /// One row per agent who had a conversation, most conversations first.
    pub agents: Vec<ReportRow>,
    /// One row per queue.
    pub queues: Vec<ReportRow>,
}

/// Conversations by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeCounts {
    pub conversations: i64,
    pub answered: i64,
    pub bot: i64,
    pub offline: i64,
    pub missed: i64,
    pub abandoned: i64,
}

impl OutcomeCounts {
    /// Counts one more conversation of `outcome`, `n` times.
    pub fn add(&mut self, outcome: Outcome, n: i64) {
        self.conversations += n;
        *match outcome {
            Outcome::Answered => &mut self.answered,
            Outcome::Bot => &mut self.bot,
            Outcome::Offline => &mut self.offline,
            Outcome::Missed => &mut self.missed,
            Outcome::Abandoned => &mut self.abandoned,
        } += n;
    }

    /// Adds another set's counts to these.
    pub fn merge(&mut self, other: &OutcomeCounts) {
        self.conversations += other.conversations;
        self.answered += other.answered;
        self.bot += other.bot;
        self.offline += other.offline;
        self.missed += other.missed;
        self.abandoned += other.abandoned;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    pub day: String,
    pub conversations: i64,
    /// How that day's conversations were rated.
    #[serde(default)]
    pub ratings: crate::RatingCounts,
}

/// How a time was spread: its median and 90th percentile (nearest rank, to the second: the
/// start of the second the value falls in), and how many fell under each bound.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Distribution {
    /// Conversations that had this time.
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    /// In order; the last has no bound: the rest.
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// Times under this (and at or over the bucket before's); `null` for the last.
    pub below_ms: Option<i64>,
    pub count: i64,
}

/// One agent's or queue's figures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRow {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: OutcomeCounts,
    pub average_first_response_ms: Option<i64>,
    pub average_handle_ms: Option<i64>,
    #[serde(default)]
    pub ratings: crate::RatingCounts,
}
