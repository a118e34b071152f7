//! What operators watch: counters, gauges and histograms recorded (with the `metrics` crate)
//! where things happen, and rendered in the Prometheus text format for `GET /metrics`. Every
//! metric's name is written here once; the rest of the gateway calls these functions.
//!
//! The recorder is process-wide (the `metrics` crate has one global recorder), so several
//! gateways in one process, as in the tests, add to the same figures.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

const SOCKETS_OPEN: &str = "livechat_sockets_open";
const MESSAGES_ACCEPTED: &str = "livechat_messages_accepted_total";
const ACK_SECONDS: &str = "livechat_ack_seconds";
const STORE_COMMIT_SECONDS: &str = "livechat_store_commit_seconds";
const COMMIT_BATCH: &str = "livechat_store_commit_batch_size";
const BATCH_STATEMENTS_SECONDS: &str = "livechat_store_batch_statements_seconds";
const OUTBOX_BACKLOG: &str = "livechat_outbox_backlog";
const DELIVERY_SECONDS: &str = "livechat_webhook_delivery_seconds";
const WAITING_CONVERSATIONS: &str = "livechat_routing_waiting_conversations";
const RATE_LIMITED: &str = "livechat_rate_limit_refusals_total";
const CAPTCHA_FAILURES: &str = "livechat_captcha_failures_total";
const ALLOCATOR_BYTES: &str = "livechat_allocator_bytes";

/// Appends per group commit (see `store::group_commit`), up to its largest batch.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Latency buckets, in seconds, from a fast commit to a slow webhook receiver.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (once per process) and returns what renders it.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(COMMIT_BATCH.into()), &BATCH_BUCKETS)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (an embedding program's): render ours, unrecorded.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// The page a scraper reads.
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

/// What a socket is for, as its label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    Visitor,
    Agent,
}

impl SocketKind {
    pub const ALL: [Self; 2] = [Self::Visitor, Self::Agent];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Agent => "agent",
        }
    }
}

/// The allocator's figures (see `memory::allocator_bytes`), read at each scrape.
pub fn allocator_bytes(allocated: usize, resident: usize) {
    gauge!(ALLOCATOR_BYTES, "kind" => "allocated").set(allocated as f64);
    gauge!(ALLOCATOR_BYTES, "kind" => "resident").set(resident as f64);
}

/// Sockets of `kind` open on this gateway, read at each scrape.
pub fn sockets_open(kind: SocketKind, count: usize) {
    gauge!(SOCKETS_OPEN, "kind" => kind.as_str()).set(count as f64);
}

/// A message stored, by who wrote it (`visitor`, `agent`, `bot`, `desk`, `system`).
pub fn message_accepted(author: &'static str) {
    counter!(MESSAGES_ACCEPTED, "author" => author).increment(1);
}

/// From a message frame read to its ack (committed) being sent back.
pub fn ack_latency(elapsed: Duration) {
    histogram!(ACK_SECONDS).record(elapsed.as_secs_f64());
}

pub fn store_commit(elapsed: Duration) {
    histogram!(STORE_COMMIT_SECONDS).record(elapsed.as_secs_f64());
}

pub fn commit_batch(appends: usize) {
    histogram!(COMMIT_BATCH).record(appends as f64);
}

/// How long a group commit's statements took before its commit (its appends' reads and
/// writes, one after another on the writer's connection).
pub fn batch_statements(elapsed: Duration) {
    histogram!(BATCH_STATEMENTS_SECONDS).record(elapsed.as_secs_f64());
}

/// Webhook deliveries not yet delivered (pending retries included), read at each scrape.
pub fn outbox_backlog(deliveries: i64) {
    gauge!(OUTBOX_BACKLOG).set(deliveries as f64);
}

/// From the event to its delivery's success.
pub fn delivered(since_event: Duration) {
    histogram!(DELIVERY_SECONDS).record(since_event.as_secs_f64());
}

/// Conversations waiting for an agent, read at each scrape.
pub fn waiting_conversations(count: i64) {
    gauge!(WAITING_CONVERSATIONS).set(count as f64);
}

/// A request refused by the rate limit `limit` (its name, such as `sessions_per_ip`).
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

pub fn captcha_failed() {
    counter!(CAPTCHA_FAILURES).increment(1);
}
