//! The agent's live link: `WS /v1/agent/ws` on the console's own origin, authenticated by the
//! login cookie. After a drop it reconnects, re-opens the conversation on screen after the last
//! `seq` it holds, and resends unacknowledged replies under their original client ids.

use leptos::prelude::*;
use protocol::{AgentClientFrame, AgentServerFrame};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

use crate::inbox::{Inbox, Pending};

pub struct Desk {
    pub inbox: RwSignal<Inbox>,
    pub selected: RwSignal<Option<String>>,
    pub connected: RwSignal<bool>,
    socket: RefCell<Option<WebSocket>>,
    callbacks: RefCell<Vec<Closure<dyn FnMut(JsValue)>>>,
    failures: Cell<u32>,
}

impl Desk {
    pub fn start() -> Rc<Self> {
        let desk = Rc::new(Self {
            inbox: RwSignal::new(Inbox::default()),
            selected: RwSignal::new(None),
            connected: RwSignal::new(false),
            socket: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
            failures: Cell::new(0),
        });
        connect(&desk);
        desk
    }

    pub fn open(&self, conversation_id: String) {
        self.selected.set(Some(conversation_id.clone()));
        let resume_after = self.inbox.with_untracked(|i| i.last_seq(&conversation_id));
        self.send(&AgentClientFrame::Open {
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
        self.inbox.update(|i| {
            i.pending.push(Pending {
                conversation_id: conversation_id.clone(),
                client_id: client_id.clone(),
                text: text.clone(),
            })
        });
        self.send(&AgentClientFrame::Send {
            conversation_id,
            client_id,
            text,
        });
    }

    fn send(&self, frame: &AgentClientFrame) {
        if let Some(socket) = self
            .socket
            .borrow()
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
        {
            let _ = socket.send_with_str(&serde_json::to_string(frame).expect("frames serialize"));
        }
    }

    fn on_frame(&self, frame: AgentServerFrame) {
        let snapshot = matches!(frame, AgentServerFrame::Inbox { .. });
        self.inbox.update(|i| i.apply(frame));
        if snapshot {
            // A (re)connect: follow the conversation on screen again and resend what is unsent.
            self.failures.set(0);
            self.connected.set(true);
            if let Some(id) = self.selected.get_untracked() {
                self.open(id);
            }
            for p in self.inbox.with_untracked(|i| i.pending.clone()) {
                self.send(&AgentClientFrame::Send {
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
    let Ok(socket) = WebSocket::new(&url) else {
        return reconnect_later(desk);
    };
    let weak = Rc::downgrade(desk);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let text = event.unchecked_into::<MessageEvent>().data().as_string();
        if let (Some(desk), Some(frame)) = (
            weak.upgrade(),
            text.and_then(|t| serde_json::from_str(&t).ok()),
        ) {
            desk.on_frame(frame);
        }
    });
    let weak = Rc::downgrade(desk);
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(desk) = weak.upgrade() {
            desk.socket.borrow_mut().take();
            desk.connected.set(false);
            reconnect_later(&desk);
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *desk.callbacks.borrow_mut() = vec![on_message, on_close];
    *desk.socket.borrow_mut() = Some(socket);
}

fn reconnect_later(desk: &Rc<Desk>) {
    let failures = desk.failures.get() + 1;
    desk.failures.set(failures);
    let weak: Weak<Desk> = Rc::downgrade(desk);
    let delay = Duration::from_millis((500u64 << failures.min(5)).min(10_000));
    set_timeout(
        move || {
            if let Some(desk) = weak.upgrade() {
                connect(&desk)
            }
        },
        delay,
    );
}
