//! A gateway *process* (any build of the binary), for the measurements that need the gateway's
//! own RSS and async workers: the demo channel seeded for `SITE`, every rate limit raised so a
//! load measures the gateway, not refusals, on a temporary SQLite database; killed however the
//! measurement ends.

use serde_json::{json, Value};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::client::Socket;

/// The origin the demo channel allows.
pub const SITE: &str = "http://site.test";

/// The bearer token the measured gateway's `/metrics` asks for.
pub const METRICS_TOKEN: &str = "bench-metrics-token-0123456789";

/// A child process, killed however the measurement ends.
pub struct Owned(pub Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct GatewayProcess {
    child: Owned,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts `binary` on a free port with `env` added, and waits until it answers.
    pub async fn start(binary: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let unlimited = "100000000";
        let mut command = Command::new(binary);
        // The measured gateway is configured here alone, not by the bench's own `LIVECHAT_*`
        // variables (`LIVECHAT_TEST_POSTGRES` is no field of its config).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("LIVECHAT_") {
                command.env_remove(name);
            }
        }
        let child = command
            .env("LIVECHAT_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "LIVECHAT_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("db").display()),
            )
            .env("LIVECHAT_DEMO", "true")
            .env("LIVECHAT_DEMO_SITE_ORIGIN", SITE)
            .env("LIVECHAT_WIDGET_DIR", dir.path())
            .env("LIVECHAT_CONSOLE_DIR", dir.path())
            .env("LIVECHAT_MAX_SOCKETS", unlimited)
            .env("LIVECHAT_SESSIONS_PER_IP_PER_MINUTE", unlimited)
            .env("LIVECHAT_SESSIONS_PER_CHANNEL_PER_MINUTE", unlimited)
            .env("LIVECHAT_MESSAGES_PER_SESSION_PER_MINUTE", unlimited)
            .env("LIVECHAT_MESSAGES_PER_IP_PER_MINUTE", unlimited)
            .env("LIVECHAT_MESSAGES_PER_CHANNEL_PER_MINUTE", unlimited)
            .env("LIVECHAT_METRICS_TOKEN", METRICS_TOKEN)
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .spawn()
            .expect("start the gateway");
        let process = Self {
            child: Owned(child),
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        wait_until_up(&process.base, "the gateway").await;
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Stops the gateway as a service manager does (SIGTERM) and waits until it exits (at most
    /// `within`); whether it did.
    pub async fn terminate(&mut self, within: Duration) -> bool {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        if !sent.is_ok_and(|s| s.success()) {
            return false;
        }
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.0.try_wait() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// Kills the gateway as `kill -9` does: no shutdown, no flush, nothing it could finish.
    pub fn kill(&mut self) {
        self.child.0.kill().expect("kill the gateway");
        let _ = self.child.0.wait();
    }
}

/// Tries of a request refused with 429 before the socket counts as failed.
const RATE_LIMIT_RETRIES: usize = 20;

/// Opens a visitor's socket on the demo channel of the gateway at `base` as the widget does
/// (bootstrap, session, upgrade, the ready frame within `wait`), or says at which step and why
/// it failed.
pub async fn open_visitor(
    http: &reqwest::Client,
    base: &str,
    wait: Duration,
) -> Result<Socket, String> {
    let token = open_session(http, base).await?;
    let ws = base.replacen("http", "ws", 1);
    let mut socket = Socket::connect(
        &format!("{ws}/v1/visitor/ws?token={token}"),
        Some(SITE),
        None,
    )
    .await
    .map_err(|e| format!("upgrade: {e}"))?;
    socket
        .try_recv(wait)
        .await
        .ok_or_else(|| "no ready frame".to_owned())?;
    Ok(socket)
}

/// A visitor's chat session on the demo channel (bootstrap, then session), as the widget opens
/// it: the session token.
pub async fn open_session(http: &reqwest::Client, base: &str) -> Result<String, String> {
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
    Ok(session["session_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits (at most a minute) until `base` answers `/healthz`.
pub async fn wait_until_up(base: &str, what: &str) {
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
