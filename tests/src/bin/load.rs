//! `cargo xtask bench`: a load generator against a real gateway on 127.0.0.1 (in this process,
//! on a temporary SQLite database). Visitors write through their sockets, each waiting for the
//! ack of a message before sending the next; one agent console receives every inbox update.
//! Measured: messages per second, and the latency from a visitor's send to the agent seeing it
//! (p50, p99). The same load runs without webhooks (the baseline) and with a webhook endpoint
//! receiving every event, and the figures are printed with their ratio to the baseline.

use protocol::AgentServerFrame;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::client::{agent_login, agent_socket, call, Visitor};
use tests::receiver::Receiver;
use tests::{TestGateway, SITE_ORIGIN};

const VISITORS: usize = 40;
const MESSAGES_EACH: usize = 50;

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    deliveries: usize,
}

/// Runs the load once; with `webhook_events`, registers an endpoint for them first (empty:
/// every event).
async fn run(webhook_events: Option<&[&str]>) -> Figures {
    let gw = TestGateway::spawn_with(|c| {
        c.webhooks_allow_private = true;
        c.sessions_per_ip_per_minute = 100_000;
        c.sessions_per_channel_per_minute = 100_000;
        c.messages_per_session_per_minute = 100_000;
        c.messages_per_ip_per_minute = 1_000_000;
        c.messages_per_channel_per_minute = 1_000_000;
    })
    .await;
    let receiver = Receiver::start().await;
    if let Some(events) = webhook_events {
        let channel = gw.demo_channel().await;
        let created = call(
            &gw,
            &channel.secret,
            reqwest::Method::POST,
            &format!("/v1/channels/{}/webhooks", channel.id),
            Some(json!({"url": receiver.url(), "events": events})),
        )
        .await;
        receiver.set_secret(created.body["secret"].as_str().expect("endpoint created"));
    }
    let token = agent_login(&gw).await;
    let mut console = agent_socket(&gw, &token).await;
    console
        .recv_until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Inbox { .. }))
        .await;
    let mut sockets = Vec::new();
    for _ in 0..VISITORS {
        let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
        sockets.push(visitor.connect(&gw, None).await);
    }

    // Each message's text names it; the console records when it saw each.
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = VISITORS * MESSAGES_EACH;
    let watcher = tokio::spawn(async move {
        let mut seen = HashMap::new();
        while seen.len() < total {
            if let AgentServerFrame::Conversation { conversation } = console.recv().await {
                seen.entry(conversation.last_text)
                    .or_insert_with(Instant::now);
            }
        }
        seen
    });
    let started = Instant::now();
    let writers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(v, mut socket)| {
            let sent_at = sent_at.clone();
            tokio::spawn(async move {
                for m in 0..MESSAGES_EACH {
                    let text = format!("v{v} m{m}");
                    sent_at.lock().unwrap().insert(text.clone(), Instant::now());
                    socket.say(&format!("c{m}"), &text).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let elapsed = started.elapsed();
    let seen = watcher.await.expect("watcher");
    let mut latencies: Vec<Duration> = {
        let sent_at = sent_at.lock().unwrap();
        seen.iter()
            .filter_map(|(text, at)| Some(at.saturating_duration_since(*sent_at.get(text)?)))
            .collect()
    };
    latencies.sort();
    let deliveries = if webhook_events == Some(&[]) {
        // Every message is a message.created, and every visitor's first a conversation.created.
        receiver
            .wait_for(total + VISITORS, Duration::from_secs(120))
            .await
            .len()
    } else {
        0
    };
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Figures {
        per_second: total as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        deliveries,
    }
}

/// Rounds of the three configurations, interleaved so a slow moment of the machine does not
/// fall on one configuration only; each figure is the median over the rounds.
const ROUNDS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    println!(
        "load: {VISITORS} visitors x {MESSAGES_EACH} messages, each sent after the previous ack, \
         one agent console; gateway and load in one process on this machine; \
         medians of {ROUNDS} interleaved rounds"
    );
    // A first run warms the process (allocator, connection pools) and is not reported.
    run(None).await;
    let configurations: [(&str, Option<&[&str]>); 3] = [
        ("baseline (no webhook)", None),
        // An endpoint that wants none of these events: the cost of checking, nothing sent.
        ("a webhook for closes only", Some(&["conversation.closed"])),
        ("a webhook on every event", Some(&[])),
    ];
    let mut figures: Vec<Vec<Figures>> = configurations.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (i, (_, events)) in configurations.iter().enumerate() {
            figures[i].push(run(*events).await);
        }
    }
    let summary: Vec<(f64, f64, f64, usize)> = figures
        .iter()
        .map(|runs| {
            (
                median(runs.iter().map(|f| f.per_second).collect()),
                median(runs.iter().map(|f| f.p50.as_secs_f64() * 1000.0).collect()),
                median(runs.iter().map(|f| f.p99.as_secs_f64() * 1000.0).collect()),
                runs.iter().map(|f| f.deliveries).max().unwrap_or(0),
            )
        })
        .collect();
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>11} {:>17}",
        "", "msg/s", "p50 ms", "p99 ms", "deliveries", "ratio msg/s p50 p99"
    );
    let (base_rate, base_p50, base_p99, _) = summary[0];
    for ((name, _), (rate, p50, p99, deliveries)) in configurations.iter().zip(&summary) {
        println!(
            "{name:<30} {rate:>9.0} {p50:>9.2} {p99:>9.2} {deliveries:>11} {:>5.2}x {:>4.2}x {:>4.2}x",
            rate / base_rate,
            p50 / base_p50,
            p99 / base_p99
        );
    }
}
