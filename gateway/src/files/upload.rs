//! An upload's body, streamed to a temporary file while it is counted and hashed: a body past
//! the limit is cut off at the first chunk beyond it, so no upload is ever held in memory
//! whole, and nothing of a refused or interrupted one is kept (the file goes when dropped).

use axum::body::Body;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::path::Path;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use super::kinds::SNIFF_BYTES;
use crate::error::{Error, Result};

/// A body received whole.
pub struct Received {
    pub file: NamedTempFile,
    pub size: u64,
    pub sha256: String,
    /// Its first bytes, to tell what it is.
    pub head: Vec<u8>,
}

/// Streams `body` into a new file in `dir`, refusing it as soon as it passes `max_bytes`.
pub async fn receive(body: Body, max_bytes: u64, dir: &Path) -> Result<Received> {
    let file = NamedTempFile::new_in(dir)?;
    let mut out = tokio::fs::File::from_std(file.reopen()?);
    let mut stream = body.into_data_stream();
    let (mut size, mut hasher, mut head) = (0u64, Sha256::new(), Vec::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::BadRequest(format!("the upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(Error::FileTooLarge { max_bytes });
        }
        hasher.update(&chunk);
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(Received {
        file,
        size,
        sha256: crate::tokens::hex(&hasher.finalize()),
        head,
    })
}
