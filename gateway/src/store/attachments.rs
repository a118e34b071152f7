//! Attachment rows: an upload is recorded unsent (its uploader's alone), then a message takes
//! it in the transaction that stores the message, so a file is in a conversation exactly when
//! its message is; an upload never sent is swept after a day.

use protocol::Attachment;

use super::tx::{Columns, Tx};
use super::{col_i64, col_opt_i64, col_opt_str, col_str, Store};
use crate::error::{Error, Result};

/// An attachment as stored: what readers see, and what the gateway needs to serve it.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: String,
    pub channel_id: String,
    pub uploader: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb_sha256: Option<String>,
    /// None while unsent.
    pub conversation_id: Option<String>,
}

impl StoredFile {
    /// As readers see it (without a link; see `files::links`).
    pub fn wire(&self) -> Attachment {
        Attachment {
            id: self.id.clone(),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            url: None,
        }
    }
}

/// An upload to record.
pub struct NewUpload<'a> {
    pub channel_id: &'a str,
    pub uploader: &'a str,
    pub upload_key: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb_sha256: Option<&'a str>,
}

const COLUMNS: &str = "id, channel_id, uploader, name, content_type, size, sha256, width, \
                       height, thumb_sha256, conversation_id";

fn from_row(row: &impl Columns) -> Result<StoredFile> {
    let pixels = |name| -> Result<Option<u32>> {
        Ok(col_opt_i64(row, name)?.and_then(|v| u32::try_from(v).ok()))
    };
    Ok(StoredFile {
        id: col_str(row, "id")?,
        channel_id: col_str(row, "channel_id")?,
        uploader: col_str(row, "uploader")?,
        name: col_str(row, "name")?,
        content_type: col_str(row, "content_type")?,
        size: u64::try_from(col_i64(row, "size")?).unwrap_or(0),
        sha256: col_str(row, "sha256")?,
        width: pixels("width")?,
        height: pixels("height")?,
        thumb_sha256: col_opt_str(row, "thumb_sha256")?,
        conversation_id: col_opt_str(row, "conversation_id")?,
    })
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Records an upload, or finds the one this uploader already made under this key (a
    /// retried upload): either way, the row as stored.
    pub async fn record_upload(&self, upload: &NewUpload<'_>, now_ms: i64) -> Result<StoredFile> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = Tx::Sqlx(&mut conn);
        tx.execute(
            "INSERT INTO attachments (id, channel_id, uploader, upload_key, name, content_type, \
             size, sha256, width, height, thumb_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (uploader, upload_key) DO NOTHING",
            &[
                (&uuid::Uuid::new_v4().to_string()).into(),
                upload.channel_id.into(),
                upload.uploader.into(),
                upload.upload_key.into(),
                upload.name.into(),
                upload.content_type.into(),
                int(upload.size).into(),
                upload.sha256.into(),
                upload.width.map(i64::from).into(),
                upload.height.map(i64::from).into(),
                upload.thumb_sha256.into(),
                now_ms.into(),
            ],
        )
        .await?;
        let row = tx
            .fetch_optional(
                &format!(
                    "SELECT {COLUMNS} FROM attachments WHERE uploader = $1 AND upload_key = $2"
                ),
                &[upload.uploader.into(), upload.upload_key.into()],
            )
            .await?
            .ok_or_else(|| Error::Internal("an upload vanished as it was recorded".into()))?;
        from_row(&row)
    }

    pub async fn stored_file(&self, id: &str) -> Result<Option<StoredFile>> {
        let mut conn = self.pool.acquire().await?;
        let row = Tx::Sqlx(&mut conn)
            .fetch_optional(
                &format!("SELECT {COLUMNS} FROM attachments WHERE id = $1"),
                &[id.into()],
            )
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Whether any attachment names this blob (as its file or its thumbnail).
    pub async fn blob_referenced(&self, sha256: &str) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        let row = Tx::Sqlx(&mut conn)
            .fetch_optional(
                "SELECT 1 AS found FROM attachments WHERE sha256 = $1 OR thumb_sha256 = $1 LIMIT 1",
                &[sha256.into()],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Deletes the uploads recorded before `before_ms` that no message took; how many.
    pub async fn sweep_unsent_uploads(&self, before_ms: i64) -> Result<u64> {
        let mut conn = self.pool.acquire().await?;
        Tx::Sqlx(&mut conn)
            .execute(
                "DELETE FROM attachments WHERE conversation_id IS NULL AND created_at < $1",
                &[before_ms.into()],
            )
            .await
    }
}

/// Gives the uploader's unsent uploads `ids` to the message `seq` of the conversation, in the
/// message's transaction; `attachment_not_found` (and so no message) unless every one is the
/// uploader's, in this channel, and unsent.
pub(super) async fn attach_in(
    tx: &mut Tx<'_>,
    channel_id: &str,
    uploader: &str,
    ids: &[String],
    conversation_id: &str,
    seq: i64,
) -> Result<Vec<Attachment>> {
    let mut attached = Vec::with_capacity(ids.len());
    for id in ids {
        let row = tx
            .fetch_optional(
                &format!(
                    "UPDATE attachments SET conversation_id = $1, message_seq = $2 \
                     WHERE id = $3 AND channel_id = $4 AND uploader = $5 \
                     AND conversation_id IS NULL RETURNING {COLUMNS}"
                ),
                &[
                    conversation_id.into(),
                    seq.into(),
                    id.into(),
                    channel_id.into(),
                    uploader.into(),
                ],
            )
            .await?
            .ok_or(Error::AttachmentNotFound)?;
        attached.push(from_row(&row)?.wire());
    }
    Ok(attached)
}
