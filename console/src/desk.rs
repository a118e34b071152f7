//! The agent's live link: `WS /v1/agent/ws` on the console's own origin, authenticated by the
//! login cookie. After a drop it reconnects, re-opens the conversation on screen after the last
//! `seq` it holds, and resends unacknowledged replies under their original client ids.

use browser_socket::Link;
use leptos::prelude::*;
use protocol::{AgentClientFrame, AgentServerFrame};
use std::rc::Rc;

use crate::inbox::{Inbox, Pending};

pub struct Desk {
    pub inbox: RwSignal<Inbox>,
    pub selected: RwSignal<Option<String>>,
    pub connected: RwSignal<bool>,
    link: Link,
}

impl Desk {
    pub fn start() -> Rc<Self> {
        let desk = Rc::new(Self {
            inbox: RwSignal::new(Inbox::default()),
            selected: RwSignal::new(None),
            connected: RwSignal::new(false),
            link: Link::default(),
        });
        connect(&desk);
        desk
    }

    pub fn open(&self, conversation_id: String) {
        self.selected.set(Some(conversation_id.clone()));
        let resume_after = self.inbox.with_untracked(|i| i.last_seq(&conversation_id));
        self.link.send(&AgentClientFrame::Open {
            conversation_id,
            resume_after,
        });
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
        self.link.send(&AgentClientFrame::Send {
            conversation_id,
            client_id,
            text,
        });
    }

    fn on_frame(&self, frame: AgentServerFrame) {
        let snapshot = matches!(frame, AgentServerFrame::Inbox { .. });
        self.inbox.update(|i| i.apply(frame));
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
