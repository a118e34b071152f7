//! A gateway killed with `kill -9` while visitors send loses nothing it acked and stores
//! nothing twice: the real binary on a SQLite file, killed mid-load, then the file read back.
//!
//! The binary is the workspace's own debug build, which `cargo test --workspace` (and so
//! `cargo xtask test`) builds before any test runs.

use protocol::VisitorClientFrame;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tests::process::{open_visitor, GatewayProcess};

const VISITORS: usize = 20;

fn gateway_binary() -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("gateway"))
        .expect("the profile directory");
    assert!(
        binary.exists(),
        "{} is not built: run the tests with `cargo test --workspace` (or `cargo build -p gateway`)",
        binary.display()
    );
    binary.display().to_string()
}

/// (conversation, client_id) → seq, as acked to the visitors.
type Acked = Arc<Mutex<HashMap<(String, String), i64>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_under_load_loses_nothing_it_acked_and_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("db").display());
    let mut gateway =
        GatewayProcess::start(&gateway_binary(), &[("LIVECHAT_DATABASE_URL", &url)]).await;
    let http = reqwest::Client::new();
    let acked: Acked = Arc::default();
    let mut senders = Vec::new();
    for visitor in 0..VISITORS {
        let mut socket = open_visitor(&http, &gateway.base, Duration::from_secs(10))
            .await
            .expect("a visitor's socket");
        let acked = acked.clone();
        senders.push(tokio::spawn(async move {
            // Until the gateway is gone: each message sent once its predecessor is acked.
            for n in 0..1_000_000 {
                let client_id = format!("v{visitor}-{n}");
                socket
                    .send(&VisitorClientFrame::Send {
                        client_id: client_id.clone(),
                        text: "hello".into(),
                        attachments: Vec::new(),
                    })
                    .await;
                loop {
                    let Some(frame) = socket.try_recv(Duration::from_secs(5)).await else {
                        return;
                    };
                    if frame["type"] == "ack" && frame["client_id"] == client_id.as_str() {
                        let conversation = frame["conversation_id"].as_str().unwrap().to_owned();
                        let seq = frame["seq"].as_i64().unwrap();
                        acked.lock().unwrap().insert((conversation, client_id), seq);
                        break;
                    }
                }
            }
        }));
    }
    // Long enough for thousands of acks, and the kill lands in the middle of batches.
    tokio::time::timeout(Duration::from_secs(30), async {
        while acked.lock().unwrap().len() < 2_000 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("messages acked before the kill");
    gateway.kill();
    for sender in senders {
        // A send to the dead gateway may fail the task; what it recorded stays.
        let _ = sender.await;
    }

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT conversation_id, client_id, seq FROM messages")
            .fetch_all(&pool)
            .await
            .unwrap();
    let stored: HashMap<(String, String), i64> = rows
        .iter()
        .map(|(conversation, client_id, seq)| ((conversation.clone(), client_id.clone()), *seq))
        .collect();
    assert_eq!(stored.len(), rows.len(), "no message is stored twice");
    let acked = acked.lock().unwrap().clone();
    let lost: Vec<_> = acked
        .iter()
        .filter(|(key, seq)| stored.get(*key) != Some(*seq))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acked messages lost or renumbered: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let gaps: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c WHERE c.last_seq <> \
         (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(gaps, 0, "every conversation's seqs are gap-free");
    assert!(rows.len() >= acked.len());
}
