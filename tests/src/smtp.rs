//! A real SMTP server on localhost for the email tests: aiosmtpd, which `cargo xtask test`
//! installs from PyPI and names in `LIVECHAT_TEST_SMTP_PYTHON` (the Python of its environment).
//! It keeps every email it accepts in a Maildir, which the tests read and parse as a mail
//! program would. Without it the email tests say so and do nothing, as the default gateway
//! sends no email.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running SMTP server; stopped when dropped (and can be stopped and started on its port).
pub struct SmtpServer {
    python: PathBuf,
    child: Option<Child>,
    pub port: u16,
    maildir: tempfile::TempDir,
}

/// An email as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub raw: Vec<u8>,
}

impl ReceivedEmail {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw[..])
            .expect("an RFC 5322 message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn to(&self) -> Vec<String> {
        addresses(self.parsed().to())
    }

    pub fn reply_to(&self) -> Vec<String> {
        addresses(self.parsed().reply_to())
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(prefix)?;
        let link: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(link)
    }
}

fn addresses(list: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    list.map(|list| {
        list.iter()
            .filter_map(|a| a.address())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

impl SmtpServer {
    /// A server on a free port, or None (and a note) when none is installed.
    pub async fn start() -> Option<Self> {
        let mut server = Self::stopped()?;
        server.resume().await;
        Some(server)
    }

    /// A server not yet listening, on a port reserved for it: its address is known before it
    /// is up (a gateway can be pointed at an SMTP server that is down).
    pub fn stopped() -> Option<Self> {
        let Some(python) = std::env::var_os("LIVECHAT_TEST_SMTP_PYTHON").map(PathBuf::from) else {
            eprintln!("LIVECHAT_TEST_SMTP_PYTHON is not set: no SMTP server to test against");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Some(Self {
            python,
            child: None,
            port,
            maildir: tempfile::tempdir().expect("maildir"),
        })
    }

    /// The gateway's `smtp_url` for this server (plain SMTP on localhost).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts listening (again), and waits until it accepts connections.
    pub async fn resume(&mut self) {
        let child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.mail_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.python.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The Maildir, which the server creates (it leaves an existing directory without one).
    fn mail_dir(&self) -> PathBuf {
        self.maildir.path().join("mail")
    }

    /// Stops listening: connections are refused until [`SmtpServer::resume`].
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every email received so far, in the order they arrived.
    pub fn received(&self) -> Vec<ReceivedEmail> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|dir| std::fs::read_dir(self.mail_dir().join(dir)).ok())
            .flatten()
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .map(|raw| ReceivedEmail { raw })
            .collect()
    }

    /// Waits until at least `count` emails have arrived (panics after `within`); all of them.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{} email(s) arrived, {count} expected",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.pause();
    }
}
