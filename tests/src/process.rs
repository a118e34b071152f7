//! A gateway *process* (any build of the binary), for the measurements that need the gateway's
//! own RSS and async workers: the demo channel seeded for `SITE`, every rate limit raised so a
//! load measures the gateway, not refusals, on a temporary SQLite database; killed however the
//! measurement ends.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

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
