//! Real-time fan-out: one tokio broadcast channel per topic inside a gateway, and with several
//! gateways on one database, a Redis pub/sub relay between them ([`relay`]), so a visitor on
//! gateway A and an agent on gateway B talk as if on one.
//!
//! The hub carries notifications, never the only copy of anything: every message is committed to
//! the store before it is published, so a subscriber that lags or joins late (or whose gateway
//! lost Redis for a while) catches up from the store by `seq` instead of losing messages.

mod relay;

use futures_util::stream::Stream;
use protocol::{ChatMessage, CobrowseAct, CobrowseInvite, CobrowseSession, ConversationSummary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

/// Events waiting for the Redis relay. Beyond that, events are dropped and the other gateways
/// are told to resync (see [`HubEvent::Resync`]): only typing notices are lost for good.
const RELAY_QUEUE: usize = 4096;

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
    /// The page mirror of one conversation's co-browsing session: the consoles watching it.
    Mirror(String),
}

impl Topic {
    /// Events buffered per topic before a slow subscriber is told it lagged (it then re-reads
    /// the store, so the bound costs latency for that subscriber, never data). Broadcast
    /// channels allocate every slot up front (a pointer each, see [`Shared`]), so the
    /// per-visitor and per-conversation topics, one or a few per socket and quiet, stay small.
    fn capacity(&self) -> usize {
        match self {
            Topic::Inbox => 256,
            Topic::Conversation(_) => 16,
            Topic::Visitor { .. } => 8,
            // A snapshot comes in pieces, one after the other: a console a little behind
            // should not lose the page (losing it costs a fresh snapshot, not data).
            Topic::Mirror(_) => 64,
        }
    }
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
    /// A co-browsing session was asked for or changed: to the agents following its
    /// conversation.
    Cobrowse(CobrowseSession),
    /// The same, as the visitor's panel sees it.
    CobrowseInvite(CobrowseInvite),
    /// A piece of a conversation's page mirror, as the visitor's module sent it.
    Mirror {
        conversation_id: String,
        session_id: String,
        data: String,
        more: bool,
    },
    /// From an agent to the co-browse module on the visitor's page.
    ToMirror {
        conversation_id: String,
        signal: MirrorSignal,
    },
    /// Events for this topic may have been lost on the way (the relay queue overflowed, or
    /// Redis was out of reach): re-read the store as after a lag.
    Resync,
    /// This gateway is stopping: its sockets close with "going away". Never relayed.
    GoingAway,
}

/// What an agent sends the co-browse module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MirrorSignal {
    Point {
        x: i32,
        y: i32,
    },
    Act(CobrowseAct),
    /// The agent's view lost track: the page afresh.
    Resync,
}

/// What a topic's channel carries: one copy of each event however many subscribe, and a slot
/// the size of a pointer (an event inline is about 300 bytes, in every slot of every topic).
type Shared = Arc<HubEvent>;

/// The broadcast channel of each topic that has subscribers in this process.
// A std Mutex is right here: it is held only to look up or insert a sender, never across an
// await, so it is never contended for long.
#[derive(Default)]
// Keyed by a shared topic that each subscription holds too: a visitor's topic (two ids) is
// then kept once, not once per subscriber and once more in the map.
struct Topics(Mutex<HashMap<Arc<Topic>, broadcast::Sender<Shared>>>);

impl Topics {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<Topic>, broadcast::Sender<Shared>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends to the topic's subscribers in this process.
    fn deliver(&self, topic: &Topic, event: HubEvent) {
        if let Some(sender) = self.lock().get(topic) {
            // No receiver: the last one is being dropped and removes the topic itself.
            let _ = sender.send(Arc::new(event));
        }
    }

    /// Sends to every topic's subscribers in this process.
    fn deliver_to_all(&self, event: &HubEvent) {
        let event = Arc::new(event.clone());
        for sender in self.lock().values() {
            let _ = sender.send(event.clone());
        }
    }
}

/// The relay's end of the hub: a bounded queue, and whether it dropped anything since the
/// relay last told the other gateways to resync.
struct RelayQueue {
    sender: mpsc::Sender<(Topic, HubEvent)>,
    overflowed: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Hub {
    topics: Arc<Topics>,
    /// To the Redis relay, when gateways share the load.
    relay: Option<RelayQueue>,
}

/// One subscriber of one topic. Dropping the last subscription of a topic removes the topic, so
/// the hub holds nothing for sockets that are gone.
pub struct Subscription {
    /// Some until dropped; taken first in `drop`, so the count of receivers left is exact.
    receiver: Option<broadcast::Receiver<Shared>>,
    topic: Arc<Topic>,
    topics: Arc<Topics>,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<HubEvent, RecvError> {
        match self.receiver.as_mut() {
            Some(receiver) => receiver.recv().await.map(Arc::unwrap_or_clone),
            None => Err(RecvError::Closed),
        }
    }

    /// The subscription as a stream of events and lags, ending if the topic closes.
    pub fn into_stream(self) -> EventStream {
        Box::pin(futures_util::stream::unfold(self, |mut sub| async move {
            match sub.recv().await {
                Err(RecvError::Closed) => None,
                other => Some((other, sub)),
            }
        }))
    }
}

/// A subscription as a stream. `Sync` as well as `Send`, so a socket that keeps several in its
/// state can be borrowed across an await.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<HubEvent, RecvError>> + Send + Sync>>;

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut topics = self.topics.lock();
        // Under the lock, so a subscriber arriving meanwhile either counts here or finds the
        // topic gone and creates it afresh.
        if topics
            .get(&*self.topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            topics.remove(&*self.topic);
        }
    }
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
        let (sender, receiver) = mpsc::channel(RELAY_QUEUE);
        let overflowed = Arc::new(AtomicBool::new(false));
        relay::start(
            redis_url,
            namespace,
            Arc::downgrade(&topics),
            receiver,
            overflowed.clone(),
        )?;
        Ok(Self {
            topics,
            relay: Some(RelayQueue { sender, overflowed }),
        })
    }

    pub fn subscribe(&self, topic: Topic) -> Subscription {
        let mut topics = self.topics.lock();
        let (topic, receiver) = match topics.get_key_value(&topic) {
            Some((shared, sender)) => (shared.clone(), sender.subscribe()),
            None => {
                let (sender, receiver) = broadcast::channel(topic.capacity());
                let shared = Arc::new(topic);
                topics.insert(shared.clone(), sender);
                (shared, receiver)
            }
        };
        drop(topics);
        Subscription {
            receiver: Some(receiver),
            topic,
            topics: self.topics.clone(),
        }
    }

    /// Sends to the topic's subscribers here and, with a relay, on every other gateway.
    pub fn publish(&self, topic: Topic, event: HubEvent) {
        if let Some(relay) = &self.relay {
            // The relay task serialises and publishes, off the caller's path. A full queue
            // drops the event; the relay then has the other gateways resync from the store.
            if relay
                .sender
                .try_send((topic.clone(), event.clone()))
                .is_err()
            {
                relay.overflowed.store(true, Ordering::Relaxed);
            }
        }
        self.topics.deliver(&topic, event);
    }

    /// Tells every subscriber in this process that the gateway is stopping.
    pub fn going_away(&self) {
        self.topics.deliver_to_all(&HubEvent::GoingAway);
    }

    /// Topics with at least one subscriber in this process.
    pub fn topic_count(&self) -> usize {
        self.topics.lock().len()
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
            attachments: Vec::new(),
        })
    }

    #[tokio::test]
    async fn subscribers_of_a_topic_receive_its_events_only() {
        let hub = Hub::default();
        let mut a = hub.subscribe(Topic::Conversation("a".into()));
        let mut b = hub.subscribe(Topic::Conversation("b".into()));
        hub.publish(Topic::Conversation("a".into()), message(1));
        assert!(matches!(a.recv().await.unwrap(), HubEvent::Message(m) if m.seq == 1));
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), b.recv()).await;
        assert!(nothing.is_err(), "b heard nothing");
    }

    #[tokio::test]
    async fn a_topic_goes_with_its_last_subscriber() {
        let hub = Hub::default();
        let first = hub.subscribe(Topic::Inbox);
        let mut second = hub.subscribe(Topic::Inbox);
        assert_eq!(hub.topic_count(), 1);
        drop(first);
        assert_eq!(hub.topic_count(), 1, "one subscriber is left");
        hub.publish(Topic::Inbox, message(1));
        assert!(matches!(second.recv().await.unwrap(), HubEvent::Message(m) if m.seq == 1));
        drop(second);
        assert_eq!(hub.topic_count(), 0, "nothing is kept for nobody");
        let mut again = hub.subscribe(Topic::Inbox);
        hub.publish(Topic::Inbox, message(2));
        assert!(matches!(again.recv().await.unwrap(), HubEvent::Message(m) if m.seq == 2));
    }

    #[tokio::test]
    async fn a_full_relay_queue_drops_for_the_relay_only_and_says_so() {
        let (sender, _stalled) = mpsc::channel(RELAY_QUEUE);
        let overflowed = Arc::new(AtomicBool::new(false));
        let hub = Hub {
            topics: Arc::default(),
            relay: Some(RelayQueue {
                sender,
                overflowed: overflowed.clone(),
            }),
        };
        let mut here = hub.subscribe(Topic::Inbox);
        for seq in 0..i64::try_from(RELAY_QUEUE).unwrap() {
            hub.publish(Topic::Inbox, message(seq));
            here.recv().await.unwrap();
        }
        assert!(
            !overflowed.load(Ordering::Relaxed),
            "the queue held every event so far"
        );
        hub.publish(Topic::Inbox, message(-1));
        assert!(
            overflowed.load(Ordering::Relaxed),
            "the relay will tell the other gateways to resync"
        );
        assert!(
            matches!(here.recv().await.unwrap(), HubEvent::Message(m) if m.seq == -1),
            "this gateway's subscribers still get it"
        );
    }

    #[tokio::test]
    async fn a_slow_subscriber_of_a_small_topic_is_told_it_lagged() {
        let hub = Hub::default();
        let topic = Topic::Visitor {
            channel_key: "k".into(),
            visitor_id: "v".into(),
        };
        let mut slow = hub.subscribe(topic.clone());
        for seq in 0..=i64::try_from(topic.capacity()).unwrap() {
            hub.publish(topic.clone(), message(seq));
        }
        assert!(matches!(slow.recv().await, Err(RecvError::Lagged(_))));
    }
}
