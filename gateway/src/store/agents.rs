//! Agent rows and agent login sessions.

use sqlx::any::AnyRow;

use super::{col_i64, col_str, is_unique_violation, Store};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
}

fn from_row(row: &AnyRow) -> Result<AgentRecord> {
    Ok(AgentRecord {
        id: col_str(row, "id")?,
        email: col_str(row, "email")?,
        name: col_str(row, "name")?,
        password_hash: col_str(row, "password_hash")?,
        role: col_str(row, "role")?,
    })
}

impl Store {
    /// Creates the agent unless one with this email exists; returns whether it was created.
    pub async fn insert_agent(&self, agent: &AgentRecord, now_ms: i64) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO agents (id, email, name, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&agent.id)
        .bind(&agent.email)
        .bind(&agent.name)
        .bind(&agent.password_hash)
        .bind(&agent.role)
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRecord>> {
        let row =
            sqlx::query("SELECT id, email, name, password_hash, role FROM agents WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn insert_agent_session(
        &self,
        token_hash: &str,
        agent_id: &str,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_sessions (token_hash, agent_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(agent_id)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The agent holding an unexpired login with this token hash.
    pub async fn agent_by_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<AgentRecord>> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.password_hash, a.role, s.expires_at \
             FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) if col_i64(&row, "expires_at")? > now_ms => Ok(Some(from_row(&row)?)),
            _ => Ok(None),
        }
    }

    pub async fn delete_agent_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM agent_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
