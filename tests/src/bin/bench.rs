//! `cargo xtask bench` runs this: a load generator in its own processes, speaking only the
//! public protocol to a gateway *process* (the release binary) and, under the same load, to a
//! bare WebSocket echo server (`echo`), the baseline every figure is also given as a ratio to.
//! 127.0.0.1 only; every loop is bounded.
//!
//! Scenario "idle sockets": N visitor sockets, each with its bootstrap and session, opened by
//! worker processes of at most [`PER_WORKER`] sockets each (a process may hold 20,000 file
//! descriptors here); the server's RSS per socket while they are open and after they closed,
//! the connect rate, and that every socket still answers at the end (a message acked by the
//! gateway, echoed by the baseline). Printed as a table, written to `target/bench/idle.json`.
//!
//! `bench GATEWAY_BINARY ECHO_BINARY [SOCKETS...]` (default 10,000);
//! `bench worker gateway|echo BASE_URL COUNT` is a worker (spawned by the bench itself).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::client::Socket;
use tests::process::{free_port, wait_until_up, GatewayProcess, Owned, SITE};

/// Sockets one worker process opens (its file descriptors stay under the machine's 20,000).
const PER_WORKER: usize = 15_000;
/// Sockets a worker opens at once.
const CONCURRENT_CONNECTS: usize = 64;

fn main() {
    raise_file_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    if args.first().map(String::as_str) == Some("worker") {
        let count = args[3].parse().expect("a socket count");
        return runtime.block_on(worker(&args[1], &args[2], count));
    }
    let gateway = args.first().expect("the gateway binary");
    let echo = args.get(1).expect("the echo binary");
    let counts: Vec<usize> = match args.get(2..) {
        Some(rest) if !rest.is_empty() => {
            rest.iter().map(|n| n.parse().expect("a count")).collect()
        }
        _ => vec![10_000],
    };
    let mut results = Vec::new();
    for count in counts {
        let baseline = runtime.block_on(async { idle(Server::echo(echo).await, count).await });
        let measured =
            runtime.block_on(async { idle(Server::gateway(gateway).await, count).await });
        print_idle(count, &measured, &baseline);
        results.push(json!({"sockets": count, "gateway": measured, "baseline": baseline}));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("idle.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).expect("idle.json");
    println!("written to {}", path.display());
}

/// A server under test: the gateway, or the bare echo server.
enum Server {
    Gateway(GatewayProcess),
    Echo(Owned, String),
}

impl Server {
    async fn echo(binary: &str) -> Self {
        let base = format!("http://127.0.0.1:{}", free_port());
        let child = Command::new(binary)
            .arg(base.trim_start_matches("http://"))
            .spawn()
            .expect("start the echo server");
        let server = Self::Echo(Owned(child), base);
        wait_until_up(server.base(), "the echo server").await;
        server
    }

    async fn gateway(binary: &str) -> Self {
        Self::Gateway(GatewayProcess::start(binary, &[]).await)
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Gateway(_) => "gateway",
            Self::Echo(..) => "echo",
        }
    }

    fn base(&self) -> &str {
        match self {
            Self::Gateway(gateway) => &gateway.base,
            Self::Echo(_, base) => base,
        }
    }

    fn rss_kib(&self) -> u64 {
        let pid = match self {
            Self::Gateway(gateway) => gateway.pid(),
            Self::Echo(child, _) => child.0.id(),
        };
        tests::rss_kib(Some(pid))
    }
}

/// Opens `count` sockets through workers; returns the figures.
async fn idle(server: Server, count: usize) -> Value {
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

fn print_idle(count: usize, gateway: &Value, baseline: &Value) {
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
async fn worker(kind: &str, base: &str, count: usize) {
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

/// Opens one socket as a widget would, or says at which step and why it failed.
async fn open(kind: &str, http: &reqwest::Client, base: &str, ws: &str) -> Result<Socket, String> {
    if kind == "echo" {
        return Socket::connect(&format!("{ws}/ws"), None, None)
            .await
            .map_err(|e| format!("upgrade: {e}"));
    }
    // Every worker's visitors share one IP, whose burst of sessions is small on purpose (real
    // visitors come from as many IPs): a refusal is retried a little later, as the widget does.
    let from_site = |step: &'static str, request: reqwest::RequestBuilder| async move {
        for _ in 0..RATE_LIMIT_RETRIES {
            let response = request
                .try_clone()
                .expect("a plain request")
                .header("origin", SITE)
                .send()
                .await
                .map_err(|e| format!("{step}: {e}"))?;
            let status = response.status();
            let body: Value = response.json().await.map_err(|e| format!("{step}: {e}"))?;
            match status {
                s if s.is_success() => return Ok(body),
                reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ => return Err(format!("{step}: {status} {}", body["error"]["code"])),
            }
        }
        Err(format!("{step}: still rate-limited"))
    };
    let boot = from_site("bootstrap", http.get(format!("{base}/v1/widget/demo"))).await?;
    let session = from_site(
        "session",
        http.post(format!("{base}/v1/sessions"))
            .json(&json!({"channel_key": "demo", "visit_ticket": boot["visit_ticket"]})),
    )
    .await?;
    let token = session["session_token"].as_str().unwrap_or_default();
    let mut socket = Socket::connect(
        &format!("{ws}/v1/visitor/ws?token={token}"),
        Some(SITE),
        None,
    )
    .await
    .map_err(|e| format!("upgrade: {e}"))?;
    socket
        .try_recv(ANSWER_WAIT)
        .await
        .ok_or_else(|| "no ready frame".to_owned())?;
    Ok(socket)
}

/// Tries of a request refused with 429 before the socket counts as failed.
const RATE_LIMIT_RETRIES: usize = 20;

/// How long a socket's answer may take before it counts as not answered.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

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

/// Lets this process (and the servers and workers it starts) hold as many sockets as the
/// machine allows.
fn raise_file_limit() {
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
}
