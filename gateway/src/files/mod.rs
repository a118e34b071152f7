//! Files in conversations, both ways: every upload (a visitor's, an agent's, the REST API's)
//! takes one path here ([`Files::accept`]): streamed to a temporary file within the channel's
//! size ([`upload`]), its type decided from its bytes ([`kinds`]), an image re-encoded without
//! metadata and thumbnailed ([`images`]), recorded, then its bytes stored under their SHA-256
//! ([`blobs`]). A message takes uploads in its own transaction (`store::attachments`); readers
//! fetch them through the `attachments` routes, and [`Files::serve`] answers them.

pub mod blobs;
pub mod images;
pub mod kinds;
pub mod upload;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use protocol::MAX_FILE_NAME_CHARS;
use std::path::PathBuf;
use tokio::sync::Semaphore;

use self::blobs::Blobs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{ChannelRecord, NewUpload, Store, StoredFile};

/// Images decoded at once: each may take a few hundred megabytes while it is.
const IMAGES_AT_ONCE: usize = 2;
/// An unsent upload is kept this long for its message.
pub const UNSENT_KEPT_MS: i64 = 24 * 3600 * 1000;

pub struct Files {
    pub blobs: Blobs,
    /// Where uploads are received before they are stored.
    receiving: PathBuf,
    images: Semaphore,
}

/// One upload, as its route hands it over.
pub struct Upload<'a> {
    pub channel: &'a ChannelRecord,
    /// Whose it is (`store::uploader_of_visitor`, …): only they may attach it.
    pub uploader: &'a str,
    /// The uploader's key for it: a retry with the same key stores it once.
    pub key: &'a str,
    pub name: &'a str,
    /// A visitor's upload must be of a kind the channel accepts; anyone else's may be anything.
    pub from_visitor: bool,
    pub body: Body,
}

/// Deletes the bytes of `hashes` (the files of conversations just deleted) that no attachment
/// names any more; what is left by a failure here the hourly sweep deletes.
pub async fn delete_unused(blobs: &Blobs, store: &Store, hashes: Vec<String>) -> Result<()> {
    for sha256 in hashes {
        blobs
            .delete_unreferenced(
                &sha256,
                |sha| async move { store.blob_referenced(&sha).await },
            )
            .await?;
    }
    Ok(())
}

impl Files {
    pub fn open(config: &Config) -> Result<Self> {
        let url = match &config.files_url {
            Some(url) => url.clone(),
            None => default_files_url(&config.database_url)?,
        };
        let receiving = match url::Url::parse(&url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
        {
            // Beside the blobs, so that a received file is on the same disk it is stored on.
            Some(dir) => dir.join("receiving"),
            None => std::env::temp_dir().join("livechat-receiving"),
        };
        std::fs::create_dir_all(&receiving)?;
        Ok(Self {
            blobs: Blobs::open(&url)?,
            receiving,
            images: Semaphore::new(IMAGES_AT_ONCE),
        })
    }

    /// Receives, checks and stores one upload; the row as recorded.
    pub async fn accept(
        &self,
        store: &Store,
        upload: Upload<'_>,
        now_ms: i64,
    ) -> Result<StoredFile> {
        let policy = &upload.channel.uploads;
        let received = upload::receive(upload.body, policy.max_bytes, &self.receiving).await?;
        let identified = kinds::identify(&received.head);
        let (content_type, raster) = match identified {
            Some(found) if !upload.from_visitor || policy.kinds.contains(&found.kind) => {
                (found.content_type, found.raster)
            }
            Some(found) => return Err(Error::FileTypeNotAllowed(found.kind.to_string())),
            None if upload.from_visitor => {
                return Err(Error::FileTypeNotAllowed("unrecognised".into()))
            }
            None => ("application/octet-stream", None),
        };
        let name = file_name(upload.name);
        let mut record = NewUpload {
            channel_id: &upload.channel.id,
            uploader: upload.uploader,
            upload_key: upload.key,
            name: &name,
            content_type,
            size: received.size,
            sha256: &received.sha256,
            width: None,
            height: None,
            thumb_sha256: None,
        };
        let Some(format) = raster else {
            // Recorded before its bytes are written: see `blobs` on why the sweep needs it so.
            let stored = store.record_upload(&record, now_ms).await?;
            self.blobs
                .put_file(&stored.sha256, received.file.path())
                .await?;
            return Ok(stored);
        };
        let cleaned = {
            // Its turn first, then its bytes into memory: images waiting hold nothing.
            let _turn = self
                .images
                .acquire()
                .await
                .map_err(|_| Error::Internal("the image queue is closed".into()))?;
            let original = tokio::fs::read(received.file.path()).await?;
            tokio::task::spawn_blocking(move || images::clean(&original, format))
                .await
                .map_err(|e| Error::Internal(format!("image worker: {e}")))??
        };
        let sha256 = crate::tokens::hex(&sha2::Sha256::digest(&cleaned.bytes));
        let thumb_sha256 = crate::tokens::hex(&sha2::Sha256::digest(&cleaned.thumbnail));
        record.content_type = cleaned.content_type;
        record.size = cleaned.bytes.len() as u64;
        record.sha256 = &sha256;
        record.width = Some(cleaned.width);
        record.height = Some(cleaned.height);
        record.thumb_sha256 = Some(&thumb_sha256);
        let stored = store.record_upload(&record, now_ms).await?;
        self.blobs.put_bytes(&stored.sha256, cleaned.bytes).await?;
        self.blobs
            .put_bytes(&thumb_sha256, cleaned.thumbnail)
            .await?;
        Ok(stored)
    }

    /// The file (or its thumbnail) as a download: typed as recorded, never sniffed by the
    /// browser, shown inline only when it is a raster image, and sandboxed whatever it is, so
    /// nothing uploaded can run script on the gateway's origin.
    pub async fn serve(&self, file: &StoredFile, thumbnail: bool) -> Result<Response> {
        let (sha256, content_type) = match (thumbnail, &file.thumb_sha256) {
            (true, Some(thumb)) => (thumb, None),
            (true, None) => return Err(Error::NotFound),
            (false, _) => (&file.sha256, Some(file.content_type.as_str())),
        };
        let blob =
            self.blobs.get(sha256).await?.ok_or_else(|| {
                Error::Internal(format!("the bytes of file {} are missing", file.id))
            })?;
        // Thumbnails are always JPEG (see `images`).
        let content_type = content_type.unwrap_or("image/jpeg");
        let inline = file.width.is_some();
        let disposition = format!(
            "{}; filename=\"{}\"; filename*=UTF-8''{}",
            if inline { "inline" } else { "attachment" },
            ascii_fallback(&file.name),
            url::form_urlencoded::byte_serialize(file.name.as_bytes()).collect::<String>()
        );
        let body = Body::from_stream(blob.bytes.map_err(std::io::Error::other));
        let mut response = body.into_response();
        let headers = response.headers_mut();
        let value = |v: &str| HeaderValue::from_str(v).map_err(|e| Error::Internal(e.to_string()));
        headers.insert(header::CONTENT_TYPE, value(content_type)?);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
        headers.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
        // The same id is always the same bytes; private, as each reader is authenticated.
        untrusted(
            headers,
            "default-src 'none'; img-src 'self'; sandbox",
            "private, max-age=86400, immutable",
        );
        Ok(response)
    }
}

/// The headers of bytes someone else wrote, served from the gateway's origin: never sniffed
/// into another type, and, opened on their own, under `policy` (a sandbox: nothing runs).
pub fn untrusted(headers: &mut HeaderMap, policy: &'static str, cache: &'static str) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

/// Beside the SQLite file (`chat.db` → `chat-files/`), or `livechat-files` in the working
/// directory for a database elsewhere.
fn default_files_url(database_url: &str) -> Result<String> {
    let dir = match crate::store::sqlite_file(database_url) {
        Ok(db) if database_url.starts_with("sqlite:") => {
            let stem = db
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "livechat".into());
            db.with_file_name(format!("{stem}-files"))
        }
        _ => PathBuf::from("livechat-files"),
    };
    let dir = std::path::absolute(&dir)?;
    url::Url::from_directory_path(&dir)
        .map(String::from)
        .map_err(|()| Error::Config(format!("{} is not a usable directory", dir.display())))
}

/// The name a file is shown under: its last path component, without control characters, cut
/// to [`MAX_FILE_NAME_CHARS`] keeping the extension; "file" if nothing is left.
pub fn file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        return "file".into();
    }
    if clean.chars().count() <= MAX_FILE_NAME_CHARS {
        return clean.to_owned();
    }
    let extension: String = match clean.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 10 => format!(".{ext}"),
        _ => String::new(),
    };
    let keep = MAX_FILE_NAME_CHARS - extension.chars().count();
    clean.chars().take(keep).chain(extension.chars()).collect()
}

/// The name in plain ASCII for clients that do not read `filename*`.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

use sha2::Digest as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters_and_keep_their_extension() {
        assert_eq!(file_name("C:\\Users\\me\\photo.png"), "photo.png");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(file_name("  "), "file");
        assert_eq!(file_name(".."), "file");
        let long = format!("{}.pdf", "x".repeat(300));
        let cut = file_name(&long);
        assert_eq!(cut.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn the_plain_name_has_no_quotes_or_non_ascii() {
        assert_eq!(ascii_fallback("résumé \"v2\".pdf"), "r_sum_ _v2_.pdf");
    }
}
