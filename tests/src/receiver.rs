//! A webhook receiver as a customer would run one: a local HTTP server that checks every
//! delivery's Standard Webhooks signature itself (HMAC-SHA256, not the gateway's code), and
//! that can be told to fail: answer 5xx, hang past the gateway's timeout, or be down altogether
//! (connection refused). A bot or desk is the same server with an answer of its own.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// What the receiver does with the next delivery, instead of accepting it.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    Status(u16),
    /// Answer only after this long (longer than the gateway waits): not accepted.
    Hang(Duration),
}

/// A delivery the receiver accepted (answered 2xx).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub payload: Value,
}

impl Delivery {
    pub fn event_type(&self) -> &str {
        self.payload["type"].as_str().unwrap_or_default()
    }

    pub fn conversation_id(&self) -> Option<&str> {
        self.payload["data"]["conversation"]["id"].as_str()
    }
}

type Answer = dyn Fn(&Value) -> Value + Send + Sync;

struct Shared {
    secret: Mutex<String>,
    failures: Mutex<VecDeque<Failure>>,
    accepted: Mutex<Vec<Delivery>>,
    /// Requests whose signature or timestamp did not verify.
    forged: Mutex<usize>,
    arrived: Notify,
    answer: Box<Answer>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Receiver {
    /// Accepts everything with an empty JSON object.
    pub async fn start() -> Self {
        Self::answering(|_| serde_json::json!({})).await
    }

    /// Accepts everything, answering each delivery's payload with `answer` (a bot's replies).
    pub async fn answering(answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared {
            secret: Mutex::new(String::new()),
            failures: Mutex::new(VecDeque::new()),
            accepted: Mutex::new(Vec::new()),
            forged: Mutex::new(0),
            arrived: Notify::new(),
            answer: Box::new(answer),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut receiver = Self {
            addr,
            shared,
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The endpoint's `whsec_` secret, as the gateway returned it at registration.
    pub fn set_secret(&self, secret: &str) {
        *self.shared.secret.lock().unwrap() = secret.to_owned();
    }

    /// The next deliveries get these failures, in arrival order.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.shared.failures.lock().unwrap().extend(failures);
    }

    /// Accepts from now on: the failures not yet used are dropped.
    pub fn stop_failing(&self) {
        self.shared.failures.lock().unwrap().clear();
    }

    pub fn forged(&self) -> usize {
        *self.shared.forged.lock().unwrap()
    }

    pub fn accepted(&self) -> Vec<Delivery> {
        self.shared.accepted.lock().unwrap().clone()
    }

    /// Waits until at least `n` deliveries were accepted; panics after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{} of {n} deliveries after {within:?}: {:?}",
                    accepted.len(),
                    accepted.iter().map(|d| d.event_type()).collect::<Vec<_>>()
                );
            }
        }
    }

    /// Waits for a delivery of this event type; panics after `within`.
    pub async fn wait_for_event(&self, event_type: &str, within: Duration) -> Delivery {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            if let Some(found) = self
                .accepted()
                .into_iter()
                .find(|d| d.event_type() == event_type)
            {
                return found;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("no {event_type} delivery after {within:?}");
            }
        }
    }

    /// Stops listening: connections are refused until [`Receiver::resume`].
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same address.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Graceful: idle keep-alive connections close too, so the next attempt is refused.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.server = Some((stop, task));
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.server {
            task.abort();
        }
    }
}

/// The Standard Webhooks check: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
/// base64 key after `whsec_`, and a timestamp within five minutes.
pub fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return false;
    };
    let Ok(sent_at) = timestamp.parse::<u64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(sent_at) > 300 {
        return false;
    }
    let Ok(key) = STANDARD.decode(secret.trim_start_matches("whsec_")) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    signatures
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let secret = shared.secret.lock().unwrap().clone();
    if !verify(&secret, &headers, &body) {
        *shared.forged.lock().unwrap() += 1;
        return (StatusCode::UNAUTHORIZED, Json(Value::Null));
    }
    let failure = shared.failures.lock().unwrap().pop_front();
    match failure {
        Some(Failure::Status(status)) => {
            return (StatusCode::from_u16(status).unwrap(), Json(Value::Null));
        }
        Some(Failure::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            return (StatusCode::OK, Json(Value::Null));
        }
        None => {}
    }
    let payload: Value = serde_json::from_slice(&body).expect("JSON payload");
    let answer = (shared.answer)(&payload);
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    shared
        .accepted
        .lock()
        .unwrap()
        .push(Delivery { id, payload });
    shared.arrived.notify_waiters();
    (StatusCode::OK, Json(answer))
}
