//! Gateway-wide settings kept in the database, so every gateway behind a load balancer shares
//! them (the token signing key above all).

use super::{col_str, is_unique_violation, Store};
use crate::error::Result;

impl Store {
    /// Returns the setting `name`, storing `make()` first if it has none. Two gateways starting
    /// at once agree on one value: the loser of the insert race reads the winner's.
    pub async fn setting_or_insert(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String> {
        if let Some(value) = self.setting(name).await? {
            return Ok(value);
        }
        let inserted = sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(make())
            .execute(&self.pool)
            .await;
        match inserted {
            Err(e) if !is_unique_violation(&e) => return Err(e.into()),
            _ => {}
        }
        self.setting(name)
            .await?
            .ok_or_else(|| crate::error::Error::Internal(format!("setting {name} vanished")))
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| col_str(&r, "value")).transpose()
    }
}
