//! The harness for the end-to-end tests in `tests/tests/`: a real gateway on port 0 with a
//! temporary SQLite database ([`TestGateway`]), socket and HTTP clients that speak to it as the
//! widget and the console do ([`client`]), and a small WebDriver client for headless Chromium
//! ([`browser`]), a local captcha provider ([`provider`]) and a webhook receiver ([`receiver`]).
//!
//! Run everything with `cargo xtask test`, which builds the widget first.

pub mod browser;
pub mod client;
pub mod postgres;
pub mod process;
pub mod provider;
pub mod receiver;
pub mod s3;
pub mod smtp;

use gateway::config::Config;
use gateway::state::AppState;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The Redis server `LIVECHAT_TEST_REDIS` names (`redis://127.0.0.1:6379` in CI), for the tests
/// of several gateways; without it they say so and do nothing, as the default needs no Redis.
pub fn test_redis() -> Option<String> {
    let url = std::env::var("LIVECHAT_TEST_REDIS").ok();
    if url.is_none() {
        eprintln!("LIVECHAT_TEST_REDIS is not set: no Redis server to test against");
    }
    url
}

/// The origin the API tests present as the host page; the demo channel allows only it.
pub const SITE_ORIGIN: &str = "http://site.test";

/// Where Trunk's builds are: `LIVECHAT_DIST` (set by `cargo xtask test`) or `<workspace>/dist`.
/// A process's resident memory in KiB, from `/proc/{pid}/status` (Linux, where CI runs);
/// `None`: this process.
pub fn rss_kib(pid: Option<u32>) -> u64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Where the bench writes its figures (`target/bench/`), created.
pub fn bench_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    dir
}

pub fn dist_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("LIVECHAT_DIST")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    assert!(
        dir.join("widget/embed.js").is_file(),
        "no widget build in {}: run `cargo xtask test`, which builds it first",
        dir.display()
    );
    dir
}

/// The demo as a user runs it: the demo site on its own origin, the gateway on another, both
/// on free ports, the gateway serving the real widget and console builds.
pub struct DemoStack {
    pub gateway: TestGateway,
    pub site: String,
    /// The same pages on another origin, which the demo channel does not allow.
    pub foreign_site: String,
    site_tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl DemoStack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The demo with the gateway's config adjusted first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        let dist = dist_dir();
        let site_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind site");
        let site = format!("http://{}", site_listener.local_addr().expect("site addr"));
        let site_origin = site.clone();
        let gateway = TestGateway::spawn_with(move |c| {
            c.demo_site_origin = site_origin;
            c.widget_dir = dist.join("widget");
            c.console_dir = dist.join("console");
            adjust(c);
        })
        .await;
        let foreign_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind foreign site");
        let foreign_site = format!(
            "http://{}",
            foreign_listener.local_addr().expect("foreign addr")
        );
        let site_tasks = [site_listener, foreign_listener]
            .into_iter()
            .map(|listener| {
                let gateway_origin = gateway.url("");
                tokio::spawn(async move { demo_site::serve(listener, &gateway_origin).await })
            })
            .collect();
        Self {
            gateway,
            site,
            foreign_site,
            site_tasks,
        }
    }
}

impl Drop for DemoStack {
    fn drop(&mut self) {
        self.site_tasks.iter().for_each(JoinHandle::abort);
    }
}

pub struct TestGateway {
    pub addr: SocketAddr,
    pub state: AppState,
    config: Config,
    // Dropping the sender stops the server; kept so a test can restart the gateway on the
    // same database.
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestGateway {
    /// A demo gateway whose demo channel allows [`SITE_ORIGIN`].
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A demo gateway on a fresh database; `adjust` may change any setting first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            database_url: format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
            demo: true,
            demo_site_origin: SITE_ORIGIN.into(),
            ..Config::default()
        };
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut gateway = Self::start(listener, config).await;
        gateway._dir = Some(dir);
        gateway
    }

    async fn start(listener: TcpListener, mut config: Config) -> Self {
        let addr = listener.local_addr().expect("local addr");
        // The gateway tells browsers its own address (the snippet): the one actually bound.
        config.listen = addr;
        let state = gateway::prepare(config.clone())
            .await
            .expect("gateway state");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(gateway::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            state,
            config,
            stop: Some(stop),
            task: Some(task),
            _dir: None,
        }
    }

    /// Stops the gateway as `SIGTERM` does (in-flight requests finish, sockets are closed);
    /// whether it was done within `wait`.
    pub async fn stop(&mut self, wait: std::time::Duration) -> bool {
        self.stop.take();
        match self.task.take() {
            Some(task) => tokio::time::timeout(wait, task).await.is_ok(),
            None => true,
        }
    }

    /// Stops the gateway and starts a new one on the same address and database, as a deploy
    /// or a crash-and-restart would.
    pub async fn restart(&mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            // Open sockets keep graceful shutdown waiting; a restart does not wait for them.
            task.abort();
            let _ = task.await;
        }
        self.state.store.close().await;
        let listener = TcpListener::bind(self.addr).await.expect("rebind");
        let fresh = Self::start(listener, self.config.clone()).await;
        self.state = fresh.state;
        self.stop = fresh.stop;
        self.task = fresh.task;
    }

    /// Changes the demo channel's settings in the store, as an admin would.
    pub async fn edit_demo_channel(&self, edit: impl FnOnce(&mut gateway::store::ChannelRecord)) {
        let mut channel = self.demo_channel().await;
        edit(&mut channel);
        self.state
            .store
            .save_channel(&channel, 0)
            .await
            .expect("store");
    }

    /// The demo channel as stored (its id and secret, for REST calls).
    pub async fn demo_channel(&self) -> gateway::store::ChannelRecord {
        self.state
            .store
            .channel_by_key("demo")
            .await
            .expect("store")
            .expect("demo channel")
    }

    /// Replaces the demo channel's visibility rules, as the console's rules page does.
    pub async fn set_demo_rules(&self, rules: &protocol::VisibilityRules) {
        let channel = self.demo_channel().await;
        self.state
            .store
            .set_channel_rules(&channel.id, rules)
            .await
            .expect("store");
    }

    /// The conversation as stored; fails the test if it does not exist.
    pub async fn conversation(&self, id: &str) -> protocol::ConversationSummary {
        self.state
            .store
            .conversation(id)
            .await
            .expect("store")
            .expect("conversation exists")
    }

    /// Every message stored in the conversation, in seq order.
    pub async fn stored(&self, conversation_id: &str) -> Vec<protocol::ChatMessage> {
        self.state
            .store
            .messages_after(conversation_id, 0, i64::MAX)
            .await
            .expect("store")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The database this gateway uses: another gateway started on it serves the same data.
    /// Where the gateway keeps files by default: beside its SQLite file.
    pub fn files_dir(&self) -> std::path::PathBuf {
        let dir = self._dir.as_ref().expect("a gateway of its own directory");
        dir.path().join("test-files")
    }

    pub fn database_url(&self) -> String {
        self.config.database_url.clone()
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}
