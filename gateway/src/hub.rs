//! Real-time fan-out inside one gateway process: one tokio broadcast channel per topic.
//!
//! The hub carries notifications, never the only copy of anything: every message is committed to
//! the store before it is published, so a subscriber that lags or joins late catches up from the
//! store by `seq` instead of losing messages.

use protocol::{ChatMessage, ConversationSummary};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Events buffered per topic before a slow subscriber is told it lagged (it then re-reads the
/// store, so the bound costs latency for that subscriber, never data).
const TOPIC_CAPACITY: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

#[derive(Debug, Clone)]
pub enum HubEvent {
    Message(ChatMessage),
    Conversation(ConversationSummary),
    /// Someone is typing in the conversation: an agent (by name) or, with None, the visitor.
    Typing {
        conversation_id: String,
        agent_name: Option<String>,
    },
}

#[derive(Default)]
pub struct Hub {
    // A std Mutex is right here: it is held only to look up or insert a sender, never across an
    // await, so it is never contended for long.
    topics: Mutex<HashMap<Topic, broadcast::Sender<HubEvent>>>,
}

impl Hub {
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<HubEvent> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .subscribe()
    }

    /// Sends to the topic's current subscribers; a topic nobody listens to is dropped.
    pub fn publish(&self, topic: Topic, event: HubEvent) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = topics.get(&topic) {
            if sender.send(event).is_err() {
                topics.remove(&topic);
            }
        }
    }

    #[cfg(test)]
    fn topic_count(&self) -> usize {
        self.topics.lock().unwrap().len()
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
