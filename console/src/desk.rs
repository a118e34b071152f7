//! The agent's live link: `WS /v1/agent/ws` on the console's own origin, authenticated by the
//! login cookie. After a drop it reconnects, re-opens the conversation on screen after the last
//! `seq` it holds, and resends unacknowledged replies under their original client ids.

use browser_socket::upload::{Destination, Uploads};
use browser_socket::{Link, TypingNotices};
use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    AgentClientFrame, AgentServerFrame, Attachment, Author, CannedResponse, ConversationSummary,
    Team, TYPING_SHOWS_MS,
};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::alerts;
use crate::api::call;
use crate::inbox::{Inbox, Pending};

use crate::words::t;

/// The console's live state, shared by every view as a `Copy` context (`expect_context`):
/// signals, and the socket kept in local storage.
#[derive(Clone, Copy)]
pub struct Desk {
    pub inbox: RwSignal<Inbox>,
    pub selected: RwSignal<Option<String>>,
    /// A conversation opened from outside the inbox (the history, a contact's conversations),
    /// as it was read there: a closed one is in no inbox.
    found: RwSignal<Option<ConversationSummary>>,
    pub connected: RwSignal<bool>,
    /// Conversations whose visitor is typing, with when the notice expires (ms).
    pub visitor_typing: RwSignal<BTreeMap<String, f64>>,
    /// The pace of this agent's own typing notices.
    own_typing: StoredValue<TypingNotices, LocalStorage>,
    /// The team's canned responses, for `/shortcut` + Tab in a reply.
    pub canned: RwSignal<Vec<CannedResponse>>,
    /// Colleagues and queues to transfer to.
    pub team: RwSignal<Team>,
    link: StoredValue<Link, LocalStorage>,
    /// The next reply's files (for the conversation on screen).
    pub uploads: StoredValue<Uploads, LocalStorage>,
    /// The logged-in agent's id and queues: whose conversations' new messages alert, and
    /// where a waiting chat does.
    me: StoredValue<(String, Vec<String>)>,
    /// The pane showing a conversation's page while its visitor shares it.
    mirror: StoredValue<Option<(String, web_sys::HtmlIFrameElement)>, LocalStorage>,
}

/// Where the agent's files go: the agent upload route for the conversation on screen, on the
/// login cookie.
struct AgentFiles {
    selected: RwSignal<Option<String>>,
}

/// The reply box's files: any size, up to what the gateway itself takes.
fn agent_uploads(selected: RwSignal<Option<String>>) -> Uploads {
    let uploads = Uploads::new(AgentFiles { selected });
    uploads.accept_up_to(Some(u64::MAX));
    uploads
}

impl Destination for AgentFiles {
    fn request(&self, name: &str, key: &str) -> Result<(String, Option<String>), String> {
        let conversation = self.selected.get_untracked().ok_or(t("pick_first"))?;
        let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
        let url = format!(
            "/v1/agent/files?conversation_id={}&name={}&key={}",
            encode(&conversation),
            encode(name),
            encode(key)
        );
        Ok((url, None))
    }

    // The console speaks English until it has bundles of its own (issue 17): the tray's words
    // are the widget's English ones, read from the same bundle, not written again.
    fn say(&self, key: &str, n: u32, name: &str) -> String {
        let english: Value =
            serde_json::from_str(include_str!("../../widget/locales/en.json")).unwrap_or_default();
        let text = match &english[key] {
            Value::Object(forms) => &forms[if n == 1 { "one" } else { "other" }],
            plain => plain,
        };
        text.as_str()
            .unwrap_or(key)
            .replace("{n}", &n.to_string())
            .replace("{name}", name)
    }
}

impl Desk {
    /// Loads the team's canned responses and colleagues, connects, and provides the desk as
    /// the context of the views below.
    pub fn start(me: String, queues: Vec<String>) -> Self {
        // A join link lands on `/console/#conversation=ID`: that one opens first.
        let selected = RwSignal::new(linked_conversation());
        let desk = Self {
            inbox: RwSignal::new(Inbox::default()),
            selected,
            found: RwSignal::new(None),
            // No size known here: the gateway refuses what the conversation's channel does not
            // take, with its reason.
            uploads: StoredValue::new_local(agent_uploads(selected)),
            connected: RwSignal::new(false),
            visitor_typing: RwSignal::new(BTreeMap::new()),
            own_typing: StoredValue::new_local(TypingNotices::default()),
            canned: RwSignal::new(Vec::new()),
            team: RwSignal::new(Team::default()),
            link: StoredValue::new_local(Link::default()),
            me: StoredValue::new((me, queues)),
            mirror: StoredValue::new_local(None),
        };
        load("/v1/canned-responses", desk.canned);
        load("/v1/team", desk.team);
        connect(desk);
        provide_context(desk);
        desk
    }

    /// The conversation on screen, as the inbox has it, or as it was found.
    pub fn current(self) -> Option<ConversationSummary> {
        let id = self.selected.get()?;
        self.inbox
            .with(|i| i.conversation(&id).cloned())
            .or_else(|| self.found.get().filter(|c| c.id == id))
    }

    /// Opens a conversation found outside the inbox.
    pub fn open_found(self, conversation: ConversationSummary) {
        let id = conversation.id.clone();
        self.found.set(Some(conversation));
        self.open(id);
    }

    fn send(self, frame: &AgentClientFrame) -> bool {
        self.link.with_value(|link| link.send(frame))
    }

    pub fn open(self, conversation_id: String) {
        if self.selected.get_untracked().as_ref() != Some(&conversation_id) {
            // The files were uploaded for the conversation that was on screen.
            self.uploads.with_value(Uploads::clear);
        }
        self.selected.set(Some(conversation_id.clone()));
        self.read(&conversation_id);
        let resume_after = self.inbox.with_untracked(|i| i.last_seq(&conversation_id));
        self.load_cobrowse(conversation_id.clone());
        self.send(&AgentClientFrame::Open {
            conversation_id,
            resume_after,
        });
    }

    /// The conversation's live co-browsing session, kept (one asked for before this console
    /// followed the conversation).
    fn load_cobrowse(self, conversation_id: String) {
        let inbox = self.inbox;
        leptos::task::spawn_local(async move {
            let path = format!("/v1/conversations/{conversation_id}/cobrowse");
            if let Ok(session) = call::<protocol::CobrowseSession>(Request::get(&path), None).await
            {
                inbox.update(|i| i.keep_cobrowse(session));
            }
        });
    }

    /// Shows the conversation's page in `frame` (the socket brings its mirror), or no more.
    pub fn show_mirror(self, conversation_id: &str, frame: Option<web_sys::HtmlIFrameElement>) {
        let on = frame.is_some();
        self.mirror
            .set_value(frame.map(|frame| (conversation_id.to_owned(), frame)));
        self.send(&AgentClientFrame::Watch {
            conversation_id: conversation_id.to_owned(),
            on,
        });
    }

    /// Points at a place of the visitor's shared page.
    pub fn cobrowse_point(self, conversation_id: &str, x: i32, y: i32) {
        self.send(&AgentClientFrame::CobrowsePoint {
            conversation_id: conversation_id.to_owned(),
            x,
            y,
        });
    }

    /// Acts on the visitor's shared page (they let the agent).
    pub fn cobrowse_act(self, conversation_id: &str, act: protocol::CobrowseAct) {
        self.send(&AgentClientFrame::CobrowseAct {
            conversation_id: conversation_id.to_owned(),
            act,
        });
    }

    /// Asks for the next page of older conversations, if the gateway said there is one.
    pub fn load_older(self) {
        if let Some(before) = self.inbox.with_untracked(|i| i.older.clone()) {
            self.send(&AgentClientFrame::InboxOlder { before });
        }
    }

    pub fn reply(self, text: String) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        let client_id = browser_socket::client_id();
        let attachments: Vec<String> = self
            .uploads
            .with_value(Uploads::take)
            .iter()
            .filter_map(|answer| serde_json::from_str::<Attachment>(answer).ok())
            .map(|f| f.id)
            .collect();
        let pending = Pending {
            conversation_id: conversation_id.clone(),
            client_id: client_id.clone(),
            text: text.clone(),
            attachments: attachments.clone(),
        };
        self.inbox.update(|i| i.pending.push(pending));
        self.own_typing.with_value(TypingNotices::reset);
        self.send(&AgentClientFrame::Send {
            conversation_id,
            client_id,
            text,
            attachments,
        });
    }

    /// Marks the conversation read here and tells the gateway, which keeps it for every console.
    fn read(self, conversation_id: &str) {
        let mut advanced = None;
        self.inbox
            .update(|i| advanced = i.mark_read(conversation_id));
        if let Some(seq) = advanced {
            self.send(&AgentClientFrame::Read {
                conversation_id: conversation_id.to_owned(),
                seq,
            });
        }
    }

    /// Accepts, closes or transfers the conversation on screen (`action` is the URL's last
    /// segment, `body` its JSON); a refusal (someone else took it) is shown like any other.
    pub fn act(self, action: &'static str, body: Option<Value>) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        let inbox = self.inbox;
        leptos::task::spawn_local(async move {
            let url = format!("/v1/conversations/{conversation_id}/{action}");
            let refusal = call::<Value>(Request::post(&url), body).await.err();
            inbox.update(|i| i.error = refusal.map(|e| e.message));
        });
    }

    /// The agent is typing a reply: the visitor sees it, at most one notice per interval.
    pub fn typing(self) {
        let Some(conversation_id) = self.selected.get_untracked() else {
            return;
        };
        self.own_typing.with_value(|pace| {
            pace.notify(|| self.send(&AgentClientFrame::Typing { conversation_id }))
        });
    }

    fn visitor_is_typing(self, conversation_id: String) {
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

    fn on_frame(self, frame: AgentServerFrame) {
        match &frame {
            AgentServerFrame::Typing { conversation_id } => {
                return self.visitor_is_typing(conversation_id.clone());
            }
            AgentServerFrame::Mirror {
                conversation_id,
                data,
                more,
                ..
            } => {
                return self.mirror.with_value(|shown| match shown {
                    Some((id, frame)) if id == conversation_id => {
                        crate::mirror::piece(frame, data, *more)
                    }
                    _ => {}
                });
            }
            // The visitor's message is what they were typing.
            AgentServerFrame::Message { message } if message.author == Author::Visitor => {
                self.visitor_typing
                    .update(|t| _ = t.remove(&message.conversation_id));
            }
            _ => {}
        }
        let snapshot = matches!(frame, AgentServerFrame::Inbox { .. });
        let alert = self.me.with_value(|(me, queues)| {
            self.inbox
                .with_untracked(|inbox| alerts::alert_for(inbox, &frame, me, queues))
        });
        self.inbox.update(|i| i.apply(frame));
        if let Some(alert) = alert {
            let id = alert.conversation_id.clone();
            alerts::sound_and_notify(&alert, move || self.open(id));
        }
        // What arrives in the conversation on screen is seen as it arrives.
        if let Some(open) = self.selected.get_untracked() {
            self.read(&open);
        }
        if snapshot {
            // A (re)connect: follow the conversation on screen again and resend what is unsent.
            self.link.with_value(Link::connected);
            self.connected.set(true);
            if let Some(id) = self.selected.get_untracked() {
                self.open(id);
            }
            // The new socket watches nothing yet: the page on screen again, whole.
            if let Some(id) = self
                .mirror
                .with_value(|m| m.as_ref().map(|(id, _)| id.clone()))
            {
                self.send(&AgentClientFrame::Watch {
                    conversation_id: id,
                    on: true,
                });
            }
            for p in self.inbox.with_untracked(|i| i.pending.clone()) {
                self.send(&AgentClientFrame::Send {
                    conversation_id: p.conversation_id,
                    client_id: p.client_id,
                    text: p.text,
                    attachments: p.attachments,
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
        if let Ok(value) = call::<T>(Request::get(url), None).await {
            into.set(value);
        }
    });
}

fn linked_conversation() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#conversation=")
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

fn connect(desk: Desk) {
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
    let opened = desk.link.with_value(|link| {
        link.open(
            &url,
            move |frame| {
                if let Some(frame) = browser_socket::json::from_value(frame) {
                    desk.on_frame(frame);
                }
            },
            move || reconnect_later(desk),
        )
    });
    if opened.is_err() {
        reconnect_later(desk);
    }
}

fn reconnect_later(desk: Desk) {
    desk.connected.set(false);
    desk.link
        .with_value(|link| link.retry_later(move || connect(desk)));
}
