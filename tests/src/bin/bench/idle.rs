//! Scenario "idle sockets": N visitor sockets, each with its bootstrap and session, opened by
//! worker processes of at most [`PER_WORKER`] sockets each (a process may hold 20,000 file
//! descriptors here); the server's RSS per socket while they are open and after they closed,
//! the connect rate, and that every socket still answers at the end (a message acked by the
//! gateway, echoed by the baseline). Printed as a table, written to `target/bench/idle.json`.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::client::Socket;
use tests::process::Owned;

use crate::server::{open, Server, ANSWER_WAIT};

/// Sockets one worker process opens (its file descriptors stay under the machine's 20,000).
const PER_WORKER: usize = 15_000;
/// Sockets a worker opens at once.
const CONCURRENT_CONNECTS: usize = 64;

/// Opens `count` sockets through workers; returns the figures.
pub async fn idle(server: Server, count: usize) -> Value {
    let me = std::env::current_exe().expect("this binary");
    let before = server.rss_kib();
    let started = Instant::now();
    let mut workers = Vec::new();
    let mut left = count;
    while left > 0 {
        let share = left.min(PER_WORKER);
        left -= share;
        let child = Command::new(&me)
            .args(["worker", server.kind(), server.base(), &share.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker");
        workers.push(Owned(child));
    }
    let mut lines: Vec<_> = workers
        .iter_mut()
        .map(|w| BufReader::new(w.0.stdout.take().expect("worker stdout")).lines())
        .collect();
    let opened: usize = lines.iter_mut().map(|l| read_count(l, "open")).sum();
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let open_kib = server.rss_kib();
    for worker in &mut workers {
        let stdin = worker.0.stdin.as_mut().expect("worker stdin");
        writeln!(stdin, "check").expect("worker listens");
    }
    // Every socket writes at the same moment: for the gateway, as many visitors' first message
    // (each a new conversation) at once. The latencies are the worst worker's.
    let answers: Vec<Vec<f64>> = lines
        .iter_mut()
        .map(|l| read_figures(l, "answered"))
        .collect();
    let answered: f64 = answers.iter().map(|a| a[0]).sum();
    let worst = |i: usize| answers.iter().map(|a| a[i]).fold(0.0, f64::max);
    drop(lines);
    drop(workers);
    let closed_kib = settled_rss_kib(&server).await;
    let per_socket = |kib: u64| kib.saturating_sub(before) as f64 / count.max(1) as f64;
    json!({
        "opened": opened,
        "answered_at_the_end": answered,
        "first_message_ms_p50": worst(1),
        "first_message_ms_p99": worst(2),
        "first_message_ms_max": worst(3),
        "connects_per_second": opened as f64 / connect_secs,
        "rss_before_kib": before,
        "rss_open_kib": open_kib,
        "rss_after_close_kib": closed_kib,
        "kib_per_socket_open": per_socket(open_kib),
        "kib_per_socket_after_close": per_socket(closed_kib),
    })
}

/// The server's RSS once it stops falling after the sockets closed: the allocator gives freed
/// pages back on a timer of its own (seconds), not at the moment they are freed.
async fn settled_rss_kib(server: &Server) -> u64 {
    let mut lowest = u64::MAX;
    let mut steady = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = server.rss_kib();
        if now < lowest {
            lowest = now;
            steady = 0;
        } else {
            steady += 1;
            if steady == 5 {
                break;
            }
        }
    }
    lowest
}

/// Reads the worker's `WORD N` line.
fn read_count(lines: &mut impl Iterator<Item = std::io::Result<String>>, word: &str) -> usize {
    read_figures(lines, word)[0] as usize
}

/// Reads the worker's `WORD N…` line.
fn read_figures(lines: &mut impl Iterator<Item = std::io::Result<String>>, word: &str) -> Vec<f64> {
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    let figures: Option<Vec<f64>> = line.strip_prefix(word).map(|rest| {
        rest.split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect()
    });
    figures
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| panic!("a worker said {line:?}, not {word} N…"))
}

pub fn print_idle(count: usize, gateway: &Value, baseline: &Value) {
    let ratio = |key: &str| {
        let (g, b) = (
            gateway[key].as_f64().unwrap_or(0.0),
            baseline[key].as_f64().unwrap_or(0.0),
        );
        if b > 0.0 {
            format!("{:.2}×", g / b)
        } else {
            "–".into()
        }
    };
    println!("\nidle visitor sockets: {count}");
    println!(
        "{:<32} {:>12} {:>12} {:>10}",
        "", "gateway", "bare echo", "ratio"
    );
    for (label, key) in [
        ("opened", "opened"),
        ("answered at the end", "answered_at_the_end"),
        ("first message at once, p50 ms", "first_message_ms_p50"),
        ("first message at once, p99 ms", "first_message_ms_p99"),
        ("connects per second", "connects_per_second"),
        ("KiB per socket, open", "kib_per_socket_open"),
        ("KiB per socket, after close", "kib_per_socket_after_close"),
    ] {
        println!(
            "{label:<32} {:>12.1} {:>12.1} {:>10}",
            gateway[key].as_f64().unwrap_or(0.0),
            baseline[key].as_f64().unwrap_or(0.0),
            ratio(key)
        );
    }
    println!("target: 50,000 sockets at ≤ 8 KiB each, within 2× the bare server's memory");
}

/// A worker: opens `count` sockets, says `open N`, and on `check` sends one message on each and
/// says `answered N` (how many got their ack or echo); exits when its stdin closes.
pub async fn worker(kind: &str, base: &str, count: usize) {
    let http = reqwest::Client::new();
    let ws = base.replacen("http", "ws", 1);
    let mut sockets = Vec::with_capacity(count);
    let mut failures = Vec::new();
    let mut left = count;
    while left > 0 {
        let batch = left.min(CONCURRENT_CONNECTS);
        left -= batch;
        let opening = (0..batch).map(|_| open(kind, &http, base, &ws));
        for opened in futures_util::future::join_all(opening).await {
            match opened {
                Ok(socket) => sockets.push(socket),
                Err(why) => failures.push(why),
            }
        }
    }
    failures.sort();
    failures.dedup();
    for why in failures.iter().take(5) {
        eprintln!("a socket did not open: {why}");
    }
    println!("open {}", sockets.len());
    let mut stdin = BufReader::new(std::io::stdin()).lines();
    if stdin.next().and_then(Result::ok).as_deref() == Some("check") {
        let checks = sockets
            .iter_mut()
            .enumerate()
            .map(|(i, s)| answers(kind, s, i));
        let mut times: Vec<Duration> = futures_util::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect();
        times.sort();
        let at = |q: f64| {
            times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
        };
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        println!(
            "answered {} {:.1} {:.1} {:.1}",
            times.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(times.last())
        );
    }
    let _ = std::io::stdout().flush();
    for _ in stdin {}
}

/// How long the socket took to answer (the gateway acks the visitor's first message, the echo
/// server echoes it); None if it did not within [`ANSWER_WAIT`].
async fn answers(kind: &str, socket: &mut Socket, i: usize) -> Option<Duration> {
    let frame = json!({"type": "send", "client_id": format!("end-{i}"), "text": "still there?"});
    let sent = Instant::now();
    socket.send(&frame).await;
    let wanted = if kind == "echo" { "send" } else { "ack" };
    while let Some(frame) = socket
        .try_recv(ANSWER_WAIT.saturating_sub(sent.elapsed()))
        .await
    {
        if frame["type"] == wanted {
            return Some(sent.elapsed());
        }
    }
    None
}

/// The README's rows for one socket count.
pub fn table_rows(count: usize, gateway: &Value, baseline: &Value) -> Vec<String> {
    let f = |v: &Value, key: &str| v[key].as_f64().unwrap_or(0.0);
    let ratio = |key: &str| match f(baseline, key) {
        b if b > 0.0 => format!("{:.1}×", f(gateway, key) / b),
        _ => "–".into(),
    };
    vec![
        format!(
            "| idle visitor sockets ({count}): opened; RSS per socket open / after close | {:.0}; \
             {:.1} / {:.1} KiB | {count}; ≤ 8 KiB, ≤ 2× baseline | {} / {} (baseline {:.1} / {:.1} \
             KiB) |",
            f(gateway, "opened"),
            f(gateway, "kib_per_socket_open"),
            f(gateway, "kib_per_socket_after_close"),
            ratio("kib_per_socket_open"),
            ratio("kib_per_socket_after_close"),
            f(baseline, "kib_per_socket_open"),
            f(baseline, "kib_per_socket_after_close"),
        ),
        format!(
            "| {count} visitors' first message at the same moment, ack p50 / p99 | {:.0} / {:.0} ms \
             | no stall | {} / {} |",
            f(gateway, "first_message_ms_p50"),
            f(gateway, "first_message_ms_p99"),
            ratio("first_message_ms_p50"),
            ratio("first_message_ms_p99"),
        ),
        format!(
            "| sockets opened per second ({count}; bootstrap + session + upgrade) | {:.0} | – | {} |",
            f(gateway, "connects_per_second"),
            ratio("connects_per_second"),
        ),
    ]
}
