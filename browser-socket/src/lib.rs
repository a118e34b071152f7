//! The browser side of a gateway socket, shared by the widget and the console: JSON frames in
//! and out over a `web_sys::WebSocket`, the backoff between reconnects, the client id each sent
//! message carries, the pace of typing notices, and the files a message carries ([`upload`]).
//! What to do on a frame or a drop (resume, resend) stays with each app; this crate only
//! carries frames and files.

use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

pub mod json;
pub mod upload;

type Callback = Closure<dyn FnMut(JsValue)>;

#[derive(Default)]
pub struct Link {
    socket: RefCell<Option<WebSocket>>,
    // The socket's callbacks; replaced (and so released) with each new socket.
    callbacks: RefCell<Vec<Callback>>,
    failures: Cell<u32>,
    /// The last socket was closed by a gateway that is stopping (code 1001): the next attempt
    /// goes at once, to another gateway, and is no failure.
    went_away: Rc<Cell<bool>>,
}

/// The close code of a gateway that stops (a deploy, a restart).
const GOING_AWAY: u16 = 1001;
/// Reconnects after a gateway went away are spread over this long, so its visitors do not all
/// land on the next one in the same instant.
const GOING_AWAY_SPREAD_MS: f64 = 1000.0;

impl Link {
    /// Opens a socket to `url`. Each text frame that is JSON goes to `on_frame` as the value
    /// `JSON.parse` made (each app reads its own frames: see [`json::from_value`]);
    /// `on_close` runs once the socket is gone (refused, dropped or closed). The callbacks live
    /// as long as this socket: an owner that holds this link gives them a weak reference to
    /// itself, or both would stay alive for ever.
    pub fn open(
        &self,
        url: &str,
        mut on_frame: impl FnMut(JsValue) + 'static,
        mut on_close: impl FnMut() + 'static,
    ) -> Result<(), JsValue> {
        let socket = WebSocket::new(url)?;
        let on_message = Callback::new(move |event: JsValue| {
            let text = event.unchecked_into::<MessageEvent>().data().as_string();
            if let Some(frame) = text.and_then(|t| js_sys::JSON::parse(&t).ok()) {
                on_frame(frame);
            }
        });
        let went_away = self.went_away.clone();
        let on_close = Callback::new(move |event: JsValue| {
            went_away.set(event.unchecked_into::<CloseEvent>().code() == GOING_AWAY);
            on_close();
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.callbacks.borrow_mut() = vec![on_message, on_close];
        *self.socket.borrow_mut() = Some(socket);
        Ok(())
    }

    /// Sends the frame if the socket is open; false otherwise (the caller resends on reconnect).
    pub fn send<T: Serialize>(&self, frame: &T) -> bool {
        self.send_text(&json::stringify(frame))
    }

    /// Sends a frame already written as JSON text, the same way.
    pub fn send_text(&self, frame: &str) -> bool {
        let socket = self.socket.borrow();
        match socket
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
        {
            Some(socket) => socket.send_with_str(frame).is_ok(),
            None => false,
        }
    }

    /// Closes the socket; its `on_close` still runs.
    pub fn close(&self) {
        if let Some(socket) = self.socket.borrow_mut().take() {
            let _ = socket.close();
        }
    }

    /// The link works again: the next failure waits the shortest delay.
    pub fn connected(&self) {
        self.failures.set(0);
    }

    /// Forgets the socket and runs `reconnect` after a delay that doubles with each failure in
    /// a row (0.5 s to 10 s), so a gateway that is down is not hammered; after a gateway said it
    /// is going away, within a second instead, without counting a failure.
    pub fn retry_later(&self, reconnect: impl FnOnce() + 'static) {
        self.socket.borrow_mut().take();
        let (delay_ms, failures) = next_attempt(
            self.went_away.replace(false),
            self.failures.get(),
            js_sys::Math::random(),
        );
        self.failures.set(failures);
        let callback = Closure::once_into_js(reconnect);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                delay_ms as i32,
            );
        }
    }
}

/// How long to wait before the next attempt (ms) and the failures in a row counted then, given
/// whether the gateway went away, the failures so far and a random number in [0, 1).
fn next_attempt(went_away: bool, failures: u32, random: f64) -> (u32, u32) {
    if went_away {
        ((random * GOING_AWAY_SPREAD_MS) as u32, failures)
    } else {
        let failures = failures + 1;
        ((500u32 << failures.min(5)).min(10_000), failures)
    }
}

/// A new message's client id: unique enough across tabs and reloads (time and randomness), and
/// kept with the message until the gateway acks it, so a resend is never stored twice.
pub fn client_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{random:x}", js_sys::Date::now() as u64)
}

/// One typing notice per this long is enough: the other side shows each for a few seconds.
pub const TYPING_INTERVAL_MS: f64 = 3000.0;

/// The pace of this page's typing notices.
#[derive(Default)]
pub struct TypingNotices {
    /// When the last notice went out (ms).
    last_ms: Cell<f64>,
}

impl TypingNotices {
    /// Runs `send` unless a notice went out less than an interval ago; `send` says whether the
    /// notice left (a closed socket sends nothing, and the next keypress tries again).
    pub fn notify(&self, send: impl FnOnce() -> bool) {
        let now = js_sys::Date::now();
        if now - self.last_ms.get() >= TYPING_INTERVAL_MS && send() {
            self.last_ms.set(now);
        }
    }

    /// A message went out: typing after it is a new episode, whose first notice goes at once.
    pub fn reset(&self) {
        self.last_ms.set(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::next_attempt;

    #[test]
    fn a_gateway_going_away_is_no_failure_and_the_next_attempt_comes_within_a_second() {
        assert_eq!(next_attempt(true, 0, 0.999), (999, 0));
        assert_eq!(next_attempt(true, 3, 0.0), (0, 3));
        // Failures back off, doubling, to 10 s.
        assert_eq!(next_attempt(false, 0, 0.5), (1000, 1));
        assert_eq!(next_attempt(false, 1, 0.5), (2000, 2));
        assert_eq!(next_attempt(false, 9, 0.5), (10_000, 10));
    }
}
