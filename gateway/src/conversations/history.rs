//! `GET /v1/conversations`: the history of conversations for agents (the console's History
//! page) and for programs with an agent's token: every conversation, closed ones included,
//! newest first, with filters and full-text search (see `store::history`). Any agent login
//! sees every channel's conversations, as in the inbox; a join link's login, its one channel's.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use protocol::{ConversationStatus, HistoryPage, Problem, MAX_SEARCH_CHARS};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthAgent;
use crate::error::{Error, Result};
use crate::pagination;
use crate::state::AppState;
use crate::store::{HistoryFilter, RatingFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// How often the search index takes in new messages (SQLite; a search catches up first, so
/// this only keeps that catch-up short).
const INDEX_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Indexes new messages for search behind the appends, until the gateway stops.
pub async fn index_behind(state: AppState) {
    let mut ticks = tokio::time::interval(INDEX_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = state.store.index_messages().await {
            tracing::warn!(error = %e, "indexing messages for search failed");
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Words of the messages (each the start of a word, in any language), or a part of the
    /// contact's name, email, phone or customer id; at most 200 characters.
    pub q: Option<String>,
    pub channel_id: Option<String>,
    pub queue_id: Option<String>,
    /// Conversations this agent had.
    pub agent_id: Option<String>,
    /// `waiting`, `open` or `closed`.
    pub status: Option<String>,
    /// A score, 1 to 5, or `none` for conversations not rated.
    pub rating: Option<String>,
    /// Created at or after, ms since the epoch.
    pub from_ms: Option<i64>,
    /// Created before.
    pub to_ms: Option<i64>,
    /// The contact's label.
    pub label: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// The query as the store's filter, every field checked.
pub fn filter(query: HistoryQuery, channel_key: Option<String>) -> Result<HistoryFilter> {
    let search = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if search
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(Error::field(
            "q",
            Problem::AtMostCharacters {
                max: MAX_SEARCH_CHARS as u64,
            },
        ));
    }
    let rating = match query.rating.as_deref() {
        None | Some("") => None,
        Some("none") => Some(RatingFilter::Unrated),
        Some(score) => match score.parse::<u8>() {
            Ok(score @ 1..=5) => Some(RatingFilter::Score(score)),
            _ => {
                return Err(Error::field(
                    "rating",
                    Problem::OneOf {
                        allowed: ["1", "2", "3", "4", "5", "none"].map(String::from).to_vec(),
                    },
                ))
            }
        },
    };
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::parse::<ConversationStatus>)
        .transpose()
        .map_err(|e| Error::field("status", e.into()))?;
    let nonempty = |value: Option<String>| value.filter(|v| !v.is_empty());
    Ok(HistoryFilter {
        search,
        channel_id: nonempty(query.channel_id),
        channel_key,
        queue_id: nonempty(query.queue_id),
        agent_id: nonempty(query.agent_id),
        status,
        rating,
        from_ms: query.from_ms,
        to_ms: query.to_ms,
        label: nonempty(query.label),
        before: pagination::after(query.cursor.as_deref())?,
        limit: pagination::limit(query.limit)?,
    })
}

/// Find conversations, newest first.
///
/// Every conversation, closed ones included; with `q`, those whose messages have its words or
/// whose contact matches it, each with the first message that matched.
#[utoipa::path(
    get,
    path = "/v1/conversations",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    params(HistoryQuery),
    responses((status = 200, description = "Done.", body = HistoryPage))
)]
async fn list(
    State(state): State<AppState>,
    auth: AuthAgent,
    query: std::result::Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>> {
    let Query(query) = query?;
    let filter = filter(query, auth.scope.clone())?;
    let rows = state.store.history(&filter).await?;
    let next_cursor = pagination::next(&rows, filter.limit, |item| &item.conversation.id);
    Ok(Json(HistoryPage {
        conversations: rows.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_query_is_checked_field_by_field() {
        let query = HistoryQuery {
            q: Some("  заказ  ".into()),
            rating: Some("none".into()),
            status: Some("closed".into()),
            queue_id: Some(String::new()),
            ..HistoryQuery::default()
        };
        let checked = filter(query, Some("key".into())).unwrap();
        assert_eq!(checked.search.as_deref(), Some("заказ"));
        assert_eq!(checked.rating, Some(RatingFilter::Unrated));
        assert_eq!(checked.status, Some(ConversationStatus::Closed));
        assert_eq!(
            (checked.queue_id, checked.channel_key.as_deref()),
            (None, Some("key"))
        );
        for (field, query) in [
            (
                "rating",
                HistoryQuery {
                    rating: Some("6".into()),
                    ..HistoryQuery::default()
                },
            ),
            (
                "status",
                HistoryQuery {
                    status: Some("gone".into()),
                    ..HistoryQuery::default()
                },
            ),
            (
                "q",
                HistoryQuery {
                    q: Some("x".repeat(201)),
                    ..HistoryQuery::default()
                },
            ),
            (
                "limit",
                HistoryQuery {
                    limit: Some(0),
                    ..HistoryQuery::default()
                },
            ),
        ] {
            assert!(
                matches!(filter(query, None), Err(Error::Validation(p)) if p.contains_key(field)),
                "{field}"
            );
        }
    }
}
