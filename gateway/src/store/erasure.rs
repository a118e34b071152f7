//! Conversations removed for good, with every row that names them: a contact erased on
//! request (with their contact, labels, unsent uploads, live page and the webhook events that
//! told of them), and conversations past their channel's retention, a batch at a time. The
//! files' bytes are shared by hash, so the caller deletes those no row names any more once
//! this commits.

use protocol::{ErasedContact, EventType};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Transaction};

use super::outbox::Event;
use super::{col_i64, col_opt_str, col_str, placeholders, uploader_of_visitor, Store};
use crate::error::{Error, Result};

/// The query with every id bound in order (to `$1 … $n`).
fn bound<'q>(sql: &'q str, ids: &'q [String]) -> Query<'q, Any, AnyArguments<'q>> {
    ids.iter()
        .fold(sqlx::query(sql), |query, id| query.bind(id))
}

/// Deletes conversations `ids` and every row that names them (messages and their search
/// index, files, events, statistics, emails, read marks, join links, co-browsing sessions, webhook events and their
/// deliveries) in the caller's transaction; the hashes of the files' bytes they used.
pub(super) async fn delete_conversations_in(
    tx: &mut Transaction<'_, Any>,
    ids: &[String],
) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = placeholders(1, ids.len());
    let blobs = files_in(
        tx,
        &format!("SELECT sha256, thumb_sha256 FROM attachments WHERE conversation_id IN ({list})"),
        ids,
    )
    .await?;
    let events = format!("SELECT id FROM outbox_events WHERE order_key IN ({list})");
    for delete in [
        format!("DELETE FROM attachments WHERE conversation_id IN ({list})"),
        format!("DELETE FROM messages WHERE conversation_id IN ({list})"),
        format!("DELETE FROM conversation_events WHERE conversation_id IN ({list})"),
        format!("DELETE FROM conversation_stats WHERE conversation_id IN ({list})"),
        format!("DELETE FROM emails WHERE conversation_id IN ({list})"),
        format!("DELETE FROM agent_reads WHERE conversation_id IN ({list})"),
        format!("DELETE FROM join_links WHERE conversation_id IN ({list})"),
        format!("DELETE FROM cobrowse_sessions WHERE conversation_id IN ({list})"),
        format!("DELETE FROM outbox_deliveries WHERE event_id IN ({events})"),
        format!("DELETE FROM outbox_events WHERE order_key IN ({list})"),
        format!("DELETE FROM conversations WHERE id IN ({list})"),
    ] {
        bound(&delete, ids).execute(&mut **tx).await?;
    }
    Ok(blobs)
}

/// The file hashes (and thumbnails') of the attachments `select` finds.
async fn files_in(
    tx: &mut Transaction<'_, Any>,
    select: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut blobs = Vec::new();
    for row in bound(select, ids).fetch_all(&mut **tx).await? {
        blobs.push(col_str(&row, "sha256")?);
        blobs.extend(col_opt_str(&row, "thumb_sha256")?);
    }
    Ok(blobs)
}

/// `%"visitor_id":"…"%` for LIKE, the id's own `%`, `_` and `\` taken literally.
fn naming_visitor(visitor_id: &str) -> String {
    format!("%\"visitor_id\":\"{}\"%", super::like_literal(visitor_id))
}

impl Store {
    /// The channels that keep closed conversations for a limited time: `(id, days)`.
    pub async fn retaining_channels(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query("SELECT id, retention_days FROM channels WHERE retention_days > 0")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((col_str(row, "id")?, col_i64(row, "retention_days")?)))
            .collect()
    }

    /// Deletes at most `limit` of the channel's conversations closed before `closed_before_ms`
    /// (those closed longest ago first), in one short transaction; how many went, and the file
    /// hashes to check.
    pub async fn purge_closed(
        &self,
        channel_id: &str,
        closed_before_ms: i64,
        limit: i64,
    ) -> Result<(usize, Vec<String>)> {
        // Read outside the transaction, so the write lock is held only for the deletes; a
        // conversation reopened meanwhile is not deleted (the deletes re-check it).
        let ids = sqlx::query(
            "SELECT id FROM conversations WHERE channel_id = $1 AND status = 'closed' \
             AND closed_at < $2 ORDER BY closed_at LIMIT $3",
        )
        .bind(channel_id)
        .bind(closed_before_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| col_str(row, "id"))
        .collect::<Result<Vec<_>>>()?;
        if ids.is_empty() {
            return Ok((0, Vec::new()));
        }
        let mut tx = self.pool.begin().await?;
        // A write first, which also keeps only those still closed long enough.
        let list = placeholders(3, ids.len());
        let still = format!(
            "UPDATE conversations SET status = 'closed' WHERE id IN ({list}) \
             AND status = 'closed' AND closed_at < $1 AND channel_id = $2 RETURNING id"
        );
        let ids = ids
            .iter()
            .fold(
                sqlx::query(&still).bind(closed_before_ms).bind(channel_id),
                |query, id| query.bind(id),
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| col_str(row, "id"))
            .collect::<Result<Vec<_>>>()?;
        let blobs = delete_conversations_in(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok((ids.len(), blobs))
    }

    /// Erases the contact and everything that names them, in one transaction, with a
    /// `contact.erased` event; who they were (by id) and the file hashes to check, or None if
    /// there is no such contact. Refused while one of their conversations is not closed.
    pub async fn erase_contact(
        &self,
        contact_id: &str,
        now_ms: i64,
    ) -> Result<Option<(ErasedContact, Vec<String>)>> {
        let mut tx = self.pool.begin().await?;
        // A write first (see `statistics::record_in`).
        sqlx::query("DELETE FROM contact_labels WHERE contact_id = $1")
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        let Some(contact) =
            sqlx::query("SELECT channel_id, visitor_id FROM contacts WHERE id = $1")
                .bind(contact_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let (channel_id, visitor_id) = (
            col_str(&contact, "channel_id")?,
            col_str(&contact, "visitor_id")?,
        );
        // A chat in progress would go on writing: it is closed first.
        let in_progress = sqlx::query(
            "SELECT 1 AS busy FROM conversations WHERE status <> 'closed' \
             AND (contact_id = $1 OR (channel_id = $2 AND visitor_id = $3))",
        )
        .bind(contact_id)
        .bind(&channel_id)
        .bind(&visitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        if in_progress.is_some() {
            return Err(Error::ContactInConversation);
        }
        // Theirs by contact, and any of the same browser's before the contact was made.
        let conversation_ids = sqlx::query(
            "SELECT id FROM conversations WHERE contact_id = $1 \
             OR (channel_id = $2 AND visitor_id = $3) ORDER BY created_at, id",
        )
        .bind(contact_id)
        .bind(&channel_id)
        .bind(&visitor_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| col_str(row, "id"))
        .collect::<Result<Vec<_>>>()?;
        let mut blobs = delete_conversations_in(&mut tx, &conversation_ids).await?;
        let unsent = [channel_id.clone(), uploader_of_visitor(&visitor_id)];
        blobs.extend(
            files_in(
                &mut tx,
                "SELECT sha256, thumb_sha256 FROM attachments WHERE channel_id = $1 AND uploader = $2",
                &unsent,
            )
            .await?,
        );
        bound(
            "DELETE FROM attachments WHERE channel_id = $1 AND uploader = $2",
            &unsent,
        )
        .execute(&mut *tx)
        .await?;
        // Events outside their conversations that named them (a session that ended).
        let naming = [channel_id.clone(), naming_visitor(&visitor_id)];
        let events = "SELECT id FROM outbox_events WHERE channel_id = $1 \
                      AND payload LIKE $2 ESCAPE '\\'";
        for delete in [
            format!("DELETE FROM outbox_deliveries WHERE event_id IN ({events})"),
            format!("DELETE FROM outbox_events WHERE id IN ({events})"),
        ] {
            bound(&delete, &naming).execute(&mut *tx).await?;
        }
        // Their page, written or about to be (a page still open calls again: a new presence).
        self.forget_page_view(&channel_id, &visitor_id);
        sqlx::query("DELETE FROM live_visitors WHERE channel_id = $1 AND visitor_id = $2")
            .bind(&channel_id)
            .bind(&visitor_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        let erased = ErasedContact {
            contact_id: contact_id.to_owned(),
            visitor_id,
            conversation_ids,
        };
        let event = Event {
            channel_id: &channel_id,
            event_type: EventType::ContactErased,
            conversation_id: None,
            summary: None,
            message: None,
            with_transcript: false,
            session: None,
            erased: Some(erased.clone()),
            now_ms,
        };
        self.commit_with_events(tx, vec![event]).await?;
        Ok(Some((erased, blobs)))
    }
}
