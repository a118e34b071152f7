//! `POST /v1/visitor/conversations/{id}/rating`: what the visitor thought of a closed
//! conversation, on the channel's scale, with an optional comment. Idempotent: the same rating
//! again changes nothing; a different one replaces it (the visitor changed their mind).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{NewRating, Problem, Rating, RatingScale, MAX_RATING_COMMENT_CHARS};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthVisitor;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rate))
}

/// Rate a closed conversation.
///
/// With the session token, for one of the session's visitor's conversations on its channel,
/// once closed (`409 conversation_not_closed` before). `409 ratings_off` when the channel does
/// not ask; `422` for a score off the channel's scale or a comment too long.
#[utoipa::path(
    post,
    path = "/v1/visitor/conversations/{id}/rating",
    tag = "Widget",
    security(("visitorSession" = [])),
    request_body = NewRating,
    responses((status = 204, description = "Kept (or it was this rating already)."))
)]
async fn rate(
    State(state): State<AppState>,
    visitor: AuthVisitor,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewRating>,
) -> Result<StatusCode> {
    let rating = check(visitor.channel.rating_scale, input, now_ms())?;
    let changed = state
        .store
        .rate_conversation(
            &visitor.channel.id,
            &visitor.claims.visitor_id,
            &id,
            &rating,
        )
        .await?;
    if changed {
        crate::routing::announce(&state, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The rating as kept, or why it is refused.
pub fn check(scale: RatingScale, input: NewRating, now_ms: i64) -> Result<Rating> {
    if scale == RatingScale::Off {
        return Err(Error::RatingsOff);
    }
    let scores = scale.scores();
    if !scores.contains(&input.score) {
        return Err(Error::field(
            "score",
            Problem::OneOf {
                allowed: scores.iter().map(u8::to_string).collect(),
            },
        ));
    }
    let comment = input
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_RATING_COMMENT_CHARS)
    {
        return Err(Error::field(
            "comment",
            Problem::AtMostCharacters {
                max: MAX_RATING_COMMENT_CHARS as u64,
            },
        ));
    }
    Ok(Rating {
        score: input.score,
        scale,
        comment,
        rated_at_ms: now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(score: u8, comment: &str) -> NewRating {
        NewRating {
            score,
            comment: Some(comment.into()),
        }
    }

    #[test]
    fn scores_follow_the_channels_scale() {
        let kept = check(RatingScale::Stars, input(3, "  fine  "), 7).unwrap();
        assert_eq!((kept.score, kept.comment.as_deref()), (3, Some("fine")));
        assert_eq!(
            check(RatingScale::Thumbs, input(5, " "), 7)
                .unwrap()
                .comment,
            None
        );
        for refused in [
            check(RatingScale::Thumbs, input(3, ""), 7),
            check(RatingScale::Stars, input(0, ""), 7),
            check(RatingScale::Stars, input(6, ""), 7),
        ] {
            assert!(matches!(refused, Err(Error::Validation(p)) if p.contains_key("score")));
        }
        assert!(matches!(
            check(RatingScale::Off, input(5, ""), 7),
            Err(Error::RatingsOff)
        ));
        let long = "é".repeat(MAX_RATING_COMMENT_CHARS + 1);
        assert!(matches!(
            check(RatingScale::Stars, input(5, &long), 7),
            Err(Error::Validation(p)) if p.contains_key("comment")
        ));
    }
}
