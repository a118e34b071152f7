//! Where files' bytes live, under their SHA-256: a directory (the default, next to the SQLite
//! file) or an S3-compatible bucket, behind `object_store`'s one interface. The store holds
//! bytes only; who may read them is the database's business.
//!
//! Content addressing makes a blob shared by every upload of the same bytes, so deleting one
//! needs care: the sweep deletes only blobs no row names and not written for a day, and moves
//! each aside before deleting it, then looks again, so an upload of the same bytes that lands
//! meanwhile (its row is committed before its bytes are written) is never left without them.

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, PutPayload};
use std::path::Path;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// Bytes written to the store per request while a file is copied in (S3 multipart parts).
const PART_BYTES: usize = 5 << 20;
/// A blob no row names is deleted once it is this old.
pub const ORPHAN_GRACE_MS: i64 = 24 * 3600 * 1000;

pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

/// A blob being read.
pub struct Blob {
    pub size: u64,
    pub bytes: BoxStream<'static, Result<bytes::Bytes>>,
}

impl Blobs {
    /// `file:///absolute/dir` or `s3://bucket?region=…&endpoint=…&access_key_id=…&…` (any of
    /// `object_store`'s S3 settings as query parameters; unset ones come from `AWS_*` variables).
    pub fn open(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url).map_err(|e| Error::Config(format!("files_url: {e}")))?;
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|()| Error::Config("files_url: not a local path".into()))?;
                std::fs::create_dir_all(&dir)?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir)?)
            }
            "s3" => {
                let bucket = parsed
                    .host_str()
                    .ok_or_else(|| Error::Config("files_url: s3://BUCKET".into()))?;
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (key, value) in parsed.query_pairs() {
                    let key: AmazonS3ConfigKey = key.parse().map_err(|_| {
                        Error::Config(format!("files_url: {key:?} is not an S3 setting"))
                    })?;
                    builder = builder.with_config(key, value);
                }
                Arc::new(builder.build()?)
            }
            other => {
                return Err(Error::Config(format!(
                    "files_url: {other}:// is not a file store (file:// or s3://)"
                )))
            }
        };
        Ok(Self { store })
    }

    /// Copies a file into the store under its digest, a part at a time.
    pub async fn put_file(&self, sha256: &str, file: &Path) -> Result<()> {
        let mut source = tokio::fs::File::open(file).await?;
        let mut sink = BufWriter::with_capacity(self.store.clone(), blob_path(sha256), PART_BYTES);
        if let Err(e) = tokio::io::copy(&mut source, &mut sink).await {
            sink.abort().await?;
            return Err(e.into());
        }
        sink.shutdown().await?;
        Ok(())
    }

    pub async fn put_bytes(&self, sha256: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&blob_path(sha256), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The blob, or None if the store has no such one.
    pub async fn get(&self, sha256: &str) -> Result<Option<Blob>> {
        match self.store.get(&blob_path(sha256)).await {
            Ok(found) => Ok(Some(Blob {
                size: found.meta.size,
                bytes: found.into_stream().map_err(Error::from).boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the blobs older than `before_ms` that `referenced` says no row names; how many.
    pub async fn sweep<F, Fut>(&self, before_ms: i64, referenced: F) -> Result<usize>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let old: Vec<String> = self
            .store
            .list(Some(&BlobPath::from("blobs")))
            .try_filter_map(|meta| async move {
                let written = meta.last_modified.timestamp_millis();
                Ok((written < before_ms)
                    .then(|| meta.location.filename().map(str::to_owned))
                    .flatten())
            })
            .try_collect()
            .await?;
        let mut deleted = 0;
        for sha256 in old {
            if self.delete_unreferenced(&sha256, &referenced).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Deletes the blob unless `referenced` says a row names it; whether it went. A fresh
    /// upload of the same bytes meanwhile keeps it: the blob is set aside, checked again, and
    /// put back if it is named now.
    pub async fn delete_unreferenced<F, Fut>(&self, sha256: &str, referenced: F) -> Result<bool>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        if referenced(sha256.to_owned()).await? {
            return Ok(false);
        }
        let (live, aside) = (blob_path(sha256), BlobPath::from(format!("trash/{sha256}")));
        match self.store.rename(&live, &aside).await {
            Ok(()) => {}
            // Another gateway took it first.
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let deleted = if referenced(sha256.to_owned()).await? {
            // Same bytes, so putting them back over a fresh upload's copy changes nothing.
            self.store.copy(&aside, &live).await?;
            false
        } else {
            true
        };
        self.store.delete(&aside).await?;
        Ok(deleted)
    }
}

fn blob_path(sha256: &str) -> BlobPath {
    BlobPath::from(format!("blobs/{}/{sha256}", &sha256[..2.min(sha256.len())]))
}
