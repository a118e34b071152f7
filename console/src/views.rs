//! The console's views. Visitor text is always rendered as text nodes, never as HTML.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    AgentPresence, AgentProfile, Author, ConversationStatus, ErrorBody, Handler, LoginRequest,
    LoginResponse, SetPresence,
};
use std::rc::Rc;

use crate::desk::Desk;
use crate::inbox::View;

pub fn app() -> impl IntoView {
    // None: not known yet; Some(None): logged out; Some(Some(agent)): logged in.
    let agent = RwSignal::new(None::<Option<AgentProfile>>);
    leptos::task::spawn_local(async move {
        let me = match Request::get("/v1/agent/me").send().await {
            Ok(r) if r.ok() => r.json::<AgentProfile>().await.ok(),
            _ => None,
        };
        agent.set(Some(me));
    });
    move || match agent.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(None) => login(agent).into_any(),
        Some(Some(profile)) => workspace(profile).into_any(),
    }
}

fn login(agent: RwSignal<Option<Option<AgentProfile>>>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let sent = match Request::post("/v1/agent/login").json(&body) {
                Ok(request) => request.send().await.ok(),
                Err(_) => None,
            };
            match sent {
                Some(r) if r.ok() => match r.json::<LoginResponse>().await {
                    Ok(login) => agent.set(Some(Some(login.agent))),
                    Err(e) => error.set(Some(e.to_string())),
                },
                Some(r) => {
                    let message = r.json::<ErrorBody>().await.map(|e| e.error.message);
                    error.set(Some(message.unwrap_or_else(|_| "Login failed.".into())));
                }
                None => error.set(Some("The gateway cannot be reached.".into())),
            }
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <h1>"Agent console"</h1>
            <input type="email" placeholder="Email" autocomplete="username" data-testid="email"
                on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get() />
            <input type="password" placeholder="Password" autocomplete="current-password" data-testid="password"
                on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get() />
            <button type="submit" data-testid="login">"Log in"</button>
            {move || error.get().map(|e| view! { <p class="error" data-testid="login-error">{e}</p> })}
        </form>
    }
}

fn workspace(profile: AgentProfile) -> impl IntoView {
    let desk = Desk::start();
    let connected = desk.connected;
    let channels_page = RwSignal::new(false);
    let is_admin = profile.role == protocol::Role::Admin;
    view! {
        <div class="app" class:admin-page=move || channels_page.get()>
            <header class="topbar">
                <strong>"Live chat"</strong>
                <nav>
                    <button class="link" data-testid="nav-inbox" on:click=move |_| channels_page.set(false)>"Inbox"</button>
                    {is_admin.then(|| view! {
                        <button class="link" data-testid="nav-channels" on:click=move |_| channels_page.set(true)>"Channels"</button>
                    })}
                </nav>
                <span class="conn" data-testid="connection">
                    {move || if connected.get() { "● live" } else { "○ reconnecting…" }}
                </span>
                {presence_choice(profile.presence)}
                <span>{profile.name}</span>
            </header>
            <div class="inbox-page" class:hidden=move || channels_page.get()>
                {inbox_list(desk.clone(), profile.id.clone())}
                {thread(desk.clone())}
                {crate::details::visitor_details(desk)}
            </div>
            {move || channels_page.get().then(crate::admin::channels_page)}
        </div>
    }
}

/// The agent's own presence: online takes conversations, away keeps the console open without
/// taking new ones, offline hides the agent from visitors' rules.
fn presence_choice(initial: AgentPresence) -> impl IntoView {
    let presence = RwSignal::new(initial);
    let label = |p: AgentPresence| match p {
        AgentPresence::Online => "Online",
        AgentPresence::Away => "Away",
        AgentPresence::Offline => "Offline",
    };
    let change = move |ev: leptos::ev::Event| {
        let Ok(chosen) = event_target_value(&ev).parse::<AgentPresence>() else {
            return;
        };
        let body = SetPresence { presence: chosen };
        leptos::task::spawn_local(async move {
            if let Ok(request) = Request::put("/v1/agent/presence").json(&body) {
                if let Ok(r) = request.send().await {
                    if let Ok(profile) = r.json::<AgentProfile>().await {
                        presence.set(profile.presence);
                    }
                }
            }
        });
    };
    view! {
        <select class="presence" data-testid="presence" on:change=change>
            {AgentPresence::ALL.iter().map(|&p| {
                view! { <option value=p.as_str() selected=move || presence.get() == p>{label(p)}</option> }
            }).collect_view()}
        </select>
    }
}

fn inbox_list(desk: Rc<Desk>, me: String) -> impl IntoView {
    let inbox = desk.inbox;
    let selected = desk.selected;
    let tab = RwSignal::new(View::All);
    let me = StoredValue::new(me);
    // Reactive children must be Send; the desk stays on this thread behind a stored-value key.
    let desk = StoredValue::new_local(desk);
    let tabs = View::ALL.map(|view| {
        let count = move || me.with_value(|me| inbox.with(|i| i.count(view, me)));
        view! {
            <button class="tab" class:active=move || tab.get() == view data-testid=format!("tab-{}", view.label().to_lowercase())
                on:click=move |_| tab.set(view)>
                {view.label()} " " <span class="count">{count}</span>
            </button>
        }
    });
    view! {
        <div class="inbox-column">
            <nav class="tabs">{tabs.into_iter().collect_view()}</nav>
            <ul class="inbox" data-testid="inbox">
                {move || {
                    let listed = me.with_value(|me| inbox.with(|i| i.listed(tab.get(), me)));
                    listed.into_iter().map(|c| {
                        let id = c.id.clone();
                        let is_selected = selected.get().as_deref() == Some(c.id.as_str());
                        let unread = inbox.with(|i| i.unread(&c));
                        // A bot's or desk's conversation is open without an agent: say who has it.
                        let (badge, badge_class) = match (c.status, c.handler) {
                            (ConversationStatus::Closed, _) => (c.status.as_str(), "badge"),
                            (_, handler @ (Handler::Bot | Handler::Desk)) => (handler.as_str(), "badge"),
                            (ConversationStatus::Waiting, _) => (c.status.as_str(), "badge"),
                            (ConversationStatus::Open, _) => (c.status.as_str(), "badge open"),
                        };
                        view! {
                            <li class:selected=is_selected data-testid="conversation" data-id=c.id.clone()
                                on:click=move |_| desk.with_value(|d| d.open(id.clone()))>
                                <div class="meta">
                                    <span>{c.channel_name.clone()}</span>
                                    {(unread > 0).then(|| view! { <span class="unread" data-testid="unread">{unread}</span> })}
                                    <span class=badge_class>{badge}</span>
                                </div>
                                <div class="preview">{c.last_text.clone()}</div>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            {move || inbox.with(|i| i.older.is_some()).then(|| view! {
                <button class="older" data-testid="load-older"
                    on:click=move |_| desk.with_value(|d| d.load_older())>"Load older conversations"</button>
            })}
        </div>
    }
}

/// Hands the conversation on screen to a colleague or a queue, with a note for them.
fn transfer_form(desk: StoredValue<Rc<Desk>, LocalStorage>) -> impl IntoView {
    let team = desk.with_value(|d| d.team);
    let target = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let send = move |_| {
        let chosen = target.get_untracked();
        let body = match chosen.split_once(':') {
            Some(("agent", id)) => {
                serde_json::json!({ "agent_id": id, "note": note.get_untracked() })
            }
            Some(("queue", id)) => {
                serde_json::json!({ "queue_id": id, "note": note.get_untracked() })
            }
            _ => return,
        };
        desk.with_value(|d| d.act("transfer", Some(body)));
        note.set(String::new());
    };
    let options = move || {
        team.with(|t| {
            let agents = t
                .agents
                .iter()
                .map(|a| (format!("agent:{}", a.id), a.name.clone()));
            let queues = t
                .queues
                .iter()
                .map(|q| (format!("queue:{}", q.id), format!("Queue: {}", q.name)));
            agents
                .chain(queues)
                .map(|(value, label)| view! { <option value=value>{label}</option> })
                .collect_view()
        })
    };
    view! {
        <select data-testid="transfer-to" on:change=move |ev| target.set(event_target_value(&ev))>
            <option value="">"Transfer to…"</option>
            {options}
        </select>
        <input placeholder="Note for them" data-testid="transfer-note" class="note"
            prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
        <button data-testid="transfer" disabled=move || target.with(String::is_empty) on:click=send>"Transfer"</button>
    }
}

fn thread(desk: Rc<Desk>) -> impl IntoView {
    let inbox = desk.inbox;
    let selected = desk.selected;
    let visitor_typing = desk.visitor_typing;
    let draft = RwSignal::new(String::new());
    let typing_desk = desk.clone();
    let canned = desk.canned;
    // Tab after `/shortcut` puts the canned text in its place.
    let expand = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Tab" {
            return;
        }
        let expanded = canned.with(|c| protocol::expand_shortcut(&draft.get_untracked(), c));
        if let Some(text) = expanded {
            ev.prevent_default();
            draft.set(text);
        }
    };
    let hints = move || {
        let typed = draft.with(|d| {
            d.rsplit(char::is_whitespace)
                .next()
                .and_then(|w| w.strip_prefix('/'))
                .map(str::to_owned)
        })?;
        let matching: Vec<String> = canned.with(|c| {
            c.iter()
                .filter(|r| r.shortcut.starts_with(&typed))
                .map(|r| format!("/{} — {}", r.shortcut, r.text))
                .collect()
        });
        (!matching.is_empty()).then(|| {
            view! {
                <ul class="canned-hints" data-testid="canned-hints">
                    {matching.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                    <li class="hint">"Tab inserts it"</li>
                </ul>
            }
        })
    };
    let actions = StoredValue::new_local(desk.clone());
    let current = move || {
        selected
            .get()
            .and_then(|id| inbox.with(|i| i.conversations.iter().find(|c| c.id == id).cloned()))
    };
    let toolbar = move || {
        current().map(|c| {
            let waiting = c.status == ConversationStatus::Waiting;
            view! {
                <div class="thread-head">
                    <span class="where">{c.page_url.clone().unwrap_or_default()}</span>
                    {waiting.then(|| view! {
                        <button data-testid="accept" on:click=move |_| actions.with_value(|d| d.act("accept", None))>"Accept"</button>
                    })}
                    {transfer_form(actions)}
                    <button data-testid="close-conversation" on:click=move |_| actions.with_value(|d| d.act("close", None))>"Close"</button>
                </div>
            }
        })
    };
    let refusal = move || {
        inbox
            .with(|i| i.error.clone())
            .map(|e| view! { <p class="error" data-testid="desk-error">{e}</p> })
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            desk.reply(text);
            draft.set(String::new());
        }
    };
    view! {
        <section class="thread">
            {toolbar}
            {refusal}
            {move || match selected.get() {
                None => view! { <p class="empty">"Pick a conversation."</p> }.into_any(),
                Some(id) => view! {
                    <ol class="messages" data-testid="thread">
                        {move || inbox.with(|i| i.threads.get(&id).map(|t| t.values().map(|m| {
                            let (class, who) = match &m.author {
                                Author::Visitor => ("msg", "Visitor".to_owned()),
                                Author::Agent { name, .. } => ("msg agent", name.clone()),
                                Author::Bot { name } => ("msg agent", format!("{name} (bot)")),
                                Author::Desk { name } => ("msg agent", format!("{name} (desk)")),
                                Author::System => ("msg", "System".to_owned()),
                            };
                            view! { <li class=class data-testid="thread-message"><span class="who">{who}</span>{m.text.clone()}</li> }
                        }).collect_view()))}
                    </ol>
                }.into_any(),
            }}
            {move || {
                let shown = selected.get().is_some_and(|id| visitor_typing.with(|t| t.contains_key(&id)));
                shown.then(|| view! { <p class="typing" data-testid="visitor-typing">"The visitor is typing…"</p> })
            }}
            {hints}
            <form class="reply" on:submit=send>
                <textarea rows="2" placeholder="Reply… (/ for canned responses)" data-testid="reply"
                    on:keydown=expand
                    prop:value=move || draft.get()
                    on:input=move |ev| { draft.set(event_target_value(&ev)); typing_desk.typing(); }></textarea>
                <button type="submit" data-testid="reply-send" disabled=move || selected.get().is_none()>"Send"</button>
            </form>
        </section>
    }
}
