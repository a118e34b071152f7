//! What is wrong with one field of a request, as a stable code with its facts: the gateway says
//! it in English (`fields`), a client in its user's language (`problems`, worded by `code`).

use serde::{Deserialize, Serialize};

use crate::names::UnknownName;

/// One field's problem: `{"code": "characters", "min": 1, "max": 60}`. Every fact a sentence
/// needs is a field of its variant, so a client can word it without the English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    Required,
    /// The request names a setting (or a widget text) that does not exist.
    UnknownSetting,
    NotText,
    NotFlag,
    /// Not JSON of the expected shape, written in JSON-like notation (not words).
    Shape {
        shape: String,
    },
    Empty,
    Characters {
        min: u64,
        max: u64,
    },
    AtMostCharacters {
        max: u64,
    },
    AtLeastCharacters {
        min: u64,
    },
    /// A canned response's shortcut.
    Shortcut {
        max: u64,
    },
    Seconds {
        min: u64,
        max: u64,
    },
    SecondsOrNever {
        min: u64,
        max: u64,
    },
    Pixels {
        min: u64,
        max: u64,
    },
    Bytes {
        min: u64,
        max: u64,
    },
    /// A whole number; a fractional range is written as text ("0.0").
    Number {
        min: String,
        max: String,
    },
    /// A list longer than it may be.
    TooMany {
        max: u64,
    },
    OneOf {
        allowed: Vec<String>,
    },
    Twice,
    Origin,
    Url,
    UrlCredentials,
    Unresolved {
        host: String,
    },
    /// A webhook's host, whether it does not resolve or is private (see the gateway's target).
    NotPublic {
        host: String,
    },
    Email,
    Phone,
    TimeOfDay,
    Date,
    TimeZone,
    Future,
    /// Another record already has this value.
    Taken,
    NoSuchAgent,
    NoSuchQueue,
    Cursor,
    Colour,
    Opaque,
    /// Text on the accent below WCAG AA (`min`); `ratio` as said (see `said_ratio`).
    Contrast {
        ratio: String,
        min: String,
    },
    OneLine,
    LabelOrIcon,
    /// A text names `unknown` (as `{name}`), which is not among the English text's `known`.
    Placeholder {
        unknown: String,
        known: Vec<String>,
    },
    NotAsked,
    ConsentNeeded,
    CaptchaSecret,
    ScoreNotApplicable,
    PatternsNeeded,
    PatternSpaces,
    OverrideEnd,
    AgentOrQueue,
    /// The channel secret writes as no one: it must name who the message is from.
    AuthorNeeded,
    NoEventFilter,
    OneBotOneDesk,
    ConversationInProgress,
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use Problem::*;
        match self {
            Required => write!(f, "is required"),
            UnknownSetting => write!(f, "is not a setting here"),
            NotText => write!(f, "must be text"),
            NotFlag => write!(f, "must be true or false"),
            Shape { shape } => write!(f, "must be {shape}"),
            Empty => write!(f, "cannot be empty"),
            Characters { min, max } => write!(f, "must be {min} to {max} characters"),
            AtMostCharacters { max } => write!(f, "must be at most {max} characters"),
            AtLeastCharacters { min } => write!(f, "must be at least {min} characters"),
            Shortcut { max } => write!(f, "must be 1 to {max} letters, digits, - or _"),
            Seconds { min, max } => write!(f, "must be a whole number of seconds from {min} to {max}"),
            SecondsOrNever { min, max } => {
                write!(f, "must be 0 (never), or seconds from {min} to {max}")
            }
            Pixels { min, max } => write!(f, "must be {min} to {max} pixels"),
            Bytes { min, max } => write!(f, "must be {min} to {max} bytes"),
            Number { min, max } => write!(f, "must be a number from {min} to {max}"),
            TooMany { max } => write!(f, "can list at most {max}"),
            OneOf { allowed } => write!(f, "must be one of {}", allowed.join(", ")),
            Twice => write!(f, "is listed twice"),
            Origin => write!(
                f,
                "must be an origin such as https://shop.example or http://localhost:3000 \
                 (no path, query, user or wildcard)"
            ),
            Url => write!(f, "must be an http or https URL with a host"),
            UrlCredentials => write!(
                f,
                "must not carry credentials; the signature authenticates deliveries"
            ),
            Unresolved { host } => write!(f, "{host} does not resolve"),
            NotPublic { host } => write!(
                f,
                "{host} is not a public address; \
                 set webhooks_allow_private for self-hosted receivers on a private network"
            ),
            Email => write!(f, "is not an email address"),
            Phone => write!(f, "is not a phone number"),
            TimeOfDay => write!(f, "is not a time of day as HH:MM"),
            Date => write!(f, "is not a date as YYYY-MM-DD"),
            TimeZone => write!(f, "is not an IANA time zone"),
            Future => write!(f, "must be in the future"),
            Taken => write!(f, "is already used by another"),
            NoSuchAgent => write!(f, "names no active agent"),
            NoSuchQueue => write!(f, "names no queue"),
            Cursor => write!(f, "is not a cursor this API returned"),
            Colour => write!(f, "must be a CSS colour such as #2563eb"),
            Opaque => write!(
                f,
                "must be opaque (its contrast would depend on the page behind)"
            ),
            Contrast { ratio, min } => write!(
                f,
                "contrast with the accent colour is {ratio}:1; text needs at least {min}:1 (WCAG AA)"
            ),
            OneLine => write!(f, "must be one line"),
            LabelOrIcon => write!(f, "cannot be empty when the launcher has no icon"),
            Placeholder { unknown, known } => write!(
                f,
                "{unknown} is not one of its placeholders ({})",
                known.join(", ")
            ),
            NotAsked => write!(f, "is not asked"),
            ConsentNeeded => write!(f, "must be given to chat"),
            CaptchaSecret => write!(
                f,
                "is required for a new captcha (send captcha: null to remove one)"
            ),
            ScoreNotApplicable => write!(f, "applies to recaptcha_v3 only"),
            PatternsNeeded => write!(f, "list at least one pattern, or switch the rule off"),
            PatternSpaces => write!(f, "a pattern cannot contain spaces"),
            OverrideEnd => write!(f, "only a visible or hidden override has an end"),
            AgentOrQueue => write!(f, "name either an agent_id or a queue_id"),
            AuthorNeeded => write!(
                f,
                "is required with the channel secret: who the message is from"
            ),
            NoEventFilter => write!(
                f,
                "a bot or desk receives the visitor's messages of the conversations it handles; \
                 it takes no event filter"
            ),
            OneBotOneDesk => write!(
                f,
                "a channel has at most one bot and one desk; delete the current one first"
            ),
            ConversationInProgress => {
                write!(f, "has a conversation in progress; close it first")
            }
        }
    }
}

impl std::error::Error for Problem {}

impl From<UnknownName> for Problem {
    fn from(unknown: UnknownName) -> Self {
        Problem::OneOf {
            allowed: unknown
                .expected
                .iter()
                .map(|&name| name.to_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_its_code_and_facts_on_the_wire() {
        let problem = Problem::Characters { min: 1, max: 60 };
        assert_eq!(
            serde_json::to_value(&problem).unwrap(),
            serde_json::json!({"code": "characters", "min": 1, "max": 60})
        );
        assert_eq!(problem.to_string(), "must be 1 to 60 characters");
        let back: Problem =
            serde_json::from_str(r#"{"code": "one_of", "allowed": ["a", "b"]}"#).unwrap();
        assert_eq!(back.to_string(), "must be one of a, b");
        assert_eq!(
            serde_json::to_value(Problem::ConversationInProgress).unwrap(),
            serde_json::json!({"code": "conversation_in_progress"})
        );
    }

    #[test]
    fn an_unknown_name_is_a_choice_among_the_names() {
        let unknown = "maybe".parse::<crate::Theme>().unwrap_err();
        assert_eq!(
            Problem::from(unknown),
            Problem::OneOf {
                allowed: vec!["auto".into(), "light".into(), "dark".into()]
            }
        );
    }
}
