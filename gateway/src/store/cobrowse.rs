//! Co-browsing sessions: which agent asked to see which conversation's page, and where that
//! stands. The page itself is never stored.

use protocol::{CobrowseSession, CobrowseState, COBROWSE_REQUEST_LAPSES_MS};
use sqlx::any::AnyRow;

use super::{col_i64, col_name, col_opt_i64, col_str, placeholders, AgentRecord, Store};
use crate::error::Result;

const COLUMNS: &str =
    "id, conversation_id, agent_id, agent_name, state, control, requested_at, ended_at";

fn from_row(row: &AnyRow) -> Result<CobrowseSession> {
    Ok(CobrowseSession {
        id: col_str(row, "id")?,
        conversation_id: col_str(row, "conversation_id")?,
        agent_id: col_str(row, "agent_id")?,
        agent_name: col_str(row, "agent_name")?,
        state: col_name(row, "state")?,
        control: col_i64(row, "control")? != 0,
        requested_at_ms: col_i64(row, "requested_at")?,
        ended_at_ms: col_opt_i64(row, "ended_at")?,
    })
}

/// A session is live while it runs, or while its request waits and has not lapsed.
const LIVE: &str = "(state = 'active' OR (state = 'requested' AND requested_at > $2))";

impl Store {
    /// The conversation's live session, if any.
    pub async fn live_cobrowse(
        &self,
        conversation_id: &str,
        now_ms: i64,
    ) -> Result<Option<CobrowseSession>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cobrowse_sessions WHERE conversation_id = $1 AND {LIVE} \
             ORDER BY requested_at DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(now_ms - COBROWSE_REQUEST_LAPSES_MS)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// `agent`'s request to see the conversation's page, unless a session is live: then that
    /// one. True if the request is new.
    pub async fn request_cobrowse(
        &self,
        conversation_id: &str,
        agent: &AgentRecord,
        now_ms: i64,
    ) -> Result<(CobrowseSession, bool)> {
        let mut tx = self.pool.begin().await?;
        // A write first: SQLite takes its write lock now, so two requests at once make one
        // session (PostgreSQL locks the conversation's row for the same end).
        sqlx::query("UPDATE conversations SET status = status WHERE id = $1")
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        let live = format!(
            "SELECT {COLUMNS} FROM cobrowse_sessions WHERE conversation_id = $1 AND {LIVE} \
             ORDER BY requested_at DESC LIMIT 1"
        );
        if let Some(row) = sqlx::query(&live)
            .bind(conversation_id)
            .bind(now_ms - COBROWSE_REQUEST_LAPSES_MS)
            .fetch_optional(&mut *tx)
            .await?
        {
            return Ok((from_row(&row)?, false));
        }
        let session = CobrowseSession {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id: conversation_id.to_owned(),
            agent_id: agent.id.clone(),
            agent_name: agent.name.clone(),
            state: CobrowseState::Requested,
            control: false,
            requested_at_ms: now_ms,
            ended_at_ms: None,
        };
        sqlx::query(
            "INSERT INTO cobrowse_sessions (id, conversation_id, agent_id, agent_name, state, \
             control, requested_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(&session.id)
        .bind(conversation_id)
        .bind(&session.agent_id)
        .bind(&session.agent_name)
        .bind(session.state.as_str())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((session, true))
    }

    /// Moves live session `id` of the conversation from one of `from` to `to`, with `control`;
    /// the session as it is now, or None if it is not live in one of those states.
    pub async fn move_cobrowse(
        &self,
        id: &str,
        conversation_id: &str,
        from: &[CobrowseState],
        to: CobrowseState,
        control: bool,
        now_ms: i64,
    ) -> Result<Option<CobrowseSession>> {
        let states = placeholders(7, from.len());
        let sql = format!(
            "UPDATE cobrowse_sessions SET state = $3, control = $4, ended_at = $5 \
             WHERE id = $6 AND conversation_id = $1 AND {LIVE} AND state IN ({states}) \
             RETURNING {COLUMNS}"
        );
        let query = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(now_ms - COBROWSE_REQUEST_LAPSES_MS)
            .bind(to.as_str())
            .bind(i64::from(control))
            .bind(to.is_over().then_some(now_ms))
            .bind(id);
        let row = from
            .iter()
            .fold(query, |query, state| query.bind(state.as_str()))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }
}
