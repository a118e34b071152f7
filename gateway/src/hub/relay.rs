//! The Redis relay between gateways: each publishes its events on one channel per database
//! (`livechat:{namespace}`) and delivers the others' to its own subscribers.
//!
//! One channel for all topics, not one per topic: every gateway would subscribe to nearly every
//! topic anyway (every console follows the inbox), and a fixed subscription never has to follow
//! sockets coming and going. Losing Redis (or falling behind it) costs liveness, never data:
//! publishing drops what it cannot send and then tells the others to resync, the subscriber
//! reconnects with backoff and resyncs its own sockets, and sockets catch up from the store.
//! Only typing notices, which the store does not keep, can be lost.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

use super::{HubEvent, Topic, Topics};
use crate::error::{Error, Result};

/// Longest wait between two attempts to reach Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What crosses Redis: the event, and which gateway sent it (it is already delivered there).
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    topic: Topic,
    event: HubEvent,
}

/// Starts the publishing and subscribing tasks, which end when the hub is dropped.
pub(super) fn start(
    redis_url: &str,
    namespace: &str,
    topics: Weak<Topics>,
    outgoing: mpsc::Receiver<(Topic, HubEvent)>,
    overflowed: Arc<AtomicBool>,
) -> Result<()> {
    let client =
        redis::Client::open(redis_url).map_err(|e| Error::Config(format!("redis_url: {e}")))?;
    let channel = format!("livechat:{namespace}");
    let origin = crate::tokens::random_token(8);
    tokio::spawn(publish(
        client.clone(),
        channel.clone(),
        origin.clone(),
        outgoing,
        overflowed,
    ));
    tokio::spawn(subscribe(client, channel, origin, topics));
    Ok(())
}

async fn publish(
    client: redis::Client,
    channel: String,
    origin: String,
    mut outgoing: mpsc::Receiver<(Topic, HubEvent)>,
    // Set when an event of ours never reached Redis (the queue was full, or Redis was down).
    lost: Arc<AtomicBool>,
) {
    let mut connection = None;
    let mut retry_at = tokio::time::Instant::now();
    while let Some((topic, event)) = outgoing.recv().await {
        // After a loss, the first thing the others hear is to resync, then the event.
        let resync = lost
            .swap(false, Ordering::Relaxed)
            .then_some((Topic::Inbox, HubEvent::Resync));
        for (topic, event) in resync.into_iter().chain([(topic, event)]) {
            let envelope = Envelope {
                origin: origin.clone(),
                topic,
                event,
            };
            let Ok(payload) = serde_json::to_string(&envelope) else {
                continue;
            };
            if connection.is_none() {
                // While Redis is down, events are dropped without a connection attempt each.
                if tokio::time::Instant::now() < retry_at {
                    lost.store(true, Ordering::Relaxed);
                    continue;
                }
                match client.get_multiplexed_async_connection().await {
                    Ok(fresh) => connection = Some(fresh),
                    Err(e) => {
                        tracing::warn!(error = %e, "redis unreachable: events stay on this gateway");
                        retry_at = tokio::time::Instant::now() + Duration::from_secs(1);
                        lost.store(true, Ordering::Relaxed);
                        continue;
                    }
                }
            }
            if let Some(live) = connection.as_mut() {
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(payload)
                    .query_async(live)
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "redis publish failed");
                    connection = None;
                    lost.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

async fn subscribe(client: redis::Client, channel: String, origin: String, topics: Weak<Topics>) {
    let mut backoff = Duration::from_millis(500);
    while topics.strong_count() > 0 {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    backoff = Duration::from_millis(500);
                    // Whatever the others published while we were not listening is in the store.
                    if let Some(topics) = topics.upgrade() {
                        topics.deliver_to_all(&HubEvent::Resync);
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Some(topics) = topics.upgrade() else {
                            return;
                        };
                        match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
                            Ok(Envelope {
                                origin: from,
                                event: HubEvent::Resync,
                                ..
                            }) if from != origin => {
                                topics.deliver_to_all(&HubEvent::Resync);
                            }
                            Ok(envelope) if envelope.origin != origin => {
                                topics.deliver(&envelope.topic, envelope.event);
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "unreadable relay message"),
                        }
                    }
                    tracing::warn!("redis subscription lost; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "redis subscribe failed"),
            },
            Err(e) => tracing::warn!(error = %e, "redis unreachable: not hearing other gateways"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
