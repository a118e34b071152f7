//! Visitor sessions the gateway ended before their tokens expired (with the webhook event
//! that says so), and visit tickets used.

use protocol::{EndedSession, EventType};

use futures_util::future::BoxFuture;

use super::group_commit::{Write, Written};
use super::outbox::Event;
use super::tx::Tx;
use super::{col_str, Store};
use crate::error::Result;

impl Store {
    /// Records that the visitor's session ended, with a `visitor.session_ended` event in the
    /// order of the visitor's conversation in progress, if any. Ending it twice is not an error
    /// and sends nothing more.
    pub async fn end_session(
        &self,
        session: &EndedSession,
        channel_id: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO ended_sessions (session_id, reason, ended_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&session.session_id)
        .bind(session.reason.as_str())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(());
        }
        let current = sqlx::query(
            "SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 AND status <> 'closed'",
        )
        .bind(channel_id)
        .bind(&session.visitor_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| col_str(&row, "id"))
        .transpose()?;
        let event = Event {
            channel_id,
            event_type: EventType::VisitorSessionEnded,
            conversation_id: current.as_deref(),
            summary: None,
            message: None,
            with_transcript: false,
            session: Some(session.clone()),
            erased: None,
            now_ms,
        };
        self.commit_with_events(tx, vec![event]).await
    }

    pub async fn session_ended(&self, session_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT session_id FROM ended_sessions WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Marks the ticket used; false if it already was (a replay). Forgets tickets past their
    /// expiry on the way, since those are refused as expired anyway. Through the writer, like
    /// a message: sessions opened at once share its commits (each was two commits of its own).
    pub async fn use_visit_ticket(
        &self,
        ticket_id: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        self.write(TicketUse {
            ticket_id: ticket_id.to_owned(),
            expires_at_ms,
            now_ms,
        })
        .await
    }

    /// Forgets what can never be used again: logins past their expiry, ended sessions whose
    /// tokens have expired too (ended before `ended_before_ms`), and join links expired before
    /// `links_before_ms` (kept a while so their page says "expired", not "unknown"). Returns
    /// how many rows went.
    pub async fn prune_expired(
        &self,
        now_ms: i64,
        ended_before_ms: i64,
        links_before_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut removed = 0;
        for (sql, before) in [
            ("DELETE FROM agent_sessions WHERE expires_at < $1", now_ms),
            (
                "DELETE FROM ended_sessions WHERE ended_at < $1",
                ended_before_ms,
            ),
            (
                "DELETE FROM join_links WHERE expires_at < $1",
                links_before_ms,
            ),
        ] {
            removed += sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// A visit ticket's use on its way to the writer.
struct TicketUse {
    ticket_id: String,
    expires_at_ms: i64,
    now_ms: i64,
}

impl Write for TicketUse {
    type Output = bool;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<bool>>> {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM used_visit_tickets WHERE expires_at < $1",
                &[self.now_ms.into()],
            )
            .await?;
            let first_use = tx
                .execute(
                    "INSERT INTO used_visit_tickets (ticket_id, expires_at) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                    &[(&self.ticket_id).into(), self.expires_at_ms.into()],
                )
                .await?
                == 1;
            Ok(Written {
                value: first_use,
                enqueued: false,
            })
        })
    }
}
