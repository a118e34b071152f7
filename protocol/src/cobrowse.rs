//! Co-browsing: with the visitor's consent, an agent sees the visitor's page live beside the
//! conversation. The agent asks (`POST /v1/conversations/{id}/cobrowse`); the panel shows the
//! request; once the visitor accepts, the co-browse module (its own file, fetched then) sends a
//! snapshot of the page and its changes as [`crate::VisitorClientFrame::Mirror`] frames, which
//! the gateway relays to the agents watching and never stores. Field values, private elements
//! and scripts never leave the browser (the README says exactly what is sent).

use serde::{Deserialize, Serialize};

use crate::names::named;

/// Most selectors a channel may list to mask or to block.
pub const MAX_COBROWSE_SELECTORS: usize = 50;
/// Longest selector, in characters.
pub const MAX_COBROWSE_SELECTOR_CHARS: usize = 200;
/// The mirror's bytes a visitor's socket may send per second, on average...
pub const MIRROR_BYTES_PER_SEC: u32 = 128 * 1024;
/// ...and at once (the first snapshot of a large page): the module paces itself within both;
/// a socket that goes beyond ends its session.
pub const MIRROR_BURST_BYTES: u32 = 1024 * 1024;
/// A request the visitor has not answered within this long lapses.
pub const COBROWSE_REQUEST_LAPSES_MS: i64 = 5 * 60 * 1000;

/// A channel's co-browsing settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CobrowseSettings {
    /// Agents may ask to see visitors' pages (off by default).
    #[serde(default)]
    pub enabled: bool,
    /// Agents may also ask to act on the page (click, scroll, type), which the visitor grants
    /// separately.
    #[serde(default)]
    pub control: bool,
    /// CSS selectors of elements whose text is sent as bullets (besides every field's value).
    #[serde(default)]
    pub mask: Vec<String>,
    /// CSS selectors of elements sent as empty boxes of their size (besides password fields
    /// and anything marked `data-livechat-private`).
    #[serde(default)]
    pub block: Vec<String>,
}

named! {
    /// Where a co-browsing session stands.
    pub enum CobrowseState {
        /// An agent asked; the visitor has not answered.
        Requested = "requested",
        /// The visitor accepted: their page is being mirrored.
        Active = "active",
        /// The visitor declined: nothing was sent.
        Declined = "declined",
        /// Stopped by the agent or the visitor, or lapsed unanswered.
        Ended = "ended",
    }
}

impl CobrowseState {
    /// Whether the session is over.
    pub fn is_over(self) -> bool {
        matches!(self, Self::Declined | Self::Ended)
    }
}

/// A co-browsing session of a conversation, as agents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CobrowseSession {
    pub id: String,
    pub conversation_id: String,
    /// Who asked.
    pub agent_id: String,
    pub agent_name: String,
    pub state: CobrowseState,
    /// The visitor let the agent act on the page.
    #[serde(default)]
    pub control: bool,
    pub requested_at_ms: i64,
    #[serde(default)]
    pub ended_at_ms: Option<i64>,
}

/// A co-browsing session as the visitor's panel sees it: enough to ask, and, once accepted,
/// what the module needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CobrowseInvite {
    pub session_id: String,
    pub agent_name: String,
    pub state: CobrowseState,
    /// The channel lets agents act on the page: the banner offers to allow it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub control_allowed: bool,
    /// The visitor allowed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub control: bool,
    /// The channel's selectors (see [`CobrowseSettings`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mask: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<String>,
}

/// What an agent with control does on the visitor's page. Nodes are the mirror's ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "act", rename_all = "snake_case")]
pub enum CobrowseAct {
    Click {
        node: u32,
    },
    /// Scrolls the page (no node) or an element to this position, in CSS pixels.
    Scroll {
        #[serde(default)]
        node: Option<u32>,
        x: i32,
        y: i32,
    },
    /// Replaces a field's value.
    Type {
        node: u32,
        text: String,
    },
}

/// Longest text an agent with control types at once, in characters.
pub const MAX_COBROWSE_TYPED_CHARS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acts_are_tagged_by_name() {
        let act: CobrowseAct = serde_json::from_str(r#"{"act":"click","node":7}"#).unwrap();
        assert_eq!(act, CobrowseAct::Click { node: 7 });
        assert_eq!(
            serde_json::to_string(&CobrowseAct::Scroll {
                node: None,
                x: 0,
                y: 40
            })
            .unwrap(),
            r#"{"act":"scroll","node":null,"x":0,"y":40}"#
        );
    }

    #[test]
    fn a_session_is_over_once_declined_or_ended() {
        assert!(!CobrowseState::Requested.is_over());
        assert!(!CobrowseState::Active.is_over());
        assert!(CobrowseState::Declined.is_over());
        assert!(CobrowseState::Ended.is_over());
    }
}
