//! The audit log's rows.

use protocol::{AuditActor, AuditEntry};

use super::{col_i64, col_name, col_opt_str, col_str, Store};
use crate::error::{Error, Result};

/// Which entries to read: of one channel or action, older than the cursor.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub channel_id: Option<String>,
    pub action: Option<protocol::AuditAction>,
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

impl Store {
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        let changes =
            serde_json::to_string(&entry.changes).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, channel_id, \
             target, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&entry.id)
        .bind(entry.at_ms)
        .bind(entry.actor.kind.as_str())
        .bind(&entry.actor.id)
        .bind(&entry.actor.name)
        .bind(entry.action.as_str())
        .bind(entry.channel_id.as_deref())
        .bind(entry.target.as_deref())
        .bind(changes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Entries, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<(i64, AuditEntry)>> {
        let (at, id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        let rows = sqlx::query(
            "SELECT id, at, actor_kind, actor_id, actor_name, action, channel_id, target, changes \
             FROM audit_log WHERE (at < $1 OR (at = $1 AND ($2 = '' OR id < $2))) \
             AND ($3 = '' OR channel_id = $3) AND ($4 = '' OR action = $4) \
             ORDER BY at DESC, id DESC LIMIT $5",
        )
        .bind(at)
        .bind(id)
        .bind(filter.channel_id.as_deref().unwrap_or(""))
        .bind(filter.action.map_or("", |a| a.as_str()))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let at = col_i64(row, "at")?;
                Ok((
                    at,
                    AuditEntry {
                        id: col_str(row, "id")?,
                        at_ms: at,
                        actor: AuditActor {
                            kind: col_name(row, "actor_kind")?,
                            id: col_str(row, "actor_id")?,
                            name: col_str(row, "actor_name")?,
                        },
                        action: col_name(row, "action")?,
                        channel_id: col_opt_str(row, "channel_id")?,
                        target: col_opt_str(row, "target")?,
                        changes: serde_json::from_str(&col_str(row, "changes")?)
                            .map_err(|e| Error::Internal(format!("corrupt audit changes: {e}")))?,
                    },
                ))
            })
            .collect()
    }
}
