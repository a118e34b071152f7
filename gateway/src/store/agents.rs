//! Agent rows, their presence, and agent login sessions.

use protocol::{AgentPresence, Role};
use sqlx::any::AnyRow;

use super::{col_i64, col_name, col_opt_str, col_str, is_unique_violation, placeholders, Store};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    /// Chosen by the agent; counts only while connected (see `presence`).
    pub presence: AgentPresence,
    pub capacity: i64,
    /// The id another system gave this agent (agent sync).
    pub external_id: Option<String>,
    /// A deactivated agent cannot log in and counts for no rule.
    pub active: bool,
}

const COLUMNS: &str = "a.id, a.email, a.name, a.password_hash, a.role, a.presence, a.capacity, \
                       a.external_id, a.active";

fn from_row(row: &AnyRow) -> Result<AgentRecord> {
    Ok(AgentRecord {
        id: col_str(row, "id")?,
        email: col_str(row, "email")?,
        name: col_str(row, "name")?,
        password_hash: col_str(row, "password_hash")?,
        role: col_name(row, "role")?,
        presence: col_name(row, "presence")?,
        capacity: col_i64(row, "capacity")?,
        external_id: col_opt_str(row, "external_id")?,
        active: col_i64(row, "active")? != 0,
    })
}

/// Agents who serve the channel, counted by presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounts {
    /// Online or away.
    pub online: u32,
    /// Online, not away, below capacity.
    pub available: u32,
}

impl Store {
    /// Creates the agent, in the default queue, unless the email or external id is taken;
    /// returns whether it was created.
    pub async fn insert_agent(&self, agent: &AgentRecord, now_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(
            "INSERT INTO agents (id, email, name, password_hash, role, presence, capacity, \
             external_id, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&agent.id)
        .bind(&agent.email)
        .bind(&agent.name)
        .bind(&agent.password_hash)
        .bind(agent.role.as_str())
        .bind(agent.presence.as_str())
        .bind(agent.capacity)
        .bind(agent.external_id.as_deref())
        .bind(i64::from(agent.active))
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        sqlx::query("INSERT INTO queue_members (queue_id, agent_id) VALUES ($1, $2)")
            .bind(super::DEFAULT_QUEUE)
            .bind(&agent.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM agents a WHERE a.email = $1");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn agent_by_id(&self, id: &str) -> Result<Option<AgentRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM agents a WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn agent_by_external_id(&self, external_id: &str) -> Result<Option<AgentRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM agents a WHERE a.external_id = $1");
        let row = sqlx::query(&sql)
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every agent, active ones first, by name.
    pub async fn agents(&self) -> Result<Vec<AgentRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM agents a ORDER BY a.active DESC, lower(a.name), a.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Writes every field of an existing agent, and ends its logins if `end_logins`.
    /// Returns false if another agent has the email.
    pub async fn update_agent(&self, agent: &AgentRecord, end_logins: bool) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE agents SET email = $1, name = $2, password_hash = $3, role = $4, capacity = $5, \
             external_id = $6, active = $7 WHERE id = $8",
        )
        .bind(&agent.email)
        .bind(&agent.name)
        .bind(&agent.password_hash)
        .bind(agent.role.as_str())
        .bind(agent.capacity)
        .bind(agent.external_id.as_deref())
        .bind(i64::from(agent.active))
        .bind(&agent.id)
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            other => other?,
        };
        if end_logins {
            sqlx::query("DELETE FROM agent_sessions WHERE agent_id = $1")
                .bind(&agent.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn set_agent_presence(&self, agent_id: &str, presence: AgentPresence) -> Result<()> {
        sqlx::query("UPDATE agents SET presence = $1 WHERE id = $2")
            .bind(presence.as_str())
            .bind(agent_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks these agents as connected at `now_ms` (the presence heartbeat).
    pub async fn touch_agents(&self, agent_ids: &[String], now_ms: i64) -> Result<()> {
        if agent_ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE agents SET seen_at = $1 WHERE id IN ({})",
            placeholders(2, agent_ids.len())
        );
        let mut query = sqlx::query(&sql).bind(now_ms);
        for id in agent_ids {
            query = query.bind(id);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Members of the queue connected since `seen_after`, counted as online (online or away) and available
    /// (online and below capacity in conversations not closed).
    pub async fn agent_counts(&self, queue_id: &str, seen_after_ms: i64) -> Result<AgentCounts> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN presence IN ('online', 'away') THEN 1 ELSE 0 END), 0) AS online, \
             COALESCE(SUM(CASE WHEN presence = 'online' AND holding < capacity THEN 1 ELSE 0 END), 0) AS available \
             FROM (SELECT a.presence, a.capacity, \
                   (SELECT COUNT(*) FROM conversations c \
                    WHERE c.assigned_agent_id = a.id AND c.status <> 'closed') AS holding \
                   FROM agents a JOIN queue_members m ON m.agent_id = a.id AND m.queue_id = $1 \
                   WHERE a.seen_at > $2 AND a.active = 1) present",
        )
        .bind(queue_id)
        .bind(seen_after_ms)
        .fetch_one(&self.pool)
        .await?;
        let count = |name| col_i64(&row, name).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        Ok(AgentCounts {
            online: count("online")?,
            available: count("available")?,
        })
    }

    /// Records that the agent read the conversation up to `seq`; never moves backwards.
    pub async fn mark_read(&self, agent_id: &str, conversation_id: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_reads (agent_id, conversation_id, seq) VALUES ($1, $2, $3) \
             ON CONFLICT (agent_id, conversation_id) DO UPDATE SET seq = excluded.seq \
             WHERE agent_reads.seq < excluded.seq",
        )
        .bind(agent_id)
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How far the agent has read each conversation not closed.
    pub async fn reads(&self, agent_id: &str) -> Result<std::collections::BTreeMap<String, i64>> {
        let rows = sqlx::query(
            "SELECT r.conversation_id, r.seq FROM agent_reads r \
             JOIN conversations c ON c.id = r.conversation_id \
             WHERE r.agent_id = $1 AND c.status <> 'closed'",
        )
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((col_str(r, "conversation_id")?, col_i64(r, "seq")?)))
            .collect()
    }

    /// `scope`: the id of the one channel the login may act in.
    pub async fn insert_agent_session(
        &self,
        token_hash: &str,
        agent_id: &str,
        scope: Option<&str>,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_sessions (token_hash, agent_id, channel_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(agent_id)
        .bind(scope)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The agent holding an unexpired login with this token hash, and the key of the channel
    /// the login is scoped to, if it is. A scoped login whose channel is gone is no login.
    pub async fn agent_by_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(AgentRecord, Option<String>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, s.expires_at, s.channel_id AS scope_id, ch.channel_key AS scope_key \
             FROM agent_sessions s JOIN agents a ON a.id = s.agent_id \
             LEFT JOIN channels ch ON ch.id = s.channel_id \
             WHERE s.token_hash = $1 AND a.active = 1"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row.filter(|row| col_i64(row, "expires_at").is_ok_and(|at| at > now_ms))
        else {
            return Ok(None);
        };
        let scope = match (
            col_opt_str(&row, "scope_id")?,
            col_opt_str(&row, "scope_key")?,
        ) {
            (None, _) => None,
            (Some(_), Some(channel_key)) => Some(channel_key),
            (Some(_), None) => return Ok(None),
        };
        Ok(Some((from_row(&row)?, scope)))
    }

    pub async fn delete_agent_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM agent_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
