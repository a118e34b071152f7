//! The delivery worker: sends what the outbox holds, at least once, in order per conversation.
//!
//! Each gateway runs one. It wakes when a commit enqueued deliveries and polls besides (for
//! retries coming due, and for deliveries another gateway enqueued or left behind when it
//! died). A delivery is leased before it is sent, so two workers do not send it at once; a
//! failure is retried with exponential backoff and jitter until `webhook_retry_for_secs`, then
//! marked failed. A bot's answer to a delivery is applied before the delivery counts as done.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use protocol::{BotReply, BotResponse, ConversationStatus, EndpointKind, Handler};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::sign;
use super::target::{check_target, is_special_purpose, not_public};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::{DueDelivery, NewMessage, Outcome, ReplyAuthor, API_UPLOADER};
use crate::telemetry;

/// How often the worker looks for due deliveries when nothing woke it.
const POLL: Duration = Duration::from_millis(500);
/// How often the delivery log is pruned of deliveries past `webhook_log_days`.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Deliveries in flight at once per gateway.
const IN_FLIGHT: usize = 16;
/// Deliveries in flight at once to one endpoint, across gateways: a receiver that hangs holds
/// at most these, and every other endpoint keeps the rest.
const IN_FLIGHT_PER_ENDPOINT: i64 = 4;
/// A lease outlives the request's timeout by this much, so it never lapses mid-attempt.
pub const LEASE_MARGIN_MS: i64 = 30_000;
/// The most of a receiver's answer read: a bot's replies, or the start of an error page.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The part of an error body kept in the delivery log.
const MAX_ERROR_CHARS: usize = 300;

/// Runs until the gateway stops.
pub async fn run(state: AppState) {
    let client = match client(&state) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhook delivery disabled: no HTTP client");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let (finished, to_record) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record(state.clone(), to_record));
    // Ends with the worker (the server stopping aborts it).
    let _recorder = AbortOnDrop(recorder);
    let mut next_prune = tokio::time::Instant::now();
    loop {
        if let Err(e) = send_due(&state, &client, &slots, &finished).await {
            tracing::warn!(error = %e, "webhook outbox poll failed");
        }
        if tokio::time::Instant::now() >= next_prune {
            next_prune += PRUNE_EVERY;
            let keep_ms = i64::try_from(state.config.webhook_log_days.saturating_mul(86_400_000))
                .unwrap_or(i64::MAX / 2);
            if let Err(e) = state
                .store
                .prune_outbox(now_ms().saturating_sub(keep_ms))
                .await
            {
                tracing::warn!(error = %e, "pruning the delivery log failed");
            }
        }
        tokio::select! {
            () = state.store.outbox_ready().notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// An attempt's outcome on its way to the store, with the slot it holds until recorded.
type Finished = (String, Outcome, OwnedSemaphorePermit);

async fn send_due(
    state: &AppState,
    client: &reqwest::Client,
    slots: &Arc<Semaphore>,
    finished: &mpsc::UnboundedSender<Finished>,
) -> Result<()> {
    let free = i64::try_from(slots.available_permits()).unwrap_or(0);
    if free == 0 {
        return Ok(());
    }
    let now = now_ms();
    let lease_until = now
        + i64::try_from(state.config.webhook_timeout_ms).unwrap_or(i64::MAX / 2)
        + LEASE_MARGIN_MS;
    let mut due = state
        .store
        .due_deliveries(now, free, IN_FLIGHT_PER_ENDPOINT)
        .await?;
    // Slots first, so nothing is leased that could not be sent now.
    let mut taken: Vec<OwnedSemaphorePermit> = (0..due.len())
        .map_while(|_| slots.clone().try_acquire_owned().ok())
        .collect();
    due.truncate(taken.len());
    let ids: Vec<&str> = due.iter().map(|d| d.id.as_str()).collect();
    let leased = state.store.lease_deliveries(&ids, now, lease_until).await?;
    for due in due.into_iter().filter(|d| leased.contains(&d.id)) {
        let Some(slot) = taken.pop() else {
            break;
        };
        let state = state.clone();
        let client = client.clone();
        let finished = finished.clone();
        tokio::spawn(async move {
            let outcome = attempt(&state, &client, &due).await;
            let _ = finished.send((due.id, outcome, slot));
        });
    }
    Ok(())
}

/// Writes finished attempts to the store, as many as have finished in one transaction (on
/// SQLite every write transaction waits for the one writer), then wakes the worker: the next
/// delivery in each one's order may be due now.
async fn record(state: AppState, mut finished: mpsc::UnboundedReceiver<Finished>) {
    while let Some(first) = finished.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = finished.try_recv() {
            batch.push(more);
        }
        let attempts: Vec<(String, Outcome)> = batch
            .iter()
            .map(|(id, outcome, _)| (id.clone(), outcome.clone()))
            .collect();
        if let Err(e) = state.store.record_attempts(&attempts, now_ms()).await {
            // The leases run out and these are sent again: at least once.
            tracing::warn!(error = %e, count = attempts.len(), "recording delivery attempts failed");
        }
        drop(batch);
        state.store.outbox_ready().notify_one();
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The client deliveries go out with: the configured timeout, no redirects (a redirect could
/// point anywhere), and unless private targets are allowed, a resolver that refuses names
/// resolving to private addresses at connect time, so DNS cannot be switched after the check.
fn client(state: &AppState) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("livechat-gateway/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_millis(state.config.webhook_timeout_ms))
        .redirect(reqwest::redirect::Policy::none());
    if !state.config.webhooks_allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("webhook http client: {e}")))
}

struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| is_special_purpose(a.ip())) {
                return Err(not_public(&host).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// One attempt, ending in what to record.
async fn attempt(state: &AppState, client: &reqwest::Client, due: &DueDelivery) -> Outcome {
    let now = now_ms();
    let failed = |status: Option<i64>, error: String| Outcome::Failed {
        status,
        error,
        retry_at_ms: retry_at(state, due, now),
    };
    if let Err(problem) = check_target(&due.url, state.config.webhooks_allow_private).await {
        return failed(None, format!("target refused: {problem}"));
    }
    let timestamp = now / 1000;
    let payload = crate::attachments::links::in_payload(state, &due.payload, now);
    let signature = match sign(&due.secret, &due.event_id, timestamp, &payload) {
        Ok(signature) => signature,
        Err(e) => return failed(None, e.to_string()),
    };
    let sent = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header("webhook-id", &due.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(payload)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return failed(None, describe(e)),
    };
    let status = i64::from(response.status().as_u16());
    let body = read_limited(&mut response).await;
    if !response.status().is_success() {
        let excerpt: String = String::from_utf8_lossy(&body)
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect();
        return failed(Some(status), format!("HTTP {status}: {excerpt}"));
    }
    if due.endpoint_kind == EndpointKind::Bot {
        if let Err(problem) = apply_bot_response(state, due, &body).await {
            return failed(Some(status), problem);
        }
    }
    let since_event = u64::try_from(now_ms() - due.retry_since_ms).unwrap_or(0);
    telemetry::delivered(Duration::from_millis(since_event));
    Outcome::Delivered { status }
}

/// The reason a request failed, without the URL (which can carry a token in its query).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        crate::error::with_causes(&e)
    }
}

async fn read_limited(response: &mut reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_RESPONSE_BYTES {
            body.truncate(MAX_RESPONSE_BYTES);
            break;
        }
    }
    body
}

/// When to try again, or None to give up.
fn retry_at(state: &AppState, due: &DueDelivery, now: i64) -> Option<i64> {
    let config = &state.config;
    let retry_at = now
        + backoff_ms(
            due.attempts + 1,
            config.webhook_retry_base_ms,
            config.webhook_retry_max_ms,
            OsRng.next_u32(),
        );
    let give_up_at = due
        .retry_since_ms
        .saturating_add(crate::secs_to_ms(config.webhook_retry_for_secs));
    (retry_at <= give_up_at).then_some(retry_at)
}

/// The wait after the `attempt`-th failure: `base · 2^(attempt-1)`, capped at `max`, of which
/// the upper half is random ("equal jitter"), so receivers coming back up are not hit by every
/// retry at once and the wait still grows.
pub fn backoff_ms(attempt: i64, base_ms: u64, max_ms: u64, random: u32) -> i64 {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    let full = base_ms.saturating_mul(1u64 << doublings).min(max_ms);
    let half = full / 2;
    let jitter = if half == 0 {
        0
    } else {
        u64::from(random) % (half + 1)
    };
    i64::try_from(full - half + jitter).unwrap_or(i64::MAX)
}

/// Stores the bot's messages (each once, however often the delivery is retried) and performs
/// its hand-over, while the bot still handles the conversation.
async fn apply_bot_response(
    state: &AppState,
    due: &DueDelivery,
    body: &[u8],
) -> std::result::Result<(), String> {
    let response: BotResponse = if body.iter().all(u8::is_ascii_whitespace) {
        BotResponse::default()
    } else {
        serde_json::from_slice(body).map_err(|e| format!("the bot's answer is not valid: {e}"))?
    };
    let Some(conversation_id) = &due.conversation_id else {
        return Ok(());
    };
    let handled_by_bot = state
        .store
        .conversation(conversation_id)
        .await
        .map_err(|e| e.to_string())?
        .is_some_and(|c| c.handler == Handler::Bot && c.status != ConversationStatus::Closed);
    if !handled_by_bot {
        return Ok(());
    }
    for (i, reply) in response.replies.iter().enumerate() {
        let applied = match reply {
            BotReply::Message { text, attachments } => crate::conversations::post_reply(
                state,
                ReplyAuthor::Bot(&due.endpoint_name),
                conversation_id,
                NewMessage::now(&format!("bot-{}-{i}", due.event_id), text)
                    .with_attachments(API_UPLOADER, attachments),
            )
            .await
            .map(drop),
            BotReply::Switch { note } => {
                crate::conversations::hand_over(state, conversation_id, note.as_deref()).await
            }
        };
        applied.map_err(|e| format!("the bot's reply {i} was refused: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_in_its_upper_half_and_stays_capped() {
        for attempt in 1..=6 {
            let full = 1000i64 << (attempt - 1);
            let low = backoff_ms(attempt, 1000, 3_600_000, 0);
            let high = backoff_ms(attempt, 1000, 3_600_000, u32::MAX);
            assert_eq!(low, full - full / 2, "attempt {attempt}");
            assert!(high >= low && high <= full, "attempt {attempt}: {high}");
        }
        assert!(backoff_ms(60, 1000, 3_600_000, u32::MAX) <= 3_600_000);
        assert!(backoff_ms(60, 1000, 3_600_000, 0) >= 1_800_000);
        assert_eq!(backoff_ms(1, 0, 1000, 7), 0);
    }
}
