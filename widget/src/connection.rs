//! The panel's link to the gateway: a session token from `POST /v1/sessions`, then the visitor
//! socket. On any drop it asks for a fresh token and reconnects with `resume_after`, resending
//! what was never acknowledged (same client ids, so nothing is stored twice).

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{CreateSession, ErrorBody, SessionCreated, VisitorClientFrame, VisitorServerFrame};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

use crate::transcript::Transcript;
use crate::Options;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Online,
    /// Lost or refused; the reason is shown while the next attempt waits.
    Retrying(String),
}

pub struct Chat {
    pub options: Options,
    pub transcript: RwSignal<Transcript>,
    pub status: RwSignal<Status>,
    socket: RefCell<Option<WebSocket>>,
    // The socket's callbacks; replaced (and so released) with each new socket.
    callbacks: RefCell<Vec<Closure<dyn FnMut(JsValue)>>>,
    failures: Cell<u32>,
}

impl Chat {
    pub fn start(options: Options) -> Rc<Self> {
        let chat = Rc::new(Self {
            options,
            transcript: RwSignal::new(Transcript::default()),
            status: RwSignal::new(Status::Connecting),
            socket: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
            failures: Cell::new(0),
        });
        connect(Rc::downgrade(&chat));
        chat
    }

    /// Shows the message at once as "sending" and sends it if the socket is up; otherwise it
    /// goes out with the resend after the next connect.
    pub fn send(&self, text: String) {
        let client_id = new_client_id();
        self.transcript
            .update(|t| t.add_pending(client_id.clone(), text.clone()));
        self.send_frame(&VisitorClientFrame::Send { client_id, text });
    }

    fn send_frame(&self, frame: &VisitorClientFrame) {
        if let Some(socket) = self.socket.borrow().as_ref() {
            if socket.ready_state() == WebSocket::OPEN {
                let json = serde_json::to_string(frame).expect("frames serialize");
                let _ = socket.send_with_str(&json);
            }
        }
    }

    fn on_frame(&self, frame: VisitorServerFrame) {
        let ready = matches!(frame, VisitorServerFrame::Ready { .. });
        self.transcript.update(|t| t.apply(frame));
        if ready {
            self.failures.set(0);
            self.status.set(Status::Online);
            for (client_id, text) in self.transcript.with_untracked(Transcript::pending) {
                self.send_frame(&VisitorClientFrame::Send { client_id, text });
            }
        }
    }
}

fn new_client_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{random:x}", js_sys::Date::now() as u64)
}

fn connect(chat: Weak<Chat>) {
    leptos::task::spawn_local(async move {
        let Some(strong) = chat.upgrade() else { return };
        match open_session(&strong.options).await {
            Ok(session) => open_socket(&strong, &session),
            Err(reason) => retry_later(&strong, reason),
        }
    });
}

async fn open_session(options: &Options) -> Result<SessionCreated, String> {
    let page_url = web_sys::window().and_then(|w| w.location().href().ok());
    let body = CreateSession {
        channel_key: options.channel.clone(),
        visit_ticket: options.ticket.clone(),
        page_url,
    };
    let response = Request::post(&format!("{}/v1/sessions", options.gateway))
        .json(&body)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat service cannot be reached.".to_owned())?;
    if !response.ok() {
        let error: Result<ErrorBody, _> = response.json().await;
        return Err(error.map_or_else(
            |_| "The chat is unavailable.".to_owned(),
            |e| e.error.message,
        ));
    }
    let session: SessionCreated = response.json().await.map_err(|e| e.to_string())?;
    // The visitor opened the chat: from now on this browser is remembered, so a reload finds the
    // same conversation. Nothing was stored before this click.
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(&options.store, &options.ticket);
    }
    Ok(session)
}

fn open_socket(chat: &Rc<Chat>, session: &SessionCreated) {
    let resume = chat.transcript.with_untracked(|t| {
        t.conversation_id
            .as_ref()
            .map(|id| format!("&conversation_id={id}&resume_after={}", t.last_seq()))
            .unwrap_or_default()
    });
    let base = chat.options.gateway.replacen("http", "ws", 1);
    let url = format!(
        "{base}/v1/visitor/ws?token={}{resume}",
        session.session_token
    );
    let socket = match WebSocket::new(&url) {
        Ok(socket) => socket,
        Err(_) => return retry_later(chat, "The chat connection failed.".into()),
    };
    let weak = Rc::downgrade(chat);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Some(chat) = weak.upgrade() else { return };
        let data = event.unchecked_into::<MessageEvent>().data().as_string();
        if let Some(frame) = data.and_then(|d| serde_json::from_str(&d).ok()) {
            chat.on_frame(frame);
        }
    });
    let weak = Rc::downgrade(chat);
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(chat) = weak.upgrade() {
            chat.socket.borrow_mut().take();
            retry_later(&chat, "Connection lost; reconnecting…".into());
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *chat.callbacks.borrow_mut() = vec![on_message, on_close];
    *chat.socket.borrow_mut() = Some(socket);
}

/// Waits longer after each failure (0.5 s doubling to 10 s), then starts over with a new session.
fn retry_later(chat: &Rc<Chat>, reason: String) {
    let failures = chat.failures.get() + 1;
    chat.failures.set(failures);
    chat.status.set(Status::Retrying(reason));
    let delay = Duration::from_millis((500u64 << failures.min(5)).min(10_000));
    let weak = Rc::downgrade(chat);
    set_timeout(move || connect(weak), delay);
}
