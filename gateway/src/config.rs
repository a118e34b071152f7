//! The gateway's one typed configuration: defaults that run the demo, overridden by an optional
//! TOML file, overridden in turn by `LIVECHAT_*` environment variables (`LIVECHAT_LISTEN`,
//! `LIVECHAT_DATABASE_URL`, ...: the field name in upper case).

use ipnet::IpNet;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The URL browsers use to reach this gateway, used in the snippet shown to site owners and
    /// as the console's origin for the cross-site checks. Defaults to `http://{listen}`.
    pub public_url: Option<String>,
    /// Load balancers and reverse proxies (addresses or CIDR blocks, a list or a comma-separated
    /// string) whose `X-Forwarded-For` / `Forwarded` headers name the client. Those headers from
    /// any other peer are ignored: anyone can send them.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// `sqlite://path?mode=rwc` (default, no server needed) or `postgres://…`.
    pub database_url: String,
    /// `redis://host:6379`: relay real-time events between the gateways sharing the database
    /// (several behind a load balancer). None: one gateway, events stay in the process.
    pub redis_url: Option<String>,
    /// Trunk's output for the widget (`embed.js` loads the panel from here).
    pub widget_dir: PathBuf,
    /// Trunk's output for the console, served under `/console/`.
    pub console_dir: PathBuf,
    /// How long a visitor session token is valid; the widget asks for a new one on reconnect.
    pub session_ttl_secs: u64,
    /// How long an agent stays logged in.
    pub agent_login_ttl_secs: u64,
    /// Login attempts per client IP and per account (email), per minute; more get
    /// `rate_limited`, whatever the password.
    pub logins_per_ip_per_minute: u32,
    pub logins_per_account_per_minute: u32,
    /// A page's rechecks renew its visit ticket for at most this long after the page view
    /// began; after that only a new page view gets a ticket.
    pub page_view_max_secs: u64,
    /// A new page view keeps the visitor's identity (and visit count) from a ticket issued at
    /// most this long ago, as a cookie of that age would. 0: every page view is a new visitor.
    pub visitor_memory_secs: u64,
    /// A page view this long after the previous one starts a new visit.
    pub visit_gap_secs: u64,
    /// How often a page whose decision depends on agents' presence asks again, so the launcher
    /// appears or disappears within seconds of agents coming online or going away.
    pub visibility_poll_secs: u64,
    /// An agent whose last console connection dropped counts as offline after this long (a
    /// reload or a network blip in between changes nothing).
    pub presence_grace_secs: u64,
    /// How often an open page calls back while the widget shows, so agents see who is on the
    /// site now and a conversation an agent starts reaches the page; a visitor counts as gone
    /// two periods after their page's last call.
    pub visitor_heartbeat_secs: u64,
    /// A visitor writing within this long after an agent closed the conversation reopens it
    /// (back in its queue) instead of starting a new one.
    pub reopen_window_secs: u64,
    /// The bearer token a Prometheus scraper presents at `GET /metrics`; unset, the page is
    /// refused to everyone.
    pub metrics_token: Option<String>,
    /// The most sockets (visitors' and consoles') this gateway holds at once; beyond it an
    /// upgrade is refused with 503 and `Retry-After`, so a load balancer or the widget's backoff
    /// sends the visitor elsewhere. Each costs a file descriptor: keep it under the process's
    /// limit (`ulimit -n`).
    pub max_sockets: usize,
    /// Let webhook endpoints be loopback, private or link-local addresses: for self-hosted
    /// receivers on the same network (and tests). Off, a webhook cannot probe the internal network.
    pub webhooks_allow_private: bool,
    /// A receiver that has not answered a delivery by then has failed that attempt.
    pub webhook_timeout_ms: u64,
    /// Retries (of webhook deliveries, and of emails) wait about this long after the first
    /// failure, doubling each time (with jitter) up to `webhook_retry_max_ms`.
    pub webhook_retry_base_ms: u64,
    pub webhook_retry_max_ms: u64,
    /// A delivery still failing this long after its event (or its replay) is marked failed; the
    /// delivery log keeps it for a replay.
    pub webhook_retry_for_secs: u64,
    /// Retention deletes old conversations this many at a time, each batch its own transaction.
    pub retention_batch: i64,
    /// And waits this long after each batch, so message appends get the database in between.
    pub retention_pause_ms: u64,
    /// The delivery log keeps finished deliveries this long.
    pub webhook_log_days: u64,
    /// Mark cookies `Secure`: on whenever the gateway is reached over HTTPS.
    pub secure_cookies: bool,
    /// Replaces every provider's siteverify URL: for a verifying proxy, and for tests that run
    /// a local server speaking the siteverify protocol.
    pub captcha_verify_url: Option<String>,
    /// Replaces every provider's challenge script URL given to the widget (tests serve their
    /// own provider; a self-hosted proxy could too).
    pub captcha_script_url: Option<String>,
    /// A provider that has not answered by then fails closed (`captcha_unavailable`).
    pub captcha_timeout_ms: u64,
    /// Abuse limits. Sessions (opening the chat) per client IP and per channel, per minute.
    pub sessions_per_ip_per_minute: u32,
    pub sessions_per_channel_per_minute: u32,
    /// Messages per visitor session (bursts of 20) and per channel, per minute.
    pub messages_per_session_per_minute: u32,
    /// Messages per client IP (bursts of 40), across all its sessions, per minute.
    pub messages_per_ip_per_minute: u32,
    pub messages_per_channel_per_minute: u32,
    /// Where attachments' bytes are kept: `file:///absolute/dir`, or `s3://bucket?region=…`
    /// with any S3 settings as query parameters (`endpoint`, `access_key_id`, `allow_http`, …;
    /// unset ones come from the `AWS_*` variables). Default: a directory beside the SQLite
    /// file (`livechat-files` in the working directory for PostgreSQL). Several gateways
    /// need a store they share.
    pub files_url: Option<String>,
    /// How long a signed download link (webhook payloads, REST answers) works.
    pub file_link_ttl_secs: u64,
    /// Where email to visitors goes out (replies they were not there to read, transcripts):
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://user:password@host`
    /// (TLS), or `smtp://host:25` (plain, for a relay on the same host). Unset: no email, and
    /// the widget offers none.
    pub smtp_url: Option<String>,
    /// The address emails come from (`chat@shop.example`); each channel puts its own name on it.
    /// Required with `smtp_url`.
    pub email_from: Option<String>,
    /// The address visitors' replies go to (`reply@inbound.shop.example`): each email's
    /// `Reply-To` is `reply+{signed token}@inbound.shop.example`, and the mail server hands what
    /// arrives there to `POST /v1/email/inbound`. Unset: emails have no `Reply-To` to answer.
    pub email_reply_to: Option<String>,
    /// The bearer token the mail server (or the provider's inbound webhook) presents at
    /// `POST /v1/email/inbound`; unset, the endpoint refuses everyone.
    pub email_inbound_secret: Option<String>,
    /// Agents' replies the visitor did not see wait this long for more, so a burst of replies
    /// makes one email.
    pub email_batch_secs: u64,
    /// How long the link in an email reopens the chat, and its `Reply-To` is accepted.
    pub email_link_ttl_secs: u64,
    /// Seed the demo channel (key `demo`) and the demo agent at start-up.
    pub demo: bool,
    /// The demo site's origin: the only origin the demo channel allows.
    pub demo_site_origin: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            trusted_proxies: Vec::new(),
            database_url: "sqlite://livechat.db?mode=rwc".into(),
            redis_url: None,
            widget_dir: PathBuf::from("dist/widget"),
            console_dir: PathBuf::from("dist/console"),
            session_ttl_secs: 600,
            agent_login_ttl_secs: 12 * 3600,
            logins_per_ip_per_minute: 20,
            logins_per_account_per_minute: 6,
            page_view_max_secs: 12 * 3600,
            visitor_memory_secs: 30 * 24 * 3600,
            visit_gap_secs: 30 * 60,
            visibility_poll_secs: 5,
            presence_grace_secs: 20,
            visitor_heartbeat_secs: 20,
            reopen_window_secs: 24 * 3600,
            metrics_token: None,
            max_sockets: 50_000,
            webhooks_allow_private: false,
            webhook_timeout_ms: 10_000,
            webhook_retry_base_ms: 5_000,
            webhook_retry_max_ms: 3600 * 1000,
            webhook_retry_for_secs: 24 * 3600,
            retention_batch: 50,
            retention_pause_ms: 20,
            webhook_log_days: 30,
            secure_cookies: false,
            captcha_verify_url: None,
            captcha_script_url: None,
            captcha_timeout_ms: 3000,
            sessions_per_ip_per_minute: 30,
            sessions_per_channel_per_minute: 3000,
            files_url: None,
            file_link_ttl_secs: 24 * 3600,
            messages_per_session_per_minute: 60,
            messages_per_ip_per_minute: 300,
            messages_per_channel_per_minute: 6000,
            smtp_url: None,
            email_from: None,
            email_reply_to: None,
            email_inbound_secret: None,
            email_batch_secs: 120,
            email_link_ttl_secs: 30 * 24 * 3600,
            demo: false,
            demo_site_origin: "http://127.0.0.1:8081".into(),
        }
    }
}

const ENV_PREFIX: &str = "LIVECHAT";

impl Config {
    /// Loads the file at `path` (if given) and applies `LIVECHAT_*` variables from `env`
    /// (`LIVECHAT_CONFIG`, the file's path, aside). Environment values stay strings until the
    /// field they set says what they are: `LIVECHAT_DATABASE_URL=123` is a string, while
    /// `LIVECHAT_SESSION_TTL_SECS=60` is a number.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let variables: config::Map<String, String> = env
            .into_iter()
            .filter(|(name, _)| name != &format!("{ENV_PREFIX}_CONFIG"))
            .collect();
        let mut layers = config::Config::builder();
        if let Some(path) = path {
            let file = config::File::from(path).format(config::FileFormat::Toml);
            layers = layers.add_source(file);
        }
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .source(Some(variables));
        let config: Self = layers
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| Error::Config(e.to_string()))?;
        if let Some(url) = &config.public_url {
            match url::Url::parse(url) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
                _ => {
                    return Err(Error::Config(format!(
                        "public_url {url:?} is not an http(s) URL"
                    )))
                }
            }
        }
        if config.smtp_url.is_some() && config.email_from.is_none() {
            return Err(Error::Config(
                "smtp_url needs email_from, the address emails come from".into(),
            ));
        }
        Ok(config)
    }

    /// The URL of this gateway as browsers see it, without a trailing slash (paths are appended).
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The origin browsers send from the gateway's own pages (console, hosted chat page):
    /// scheme, host and port of the public URL, as `Origin` serialises them.
    pub fn public_origin(&self) -> String {
        let url = self.public_url();
        url::Url::parse(&url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or(url)
    }
}

/// A list of networks, or one string of them separated by commas (an environment variable).
fn networks<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Listed {
        One(String),
        Many(Vec<String>),
    }
    let entries = match Listed::deserialize(deserializer)? {
        Listed::One(text) => text.split(',').map(str::to_owned).collect(),
        Listed::Many(list) => list,
    };
    entries
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.parse::<IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!("{e:?} is not an address or CIDR block"))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_the_demo_without_any_file() {
        let config = Config::load(None, env(&[])).unwrap();
        assert_eq!(config.listen.port(), 8080);
        assert!(config.database_url.starts_with("sqlite:"));
        assert_eq!(config.public_url(), "http://127.0.0.1:8080");
        assert_eq!(config.public_origin(), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_public_url_gives_the_console_origin_whatever_its_slash() {
        let config = Config::load(
            None,
            env(&[("LIVECHAT_PUBLIC_URL", "https://Chat.Example.com:443/")]),
        )
        .unwrap();
        assert_eq!(config.public_url(), "https://Chat.Example.com:443");
        assert_eq!(config.public_origin(), "https://chat.example.com");
        let err = Config::load(None, env(&[("LIVECHAT_PUBLIC_URL", "chat.example.com")]));
        assert!(
            err.is_err(),
            "a URL without a scheme is refused at start-up"
        );
    }

    #[test]
    fn trusted_proxies_are_a_list_or_a_comma_separated_string() {
        let config = Config::load(
            None,
            env(&[(
                "LIVECHAT_TRUSTED_PROXIES",
                "10.0.0.0/8, 192.168.1.7,fd00::/8",
            )]),
        )
        .unwrap();
        let listed: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(listed, ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]);
        assert!(Config::load(None, env(&[("LIVECHAT_TRUSTED_PROXIES", "10.0.0.0/33")])).is_err());
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("livechat.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\nsession_ttl_secs = 30\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&path),
            env(&[
                ("LIVECHAT_SESSION_TTL_SECS", "45"),
                ("LIVECHAT_DEMO", "true"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.session_ttl_secs, 45);
        assert!(config.demo);
    }

    #[test]
    fn an_environment_value_is_read_as_its_fields_type() {
        let config = Config::load(
            None,
            env(&[
                ("LIVECHAT_DEMO_SITE_ORIGIN", "8081"),
                ("LIVECHAT_SECURE_COOKIES", "true"),
                ("LIVECHAT_WEBHOOK_LOG_DAYS", "7"),
                ("LIVECHAT_CONFIG", "/etc/livechat.toml"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.demo_site_origin, "8081",
            "a string field keeps digits"
        );
        assert!(config.secure_cookies);
        assert_eq!(config.webhook_log_days, 7);
    }

    #[test]
    fn unknown_or_mistyped_settings_are_reported() {
        let err = Config::load(None, env(&[("LIVECHAT_LISTN", "x")])).unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
        let err = Config::load(None, env(&[("LIVECHAT_SESSION_TTL_SECS", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("session_ttl_secs") || err.to_string().contains("integer"),
            "{err}"
        );
    }
}
