//! Visitor sessions the gateway ended before their tokens expired.

use super::{is_unique_violation, Store};
use crate::error::Result;

impl Store {
    /// Records that the session ended; ending it twice is not an error.
    pub async fn end_session(&self, session_id: &str, reason: &str, now_ms: i64) -> Result<()> {
        let inserted = sqlx::query(
            "INSERT INTO ended_sessions (session_id, reason, ended_at) VALUES ($1, $2, $3)",
        )
        .bind(session_id)
        .bind(reason)
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match inserted {
            Err(e) if !is_unique_violation(&e) => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub async fn session_ended(&self, session_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT session_id FROM ended_sessions WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
