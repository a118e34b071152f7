//! Uploads as visitors make them, to the gateway process: one 10 MiB file alone (throughput on
//! localhost), then ten at once, twice: documents (streamed to disk, never held in memory) and
//! photos (each decoded and re-encoded, two at a time), with the gateway's peak memory above
//! its memory before. There is no baseline server for this: the figures stand alone.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::process::{open_session, SITE};

use crate::server::Server;

const MIB: usize = 1024 * 1024;

/// `bytes` of noise after a PDF header: typed as a PDF, incompressible.
fn document(bytes: usize, seed: u64) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut state = seed | 1;
    while out.len() < bytes {
        // xorshift: cheap, reproducible noise.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(bytes);
    out
}

/// A JPEG of noise about `bytes` long (a photo's worth of detail at high quality).
fn photo(bytes: usize, seed: u64) -> Vec<u8> {
    use image::codecs::jpeg::JpegEncoder;
    let noise = document(bytes * 2, seed);
    // Noise at quality 95 costs about 2.7 bytes a pixel.
    let side = ((bytes as f64 / 2.7).sqrt()) as u32;
    let pixels = image::RgbImage::from_fn(side, side, |x, y| {
        let i = ((y * side + x) as usize * 3) % (noise.len() - 3);
        image::Rgb([noise[i], noise[i + 1], noise[i + 2]])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(pixels)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 95))
        .expect("a JPEG");
    out
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let response = http
        .post(format!("{base}/v1/visitor/files"))
        .query(&[("name", "file"), ("key", key)])
        .header("origin", SITE)
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status() {
        reqwest::StatusCode::CREATED => Ok(()),
        status => Err(format!(
            "{status}: {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

/// Ten uploads at once from ten visitors; the seconds they took and the gateway's peak RSS
/// above its RSS before (KiB).
async fn ten_at_once(server: &Server, files: Vec<Vec<u8>>) -> (f64, u64) {
    let http = reqwest::Client::new();
    let base = server.base().to_owned();
    let mut tokens = Vec::new();
    for _ in &files {
        tokens.push(open_session(&http, &base).await.expect("a session"));
    }
    let before = server.rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, pid_rss) = (peak.clone(), done.clone(), server.rss_reader());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(pid_rss(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let uploads = files
        .into_iter()
        .zip(tokens)
        .enumerate()
        .map(|(i, (file, token))| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move { upload(&http, &base, &token, &format!("k{i}"), file).await })
        });
    for finished in futures_util::future::join_all(uploads).await {
        finished.expect("an upload task").expect("an upload");
    }
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await.expect("the sampler");
    (seconds, peak.load(Ordering::Relaxed).saturating_sub(before))
}

pub async fn uploads(server: &Server) -> Value {
    let http = reqwest::Client::new();
    let base = server.base();
    let token = open_session(&http, base).await.expect("a session");
    let alone = document(10 * MIB, 1);
    let started = Instant::now();
    upload(&http, base, &token, "alone", alone)
        .await
        .expect("an upload");
    let alone_mib_s = 10.0 / started.elapsed().as_secs_f64();
    let (documents_secs, documents_peak) = ten_at_once(
        server,
        (0..10).map(|i| document(10 * MIB, 10 + i)).collect(),
    )
    .await;
    let photos: Vec<Vec<u8>> = (0..10).map(|i| photo(10 * MIB, 100 + i)).collect();
    let photo_bytes = photos[0].len();
    let (photos_secs, photos_peak) = ten_at_once(server, photos).await;
    let figures = json!({
        "one_10_mib_document_mib_per_s": alone_mib_s,
        "ten_documents_secs": documents_secs,
        "ten_documents_peak_kib": documents_peak,
        "photo_bytes": photo_bytes,
        "ten_photos_secs": photos_secs,
        "ten_photos_peak_kib": photos_peak,
    });
    println!("\nuploads (visitor, 10 MiB each, localhost)");
    println!("  one document alone:        {alone_mib_s:>8.1} MiB/s");
    println!(
        "  ten documents at once:     {documents_secs:>8.2} s, gateway peak +{:.1} MiB",
        documents_peak as f64 / 1024.0
    );
    println!(
        "  ten photos at once ({:.1} MiB JPEGs, re-encoded): {photos_secs:>6.2} s, gateway peak +{:.1} MiB",
        photo_bytes as f64 / MIB as f64,
        photos_peak as f64 / 1024.0
    );
    figures
}

/// The table rows for the README.
pub fn table_rows(figures: &Value) -> Vec<String> {
    let number = |key: &str| figures[key].as_f64().unwrap_or(0.0);
    vec![
        format!(
            "| upload of one 10 MiB file (visitor, localhost) | {:.0} MiB/s | – | – |",
            number("one_10_mib_document_mib_per_s")
        ),
        format!(
            "| ten 10 MiB documents uploaded at once: time; gateway peak memory above idle | {:.2} s; +{:.1} MiB | bounded, not ~ 10 × 10 MiB | – |",
            number("ten_documents_secs"),
            number("ten_documents_peak_kib") / 1024.0
        ),
        format!(
            "| ten {:.1} MiB photos uploaded at once (decoded, re-encoded, thumbnailed): time; peak memory | {:.2} s; +{:.1} MiB | bounded | – |",
            number("photo_bytes") / MIB as f64,
            number("ten_photos_secs"),
            number("ten_photos_peak_kib") / 1024.0
        ),
    ]
}
