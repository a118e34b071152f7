//! The servers the bench measures, and a visitor socket opened as the widget opens one.

use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;
use tests::client::Socket;
use tests::process::{free_port, wait_until_up, GatewayProcess, Owned, SITE};

/// A server under test: the gateway, or the bare echo server.
pub enum Server {
    Gateway(GatewayProcess),
    Echo(Owned, String),
}

impl Server {
    pub async fn echo(binary: &str) -> Self {
        let base = format!("http://127.0.0.1:{}", free_port());
        let child = Command::new(binary)
            .arg(base.trim_start_matches("http://"))
            .spawn()
            .expect("start the echo server");
        let server = Self::Echo(Owned(child), base);
        wait_until_up(server.base(), "the echo server").await;
        server
    }

    pub async fn gateway(binary: &str, env: &[(&str, &str)]) -> Self {
        Self::Gateway(GatewayProcess::start(binary, env).await)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Gateway(_) => "gateway",
            Self::Echo(..) => "echo",
        }
    }

    pub fn base(&self) -> &str {
        match self {
            Self::Gateway(gateway) => &gateway.base,
            Self::Echo(_, base) => base,
        }
    }

    pub fn rss_kib(&self) -> u64 {
        let pid = match self {
            Self::Gateway(gateway) => gateway.pid(),
            Self::Echo(child, _) => child.0.id(),
        };
        tests::rss_kib(Some(pid))
    }
}

/// Opens one socket as a widget would, or says at which step and why it failed.
pub async fn open(
    kind: &str,
    http: &reqwest::Client,
    base: &str,
    ws: &str,
) -> Result<Socket, String> {
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
pub const ANSWER_WAIT: Duration = Duration::from_secs(60);
