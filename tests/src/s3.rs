//! A real S3 endpoint on localhost for the file store's tests: moto's server mode, which
//! `cargo xtask test` installs from PyPI and names in `LIVECHAT_TEST_S3_SERVER`. Without it the
//! S3 tests say so and do nothing, as the default store needs no server.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running S3 server with one fresh bucket; stopped when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
}

impl S3Server {
    /// None (and a note) when no server is installed.
    pub async fn start() -> Option<Self> {
        let Some(program) = std::env::var_os("LIVECHAT_TEST_S3_SERVER").map(PathBuf::from) else {
            eprintln!("LIVECHAT_TEST_S3_SERVER is not set: no S3 server to test against");
            return None;
        };
        // A free port: bound, then released for the server to take.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let server = Self {
            child,
            endpoint,
            bucket: format!("livechat-{}", uuid_like()),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let created = reqwest::Client::new()
                .put(format!("{}/{}", server.endpoint, server.bucket))
                .send()
                .await;
            match created {
                Ok(response) if response.status().is_success() => return Some(server),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => panic!("the S3 server did not start: {other:?}"),
            }
        }
    }

    /// The gateway's `files_url` for this bucket.
    pub fn files_url(&self) -> String {
        format!(
            "s3://{}?endpoint={}&region=us-east-1&access_key_id=test&secret_access_key=test&allow_http=true",
            self.bucket, self.endpoint
        )
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{}", std::process::id())
}
