//! One-time agent join links.

use super::{col_i64, col_str, Store};
use crate::error::Result;

/// Why a join link let nobody in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    Unknown,
    Used,
    Expired,
}

impl Store {
    pub async fn insert_join_link(
        &self,
        token_hash: &str,
        agent_id: &str,
        conversation_id: &str,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO join_links (token_hash, agent_id, conversation_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(agent_id)
        .bind(conversation_id)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses the link: of any number of requests with it, exactly one gets `(agent_id,
    /// conversation_id)`; the others learn why not.
    pub async fn use_join_link(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<std::result::Result<(String, String), JoinRefusal>> {
        let row = sqlx::query(
            "UPDATE join_links SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING agent_id, conversation_id",
        )
        .bind(now_ms)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Ok((
                col_str(&row, "agent_id")?,
                col_str(&row, "conversation_id")?,
            ))),
            // Lost a race with another request, or never could have won.
            None => Ok(Err(self
                .join_link_refusal(token_hash, now_ms)
                .await?
                .unwrap_or(JoinRefusal::Used))),
        }
    }

    /// Why the link would let nobody in now; None if it would.
    pub async fn join_link_refusal(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<JoinRefusal>> {
        let row = sqlx::query("SELECT used_at, expires_at FROM join_links WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => Some(JoinRefusal::Unknown),
            Some(row) if super::col_opt_i64(&row, "used_at")?.is_some() => Some(JoinRefusal::Used),
            Some(row) if col_i64(&row, "expires_at")? <= now_ms => Some(JoinRefusal::Expired),
            Some(_) => None,
        })
    }
}
