//! The panel's link to the gateway: a session token from `POST /v1/sessions`, then the visitor
//! socket. On any drop it asks for a fresh token and reconnects with `resume_after`, resending
//! what was never acknowledged (same client ids, so nothing is stored twice).

use browser_socket::Link;
use leptos::html::Div;
use leptos::prelude::*;
use protocol::{CreateSession, ErrorBody, SessionCreated, VisitorClientFrame, VisitorServerFrame};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::captcha;
use crate::transcript::Transcript;
use crate::Options;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Online,
    /// Lost or refused; the reason is shown while the next attempt waits.
    Retrying(String),
    /// The gateway ended the session; nothing reconnects until the visitor starts again.
    Ended(String),
    /// Waiting for the visitor to solve the channel's captcha.
    Captcha,
}

impl Status {
    /// For the `data-state` attribute the tests read.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Online => "online",
            Status::Retrying(_) => "retrying",
            Status::Ended(_) => "ended",
            Status::Captcha => "captcha",
        }
    }
}

pub struct Chat {
    pub options: Options,
    pub transcript: RwSignal<Transcript>,
    pub status: RwSignal<Status>,
    link: Link,
    /// When the last typing notice went out (ms), to send at most one every few seconds.
    last_typing_ms: Cell<f64>,
    /// Where the provider renders the captcha challenge.
    pub captcha_box: NodeRef<Div>,
    /// The session token and when it expires (ms): reused across reconnects until then, so a
    /// network blip does not ask for a new session (or a new captcha).
    session: RefCell<Option<(String, f64)>>,
    /// Whether the current socket got its `ready`: a socket closed before that was refused.
    ready_seen: Cell<bool>,
}

/// A session token this close to expiry is not reused.
const SESSION_MARGIN_MS: f64 = 30_000.0;

/// Typing notices count as activity for the inactivity timeout; one per interval is enough.
const TYPING_INTERVAL_MS: f64 = 3000.0;

impl Chat {
    pub fn start(options: Options) -> Rc<Self> {
        let chat = Rc::new(Self {
            options,
            transcript: RwSignal::new(Transcript::default()),
            status: RwSignal::new(Status::Connecting),
            link: Link::default(),
            last_typing_ms: Cell::new(0.0),
            captcha_box: NodeRef::new(),
            session: RefCell::new(None),
            ready_seen: Cell::new(false),
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
        self.link
            .send(&VisitorClientFrame::Send { client_id, text });
    }

    /// The visitor is typing: tells the gateway, at most once per interval.
    pub fn typing(&self) {
        let now = js_sys::Date::now();
        if now - self.last_typing_ms.get() >= TYPING_INTERVAL_MS
            && self.link.send(&VisitorClientFrame::Typing)
        {
            self.last_typing_ms.set(now);
        }
    }

    /// After the gateway ended the session: a new session, resuming the same conversation.
    pub fn start_again(self: &Rc<Self>) {
        self.status.set(Status::Connecting);
        connect(Rc::downgrade(self));
    }

    fn on_frame(&self, frame: VisitorServerFrame) {
        if let VisitorServerFrame::SessionEnded { after_secs, .. } = frame {
            self.session.borrow_mut().take();
            let minutes = (after_secs + 59) / 60;
            let idle = if after_secs < 60 {
                format!("{after_secs} seconds")
            } else {
                format!("{minutes} minutes")
            };
            self.status.set(Status::Ended(format!(
                "This chat was closed after {idle} without activity."
            )));
            return;
        }
        let ready = matches!(frame, VisitorServerFrame::Ready { .. });
        self.transcript.update(|t| t.apply(frame));
        if ready {
            self.ready_seen.set(true);
            self.link.connected();
            self.status.set(Status::Online);
            for (client_id, text) in self.transcript.with_untracked(Transcript::pending) {
                self.link
                    .send(&VisitorClientFrame::Send { client_id, text });
            }
        }
    }

    fn on_closed(self: &Rc<Self>) {
        if !self.ready_seen.get() {
            // Refused at the upgrade (expired or ended token): the next try gets a new session.
            self.session.borrow_mut().take();
        }
        if !matches!(self.status.get_untracked(), Status::Ended(_)) {
            self.retry_later("Connection lost; reconnecting…".into());
        }
    }

    fn retry_later(self: &Rc<Self>, reason: String) {
        self.status.set(Status::Retrying(reason));
        let weak = Rc::downgrade(self);
        self.link.retry_later(move || connect(weak));
    }
}

fn new_client_id() -> String {
    let random = (js_sys::Math::random() * 1e15) as u64;
    format!("{:x}-{random:x}", js_sys::Date::now() as u64)
}

fn connect(chat: Weak<Chat>) {
    leptos::task::spawn_local(async move {
        let Some(chat) = chat.upgrade() else { return };
        let cached = chat.session.borrow().clone();
        let token = match cached {
            Some((token, expires)) if expires - SESSION_MARGIN_MS > js_sys::Date::now() => token,
            _ => match new_session(&chat).await {
                Ok(token) => token,
                Err(reason) => return chat.retry_later(reason),
            },
        };
        open_socket(&chat, &token);
    });
}

/// Solves the captcha first if the channel requires one, then opens a session.
async fn new_session(chat: &Rc<Chat>) -> Result<String, String> {
    let captcha_token = match &chat.options.captcha {
        Some(challenge) => {
            chat.status.set(Status::Captcha);
            let container = chat
                .captcha_box
                .get_untracked()
                .ok_or("The chat is not ready.")?;
            let token = captcha::solve(&container, challenge).await?;
            chat.status.set(Status::Connecting);
            Some(token)
        }
        None => None,
    };
    let session = open_session(&chat.options, captcha_token).await?;
    let expires = js_sys::Date::now() + session.expires_in_secs as f64 * 1000.0;
    *chat.session.borrow_mut() = Some((session.session_token.clone(), expires));
    Ok(session.session_token)
}

async fn open_session(
    options: &Options,
    captcha_token: Option<String>,
) -> Result<SessionCreated, String> {
    let page_url = web_sys::window().and_then(|w| w.location().href().ok());
    let body = CreateSession {
        channel_key: options.channel.clone(),
        visit_ticket: options.ticket.clone(),
        page_url,
        captcha_token,
    };
    let (ok, text) = post_json(&format!("{}/v1/sessions", options.gateway), &body)
        .await
        .map_err(|_| "The chat service cannot be reached.".to_owned())?;
    if !ok {
        let error: Result<ErrorBody, _> = serde_json::from_str(&text);
        return Err(error.map_or_else(
            |_| "The chat is unavailable.".to_owned(),
            |e| e.error.message,
        ));
    }
    let session: SessionCreated = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    // The visitor opened the chat: from now on this browser is remembered, so a reload finds the
    // same conversation. Nothing was stored before this click.
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(&options.store, &options.ticket);
    }
    Ok(session)
}

/// POSTs `body` as JSON with the browser's `fetch`; returns whether the status was 2xx, and the
/// body text. (The widget's one HTTP call: a plain fetch keeps an HTTP crate out of its size.)
async fn post_json<T: serde::Serialize>(url: &str, body: &T) -> Result<(bool, String), JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(
        &serde_json::to_string(body).expect("bodies serialize"),
    ));
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.ok(), text))
}

fn open_socket(chat: &Rc<Chat>, token: &str) {
    let resume = chat.transcript.with_untracked(|t| {
        t.conversation_id
            .as_ref()
            .map(|id| format!("&conversation_id={id}&resume_after={}", t.last_seq()))
            .unwrap_or_default()
    });
    let base = chat.options.gateway.replacen("http", "ws", 1);
    let url = format!("{base}/v1/visitor/ws?token={token}{resume}");
    chat.ready_seen.set(false);
    if chat
        .link
        .open(&url, chat, Chat::on_frame, Chat::on_closed)
        .is_err()
    {
        chat.retry_later("The chat connection failed.".into());
    }
}
