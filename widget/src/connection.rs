//! The panel's link to the gateway: a session token from `POST /v1/sessions`, then the visitor
//! socket. On any drop it asks for a fresh token and reconnects with `resume_after`, resending
//! what was never acknowledged (same client ids, so nothing is stored twice).

use browser_socket::upload::{Destination, Uploads};
use browser_socket::{Link, TypingNotices};
use leptos::html::Div;
use leptos::prelude::*;
use protocol::{codes, Attachment, SessionCreated, VisitorServerFrame};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::texts::Texts;
use crate::transcript::Transcript;

// In form.js: each JavaScript module of its own costs the panel a request and its bytes.
#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// An agent's message while the panel (`root`) is hidden: one more on the launcher's count,
    /// its first words in the bubble above, the page's `unread` event through `emit`; with
    /// `tone`, a short one (the channel's `appearance.sound`). Returns the count's element.
    fn unread(
        root: &web_sys::HtmlElement,
        emit: &js_sys::Function,
        text: &str,
        tone: bool,
    ) -> web_sys::HtmlElement;
    /// Tells the page, through `emit`, what a socket frame changes: each new message (not the
    /// history shown on opening: `seen` keeps what was told, and since when), a conversation
    /// started or closed.
    fn watch(emit: &js_sys::Function, frame: &JsValue, seen: &js_sys::Object);
    /// Co-browsing on the visitor's side: an agent's request drawn in the panel (`root`) with
    /// Accept and Decline; once this tab accepted, the co-browse module fetched and started
    /// (again on the site's next page), given the agent's frames, and stopped when it ends.
    /// `c` holds what it needs (see [`Chat::start`]) and what it keeps.
    fn cobrowse(frame: &JsValue, c: &js_sys::Object, root: &web_sys::HtmlElement);
}
use crate::{captcha, wire, Options};

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
    /// What the panel says, in the page's language.
    pub texts: Texts,
    pub transcript: RwSignal<Transcript>,
    pub status: RwSignal<Status>,
    link: Link,
    /// The pace of the visitor's own typing notices.
    own_typing: TypingNotices,
    /// Where the provider renders the captcha challenge.
    pub captcha_box: NodeRef<Div>,
    /// The session token and when it expires (ms): reused across reconnects until then, so a
    /// network blip does not ask for a new session (or a new captcha).
    session: Session,
    /// The next message's files, up to the size the session allows (none until it says).
    pub uploads: Uploads,
    /// Whether the current socket got its `ready`: a socket closed before that was refused.
    ready_seen: Cell<bool>,
    /// The agent typing an answer, while their notice lasts.
    pub agent_typing: RwSignal<Option<String>>,
    /// Counts typing notices, so only the latest one's timer clears the indicator.
    typing_notices: RwSignal<u32>,
    /// This page view's visit ticket. Each opens one session; the gateway renews it on request.
    ticket: RefCell<String>,
    /// What the panel asks the visitor, and what it has of the answers.
    pub asks: RwSignal<Asks>,
    /// The element the loader shows and hides: each agent's message that arrives while it is
    /// hidden is `unread`, for the launcher's badge and preview.
    pub shown_in: RefCell<Option<web_sys::HtmlElement>>,
    /// What [`watch`] told the page so far.
    seen: js_sys::Object,
    /// What [`cobrowse`] needs and keeps.
    cobrowse: js_sys::Object,
    /// How [`cobrowse`] sends frames: on this chat's socket.
    cobrowse_send: std::cell::OnceCell<SendFrame>,
}

/// What the panel asks the visitor (the pre-chat form, an email address) and the answers so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asks {
    /// The channel's questions before the first message (`PrechatQuestions` as JSON), until
    /// answered.
    pub prechat: Option<String>,
    /// The session said the gateway sends email.
    pub offered: bool,
    /// Offer replies by email to a visitor left waiting this long.
    pub missed_chat_secs: Option<u64>,
    /// An address sent (and whether for the transcript) whose answer has not come: sent again
    /// after a reconnect, as unacknowledged messages are.
    pub saving: Option<(String, bool)>,
    /// The address the gateway saved.
    pub saved: Option<String>,
    /// Why the address was refused.
    pub refused: Option<String>,
    /// How the channel asks for a rating once the conversation closes; None: it does not.
    pub rating: Option<protocol::RatingScale>,
    /// The conversation the visitor rated.
    pub rated: Option<String>,
}

/// A frame's text onto the chat's socket, for the panel's JavaScript.
type SendFrame = wasm_bindgen::closure::Closure<dyn Fn(String)>;

/// A session token this close to expiry is not reused.
const SESSION_MARGIN_MS: f64 = 30_000.0;

type Session = Rc<RefCell<Option<(String, f64)>>>;

fn token_of(session: &Session) -> Option<String> {
    session.borrow().as_ref().map(|(token, _)| token.clone())
}

/// Where the visitor's files go: the gateway's visitor upload route, with the session's token.
struct VisitorFiles {
    gateway: String,
    session: Session,
    texts: Texts,
}

impl Destination for VisitorFiles {
    fn request(&self, name: &str, key: &str) -> Result<(String, Option<String>), String> {
        let token = token_of(&self.session).ok_or_else(|| self.texts.get("not_connected"))?;
        let url = format!(
            "{}/v1/visitor/files?name={}&key={}",
            self.gateway,
            encode(name),
            encode(key)
        );
        Ok((url, Some(token)))
    }

    fn say(&self, key: &str, n: u32, name: &str) -> String {
        match key {
            "too_many_files" => self.texts.count(key, n.into()),
            "remove_file" => self.texts.fill(key, "name", name),
            _ => self.texts.fill(key, "n", &n.to_string()),
        }
    }
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

impl Chat {
    pub fn start(options: Options, texts: Texts) -> Rc<Self> {
        let session = Session::default();
        let uploads = Uploads::new(VisitorFiles {
            gateway: options.gateway.clone(),
            session: session.clone(),
            texts: texts.clone(),
        });
        let chat = Rc::new(Self {
            session,
            uploads,
            ticket: RefCell::new(options.ticket.clone()),
            agent_typing: RwSignal::new(None),
            typing_notices: RwSignal::new(0),
            options,
            texts,
            transcript: RwSignal::new(Transcript::default()),
            status: RwSignal::new(Status::Connecting),
            link: Link::default(),
            own_typing: TypingNotices::default(),
            captcha_box: NodeRef::new(),
            ready_seen: Cell::new(false),
            asks: RwSignal::new(Asks::default()),
            shown_in: RefCell::new(None),
            seen: js_sys::Object::new(),
            cobrowse: js_sys::Object::new(),
            cobrowse_send: std::cell::OnceCell::new(),
        });
        let weak = Rc::downgrade(&chat);
        let send = SendFrame::new(move |frame: String| {
            if let Some(chat) = weak.upgrade() {
                chat.link.send_text(&frame);
            }
        });
        let options = &chat.options;
        for (name, value) in [
            ("send", send.as_ref().clone()),
            ("store", options.store.as_str().into()),
            ("gateway", options.gateway.as_str().into()),
            ("texts", chat.texts.answer().clone()),
            ("emit", options.emit.clone().into()),
            ("tone", options.appearance.sound.into()),
        ] {
            let _ = js_sys::Reflect::set(&chat.cobrowse, &name.into(), &value);
        }
        let _ = chat.cobrowse_send.set(send);
        connect(Rc::downgrade(&chat));
        chat
    }

    /// Shows the message with the files stored for it at once as "sending" and sends it if the
    /// socket is up; otherwise it goes out with the resend after the next connect.
    pub fn send(&self, text: String) {
        let client_id = browser_socket::client_id();
        self.own_typing.reset();
        let files: Vec<Attachment> = self
            .uploads
            .take()
            .iter()
            .filter_map(|answer| wire::stored_file(answer))
            .collect();
        self.link
            .send_text(&wire::send_frame(&client_id, &text, &files));
        self.transcript
            .update(|t| t.add_pending(client_id, text, files));
    }

    /// Asks the loader (which owns the launcher) to hide the panel.
    pub fn close(&self) {
        let _ = self.options.close.call0(&JsValue::NULL);
    }

    /// For good: the socket closes and nothing reconnects (the loader starts over for another
    /// person).
    pub fn stop(&self) {
        self.status.set(Status::Ended(String::new()));
        self.link.close();
    }

    /// The visitor leaves an address: for replies they miss, and the transcript if asked.
    pub fn leave_email(&self, address: &str, transcript: bool) {
        self.asks.update(|e| {
            e.saving = Some((address.to_owned(), transcript));
            e.refused = None;
        });
        self.link.send_text(&wire::email_frame(address, transcript));
    }

    /// Where the pre-chat answers go, with the session's token (none before a session).
    pub fn prechat_target(&self) -> Option<(String, String)> {
        self.visitor_target("prechat")
    }

    /// Where the rating of conversation `id` goes, with the session's token.
    pub fn rating_target(&self, id: &str) -> Option<(String, String)> {
        self.visitor_target(&format!("conversations/{id}/rating"))
    }

    fn visitor_target(&self, path: &str) -> Option<(String, String)> {
        let url = format!("{}/v1/visitor/{path}", self.options.gateway);
        token_of(&self.session).map(|token| (url, token))
    }

    /// The visitor is typing: tells the gateway (where it also counts as activity for the
    /// inactivity timeout), at most once per interval.
    pub fn typing(&self) {
        self.own_typing
            .notify(|| self.link.send_text(&wire::typing_frame()));
    }

    /// After the gateway ended the session: a new session, resuming the same conversation.
    pub fn start_again(self: &Rc<Self>) {
        self.status.set(Status::Connecting);
        connect(Rc::downgrade(self));
    }

    fn agent_is_typing(&self, name: String) {
        let notice = self.typing_notices.get_untracked().wrapping_add(1);
        self.typing_notices.set(notice);
        self.agent_typing.set(Some(name));
        let (typing, notices) = (self.agent_typing, self.typing_notices);
        set_timeout(
            move || {
                if notices.get_untracked() == notice {
                    typing.set(None);
                }
            },
            std::time::Duration::from_millis(protocol::TYPING_SHOWS_MS),
        );
    }

    fn on_frame(&self, frame: VisitorServerFrame) {
        match frame {
            VisitorServerFrame::Typing { agent_name } => return self.agent_is_typing(agent_name),
            VisitorServerFrame::EmailSaved { address, .. } => {
                return self.asks.update(|e| {
                    e.saving = None;
                    e.saved = Some(address);
                })
            }
            // The only frame the panel sends without a client id is an address.
            VisitorServerFrame::Error {
                client_id: None,
                ref code,
                ..
            } if self.asks.with_untracked(|e| e.saving.is_some()) => {
                return self.asks.update(|e| {
                    e.saving = None;
                    e.refused = Some(self.texts.refusal(code));
                })
            }
            // The agent's message is what they were typing.
            VisitorServerFrame::Message { ref message }
                if message.author != protocol::Author::Visitor =>
            {
                self.agent_typing.set(None);
                let new = self
                    .transcript
                    .with_untracked(|t| !t.lines.iter().any(|l| l.seq == Some(message.seq)));
                if new {
                    self.tell_if_hidden(&message.text);
                }
            }
            _ => {}
        }
        if let VisitorServerFrame::SessionEnded { after_secs, .. } = frame {
            self.session.borrow_mut().take();
            let (texts, secs) = (&self.texts, u64::try_from(after_secs).unwrap_or(0));
            self.status.set(Status::Ended(if secs < 60 {
                texts.count("closed_after_seconds", secs)
            } else {
                texts.count("closed_after_minutes", secs.div_ceil(60))
            }));
            return;
        }
        let ready = matches!(frame, VisitorServerFrame::Ready { .. });
        if let VisitorServerFrame::Ready {
            conversation_id: Some(id),
            rated: true,
            ..
        } = &frame
        {
            let id = id.clone();
            self.asks.update(|a| a.rated = Some(id));
        }
        self.transcript.update(|t| t.apply(frame));
        if ready {
            self.ready_seen.set(true);
            self.link.connected();
            self.status.set(Status::Online);
            self.transcript.with_untracked(|t| {
                for line in t.pending() {
                    let frame = wire::send_frame(&line.client_id, &line.text, &line.attachments);
                    self.link.send_text(&frame);
                }
            });
            // After the messages: an address needs the conversation the first one starts.
            if let Some((address, transcript)) = self.asks.with_untracked(|e| e.saving.clone()) {
                self.link
                    .send_text(&wire::email_frame(&address, transcript));
            }
        }
    }

    /// An agent's message arrived: shown on the launcher if the panel is hidden.
    fn tell_if_hidden(&self, text: &str) {
        if let Some(root) = self.shown_in.borrow().as_ref().filter(|root| root.hidden()) {
            let count = unread(
                root,
                &self.options.emit,
                text,
                self.options.appearance.sound,
            );
            let n = count
                .text_content()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            count.set_title(&self.texts.count("unread", n));
        }
    }

    fn on_closed(self: &Rc<Self>) {
        if !self.ready_seen.get() {
            // Refused at the upgrade (expired or ended token): the next try gets a new session.
            self.session.borrow_mut().take();
        }
        if !matches!(self.status.get_untracked(), Status::Ended(_)) {
            self.retry_later(self.texts.get("connection_lost"));
        }
    }

    fn retry_later(self: &Rc<Self>, reason: String) {
        self.status.set(Status::Retrying(reason));
        let weak = Rc::downgrade(self);
        self.link.retry_later(move || connect(weak));
    }
}

fn connect(chat: Weak<Chat>) {
    leptos::task::spawn_local(async move {
        let Some(chat) = chat.upgrade() else { return };
        // Stopped for good while a reconnect waited.
        if matches!(chat.status.get_untracked(), Status::Ended(ref why) if why.is_empty()) {
            return;
        }
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
                .ok_or_else(|| chat.texts.get("not_ready"))?;
            let token = captcha::solve(&container, challenge, &chat.texts).await?;
            chat.status.set(Status::Connecting);
            Some(token)
        }
        None => None,
    };
    let session = match open_session(chat, captcha_token.clone()).await {
        // The page's ticket opened a session before (or grew old): renew it and ask once more.
        Err(Refusal::TicketSpent) => {
            renew_ticket(chat).await?;
            open_session(chat, captcha_token).await
        }
        other => other,
    }
    .map_err(|refusal| refusal.into_message(&chat.texts))?;
    let expires = js_sys::Date::now() + session.expires_in_secs as f64 * 1000.0;
    *chat.session.borrow_mut() = Some((session.session_token.clone(), expires));
    chat.uploads
        .accept_up_to(session.uploads.map(|policy| policy.max_bytes));
    chat.asks.update(|e| {
        e.offered = session.email;
        e.missed_chat_secs = session.missed_chat_secs;
        e.rating = session.rating;
    });
    Ok(session.session_token)
}

/// Why a session was not opened.
enum Refusal {
    /// The visit ticket was used or expired; a renewed one will do.
    TicketSpent,
    /// Anything else, said for the visitor.
    Other(String),
}

impl Refusal {
    fn into_message(self, texts: &Texts) -> String {
        match self {
            Refusal::TicketSpent => texts.get("unavailable"),
            Refusal::Other(message) => message,
        }
    }
}

fn page_url() -> Option<String> {
    web_sys::window().and_then(|w| w.location().href().ok())
}

async fn open_session(
    chat: &Chat,
    captcha_token: Option<String>,
) -> Result<SessionCreated, Refusal> {
    let options = &chat.options;
    let ticket = chat.ticket.borrow().clone();
    let body = wire::create_session(
        &options.channel,
        &ticket,
        page_url().as_deref(),
        captcha_token.as_deref(),
        &options.session,
        options.greeted,
    );
    let url = format!("{}/v1/sessions", options.gateway);
    let (ok, text) = fetch_text(&url, Some(body))
        .await
        .map_err(|_| Refusal::Other(chat.texts.refusal("network")))?;
    if !ok {
        return Err(match wire::error_code(&text) {
            Some(code)
                if code == codes::VISIT_TICKET_USED || code == codes::VISIT_TICKET_EXPIRED =>
            {
                Refusal::TicketSpent
            }
            // Visibility rules said no (agents went offline, hours ended): the rule's own wording
            // is for marketers, not for the visitor.
            Some(code)
                if code.starts_with("rule_")
                    || code == codes::WIDGET_HIDDEN
                    || code == codes::CHANNEL_OFFLINE =>
            {
                Refusal::Other(chat.texts.get("nobody_can_answer"))
            }
            Some(code) => Refusal::Other(chat.texts.refusal(&code)),
            None => Refusal::Other(chat.texts.get("unavailable")),
        });
    }
    let session = wire::session_created(&text)
        .ok_or_else(|| Refusal::Other(chat.texts.get("unavailable")))?;
    let prechat = wire::prechat_questions(&text);
    chat.asks.update(|a| a.prechat = prechat);
    // The visitor opened the chat: from now on this browser is remembered, so a reload finds the
    // same conversation. (Before this click only a repeat-visit rule stores anything.)
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(&options.store, &ticket);
    }
    Ok(session)
}

/// Asks the gateway for a fresh ticket for this page view (same visitor, same page-view start).
async fn renew_ticket(chat: &Chat) -> Result<(), String> {
    let options = &chat.options;
    let url = format!(
        "{}/v1/widget/{}/visibility?ticket={}&page={}",
        options.gateway,
        encode(&options.channel),
        encode(&chat.ticket.borrow()),
        encode(&page_url().unwrap_or_default()),
    );
    let unavailable = || chat.texts.get("unavailable");
    let (ok, text) = fetch_text(&url, None).await.map_err(|_| unavailable())?;
    let ticket = wire::renewed_ticket(&text)
        .filter(|_| ok)
        .ok_or_else(unavailable)?;
    *chat.ticket.borrow_mut() = ticket;
    Ok(())
}

/// GETs `url`, or POSTs `body` (JSON text), with the browser's `fetch`; returns whether the status
/// was 2xx, and the body text. (A plain fetch keeps an HTTP crate out of the widget's size.)
pub(crate) async fn fetch_text(url: &str, body: Option<String>) -> Result<(bool, String), JsValue> {
    let init = web_sys::RequestInit::new();
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "application/json")?;
        init.set_headers(&headers);
    }
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
    // http(s)://gateway → ws(s)://gateway. Not `replacen`: its search (for any needle, empty
    // ones too) brings string slicing's panic formatting into the panel: 4.4 KB brotli.
    let gateway = &chat.options.gateway;
    let base = gateway.strip_prefix("http").unwrap_or(gateway);
    let url = format!("ws{base}/v1/visitor/ws?token={token}{resume}");
    chat.ready_seen.set(false);
    let (on_frame, on_closed) = (Rc::downgrade(chat), Rc::downgrade(chat));
    let opened = chat.link.open(
        &url,
        move |frame| {
            if let Some(chat) = on_frame.upgrade() {
                watch(&chat.options.emit, &frame, &chat.seen);
                if let Some(root) = chat.shown_in.borrow().as_ref() {
                    cobrowse(&frame, &chat.cobrowse, root);
                }
                if let Some(frame) = wire::server_frame(frame) {
                    chat.on_frame(frame);
                }
            }
        },
        move || {
            if let Some(chat) = on_closed.upgrade() {
                chat.on_closed();
            }
        },
    );
    if opened.is_err() {
        chat.retry_later(chat.texts.get("connection_failed"));
    }
}
