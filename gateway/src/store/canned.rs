//! Canned responses.

use super::{col_str, Store};
use crate::error::Result;

impl Store {
    /// Every canned response as (shortcut, text), by shortcut.
    pub async fn canned_responses(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT shortcut, body FROM canned_responses ORDER BY shortcut")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((col_str(r, "shortcut")?, col_str(r, "body")?)))
            .collect()
    }

    /// Creates or replaces the response under this shortcut.
    pub async fn save_canned_response(
        &self,
        shortcut: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO canned_responses (shortcut, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shortcut) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(shortcut)
        .bind(body)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes it; false if there was none.
    pub async fn delete_canned_response(&self, shortcut: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM canned_responses WHERE shortcut = $1")
            .bind(shortcut)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
