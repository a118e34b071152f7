//! The file store's one suite, run on both stores: the directory a gateway uses by default and
//! a real S3 endpoint (moto). Bytes round-trip (a file larger than one multipart part too), a
//! missing blob is None, and the sweep deletes only what no row names, putting back what an
//! upload named while it looked.

use gateway::files::blobs::Blobs;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::s3::S3Server;

fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn read(blobs: &Blobs, sha256: &str) -> Option<Vec<u8>> {
    use futures_util::TryStreamExt;
    let blob = blobs.get(sha256).await.unwrap()?;
    let chunks: Vec<bytes::Bytes> = blob.bytes.try_collect().await.unwrap();
    let bytes = chunks.concat();
    assert_eq!(bytes.len() as u64, blob.size);
    Some(bytes)
}

async fn suite(blobs: &Blobs) {
    let small = b"hello, files".to_vec();
    let small_sha = digest(&small);
    blobs.put_bytes(&small_sha, small.clone()).await.unwrap();
    assert_eq!(read(blobs, &small_sha).await.unwrap(), small);
    assert!(read(blobs, &digest(b"never stored")).await.is_none());

    // Larger than a part: written in several.
    let large: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let large_sha = digest(&large);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &large).unwrap();
    blobs.put_file(&large_sha, file.path()).await.unwrap();
    assert!(read(blobs, &large_sha).await.unwrap() == large);

    // Everything is old enough for this sweep; the large blob is still named by a row.
    let future = gateway::now_ms() + 60_000;
    let deleted = blobs
        .sweep(future, |sha| {
            let keep = sha == large_sha;
            async move { Ok(keep) }
        })
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(read(blobs, &small_sha).await.is_none());
    assert!(read(blobs, &large_sha).await.is_some());

    // An upload of the same bytes lands while the sweep looks: first unnamed, then named.
    let asked = AtomicUsize::new(0);
    let deleted = blobs
        .sweep(future, |_| {
            let first = asked.fetch_add(1, Ordering::SeqCst) == 0;
            async move { Ok(!first) }
        })
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    assert!(
        read(blobs, &large_sha).await.unwrap() == large,
        "put back whole"
    );
    // Blobs younger than the cut-off are not even looked at.
    let deleted = blobs.sweep(0, |_| async { Ok(false) }).await.unwrap();
    assert_eq!(deleted, 0);
}

#[tokio::test]
async fn the_directory_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let url = url::Url::from_directory_path(dir.path()).unwrap();
    suite(&Blobs::open(url.as_str()).unwrap()).await;
}

#[tokio::test]
async fn the_s3_store_passes_the_suite() {
    let Some(server) = S3Server::start().await else {
        return;
    };
    suite(&Blobs::open(&server.files_url()).unwrap()).await;
}

#[tokio::test]
async fn a_gateway_on_s3_takes_and_serves_files() {
    let Some(server) = S3Server::start().await else {
        return;
    };
    let url = server.files_url();
    let gw = tests::TestGateway::spawn_with(|c| c.files_url = Some(url)).await;
    let visitor = tests::client::Visitor::arrive(&gw, tests::SITE_ORIGIN).await;
    let bytes = b"%PDF-1.4\nstored in a bucket\n%%EOF\n".to_vec();
    let response = reqwest::Client::new()
        .post(gw.url("/v1/visitor/files"))
        .query(&[("name", "a.pdf"), ("key", "k1")])
        .header("origin", tests::SITE_ORIGIN)
        .bearer_auth(&visitor.session.session_token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let file: protocol::Attachment = response.json().await.unwrap();
    let listed = reqwest::get(format!("{}/{}", server.endpoint, server.bucket))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains(&digest(&bytes)),
        "the bytes are in the bucket: {listed}"
    );
    let served = reqwest::Client::new()
        .get(gw.url(&format!("/v1/visitor/files/{}", file.id)))
        .header("origin", tests::SITE_ORIGIN)
        .bearer_auth(&visitor.session.session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
}
