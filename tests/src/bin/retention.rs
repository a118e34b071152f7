//! Retention on SQLite under load: 100,000 conversations closed long ago (two messages each,
//! in the search index, with their statistics), purged by the retention job while one visitor
//! after another keeps writing. Each message's wait for its acknowledgement is timed; the
//! longest and the 99th percentile are printed beside the same writer's figures with no purge
//! running (the baseline of the same run), with the failures (there must be none) and how long
//! the purge took.
//!
//! `cargo run --release -p tests --bin retention` (a temporary database; nothing else is touched).

use gateway::files::blobs::Blobs;
use gateway::store::{ChannelRecord, ChannelRef, NewMessage, Store, VisitContext};
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONVERSATIONS: i64 = 100_000;
const BATCH: i64 = 1_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
const BASELINE: Duration = Duration::from_secs(3);

/// The writer's waits, one per message, until `stop`.
async fn write_until(
    store: Store,
    channel: ChannelRef,
    stop: Arc<AtomicBool>,
    tag: &str,
) -> (Vec<Duration>, usize) {
    let (mut waits, mut failed) = (Vec::new(), 0);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let (visitor, client_id) = (format!("{tag}-{}", n / 5), format!("{tag}-{n}"));
        let context = VisitContext::default();
        let started = Instant::now();
        let appended = store
            .append_visitor_message(
                &channel,
                &visitor,
                context,
                NewMessage::now(&client_id, "Still here"),
                0,
            )
            .await;
        waits.push(started.elapsed());
        failed += usize::from(appended.is_err());
        // A visitor's pace, roughly: many visitors, one message each few milliseconds.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (waits, failed)
}

fn said(waits: &mut [Duration]) -> String {
    waits.sort();
    let p99 = waits[(waits.len() * 99 / 100).min(waits.len() - 1)];
    format!(
        "{} messages, longest wait {:.1} ms, p99 {:.1} ms",
        waits.len(),
        waits.last().unwrap().as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite:{}?mode=rwc",
        dir.path().join("retention.db").display()
    );
    let store = Store::connect(&url).await.expect("the store");
    let files = url::Url::from_directory_path(dir.path().join("files")).unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    let blobs = Blobs::open(files.as_str()).expect("the blob store");
    let now = gateway::now_ms();
    let mut record = ChannelRecord::new("Retention bench", 600);
    record.retention_days = 30;
    store.save_channel(&record, now).await.unwrap();
    let channel = ChannelRef::from(&record);

    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let generating = Instant::now();
    let mut tx = db.begin().await.unwrap();
    let old = now - 400 * DAY_MS;
    for batch in 0..CONVERSATIONS / BATCH {
        let (mut conversations, mut messages, mut stats) = (Vec::new(), Vec::new(), Vec::new());
        for i in batch * BATCH..(batch + 1) * BATCH {
            let created = old + i * 60_000;
            conversations.push(format!(
                "('c{i}', '{}', 'v{i}', 'closed', 2, 'Thanks', {created}, {created}, {})",
                record.id,
                created + 600_000
            ));
            for (seq, author, text) in [
                (1, "visitor", "Where is order"),
                (2, "agent", "It ships today"),
            ] {
                messages.push(format!(
                    "('c{i}', {seq}, '{author}', '{text} {i}', 'm{i}-{seq}', {created})"
                ));
            }
            stats.push(format!(
                "('c{i}', '{}', 'default', 'agents', 'answered', {created}, {}, 60000, 60000, 540000, \
                 600000, 1, 1, 0, 0, 0)",
                record.id,
                created + 600_000
            ));
        }
        for (table, columns, rows) in [
            ("conversations", "id, channel_id, visitor_id, status, last_seq, last_text, created_at, updated_at, closed_at", &conversations),
            ("messages", "conversation_id, seq, author_kind, body, client_id, sent_at", &messages),
            ("conversation_stats", "conversation_id, channel_id, queue_id, handler, outcome, created_at, closed_at, wait_ms, first_response_ms, handle_ms, duration_ms, visitor_messages, agent_messages, bot_messages, desk_messages, transfers", &stats),
        ] {
            tx.execute(format!("INSERT INTO {table} ({columns}) VALUES {}", rows.join(", ")).as_str())
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    db.execute("ANALYZE").await.unwrap();
    println!(
        "retention: {CONVERSATIONS} closed conversations (two messages each, indexed for search) generated in {:.1} s",
        generating.elapsed().as_secs_f64()
    );

    // The writer alone: the baseline.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until(
        store.clone(),
        channel.clone(),
        stop.clone(),
        "before",
    ));
    tokio::time::sleep(BASELINE).await;
    stop.store(true, Ordering::Relaxed);
    let (mut alone, failed_alone) = writer.await.unwrap();

    // The same writer while the job purges.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until(
        store.clone(),
        channel.clone(),
        stop.clone(),
        "during",
    ));
    let config = gateway::config::Config::default();
    let purging = Instant::now();
    let purged = gateway::retention::purge(
        &store,
        &blobs,
        gateway::now_ms(),
        config.retention_batch,
        Duration::from_millis(config.retention_pause_ms),
    )
    .await
    .expect("the purge");
    let took = purging.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (mut during, failed_during) = writer.await.unwrap();
    assert_eq!(
        purged.conversations as i64, CONVERSATIONS,
        "every old conversation goes"
    );
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE conversation_id NOT LIKE '%-%'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(left, 0);
    let longest = |w: &[Duration]| w.iter().max().copied().unwrap_or_default();
    println!(
        "retention: purge of {} conversations in {} batches of {}: {:.1} s",
        purged.conversations,
        purged.batches,
        config.retention_batch,
        took.as_secs_f64()
    );
    println!(
        "retention: writing alone: {}; failures {failed_alone}",
        said(&mut alone)
    );
    println!(
        "retention: writing during the purge: {}; failures {failed_during}",
        said(&mut during)
    );
    println!(
        "retention: longest append wait during the purge: {:.1} × the baseline's longest",
        longest(&during).as_secs_f64() / longest(&alone).as_secs_f64().max(1e-6)
    );
    assert_eq!(failed_during, 0, "no append fails during a purge");
}
