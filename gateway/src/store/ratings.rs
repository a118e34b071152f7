//! A conversation's rating by its visitor: kept on the conversation, copied into its statistics
//! for reports, and announced to webhooks, all in one transaction.

use protocol::{EventType, Rating};

use super::outbox::Event;
use super::{col_str, Store};
use crate::error::{Error, Result};

impl Store {
    /// Keeps `rating` as what the visitor of conversation `id` (on `channel_id`) thought of it,
    /// once it is closed. True if it changed the rating (and a `conversation.rated` event was
    /// written); false if the conversation had this very rating already, so a retried call
    /// changes nothing and announces nothing twice.
    pub async fn rate_conversation(
        &self,
        channel_id: &str,
        visitor_id: &str,
        id: &str,
        rating: &Rating,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let score = i64::from(rating.score);
        // The write comes first (see `statistics::record_in`); it changes a closed conversation
        // of this visitor's only when the rating differs.
        let rated = sqlx::query(
            "UPDATE conversations SET rating_score = $1, rating_scale = $2, rating_comment = $3, \
             rated_at = $4 WHERE id = $5 AND channel_id = $6 AND visitor_id = $7 \
             AND status = 'closed' AND (rating_score IS NULL OR rating_score <> $1 \
             OR rating_scale <> $2 OR COALESCE(rating_comment, '') <> COALESCE($3, '')) \
             RETURNING id",
        )
        .bind(score)
        .bind(rating.scale.as_str())
        .bind(rating.comment.as_deref())
        .bind(rating.rated_at_ms)
        .bind(id)
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        if rated.is_none() {
            let row = sqlx::query(
                "SELECT status FROM conversations \
                 WHERE id = $1 AND channel_id = $2 AND visitor_id = $3",
            )
            .bind(id)
            .bind(channel_id)
            .bind(visitor_id)
            .fetch_optional(&mut *tx)
            .await?;
            return match row {
                None => Err(Error::ConversationNotFound),
                Some(row) if col_str(&row, "status")? != "closed" => {
                    Err(Error::ConversationNotClosed)
                }
                Some(_) => Ok(false),
            };
        }
        sqlx::query("UPDATE conversation_stats SET rating = $1 WHERE conversation_id = $2")
            .bind(score)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let event = Event::about(
            channel_id,
            EventType::ConversationRated,
            id,
            rating.rated_at_ms,
        );
        self.commit_with_events(tx, vec![event]).await?;
        Ok(true)
    }
}
