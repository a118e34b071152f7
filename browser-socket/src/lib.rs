//! The browser side of a gateway socket, shared by the widget and the console: JSON frames in
//! and out over a `web_sys::WebSocket`, the backoff between reconnects, the client id each sent
//! message carries, and the pace of typing notices. What to do on a frame or a drop (resume,
//! resend) stays with each app; this crate only carries frames.

use serde::Serialize;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

pub mod json;

type Callback = Closure<dyn FnMut(JsValue)>;

#[derive(Default)]
pub struct Link {
    socket: RefCell<Option<WebSocket>>,
    // The socket's callbacks; replaced (and so released) with each new socket.
    callbacks: RefCell<Vec<Callback>>,
    failures: Cell<u32>,
}

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
        let on_close = Callback::new(move |_| on_close());
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

    /// The link works again: the next failure waits the shortest delay.
    pub fn connected(&self) {
        self.failures.set(0);
    }

    /// Forgets the socket and runs `reconnect` after a delay that doubles with each failure in
    /// a row (0.5 s to 10 s), so a gateway that is down is not hammered.
    pub fn retry_later(&self, reconnect: impl FnOnce() + 'static) {
        self.socket.borrow_mut().take();
        let failures = self.failures.get() + 1;
        self.failures.set(failures);
        let delay_ms = (500u32 << failures.min(5)).min(10_000);
        let callback = Closure::once_into_js(reconnect);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                delay_ms as i32,
            );
        }
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
