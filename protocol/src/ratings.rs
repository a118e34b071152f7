//! What a visitor thought of a conversation: asked by the panel once it closes, kept on the
//! conversation, counted in reports and sent to webhooks as `conversation.rated`.

use serde::{Deserialize, Serialize};

use crate::names::named;

/// Longest comment kept with a rating, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 1000;
/// A score at or above this is a satisfied visitor (the "CSAT" share reports give).
pub const SATISFIED_SCORE: u8 = 4;

named! {
    /// How a channel's panel asks for a rating once a conversation closes.
    #[derive(Default)]
    pub enum RatingScale {
        /// It does not ask.
        Off = "off",
        /// One to five stars.
        #[default]
        Stars = "stars",
        /// Thumbs up (kept as score 5) or down (score 1), so reports count both scales alike.
        Thumbs = "thumbs",
    }
}

impl RatingScale {
    /// The scores a visitor may give on this scale, lowest first.
    pub fn scores(self) -> &'static [u8] {
        match self {
            Self::Off => &[],
            Self::Stars => &[1, 2, 3, 4, 5],
            Self::Thumbs => &[1, 5],
        }
    }
}

/// `POST /v1/visitor/conversations/{id}/rating`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRating {
    /// One of the channel's scale's scores: 1 to 5 for stars, 1 or 5 for thumbs.
    pub score: u8,
    /// At most [`MAX_RATING_COMMENT_CHARS`] characters; empty is none.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A conversation's rating, as kept: the last one its visitor gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    pub score: u8,
    /// The scale the visitor was shown.
    pub scale: RatingScale,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub rated_at_ms: i64,
}

/// How a set of conversations was rated. The average score is `score_sum / rated`; the share of
/// satisfied visitors `satisfied / rated`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingCounts {
    pub rated: i64,
    /// Scored [`SATISFIED_SCORE`] or more.
    pub satisfied: i64,
    pub score_sum: i64,
}

impl RatingCounts {
    pub fn add(&mut self, other: RatingCounts) {
        self.rated += other.rated;
        self.satisfied += other.satisfied;
        self.score_sum += other.score_sum;
    }
}
