//! Scenario "limits and shutdown", on a gateway process capped at N sockets: with N open, one
//! more visitor's upgrade is refused with 503 and `Retry-After` (its session is fine); then the
//! gateway is stopped as a service manager stops it (SIGTERM) and every socket must be told
//! 1001 "going away" (so widgets reconnect elsewhere at once), and the process must exit in
//! moments, not when the last visitor leaves. Written to `target/bench/shutdown.json`.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::client::Socket;
use tests::process::{open_session, open_visitor, GatewayProcess, SITE};
use tokio_tungstenite::tungstenite::Error as WsError;

/// Sockets opened at once.
const CONCURRENT_CONNECTS: usize = 64;
/// How long a socket may wait for its close frame, and the gateway for its exit.
const STOP_WAIT: Duration = Duration::from_secs(15);

pub async fn limits_and_shutdown(binary: &str, count: usize) -> Value {
    let cap = count.to_string();
    let mut gateway = GatewayProcess::start(binary, &[("LIVECHAT_MAX_SOCKETS", &cap)]).await;
    let http = reqwest::Client::new();
    let mut sockets: Vec<Socket> = Vec::with_capacity(count);
    while sockets.len() < count {
        let batch = (count - sockets.len()).min(CONCURRENT_CONNECTS);
        let opening = (0..batch).map(|_| open_visitor(&http, &gateway.base, STOP_WAIT));
        for opened in futures_util::future::join_all(opening).await {
            sockets.push(opened.unwrap_or_else(|why| panic!("socket under the cap: {why}")));
        }
    }

    let token = open_session(&http, &gateway.base)
        .await
        .unwrap_or_else(|why| panic!("a session beyond the cap: {why}"));
    let ws = gateway.base.replacen("http", "ws", 1);
    let url = format!("{ws}/v1/visitor/ws?token={token}");
    let (refusal, retry_after) = match Socket::connect(&url, Some(SITE), None).await {
        Err(WsError::Http(response)) => (
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok()),
        ),
        Ok(_) => (101, None),
        Err(e) => panic!("the upgrade beyond the cap: {e}"),
    };

    let stopped_at = Instant::now();
    let (exited, codes) = tokio::join!(
        gateway.terminate(STOP_WAIT),
        futures_util::future::join_all(sockets.iter_mut().map(|s| s.close_code(STOP_WAIT)))
    );
    let exit_ms = stopped_at.elapsed().as_secs_f64() * 1000.0;
    let going_away = codes.iter().filter(|c| **c == Some(1001)).count();
    json!({
        "sockets": count,
        "beyond_the_cap_status": refusal,
        "beyond_the_cap_retry_after_secs": retry_after,
        "told_going_away": going_away,
        "exited": exited,
        "exit_ms": exit_ms,
    })
}

pub fn print(figures: &Value) {
    let f = |key: &str| figures[key].as_f64().unwrap_or(0.0);
    println!(
        "\nlimits and shutdown: a gateway capped at {:.0} sockets",
        f("sockets")
    );
    println!(
        "one more upgrade: {:.0}, Retry-After {} s (target: 503 with Retry-After)",
        f("beyond_the_cap_status"),
        figures["beyond_the_cap_retry_after_secs"]
    );
    println!(
        "SIGTERM: {:.0} of {:.0} sockets told 1001 \"going away\"; exited: {} in {:.0} ms",
        f("told_going_away"),
        f("sockets"),
        figures["exited"],
        f("exit_ms")
    );
}

/// The README's rows.
pub fn table_rows(figures: &Value) -> Vec<String> {
    let f = |key: &str| figures[key].as_f64().unwrap_or(0.0);
    vec![
        format!(
            "| a gateway capped at {0:.0} sockets, with {0:.0} open: one more upgrade | {1:.0}, \
             `Retry-After: {2}` | 503 with `Retry-After` | – |",
            f("sockets"),
            f("beyond_the_cap_status"),
            figures["beyond_the_cap_retry_after_secs"]
        ),
        format!(
            "| the same gateway stopped (SIGTERM): sockets told 1001 \"going away\"; time to exit \
             | {:.0} of {:.0}; {:.0} ms | all; moments | – |",
            f("told_going_away"),
            f("sockets"),
            f("exit_ms")
        ),
    ]
}
