//! Plumbing shared by the visitor and agent sockets: reading frames within the limits, writing
//! frames, and delivering each conversation's messages exactly once and in `seq` order whether
//! they come from the store (replay, catch-up) or from the hub (live).
//!
//! Both sockets are written against a `Sink` of messages out and a `Stream` of messages in (the
//! two halves of axum's `WebSocket`, or channels in a test), and both turn each frame and each
//! hub event into a [`Step`] in plain functions; [`perform`] carries a step out.

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocketUpgrade};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::{codes, ChatMessage, MAX_FRAME_BYTES};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::store::Store;

/// The transport's own hard limit; frames between [`MAX_FRAME_BYTES`] and this get a polite
/// `frame_too_large` error, frames above it close the connection.
pub const TRANSPORT_MAX_BYTES: usize = 4 * MAX_FRAME_BYTES;

/// The read buffer each socket keeps for its life. The transport's default (128 KiB, allocated
/// up front) was most of what an idle visitor socket cost. Most frames (a message, a typing
/// notice) fit in one read of this; a larger one reserves its own length and takes a few reads.
const READ_BUFFER_BYTES: usize = 1024;

/// The upgrade with the limits and buffers every socket of the gateway uses.
pub fn configure(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .max_message_size(TRANSPORT_MAX_BYTES)
        .max_frame_size(TRANSPORT_MAX_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
}

/// The close frame a socket gets when its gateway stops: 1001 "going away" tells the client
/// to reconnect at once (to another gateway), not to back off as after a failure.
///
/// Then the closing handshake: reading on until the client's own close frame, so nothing it
/// sent is left unread when the socket drops; unread data makes the kernel reset the
/// connection, which can destroy the close frame before the client reads it.
pub async fn going_away<E>(
    out: &mut (impl Sink<Message> + Unpin),
    incoming: &mut (impl Stream<Item = std::result::Result<Message, E>> + Unpin),
) -> Result<()> {
    let close = Message::Close(Some(CloseFrame {
        code: close_code::AWAY,
        reason: "going away".into(),
    }));
    // A client that reads or answers nothing does not hold the shutdown up.
    let handshake = async {
        if out.send(close).await.is_ok() {
            while let Some(Ok(message)) = incoming.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), handshake).await;
    Ok(())
}

/// Page size of replays, so a long history never becomes one huge query.
const REPLAY_PAGE: i64 = 500;

/// What one incoming websocket message turned out to be.
pub enum Incoming<T> {
    Frame(T),
    /// A frame the client should hear about (code, message); the socket stays open.
    Refused(&'static str, String),
    /// Pings, pongs: nothing to do.
    Ignored,
    Closed,
}

impl<T> Incoming<T> {
    /// Whether the client did something (any frame it meant to send), for idle timeouts.
    pub fn is_activity(&self) -> bool {
        matches!(self, Self::Frame(_))
    }
}

/// What a socket does next, after a frame from its client or an event from the hub.
#[derive(Debug, PartialEq)]
pub enum Step<F> {
    Nothing,
    /// Send this frame.
    Reply(F),
    /// A live message: sent in order and once, through the socket's [`Delivered`].
    Deliver(ChatMessage),
    /// Send what is stored in this conversation after what was delivered (a new follow).
    CatchUp(String),
    /// Events were dropped for this socket: catch up on every conversation it follows.
    Resync,
    /// The client or the hub is gone.
    Close,
    /// The gateway is stopping: close with "going away" ([`going_away`]).
    GoingAway,
}

/// Carries out a step; false when the socket is done (closed, the peer gone, or the gateway
/// stopping). `incoming` is read only by the closing handshake of "going away".
pub async fn perform<F: Serialize, E>(
    out: &mut (impl Sink<Message> + Unpin),
    incoming: &mut (impl Stream<Item = std::result::Result<Message, E>> + Unpin),
    store: &Store,
    delivered: &mut Delivered,
    step: Step<F>,
    to_frame: impl Fn(ChatMessage) -> F + Copy,
) -> Result<bool> {
    match step {
        Step::Nothing => Ok(true),
        Step::Reply(frame) => Ok(send(out, &frame).await),
        Step::Deliver(message) => deliver(out, store, delivered, message, to_frame).await,
        Step::CatchUp(id) => catch_up(out, store, delivered, &id, to_frame).await,
        Step::Resync => recover_lag(out, store, delivered, to_frame).await,
        Step::Close => Ok(false),
        Step::GoingAway => going_away(out, incoming).await.map(|()| false),
    }
}

/// The next message from the client, read as a frame of `T`.
pub async fn receive<T: DeserializeOwned>(
    socket: &mut (impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin),
) -> Incoming<T> {
    let text = match socket.next().await {
        Some(Ok(Message::Text(text))) => text,
        Some(Ok(Message::Binary(_))) => {
            return Incoming::Refused(codes::INVALID_FRAME, "frames are JSON text".into())
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Incoming::Ignored,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Incoming::Closed,
    };
    decode(text.as_str())
}

/// What one text frame says: a frame of `T`, or why it is refused. Pure, so the property tests
/// can throw anything at it.
pub fn decode<T: DeserializeOwned>(text: &str) -> Incoming<T> {
    if text.len() > MAX_FRAME_BYTES {
        return Incoming::Refused(
            codes::FRAME_TOO_LARGE,
            format!("a frame can be at most {MAX_FRAME_BYTES} bytes"),
        );
    }
    // PostgreSQL stores no NUL in text, SQLite would: refused here, the same on every store.
    if text.contains("\\u0000") {
        return Incoming::Refused(
            codes::INVALID_FRAME,
            "frames cannot carry NUL characters".into(),
        );
    }
    match serde_json::from_str(text) {
        Ok(frame) => Incoming::Frame(frame),
        Err(e) => Incoming::Refused(codes::INVALID_FRAME, format!("unreadable frame: {e}")),
    }
}

/// Writes one frame; false when the peer is gone.
pub async fn send<T: Serialize>(socket: &mut (impl Sink<Message> + Unpin), frame: &T) -> bool {
    let json = serde_json::to_string(frame).expect("frames serialize");
    socket.send(Message::Text(json.into())).await.is_ok()
}

/// At most one typing notice per conversation per this long from one socket: the widget and the
/// console send one every few seconds while a key is pressed; anything faster is noise that would
/// cost every subscriber (and the relay) a frame.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// Which typing notices of one socket to pass on (see [`TYPING_INTERVAL`]).
#[derive(Debug, Default)]
pub struct TypingThrottle {
    last: HashMap<String, Instant>,
}

impl TypingThrottle {
    /// Whether a notice for this conversation goes out now.
    pub fn allow(&mut self, conversation_id: &str, now: Instant) -> bool {
        if self.last.len() > 64 {
            self.last
                .retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        }
        match self.last.get(conversation_id) {
            Some(at) if now.duration_since(*at) < TYPING_INTERVAL => false,
            _ => {
                self.last.insert(conversation_id.to_owned(), now);
                true
            }
        }
    }
}

/// The last `seq` delivered to this socket, per conversation. A list, not a map: a visitor's
/// socket follows one conversation and a console a few dozen, and an empty map's first entry
/// would take four buckets of every idle socket's memory.
#[derive(Debug, Default)]
pub struct Delivered {
    last: Vec<(String, i64)>,
}

/// What to do with a live message from the hub.
#[derive(Debug, PartialEq, Eq)]
pub enum Live {
    /// The next one in order: send it.
    Send,
    /// Already delivered (it came through a replay first): drop it.
    Skip,
    /// Something before it was missed: read the store from the last delivered seq.
    CatchUp,
}

impl Delivered {
    /// Start following a conversation from `after` (the client already has everything up to it).
    pub fn follow(&mut self, conversation_id: &str, after: i64) {
        *self.entry(conversation_id) = after;
    }

    pub fn conversations(&self) -> Vec<String> {
        self.last.iter().map(|(id, _)| id.clone()).collect()
    }

    /// The last seq delivered in the conversation (0: none).
    pub fn last_of(&self, conversation_id: &str) -> i64 {
        self.last
            .iter()
            .find(|(id, _)| id == conversation_id)
            .map_or(0, |(_, seq)| *seq)
    }

    fn entry(&mut self, conversation_id: &str) -> &mut i64 {
        let index = match self.last.iter().position(|(id, _)| id == conversation_id) {
            Some(index) => index,
            None => {
                self.last.push((conversation_id.to_owned(), 0));
                self.last.len() - 1
            }
        };
        &mut self.last[index].1
    }

    pub fn classify(&self, message: &ChatMessage) -> Live {
        let last = self.last_of(&message.conversation_id);
        match message.seq - last {
            1 => Live::Send,
            d if d <= 0 => Live::Skip,
            _ => Live::CatchUp,
        }
    }

    pub fn mark(&mut self, message: &ChatMessage) {
        let last = self.entry(&message.conversation_id);
        *last = (*last).max(message.seq);
    }
}

/// Sends every stored message of the conversation after the last delivered one. Returns false
/// when the peer is gone.
async fn catch_up<F: Serialize>(
    socket: &mut (impl Sink<Message> + Unpin),
    store: &Store,
    delivered: &mut Delivered,
    conversation_id: &str,
    to_frame: impl Fn(ChatMessage) -> F,
) -> Result<bool> {
    loop {
        let after = delivered.last_of(conversation_id);
        let page = store
            .messages_after(conversation_id, after, REPLAY_PAGE)
            .await?;
        let full = page.len() as i64 == REPLAY_PAGE;
        for message in page {
            delivered.mark(&message);
            if !send(socket, &to_frame(message)).await {
                return Ok(false);
            }
        }
        if !full {
            return Ok(true);
        }
    }
}

/// Delivers a live message from the hub: in order, once, reading the store for anything missed.
/// Returns false when the peer is gone.
async fn deliver<F: Serialize>(
    socket: &mut (impl Sink<Message> + Unpin),
    store: &Store,
    delivered: &mut Delivered,
    message: ChatMessage,
    to_frame: impl Fn(ChatMessage) -> F,
) -> Result<bool> {
    match delivered.classify(&message) {
        Live::Send => {
            delivered.mark(&message);
            Ok(send(socket, &to_frame(message)).await)
        }
        Live::Skip => Ok(true),
        Live::CatchUp => {
            let id = message.conversation_id.clone();
            catch_up(socket, store, delivered, &id, to_frame).await
        }
    }
}

/// After the hub dropped events for a slow socket: re-read every followed conversation.
async fn recover_lag<F: Serialize>(
    socket: &mut (impl Sink<Message> + Unpin),
    store: &Store,
    delivered: &mut Delivered,
    to_frame: impl Fn(ChatMessage) -> F + Copy,
) -> Result<bool> {
    for id in delivered.conversations() {
        if !catch_up(socket, store, delivered, &id, to_frame).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Author;

    fn msg(conversation: &str, seq: i64) -> ChatMessage {
        ChatMessage {
            conversation_id: conversation.into(),
            seq,
            author: Author::Visitor,
            text: String::new(),
            client_id: String::new(),
            sent_at_ms: 0,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn typing_notices_pass_once_per_interval_per_conversation() {
        let mut throttle = TypingThrottle::default();
        let start = Instant::now();
        assert!(throttle.allow("a", start));
        assert!(!throttle.allow("a", start + Duration::from_millis(100)));
        assert!(throttle.allow("b", start + Duration::from_millis(100)));
        assert!(throttle.allow("a", start + TYPING_INTERVAL));
    }

    #[test]
    fn live_messages_are_sent_in_order_once() {
        let mut d = Delivered::default();
        d.follow("a", 2);
        assert_eq!(d.classify(&msg("a", 2)), Live::Skip);
        assert_eq!(d.classify(&msg("a", 3)), Live::Send);
        assert_eq!(d.classify(&msg("a", 5)), Live::CatchUp);
        d.mark(&msg("a", 3));
        assert_eq!(d.classify(&msg("a", 3)), Live::Skip);
        // A conversation not yet followed starts at zero: its first message is sent.
        assert_eq!(d.classify(&msg("b", 1)), Live::Send);
    }
}
