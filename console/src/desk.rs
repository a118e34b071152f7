//! The agent's live link: `WS /v1/agent/ws` on the console's own origin, authenticated by the
//! login cookie. After a drop it reconnects, re-opens the conversation on screen after the last
//! `seq` it holds, and resends unacknowledged replies under their original client ids.

use browser_socket::Link;
use leptos::prelude::*;
use protocol::{AgentClientFrame, AgentServerFrame, Author, CannedResponse, Team, TYPING_SHOWS_MS};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::inbox::{Inbox, Pending};

pub struct Desk {
    pub inbox: RwSignal<Inbox>,
    pub selected: RwSignal<Option<String>>,
    pub connected: RwSignal<bool>,
    /// Conversations whose visitor is typing, with when the notice expires (ms).
    pub visitor_typing: RwSignal<BTreeMap<String, f64>>,
    /// When this agent's last typing notice went out (ms).
    last_typing_ms: Cell<f64>,
    /// The team's canned responses, for `/shortcut` + Tab in a reply.
    pub canned: RwSignal<Vec<CannedResponse>>,
    /// Colleagues and queues to transfer to.
    pub team: RwSignal<Team>,
    link: Link,
}

/// One typing notice per interval is enough: each shows for `TYPING_SHOWS_MS`.
const TYPING_INTERVAL_MS: f64 = 3000.0;

impl Desk {
    pub fn start() -> Rc<Self> {
        let desk = Rc::new(Self {
            inbox: RwSignal::new(Inbox::default()),
            // A join link lands on `/console/#conversation=ID`: that one opens first.
            selected: RwSignal::new(linked_conversation()),
            connected: RwSignal::new(false),
            visitor_typing: RwSignal::new(BTreeMap::new()),
            last_typing_ms: Cell::new(0.0),
            canned: RwSignal::new(Vec::new()),
            team: RwSignal::new(Team::default()),
            link: Link::default(),
        });
        load("/v1/canned-responses", desk.canned);
        load("/v1/team", desk.team);
        connect(&desk);
        desk
    }

    pub fn open(&self, conversation_id: String) {
        self.selected.set(Some(conversation_id.clone()));
        self.read(&conversation_id);
        let resume_after = self.inbox.with_untracked(|i| i.last_seq(&conversation_id));
        self.link.send(&AgentClientFrame::Open {
            conversation_id,
            resume_after,
        });
    }

    /// Asks for the next page of older conversations, if the gateway said there is one.
    pub fn load_older(&self) {
        if let Some(before) = self.inbox.with_untracked(|i| i.older.clone()) {
            self.link.send(&AgentClientFrame::InboxOlder { before });
        }
    }

    pub fn reply(&self, text: String) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        let client_id = format!(
            "{:x}-{:x}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e15) as u64
        );
        let pending = Pending {
            conversation_id: conversation_id.clone(),
            client_id: client_id.clone(),
            text: text.clone(),
        };
        self.inbox.update(|i| i.pending.push(pending));
        // Typing after a send is a new episode: its first notice goes out at once.
        self.last_typing_ms.set(0.0);
        self.link.send(&AgentClientFrame::Send {
            conversation_id,
            client_id,
            text,
        });
    }

    /// Marks the conversation read here and tells the gateway, which keeps it for every console.
    fn read(&self, conversation_id: &str) {
        let mut advanced = None;
        self.inbox
            .update(|i| advanced = i.mark_read(conversation_id));
        if let Some(seq) = advanced {
            self.link.send(&AgentClientFrame::Read {
                conversation_id: conversation_id.to_owned(),
                seq,
            });
        }
    }

    /// Accepts, closes or transfers the conversation on screen (`action` is the URL's last
    /// segment, `body` its JSON); a refusal (someone else took it) is shown like any other.
    pub fn act(&self, action: &'static str, body: Option<serde_json::Value>) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        let inbox = self.inbox;
        leptos::task::spawn_local(async move {
            let url = format!("/v1/conversations/{conversation_id}/{action}");
            let request = gloo_net::http::Request::post(&url);
            let sent = match body {
                Some(body) => match request.json(&body) {
                    Ok(request) => request.send().await,
                    Err(e) => Err(e),
                },
                None => request.send().await,
            };
            let refusal = match sent {
                Ok(r) if r.ok() => None,
                Ok(r) => Some(
                    r.json::<protocol::ErrorBody>()
                        .await
                        .map_or_else(|_| "The action failed.".to_owned(), |e| e.error.message),
                ),
                Err(_) => Some("The gateway cannot be reached.".to_owned()),
            };
            inbox.update(|i| i.error = refusal);
        });
    }

    /// The agent is typing a reply: the visitor sees it, at most one notice per interval.
    pub fn typing(&self) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        let now = js_sys::Date::now();
        if now - self.last_typing_ms.get() >= TYPING_INTERVAL_MS
            && self
                .link
                .send(&AgentClientFrame::Typing { conversation_id })
        {
            self.last_typing_ms.set(now);
        }
    }

    fn visitor_is_typing(&self, conversation_id: String) {
        let until = js_sys::Date::now() + TYPING_SHOWS_MS as f64;
        self.visitor_typing
            .update(|t| _ = t.insert(conversation_id.clone(), until));
        let typing = self.visitor_typing;
        set_timeout(
            move || {
                // Unless a later notice extended it.
                typing.update(|t| {
                    if t.get(&conversation_id).is_some_and(|u| *u <= until) {
                        t.remove(&conversation_id);
                    }
                })
            },
            std::time::Duration::from_millis(TYPING_SHOWS_MS),
        );
    }

    fn on_frame(&self, frame: AgentServerFrame) {
        match &frame {
            AgentServerFrame::Typing { conversation_id } => {
                return self.visitor_is_typing(conversation_id.clone());
            }
            // The visitor's message is what they were typing.
            AgentServerFrame::Message { message } if message.author == Author::Visitor => {
                self.visitor_typing
                    .update(|t| _ = t.remove(&message.conversation_id));
            }
            _ => {}
        }
        let snapshot = matches!(frame, AgentServerFrame::Inbox { .. });
        self.inbox.update(|i| i.apply(frame));
        // What arrives in the conversation on screen is seen as it arrives.
        if let Some(open) = self.selected.get_untracked() {
            self.read(&open);
        }
        if snapshot {
            // A (re)connect: follow the conversation on screen again and resend what is unsent.
            self.link.connected();
            self.connected.set(true);
            if let Some(id) = self.selected.get_untracked() {
                self.open(id);
            }
            for p in self.inbox.with_untracked(|i| i.pending.clone()) {
                self.link.send(&AgentClientFrame::Send {
                    conversation_id: p.conversation_id,
                    client_id: p.client_id,
                    text: p.text,
                });
            }
        }
    }
}

/// Fills `into` from a JSON endpoint once; on failure it stays as it was.
fn load<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    url: &'static str,
    into: RwSignal<T>,
) {
    leptos::task::spawn_local(async move {
        if let Ok(r) = gloo_net::http::Request::get(url).send().await {
            if let Ok(value) = r.json::<T>().await {
                into.set(value);
            }
        }
    });
}

fn linked_conversation() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#conversation=")
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

fn connect(desk: &Rc<Desk>) {
    let location = web_sys::window().expect("window").location();
    let scheme = if location.protocol().as_deref() == Ok("https:") {
        "wss"
    } else {
        "ws"
    };
    let url = format!(
        "{scheme}://{}/v1/agent/ws",
        location.host().unwrap_or_default()
    );
    if desk
        .link
        .open(&url, desk, Desk::on_frame, reconnect_later)
        .is_err()
    {
        reconnect_later(desk);
    }
}

fn reconnect_later(desk: &Rc<Desk>) {
    desk.connected.set(false);
    let weak = Rc::downgrade(desk);
    desk.link.retry_later(move || {
        if let Some(desk) = weak.upgrade() {
            connect(&desk);
        }
    });
}
