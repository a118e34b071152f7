//! Figures of the hardening work, measured on a gateway *process* (its own RSS, its own async
//! workers), so the same client can measure any build of the gateway binary:
//!
//! - hub memory per idle visitor socket: the gateway's RSS growth over 1,000 idle visitor
//!   sockets, and what is left after they close;
//! - login p99 under 50 parallel wrong passwords, and a visitor's ack p99 meanwhile.
//!
//! `hardening_figures PATH_TO_GATEWAY [--login-limits]` (the flag raises the login limits of a
//! gateway that has them, so the storm measures CPU, not refusals). 127.0.0.1 only; bounded.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::client::Socket;
use tests::process::{GatewayProcess, SITE};

const IDLE_SOCKETS: usize = 1000;
const STORM: usize = 50;
const STORM_ROUNDS: usize = 4;

fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples
        .get((samples.len() * 99 / 100).min(samples.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// The JSON body of a request sent from a page of the demo site.
async fn json_from_site(request: reqwest::RequestBuilder) -> Value {
    let answer = request.header("origin", SITE).send().await.unwrap();
    answer.json().await.unwrap()
}

async fn visitor_socket(http: &reqwest::Client, base: &str, ws: &str) -> Socket {
    let boot = json_from_site(http.get(format!("{base}/v1/widget/demo"))).await;
    let session = json_from_site(
        http.post(format!("{base}/v1/sessions"))
            .json(&json!({"channel_key": "demo", "visit_ticket": boot["visit_ticket"]})),
    )
    .await;
    let token = session["session_token"].as_str().expect("a session");
    let mut socket = Socket::connect(
        &format!("{ws}/v1/visitor/ws?token={token}"),
        Some(SITE),
        None,
    )
    .await
    .unwrap();
    socket.recv::<Value>().await;
    socket
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = args.get(1).expect("the gateway binary to measure");
    let login_limits = args.iter().any(|a| a == "--login-limits");
    let raised = "1000000";
    let login_env: &[(&str, &str)] = if login_limits {
        &[
            ("LIVECHAT_LOGINS_PER_IP_PER_MINUTE", raised),
            ("LIVECHAT_LOGINS_PER_ACCOUNT_PER_MINUTE", raised),
        ]
    } else {
        &[]
    };
    let gateway = GatewayProcess::start(binary, login_env).await;
    let pid = gateway.pid();
    let base = gateway.base.clone();
    let ws = base.replacen("http", "ws", 1);
    let http = reqwest::Client::new();

    // Warm up allocator and caches, then measure idle sockets.
    drop(futures_util::future::join_all((0..100).map(|_| visitor_socket(&http, &base, &ws))).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = tests::rss_kib(Some(pid));
    let mut rounds = Vec::new();
    for _ in 0..2 {
        let mut idle = Vec::new();
        for _ in 0..IDLE_SOCKETS / 50 {
            idle.extend(
                futures_util::future::join_all((0..50).map(|_| visitor_socket(&http, &base, &ws)))
                    .await,
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let open = tests::rss_kib(Some(pid));
        drop(idle);
        tokio::time::sleep(Duration::from_secs(2)).await;
        rounds.push((open, tests::rss_kib(Some(pid))));
    }
    let per_socket = |kib: u64| kib as f64 / IDLE_SOCKETS as f64;
    let ((open, closed), (_, closed_again)) = (rounds[0], rounds[1]);
    // The allocator keeps freed pages for reuse: a leak shows as growth in the second round.
    println!(
        "idle visitor sockets: {:.1} KiB each while open; after closing, {:.1} KiB each kept by \
         the allocator, and {:.1} KiB each more after a second 1,000 came and went",
        per_socket(open.saturating_sub(before)),
        per_socket(closed.saturating_sub(before)),
        per_socket(closed_again.saturating_sub(closed)),
    );

    // A visitor chatting while 50 wrong passwords arrive at once, four times over.
    let mut chat = visitor_socket(&http, &base, &ws).await;
    let storming = std::sync::atomic::AtomicBool::new(true);
    let storm = async {
        let mut logins = Vec::new();
        for _ in 0..STORM_ROUNDS {
            let round = (0..STORM).map(|_| {
                let http = http.clone();
                let url = format!("{base}/v1/agent/login");
                async move {
                    let at = Instant::now();
                    let answer = http
                        .post(url)
                        .json(&json!({"email": gateway::demo::AGENT_EMAIL, "password": "wrong"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
                    at.elapsed()
                }
            });
            logins.extend(futures_util::future::join_all(round).await);
        }
        storming.store(false, std::sync::atomic::Ordering::Relaxed);
        logins
    };
    let chatting = async {
        let mut acks = Vec::new();
        for i in 0.. {
            if !storming.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let at = Instant::now();
            chat.say(&format!("m{i}"), "are you there?").await;
            acks.push(at.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        acks
    };
    // The chat runs for as long as the storm does.
    let (logins, acks) = tokio::join!(storm, chatting);
    println!(
        "{} wrong-password logins, 50 at once: p99 {:?}; a visitor's ack meanwhile: p99 {:?} ({} messages)",
        logins.len(),
        p99(logins),
        p99(acks.clone()),
        acks.len()
    );
}
