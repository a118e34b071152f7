//! Real-time fan-out: one tokio broadcast channel per topic inside a gateway, and with several
//! gateways on one database, a Redis pub/sub relay between them ([`relay`]), so a visitor on
//! gateway A and an agent on gateway B talk as if on one.
//!
//! The hub carries notifications, never the only copy of anything: every message is committed to
//! the store before it is published, so a subscriber that lags or joins late (or whose gateway
//! lost Redis for a while) catches up from the store by `seq` instead of losing messages.

mod relay;

use protocol::{ChatMessage, ConversationSummary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Events buffered per topic before a slow subscriber is told it lagged (it then re-reads the
/// store, so the bound costs latency for that subscriber, never data).
const TOPIC_CAPACITY: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    /// Conversation created or changed: every agent console listens.
    Inbox,
    /// Messages of one conversation: agents who opened it.
    Conversation(String),
    /// Messages of one visitor on one channel: all of that visitor's tabs.
    Visitor {
        channel_key: String,
        visitor_id: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HubEvent {
    Message(ChatMessage),
    Conversation(ConversationSummary),
    /// Someone is typing in the conversation: an agent (by name) or, with None, the visitor.
    Typing {
        conversation_id: String,
        agent_name: Option<String>,
    },
}

/// The broadcast channel of each topic that has subscribers in this process.
// A std Mutex is right here: it is held only to look up or insert a sender, never across an
// await, so it is never contended for long.
#[derive(Default)]
struct Topics(Mutex<HashMap<Topic, broadcast::Sender<HubEvent>>>);

impl Topics {
    /// Sends to the topic's subscribers in this process; a topic nobody listens to is dropped.
    fn deliver(&self, topic: &Topic, event: HubEvent) {
        let mut topics = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = topics.get(topic) {
            if sender.send(event).is_err() {
                topics.remove(topic);
            }
        }
    }
}

#[derive(Default)]
pub struct Hub {
    topics: Arc<Topics>,
    /// To the Redis relay, when gateways share the load.
    relay: Option<mpsc::UnboundedSender<(Topic, HubEvent)>>,
}

impl Hub {
    /// Fan-out inside this process only: one gateway.
    pub fn local() -> Self {
        Self::default()
    }

    /// Fan-out to this process and, through Redis, to every gateway on the same `namespace`
    /// (one per database). Connects in the background: until Redis answers, events stay local.
    pub fn relayed(redis_url: &str, namespace: &str) -> crate::error::Result<Self> {
        let topics = Arc::new(Topics::default());
        let relay = relay::start(redis_url, namespace, Arc::downgrade(&topics))?;
        Ok(Self {
            topics,
            relay: Some(relay),
        })
    }

    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<HubEvent> {
        let mut topics = self.topics.0.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .subscribe()
    }

    /// Sends to the topic's subscribers here and, with a relay, on every other gateway.
    pub fn publish(&self, topic: Topic, event: HubEvent) {
        if let Some(relay) = &self.relay {
            // The relay task serialises and publishes, off the caller's path.
            let _ = relay.send((topic.clone(), event.clone()));
        }
        self.topics.deliver(&topic, event);
    }

    #[cfg(test)]
    fn topic_count(&self) -> usize {
        self.topics.0.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Author;

    fn message(seq: i64) -> HubEvent {
        HubEvent::Message(ChatMessage {
            conversation_id: "c".into(),
            seq,
            author: Author::Visitor,
            text: "hi".into(),
            client_id: format!("m{seq}"),
            sent_at_ms: 0,
        })
    }

    #[tokio::test]
    async fn subscribers_of_a_topic_receive_its_events_only() {
        let hub = Hub::default();
        let mut a = hub.subscribe(Topic::Conversation("a".into()));
        let mut b = hub.subscribe(Topic::Conversation("b".into()));
        hub.publish(Topic::Conversation("a".into()), message(1));
        assert!(matches!(a.recv().await.unwrap(), HubEvent::Message(m) if m.seq == 1));
        assert!(b.try_recv().is_err());
    }

    #[tokio::test]
    async fn topics_without_subscribers_are_forgotten() {
        let hub = Hub::default();
        let rx = hub.subscribe(Topic::Inbox);
        assert_eq!(hub.topic_count(), 1);
        drop(rx);
        hub.publish(Topic::Inbox, message(1));
        assert_eq!(hub.topic_count(), 0);
    }
}
