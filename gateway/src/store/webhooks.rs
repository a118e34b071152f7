//! Webhook endpoints.

use protocol::{EndpointKind, EventType};
use sqlx::any::AnyRow;

use super::{col_name, col_str, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub channel_id: String,
    pub url: String,
    pub secret: String,
    /// Event types it receives; empty: all.
    pub events: Vec<EventType>,
    pub kind: EndpointKind,
    /// Shown on a bot's or desk's messages.
    pub name: String,
}

fn from_row(row: &AnyRow) -> Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: col_str(row, "id")?,
        channel_id: col_str(row, "channel_id")?,
        url: col_str(row, "url")?,
        secret: col_str(row, "secret")?,
        events: serde_json::from_str(&col_str(row, "events")?)
            .map_err(|e| Error::Internal(format!("corrupt webhook events: {e}")))?,
        kind: col_name(row, "kind")?,
        name: col_str(row, "name")?,
    })
}

impl Store {
    pub async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        now_ms: i64,
    ) -> Result<()> {
        let events =
            serde_json::to_string(&endpoint.events).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, channel_id, url, secret, events, created_at, kind, name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&endpoint.id)
        .bind(&endpoint.channel_id)
        .bind(&endpoint.url)
        .bind(&endpoint.secret)
        .bind(events)
        .bind(now_ms)
        .bind(endpoint.kind.as_str())
        .bind(&endpoint.name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The channel's endpoints, oldest first.
    pub async fn webhook_endpoints(&self, channel_id: &str) -> Result<Vec<WebhookEndpoint>> {
        let rows = sqlx::query(
            "SELECT id, channel_id, url, secret, events, kind, name FROM webhook_endpoints \
             WHERE channel_id = $1 ORDER BY created_at, id",
        )
        .bind(channel_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes the channel's endpoint with its delivery log and pending deliveries; false if
    /// it has none with that id. The conversations a deleted bot or desk handled go to the
    /// agents' queue, so no visitor is left writing to nobody.
    pub async fn delete_webhook_endpoint(&self, channel_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE conversations SET handler = 'agents', status = 'waiting', assigned_agent_id = NULL \
             WHERE channel_id = $1 AND status <> 'closed' AND handler = \
             (SELECT kind FROM webhook_endpoints WHERE channel_id = $1 AND id = $2 AND kind <> 'webhook')",
        )
        .bind(channel_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM outbox_deliveries WHERE endpoint_id = \
             (SELECT id FROM webhook_endpoints WHERE channel_id = $1 AND id = $2)",
        )
        .bind(channel_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE channel_id = $1 AND id = $2")
            .bind(channel_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn webhook_endpoint(
        &self,
        channel_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>> {
        let row = sqlx::query(
            "SELECT id, channel_id, url, secret, events, kind, name FROM webhook_endpoints \
             WHERE channel_id = $1 AND id = $2",
        )
        .bind(channel_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }
}
