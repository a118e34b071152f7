//! The history of conversations (`GET /v1/conversations`): every conversation, closed ones
//! included, newest first, narrowed by filters and found by the words of its messages or its
//! contact.

use serde::{Deserialize, Serialize};

use crate::names::named;
use crate::{AuthorKind, ConversationSummary};

named! {
    /// What a conversation's transcript is downloaded as.
    #[derive(Default)]
    pub enum TranscriptFormat {
        #[default]
        Text = "text",
        Html = "html",
    }
}

/// Longest search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// One conversation of the history, with its contact's name and address and, for a search,
/// the first message that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    pub conversation: ConversationSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// The first message whose words matched the search; absent when none did (the contact
    /// matched) or nothing was searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<MatchedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchedLine {
    pub seq: i64,
    pub author: AuthorKind,
    pub text: String,
    pub sent_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    pub conversations: Vec<HistoryItem>,
    /// Pass as `cursor` for the next (older) page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// The words a search looks for: its runs of letters and digits, lower-cased, each matched as
/// the start of a word ("заказ" finds "заказа"). Both stores search for exactly these.
pub fn search_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_its_words_in_any_script() {
        assert_eq!(
            search_words("  Заказ №42, \"ação\" -- pesan*"),
            ["заказ", "42", "ação", "pesan"]
        );
        assert!(search_words("\"' * -").is_empty());
    }
}
