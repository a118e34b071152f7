//! The reports page's queries on a year of conversations: 100,000 closed conversations with
//! their statistics spread over 365 days (3 channels, 4 queues, 20 agents), on SQLite and (when
//! `LIVECHAT_TEST_POSTGRES` names a server) on PostgreSQL, then the report of the year, of the
//! last 30 days, and of one agent's year, each timed (best of 5) beside a plain `COUNT(*)` of
//! the same rows (the baseline of the same run), and the year's parts one by one.
//!
//! `cargo run --release -p tests --bin reports` (temporary databases; nothing else is touched).

use gateway::store::{ReportFilter, Store, Timed};
use sqlx::{Connection, Executor};
use std::time::{Duration, Instant};

const CONVERSATIONS: i64 = 100_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
const BATCH: i64 = 500;
const OUTCOMES: [&str; 5] = ["answered", "answered", "answered", "missed", "abandoned"];

async fn best_of_5<F: std::future::Future<Output = ()>>(mut run: impl FnMut() -> F) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        run().await;
        best = best.min(started.elapsed());
    }
    best
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = format!(
        "sqlite:{}?mode=rwc",
        dir.path().join("reports.db").display()
    );
    year_of_reports(&sqlite, "SQLite").await;
    if let Some(scratch) = tests::postgres::ScratchDatabase::create().await {
        year_of_reports(&scratch.url, "PostgreSQL").await;
        scratch.drop().await;
    }
}

async fn year_of_reports(url: &str, backend: &str) {
    let store = Store::connect(url).await.expect("the store");
    let now = gateway::now_ms();
    let start = now - 365 * DAY_MS;
    // The channels the conversations are of (agents and queues are only ids in statistics).
    for i in 0..3 {
        let mut channel = gateway::store::ChannelRecord::new(&format!("Channel {i}"), 600);
        channel.id = format!("ch{i}");
        store.save_channel(&channel, now).await.unwrap();
    }
    let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
    let generating = Instant::now();
    let mut tx = db.begin().await.unwrap();
    for batch in 0..CONVERSATIONS / BATCH {
        let mut conversations = Vec::new();
        let mut stats = Vec::new();
        for i in batch * BATCH..(batch + 1) * BATCH {
            // Spread over the year, busier in the daytime (a cheap deterministic scatter).
            let created = start + i * (365 * DAY_MS / CONVERSATIONS) + (i * 7919 % 3600) * 1000;
            let outcome = OUTCOMES[(i % 5) as usize];
            let answered = outcome == "answered";
            let wait = if answered {
                (i * 104_729 % 600) * 1000
            } else {
                -1
            };
            let first = if answered { wait + (i % 90) * 1000 } else { -1 };
            let or_null = |ms: i64| {
                if ms < 0 {
                    "NULL".to_owned()
                } else {
                    ms.to_string()
                }
            };
            conversations.push(format!(
                "('c{i}', 'ch{}', 'v{i}', 'closed', 4, '', {created}, {created})",
                i % 3
            ));
            stats.push(format!(
                "('c{i}', 'ch{}', 'q{}', 'a{}', 'agents', '{outcome}', {created}, {}, {}, {}, {}, \
                 {}, 2, 2, 0, 0, {})",
                i % 3,
                i % 4,
                i % 20,
                created + 900_000,
                or_null(wait),
                or_null(first),
                if answered {
                    or_null(600_000)
                } else {
                    "NULL".into()
                },
                900_000,
                i % 2
            ));
        }
        tx.execute(
            format!(
                "INSERT INTO conversations (id, channel_id, visitor_id, status, last_seq, \
                 last_text, created_at, updated_at) VALUES {}",
                conversations.join(", ")
            )
            .as_str(),
        )
        .await
        .unwrap();
        tx.execute(
            format!(
                "INSERT INTO conversation_stats (conversation_id, channel_id, queue_id, agent_id, \
                 handler, outcome, created_at, closed_at, wait_ms, first_response_ms, handle_ms, \
                 duration_ms, visitor_messages, agent_messages, bot_messages, desk_messages, \
                 transfers) VALUES {}",
                stats.join(", ")
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // What the database's own upkeep does in time: statistics for the planner and, on
    // PostgreSQL, the visibility map its index-only scans need.
    let upkeep = if backend == "SQLite" {
        "ANALYZE"
    } else {
        "VACUUM ANALYZE"
    };
    db.execute(upkeep).await.unwrap();
    println!(
        "reports ({backend}): {CONVERSATIONS} closed conversations over 365 days generated in {:.1} s",
        generating.elapsed().as_secs_f64()
    );
    let year = ReportFilter {
        from_ms: start,
        to_ms: now + DAY_MS,
        ..ReportFilter::default()
    };
    let month = ReportFilter {
        from_ms: now - 30 * DAY_MS,
        ..year.clone()
    };
    let one_agent = ReportFilter {
        agent_id: Some("a7".into()),
        ..year.clone()
    };
    let baseline = best_of_5(|| async {
        let mut db = sqlx::AnyConnection::connect(url).await.unwrap();
        db.execute("SELECT COUNT(*) FROM conversation_stats")
            .await
            .unwrap();
    })
    .await;
    println!(
        "reports ({backend}): baseline, a COUNT(*) of them: {:.1} ms",
        baseline.as_secs_f64() * 1000.0
    );
    // Where the year's time goes, part by part.
    let clock = gateway::reports::clock(
        &jiff::tz::TimeZone::get("Europe/Lisbon").unwrap(),
        year.from_ms,
        year.to_ms,
    );
    let parts = [
        "sums by agent, queue and outcome",
        "days",
        "hours of the week",
        "waits by second",
        "first responses by second",
    ];
    for (n, part) in parts.into_iter().enumerate() {
        let took = best_of_5(|| async {
            match n {
                0 => drop(store.report_groups(&year).await.unwrap()),
                1 => drop(store.report_days(&year, &clock).await.unwrap()),
                2 => drop(store.report_week_hours(&year, &clock).await.unwrap()),
                3 => drop(store.report_seconds(&year, Timed::Wait).await.unwrap()),
                _ => drop(
                    store
                        .report_seconds(&year, Timed::FirstResponse)
                        .await
                        .unwrap(),
                ),
            }
        })
        .await;
        println!(
            "reports ({backend}): the year's {part}: {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
    }
    for (what, filter) in [
        ("the year", &year),
        ("the last 30 days", &month),
        ("one agent's year", &one_agent),
    ] {
        let took = best_of_5(|| async {
            let report = gateway::reports::report(&store, filter, "Europe/Lisbon".into())
                .await
                .expect("the report");
            assert!(report.totals.conversations > 0);
        })
        .await;
        println!(
            "reports ({backend}): {what}: {:.1} ms ({:.1} × the baseline; budget 200 ms)",
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
