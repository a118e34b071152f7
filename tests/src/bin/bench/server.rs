//! The servers the bench measures, and a visitor socket opened as the widget opens one.

use std::process::Command;
use std::time::Duration;
use tests::client::Socket;
use tests::process::{free_port, open_visitor, wait_until_up, GatewayProcess, Owned};

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
        tests::rss_kib(Some(self.pid()))
    }

    /// Reads the server's RSS (KiB) from anywhere, a sampling task's loop for one.
    pub fn rss_reader(&self) -> impl Fn() -> u64 + Send + 'static {
        let pid = self.pid();
        move || tests::rss_kib(Some(pid))
    }

    fn pid(&self) -> u32 {
        match self {
            Self::Gateway(gateway) => gateway.pid(),
            Self::Echo(child, _) => child.0.id(),
        }
    }
}

/// Opens one socket as a widget would (the echo server: a bare upgrade), or says at which step
/// and why it failed.
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
    open_visitor(http, base, ANSWER_WAIT).await
}

/// How long a socket's answer may take before it counts as not answered.
pub const ANSWER_WAIT: Duration = Duration::from_secs(60);
