//! Visibility rules as marketers edit them (`/v1/channels/{id}/rules`), the override
//! (`/v1/channels/{id}/visibility`), and the gateway's explained decision.
//!
//! Every rule keeps its settings while switched off, so turning a rule off and on again loses
//! nothing (a schedule takes a while to enter).

use serde::{Deserialize, Serialize};

use crate::names::named;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VisibilityRules {
    /// How the enabled rules combine. No rule enabled: the widget shows.
    pub combine: Combine,
    pub agents_online: Switch,
    pub agent_available: Switch,
    pub business_hours: BusinessHours,
    pub dwell_time: DwellTime,
    pub repeat_visit: RepeatVisit,
    pub page_url: PageUrl,
}

named! {
    #[derive(Default)]
    pub enum Combine {
        /// Every enabled rule must hold.
        #[default]
        AllOf = "all_of",
        /// One enabled rule holding is enough.
        AnyOf = "any_of",
    }
}

/// A rule without settings of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Switch {
    pub enabled: bool,
}

/// Open hours in one IANA time zone: a weekly schedule plus dated exceptions. Times are local
/// wall-clock `HH:MM`; an interval whose end is not after its start runs past midnight, and
/// `24:00` ends a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BusinessHours {
    pub enabled: bool,
    pub time_zone: String,
    pub weekly: WeeklyHours,
    pub exceptions: Vec<DateException>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let office = || vec![Interval::new("09:00", "17:00")];
        Self {
            enabled: false,
            time_zone: "UTC".into(),
            weekly: WeeklyHours {
                mon: office(),
                tue: office(),
                wed: office(),
                thu: office(),
                fri: office(),
                ..WeeklyHours::default()
            },
            exceptions: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct WeeklyHours {
    pub mon: Vec<Interval>,
    pub tue: Vec<Interval>,
    pub wed: Vec<Interval>,
    pub thu: Vec<Interval>,
    pub fri: Vec<Interval>,
    pub sat: Vec<Interval>,
    pub sun: Vec<Interval>,
}

impl WeeklyHours {
    /// The days in order, Monday first, with their JSON names.
    pub fn days(&self) -> [(&'static str, &Vec<Interval>); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    pub fn days_mut(&mut self) -> [&mut Vec<Interval>; 7] {
        [
            &mut self.mon,
            &mut self.tue,
            &mut self.wed,
            &mut self.thu,
            &mut self.fri,
            &mut self.sat,
            &mut self.sun,
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    pub from: String,
    pub to: String,
}

impl Interval {
    pub fn new(from: &str, to: &str) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
        }
    }
}

/// One date (`YYYY-MM-DD`, in the schedule's zone) with other hours; no hours: closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DateException {
    pub date: String,
    pub hours: Vec<Interval>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DwellTime {
    pub enabled: bool,
    /// Seconds the visitor has been on the page.
    pub seconds: u32,
}

impl Default for DwellTime {
    fn default() -> Self {
        Self {
            enabled: false,
            seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RepeatVisit {
    pub enabled: bool,
    /// The visit number from which the widget shows (2 = from the second visit on).
    pub min_visit: u32,
}

impl Default for RepeatVisit {
    fn default() -> Self {
        Self {
            enabled: false,
            min_visit: 2,
        }
    }
}

/// Patterns matched against the page URL (without its `#fragment`). `*` matches any run of
/// characters; a pattern starting with `/` matches the path (and query) only, so
/// `/pricing*` works on every host the channel allows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PageUrl {
    pub enabled: bool,
    pub patterns: Vec<String>,
}

named! {
    /// The rules, by name: in refusal codes (`rule_<name>`) and in explanations.
    pub enum Rule {
        AgentsOnline = "agents_online",
        AgentAvailable = "agent_available",
        BusinessHours = "business_hours",
        DwellTime = "dwell_time",
        RepeatVisit = "repeat_visit",
        PageUrl = "page_url",
    }
}

impl Rule {
    /// The stable error code `POST /v1/sessions` answers when this rule keeps the chat closed.
    pub fn code(self) -> &'static str {
        match self {
            Rule::AgentsOnline => "rule_agents_online",
            Rule::AgentAvailable => "rule_agent_available",
            Rule::BusinessHours => "rule_business_hours",
            Rule::DwellTime => "rule_dwell_time",
            Rule::RepeatVisit => "rule_repeat_visit",
            Rule::PageUrl => "rule_page_url",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rule::AgentsOnline => "Any agent online",
            Rule::AgentAvailable => "Any agent available",
            Rule::BusinessHours => "Business hours",
            Rule::DwellTime => "Time on page",
            Rule::RepeatVisit => "Repeat visit",
            Rule::PageUrl => "Page URL",
        }
    }
}

/// Forces the widget on or off regardless of the rules, until a time or until changed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisibilityOverride {
    pub mode: OverrideMode,
    /// Unix milliseconds; after it the rules decide again. None: until changed.
    #[serde(default)]
    pub until_ms: Option<i64>,
}

named! {
    #[derive(Default)]
    pub enum OverrideMode {
        /// No override: the rules decide.
        #[default]
        Rules = "rules",
        Visible = "visible",
        Hidden = "hidden",
    }
}

/// The decision with its reasons: `GET /v1/channels/{id}/visibility` and the console preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisibilityReport {
    pub visible: bool,
    /// Why not, in a sentence, when hidden.
    pub reason: Option<String>,
    /// Why not, as the stable code a refused session gets (`channel_offline`, `widget_hidden`,
    /// `rule_<name>`), when hidden: for a reader to word in its own language.
    #[serde(default)]
    pub reason_code: Option<String>,
    /// The override in force (expired ones read as `rules`).
    pub r#override: VisibilityOverride,
    /// Each enabled rule, met or not, and why.
    pub checks: Vec<RuleCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleCheck {
    pub rule: Rule,
    pub met: bool,
    /// What the rule found, in English (`finding` in a sentence).
    pub detail: String,
    pub finding: Finding,
}

/// What a rule found, as facts a reader words in its own language (the console does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Agents online, or available (by the rule).
    Agents {
        count: u32,
    },
    /// Open or closed now, and when that changes (ms since the epoch; None: not within three
    /// weeks), in the hours' time zone.
    Hours {
        open: bool,
        next_change_ms: Option<i64>,
        time_zone: String,
    },
    InvalidSchedule,
    /// Seconds on the page so far, and the seconds the rule wants.
    Dwell {
        on_page_secs: i64,
        needed_secs: u32,
    },
    /// This visit's number, and the one the widget shows from.
    Visit {
        visit: u32,
        from_visit: u32,
    },
    PageMatches {
        pattern: String,
    },
    PageMatchesNone {
        url: String,
    },
    PageUnknown,
}

/// `POST /v1/channels/{id}/visibility/preview`: would the widget show now for such a visitor,
/// under these (possibly unsaved) rules?
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PreviewRequest {
    /// The rules being edited; None: the saved ones.
    pub rules: Option<VisibilityRules>,
    pub page_url: Option<String>,
    pub seconds_on_page: u32,
    /// Defaults to 1 (a first visit).
    pub visit: Option<u32>,
}

/// `GET /v1/widget/{key}/visibility`: the decision for the current page view again, when agents'
/// presence or the clock may have changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisibilityUpdate {
    pub visibility: crate::Visibility,
    /// Ask again after this long; None: nothing that time changes could alter the decision.
    pub recheck_after_ms: Option<u64>,
    /// The page view's ticket, renewed (same visitor, visit and page-view start), for opening
    /// a chat once the previous ticket has been used.
    pub visit_ticket: String,
    /// As in the bootstrap: the panel takes a message. Written as `null` when not: the loader
    /// lays each answer over the previous ones.
    #[serde(default)]
    pub leave_message: Option<crate::LeaveMessage>,
    /// As in the bootstrap: the proactive greeting to show now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proactive: Option<String>,
    /// As in the bootstrap: an agent started a conversation; open the chat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invited: bool,
}
