//! Emails to visitors: written in the transaction that makes them due (an agent's reply to a
//! visitor with an email address, a close when a transcript was asked for), then leased, sent
//! and recorded by the email worker, as webhook deliveries are.

use protocol::{EmailKind, EmailStatus, EmailView};
use sqlx::any::AnyRow;

use super::tx::Tx;
use super::{col_i64, col_name, col_opt_i64, col_opt_str, col_str, Store};
use crate::error::Result;

/// An email the worker holds, with what it needs to write it.
#[derive(Debug, Clone)]
pub struct DueEmail {
    pub id: String,
    pub channel_id: String,
    pub conversation_id: String,
    pub kind: EmailKind,
    pub recipient: String,
    /// Replies: the messages after this one are new to the visitor.
    pub after_seq: i64,
    pub attempts: i64,
    pub retry_since_ms: i64,
}

/// How an attempt to send an email ended.
#[derive(Debug, Clone)]
pub enum EmailOutcome {
    Sent,
    /// Nothing left to send: the visitor read the replies in the chat meanwhile.
    Skipped,
    /// Try again at `retry_at_ms`, or give up if that is None.
    Failed {
        error: String,
        retry_at_ms: Option<i64>,
    },
}

const EMAIL_COLUMNS: &str = "id, channel_id, conversation_id, kind, recipient, after_seq, \
                             attempts, retry_since";

fn due_from_row(row: &AnyRow) -> Result<DueEmail> {
    Ok(DueEmail {
        id: col_str(row, "id")?,
        channel_id: col_str(row, "channel_id")?,
        conversation_id: col_str(row, "conversation_id")?,
        kind: col_name(row, "kind")?,
        recipient: col_str(row, "recipient")?,
        after_seq: col_i64(row, "after_seq")?,
        attempts: col_i64(row, "attempts")?,
        retry_since_ms: col_i64(row, "retry_since")?,
    })
}

fn view_from_row(row: &AnyRow) -> Result<EmailView> {
    Ok(EmailView {
        id: col_str(row, "id")?,
        conversation_id: col_str(row, "conversation_id")?,
        kind: col_name(row, "kind")?,
        recipient: col_str(row, "recipient")?,
        status: col_name(row, "status")?,
        attempts: col_i64(row, "attempts")?,
        created_at_ms: col_i64(row, "created_at")?,
        last_attempt_at_ms: col_opt_i64(row, "last_attempt_at")?,
        last_error: col_opt_str(row, "last_error")?,
        sent_at_ms: col_opt_i64(row, "sent_at")?,
    })
}

/// Puts an email of agents' replies in the outbox for the conversation's contact, due at
/// `due_ms`, unless one is waiting already (this reply joins it) or the contact left no
/// address. `after_seq`: the last message the visitor had before this reply.
pub(super) async fn enqueue_replies_in(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    after_seq: i64,
    due_ms: i64,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO emails (id, channel_id, conversation_id, kind, recipient, status, after_seq, \
         attempts, next_attempt_at, retry_since, lease_until, created_at) \
         SELECT $1, c.channel_id, c.id, 'replies', k.email, 'pending', $2, 0, $3, $3, 0, $4 \
         FROM conversations c JOIN contacts k ON k.id = c.contact_id \
         WHERE c.id = $5 AND k.email IS NOT NULL \
         ON CONFLICT (conversation_id, kind) WHERE status = 'pending' DO NOTHING",
        &[
            (&uuid::Uuid::new_v4().to_string()).into(),
            after_seq.into(),
            due_ms.into(),
            now_ms.into(),
            conversation_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Puts the transcript the visitor asked for in the outbox, as the conversation closes; the
/// request is spent (a reopened conversation sends another only if asked again).
pub(super) async fn enqueue_transcript_in(
    tx: &mut Tx<'_>,
    conversation_id: &str,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO emails (id, channel_id, conversation_id, kind, recipient, status, after_seq, \
         attempts, next_attempt_at, retry_since, lease_until, created_at) \
         SELECT $1, channel_id, id, 'transcript', transcript_to, 'pending', 0, 0, $2, $2, 0, $2 \
         FROM conversations WHERE id = $3 AND transcript_to IS NOT NULL \
         ON CONFLICT (conversation_id, kind) WHERE status = 'pending' DO NOTHING",
        &[
            (&uuid::Uuid::new_v4().to_string()).into(),
            now_ms.into(),
            conversation_id.into(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE conversations SET transcript_to = NULL WHERE id = $1",
        &[conversation_id.into()],
    )
    .await?;
    Ok(())
}

impl Store {
    /// Takes up to `limit` emails that are due and not held by a live lease, until
    /// `lease_until_ms`, in one statement: two workers never take the same one.
    pub async fn lease_due_emails(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueEmail>> {
        let sql = format!(
            "UPDATE emails SET lease_until = $1 WHERE status = 'pending' AND lease_until < $2 \
             AND id IN (SELECT id FROM emails WHERE status = 'pending' AND next_attempt_at <= $2 \
                        AND lease_until < $2 ORDER BY next_attempt_at LIMIT $3) \
             RETURNING {EMAIL_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(lease_until_ms)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(due_from_row).collect()
    }

    /// Records an attempt and releases the lease.
    pub async fn record_email(&self, id: &str, outcome: &EmailOutcome, now_ms: i64) -> Result<()> {
        let (status, error, next_at) = match outcome {
            EmailOutcome::Sent => (EmailStatus::Sent, None, now_ms),
            EmailOutcome::Skipped => (EmailStatus::Skipped, None, now_ms),
            EmailOutcome::Failed { error, retry_at_ms } => (
                if retry_at_ms.is_some() {
                    EmailStatus::Pending
                } else {
                    EmailStatus::Failed
                },
                Some(error.as_str()),
                retry_at_ms.unwrap_or(now_ms),
            ),
        };
        let attempted = !matches!(outcome, EmailOutcome::Skipped);
        sqlx::query(
            "UPDATE emails SET status = $1, attempts = attempts + $2, last_attempt_at = $3, \
             last_error = $4, next_attempt_at = $5, \
             sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END, lease_until = 0 \
             WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(i64::from(attempted))
        .bind(now_ms)
        .bind(error)
        .bind(next_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The visitor's socket showed the conversation's messages up to `seq`: a waiting email of
    /// replies leaves them out (and is skipped if that was all).
    pub async fn replies_seen_live(&self, conversation_id: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "UPDATE emails SET after_seq = $1 WHERE conversation_id = $2 AND kind = 'replies' \
             AND status = 'pending' AND after_seq < $1",
        )
        .bind(seq)
        .bind(conversation_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The visitor's address, on their contact (agents' replies they miss go there) and, with
    /// `transcript`, as where the transcript goes when the conversation closes.
    pub async fn leave_address(
        &self,
        conversation_id: &str,
        address: &str,
        transcript: bool,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE contacts SET email = $1, updated_at = $2 \
             WHERE id = (SELECT contact_id FROM conversations WHERE id = $3)",
        )
        .bind(address)
        .bind(now_ms)
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
        if transcript {
            sqlx::query("UPDATE conversations SET transcript_to = $1 WHERE id = $2")
                .bind(address)
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The conversation's emails, oldest first.
    pub async fn conversation_emails(&self, conversation_id: &str) -> Result<Vec<EmailView>> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, kind, recipient, status, attempts, created_at, \
             last_attempt_at, last_error, sent_at FROM emails WHERE conversation_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(view_from_row).collect()
    }

    /// The channel's emails, newest first (the delivery log).
    pub async fn channel_emails(&self, channel_id: &str, limit: i64) -> Result<Vec<EmailView>> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, kind, recipient, status, attempts, created_at, \
             last_attempt_at, last_error, sent_at FROM emails WHERE channel_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(channel_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(view_from_row).collect()
    }
}
