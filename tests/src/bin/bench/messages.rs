//! Scenario "open-loop messages": [`VISITORS`] visitor sockets (and, on a gateway, one agent
//! console) carry a fixed offered rate of durable messages for [`SECONDS`]. Message `k` is due
//! at `start + k / rate` and its latencies are measured from that moment, not from when it
//! was actually written: a server that falls behind delays the sends after it, and that delay
//! is counted (coordinated omission accounted for). Ack latency at the visitor, and for a
//! gateway the latency until the agent's console shows the message; p50, p99, p99.9 from
//! HdrHistograms. The gateway's own `/metrics` say where its time went: its time from reading a
//! frame to its ack, the store's commits and how many appends each carried.

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::time::Duration;
use tests::client::{Connection, Socket};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::server::{open, Server};

/// Visitors the load is spread over (each writes `rate / VISITORS` messages a second).
const VISITORS: usize = 200;
/// How long each rate is offered.
const SECONDS: f64 = 5.0;
/// How long, after the last message is due, its answers may still come.
const DRAIN: Duration = Duration::from_secs(30);
/// The latency a rate is "held" at.
const HELD_P99_MS: f64 = 10.0;

type Halves = (
    futures_util::stream::SplitSink<Connection, Message>,
    futures_util::stream::SplitStream<Connection>,
);
type AgentStream = futures_util::stream::SplitStream<Connection>;

/// Offers each of `rates` in turn to `server`, the agent console on `agent_base` (another
/// gateway's, or the same one's); returns one figure set per rate.
pub async fn offered_rates(server: &Server, agent_base: Option<&str>, rates: &[u32]) -> Value {
    let http = reqwest::Client::new();
    let base = server.base();
    let ws = base.replacen("http", "ws", 1);
    let mut visitors = Vec::with_capacity(VISITORS);
    for _ in 0..VISITORS {
        let mut socket = open(server.kind(), &http, base, &ws)
            .await
            .unwrap_or_else(|why| panic!("a visitor socket: {why}"));
        if server.kind() == "gateway" {
            // The first message opens the conversation; that cost is the idle scenario's.
            socket
                .send(&json!({"type": "send", "client_id": "warm", "text": "hello"}))
                .await;
            while socket.recv::<Value>().await["type"] != "ack" {}
        }
        visitors.push(socket.split());
    }
    let mut agent = match agent_base {
        Some(agent_base) => Some(agent_console(&http, agent_base).await),
        None => None,
    };
    let mut figures = Vec::new();
    for &rate in rates {
        let before = Metrics::scrape(&http, base).await;
        let (returned, mut measured) = offer(visitors, agent.as_mut(), server.kind(), rate).await;
        visitors = returned;
        let after = Metrics::scrape(&http, base).await;
        measured["server"] = after.since(&before);
        figures.push(measured);
    }
    Value::Array(figures)
}

/// Messages at `rate` a second for [`SECONDS`], spread round-robin over the visitors.
async fn offer(
    visitors: Vec<Halves>,
    agent: Option<&mut AgentStream>,
    kind: &'static str,
    rate: u32,
) -> (Vec<Halves>, Value) {
    let total = (f64::from(rate) * SECONDS) as usize;
    let prefix = format!("r{rate}-");
    // Sockets open and tasks spawned before the clock starts.
    let start = Instant::now() + Duration::from_millis(200);
    let due = move |k: usize| start + Duration::from_secs_f64(k as f64 / f64::from(rate));
    let deadline = due(total) + DRAIN;
    let count = visitors.len();
    let tasks: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(v, (mut sink, mut stream))| {
            let prefix = prefix.clone();
            let writer = tokio::spawn({
                let prefix = prefix.clone();
                async move {
                    for k in (v..total).step_by(count) {
                        tokio::time::sleep_until(due(k)).await;
                        let frame = format!(
                            r#"{{"type":"send","client_id":"{prefix}{k}","text":"{prefix}{k}"}}"#
                        );
                        if sink.send(Message::Text(frame.into())).await.is_err() {
                            break;
                        }
                    }
                    sink
                }
            });
            let reader = tokio::spawn(async move {
                let expected = (v..total).step_by(count).len();
                let wanted = if kind == "echo" { "send" } else { "ack" };
                let mut acks = histogram();
                let mut refused = 0;
                let mut refusal = None;
                while (acks.len() as usize) + refused < expected {
                    let Ok(Some(Ok(frame))) =
                        tokio::time::timeout_at(deadline, stream.next()).await
                    else {
                        break;
                    };
                    let Message::Text(text) = frame else { continue };
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    let answered = frame["client_id"]
                        .as_str()
                        .and_then(|id| index(id, &prefix));
                    match (frame["type"].as_str(), answered) {
                        (Some(t), Some(k)) if t == wanted => record(&mut acks, due(k)),
                        (Some("error"), Some(_)) => {
                            refused += 1;
                            refusal.get_or_insert_with(|| frame["code"].to_string());
                        }
                        _ => {}
                    }
                }
                (stream, acks, refused, refusal)
            });
            (writer, reader)
        })
        .collect();
    let watching = agent.map(|agent| {
        let prefix = prefix.clone();
        async move {
            let mut seen = vec![false; total];
            let mut shown = histogram();
            while (shown.len() as usize) < total {
                let Ok(Some(Ok(Message::Text(text)))) =
                    tokio::time::timeout_at(deadline, agent.next()).await
                else {
                    break;
                };
                let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let text = frame["conversation"]["last_text"]
                    .as_str()
                    .or(frame["message"]["text"].as_str());
                if let Some(k) = text.and_then(|t| index(t, &prefix)).filter(|&k| k < total) {
                    if !std::mem::replace(&mut seen[k], true) {
                        record(&mut shown, due(k));
                    }
                }
            }
            shown
        }
    });
    let shown = match watching {
        Some(watching) => Some(watching.await),
        None => None,
    };
    let mut acks = histogram();
    let mut refused = 0;
    let mut refusal = None;
    let mut returned = Vec::with_capacity(count);
    for (writer, reader) in tasks {
        let sink = writer.await.expect("a writer");
        let (stream, answered, refusals, why) = reader.await.expect("a reader");
        acks.add(&answered).expect("same bounds");
        refused += refusals;
        refusal = refusal.or(why);
        returned.push((sink, stream));
    }
    let figures = json!({
        "offered_per_second": rate,
        "sent": total,
        "acked": acks.len(),
        "refused": refused,
        "a_refusal": refusal,
        "ack_ms": percentiles(&acks),
        "agent_saw": shown.as_ref().map(Histogram::len),
        "agent_ms": shown.as_ref().map(percentiles),
    });
    (returned, figures)
}

/// An agent console, logged in as the demo agent, past its first inbox.
async fn agent_console(http: &reqwest::Client, base: &str) -> AgentStream {
    let login: Value = http
        .post(format!("{base}/v1/agent/login"))
        .json(&json!({
            "email": gateway::demo::AGENT_EMAIL,
            "password": gateway::demo::AGENT_PASSWORD,
        }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the demo agent logs in")
        .json()
        .await
        .expect("a login answer");
    let ws = base.replacen("http", "ws", 1);
    let mut socket = Socket::connect(&format!("{ws}/v1/agent/ws"), None, login["token"].as_str())
        .await
        .expect("the agent socket");
    while socket.recv::<Value>().await["type"] != "inbox" {}
    socket.split().1
}

/// Microseconds, from 1 µs to a minute, at 3 significant figures.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Records the time since `due`, clamped to the histogram's range.
fn record(histogram: &mut Histogram<u64>, due: Instant) {
    let micros = Instant::now().saturating_duration_since(due).as_micros();
    histogram.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
}

/// The message number in one of this load's client ids or texts.
fn index(id: &str, prefix: &str) -> Option<usize> {
    id.strip_prefix(prefix)?.parse().ok()
}

fn percentiles(histogram: &Histogram<u64>) -> Value {
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    json!({"p50": ms(0.5), "p99": ms(0.99), "p99_9": ms(0.999), "max": histogram.max() as f64 / 1000.0})
}

/// The few sums and counts of the gateway's `/metrics` that say where a message's time went.
struct Metrics(std::collections::HashMap<String, f64>);

impl Metrics {
    const NAMES: [&'static str; 8] = [
        "livechat_store_batch_statements_seconds_sum",
        "livechat_store_batch_statements_seconds_count",
        "livechat_ack_seconds_sum",
        "livechat_ack_seconds_count",
        "livechat_store_commit_seconds_sum",
        "livechat_store_commit_seconds_count",
        "livechat_store_commit_batch_size_sum",
        "livechat_store_commit_batch_size_count",
    ];

    /// The gateway's figures now; none for the echo server, which has no `/metrics`.
    async fn scrape(http: &reqwest::Client, base: &str) -> Self {
        let page = match http
            .get(format!("{base}/metrics"))
            .bearer_auth(tests::process::METRICS_TOKEN)
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => {
                response.text().await.unwrap_or_default()
            }
            _ => String::new(),
        };
        Self(
            page.lines()
                .filter_map(|line| line.split_once(' '))
                .filter(|(name, _)| Self::NAMES.contains(name))
                .filter_map(|(name, value)| Some((name.to_owned(), value.trim().parse().ok()?)))
                .collect(),
        )
    }

    /// What happened between `before` and now: the gateway's mean time from reading a message
    /// to its ack being ready (the store's append, its commit wait included), the commits, and
    /// their mean time and size.
    fn since(&self, before: &Self) -> Value {
        let delta = |name: &str| {
            self.0.get(name).copied().unwrap_or(0.0) - before.0.get(name).copied().unwrap_or(0.0)
        };
        let mean = |sum: &str, count: &str| {
            let n = delta(count);
            (n > 0.0).then(|| delta(sum) / n)
        };
        json!({
            "read_to_ack_ms_mean": mean("livechat_ack_seconds_sum", "livechat_ack_seconds_count")
                .map(|s| s * 1000.0),
            "commits": delta("livechat_store_commit_seconds_count"),
            "commit_ms_mean": mean(
                "livechat_store_commit_seconds_sum",
                "livechat_store_commit_seconds_count"
            )
            .map(|s| s * 1000.0),
            "batch_statements_ms_mean": mean(
                "livechat_store_batch_statements_seconds_sum",
                "livechat_store_batch_statements_seconds_count"
            )
            .map(|s| s * 1000.0),
            "appends_per_commit": mean(
                "livechat_store_commit_batch_size_sum",
                "livechat_store_commit_batch_size_count"
            ),
        })
    }
}

/// The highest offered rate every message of which was acked with p99 ≤ [`HELD_P99_MS`].
pub fn highest_held(runs: &Value) -> f64 {
    runs.as_array()
        .into_iter()
        .flatten()
        .filter(|run| {
            run["acked"] == run["sent"]
                && run["ack_ms"]["p99"]
                    .as_f64()
                    .is_some_and(|p| p <= HELD_P99_MS)
        })
        .filter_map(|run| run["offered_per_second"].as_f64())
        .fold(0.0, f64::max)
}

/// One table per server: each rate's figures, and the ratio of its ack p99 to the baseline's.
pub fn print(label: &str, runs: &Value, baseline: &Value) {
    println!("\nopen-loop messages, {VISITORS} visitors, {SECONDS} s per rate: {label}");
    println!(
        "{:>8} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "msg/s",
        "acked",
        "of",
        "ack p50",
        "ack p99",
        "p99.9",
        "p99/base",
        "agent50",
        "agent99",
        "read→ack",
        "batch:",
        "stmts",
        "commit"
    );
    println!(
        "{:>8} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "", "", "", "ms", "ms", "ms", "", "ms", "ms", "mean ms", "appends", "ms", "ms"
    );
    let runs = runs.as_array().cloned().unwrap_or_default();
    let base = baseline.as_array().cloned().unwrap_or_default();
    for run in &runs {
        let f = |v: &Value| v.as_f64().map_or("–".to_owned(), |x| format!("{x:.2}"));
        let base_p99 = base
            .iter()
            .find(|b| b["offered_per_second"] == run["offered_per_second"])
            .and_then(|b| b["ack_ms"]["p99"].as_f64());
        let ratio = match (run["ack_ms"]["p99"].as_f64(), base_p99) {
            (Some(p), Some(b)) if b > 0.0 => format!("{:.2}×", p / b),
            _ => "–".into(),
        };
        println!(
            "{:>8} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8}",
            run["offered_per_second"].to_string(),
            run["acked"].to_string(),
            run["sent"].to_string(),
            f(&run["ack_ms"]["p50"]),
            f(&run["ack_ms"]["p99"]),
            f(&run["ack_ms"]["p99_9"]),
            ratio,
            f(&run["agent_ms"]["p50"]),
            f(&run["agent_ms"]["p99"]),
            f(&run["server"]["read_to_ack_ms_mean"]),
            f(&run["server"]["appends_per_commit"]),
            f(&run["server"]["batch_statements_ms_mean"]),
            f(&run["server"]["commit_ms_mean"]),
        );
        if let Some(code) = run["a_refusal"].as_str() {
            println!("         {} refused, for example: {code}", run["refused"]);
        }
    }
    let held = highest_held(&Value::Array(runs));
    let base_held = highest_held(baseline);
    println!(
        "highest rate held at ack p99 ≤ {HELD_P99_MS} ms: {held} msg/s ({} of the bare server's \
         {base_held}); target: 5,000 durable msg/s on SQLite, ≥ 70 % of the bare server",
        if base_held > 0.0 {
            format!("{:.0} %", held / base_held * 100.0)
        } else {
            "–".into()
        }
    );
}

/// The README's rows: per set-up, the highest rate held, and the ack p99 at every rate.
pub fn table_rows(results: &Value) -> Vec<String> {
    let setups = results.as_array().cloned().unwrap_or_default();
    let Some(baseline) = setups.first() else {
        return Vec::new();
    };
    let base_held = highest_held(&baseline["runs"]);
    let mut rows = Vec::new();
    for setup in &setups {
        let runs = &setup["runs"];
        let held = highest_held(runs);
        let name = setup["setup"].as_str().unwrap_or_default();
        rows.push(format!(
            "| open loop, {name}: highest durable rate held at ack p99 ≤ {HELD_P99_MS} ms | {held} \
             msg/s | 5,000 msg/s on SQLite; ≥ 70 % of baseline | {:.0} % |",
            held / base_held.max(1.0) * 100.0
        ));
        let at_rates: Vec<String> = runs
            .as_array()
            .into_iter()
            .flatten()
            .map(|run| {
                let lost = run["sent"].as_u64().unwrap_or(0) - run["acked"].as_u64().unwrap_or(0);
                format!(
                    "{}: {:.1}{}",
                    run["offered_per_second"],
                    run["ack_ms"]["p99"].as_f64().unwrap_or(0.0),
                    if lost > 0 {
                        format!(" ({lost} not acked)")
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        rows.push(format!(
            "| open loop, {name}: ack p99 ms by offered msg/s | {} | ≤ 10 ms | – |",
            at_rates.join("; ")
        ));
    }
    rows
}
