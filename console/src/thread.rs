//! The conversation on screen: its toolbar (accept, transfer with a note, close), its messages
//! (visitor text always as text nodes, never as HTML), the visitor typing, and the reply box
//! with canned responses on `/shortcut` + Tab and files by the paperclip, a drop or a paste.

use browser_socket::upload::{attach_button, tray_view};
use leptos::prelude::*;
use protocol::{Attachment, Author, ConversationStatus, TransferRequest};

use crate::desk::Desk;

use crate::words::{fill, t};

/// Hands the conversation on screen to a colleague or a queue, with a note for them.
fn transfer_form(desk: Desk) -> impl IntoView {
    let team = desk.team;
    let target = RwSignal::new(String::new());
    let draft_note = RwSignal::new(String::new());
    let send = move |_| {
        let chosen = target.get_untracked();
        let note = Some(draft_note.get_untracked());
        let request = match chosen.split_once(':') {
            Some(("agent", id)) => TransferRequest {
                agent_id: Some(id.to_owned()),
                queue_id: None,
                note,
            },
            Some(("queue", id)) => TransferRequest {
                agent_id: None,
                queue_id: Some(id.to_owned()),
                note,
            },
            _ => return,
        };
        desk.act("transfer", serde_json::to_value(request).ok());
        draft_note.set(String::new());
    };
    let options = move || {
        team.with(|t| {
            let agents = t
                .agents
                .iter()
                .map(|a| (format!("agent:{}", a.id), a.name.clone()));
            let queues = t.queues.iter().map(|q| {
                (
                    format!("queue:{}", q.id),
                    fill("queue_named", &[("queue", &q.name)]),
                )
            });
            agents
                .chain(queues)
                .map(|(value, label)| view! { <option value=value>{label}</option> })
                .collect_view()
        })
    };
    view! {
        <select data-testid="transfer-to" aria-label=t("transfer_to") on:change=move |ev| target.set(event_target_value(&ev))>
            <option value="">{t("transfer_to_choose")}</option>
            {options}
        </select>
        <input placeholder=t("transfer_note") data-testid="transfer-note" class="note"
            prop:value=move || draft_note.get() on:input=move |ev| draft_note.set(event_target_value(&ev)) />
        <button data-testid="transfer" disabled=move || target.with(String::is_empty) on:click=send>{t("transfer")}</button>
    }
}

pub fn thread() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let inbox = desk.inbox;
    let selected = desk.selected;
    let visitor_typing = desk.visitor_typing;
    let draft = RwSignal::new(String::new());
    let canned = desk.canned;
    let reply = move || {
        let text = draft.get_untracked();
        match desk.uploads.with_value(|u| u.ready()) {
            // A reply waits for its files, and may be files alone.
            Some(files) if files || !text.trim().is_empty() => {
                desk.reply(text);
                draft.set(String::new());
            }
            _ => {}
        }
    };
    // Enter sends, as in the visitor's panel; Shift+Enter starts a new line; Escape goes back
    // to the inbox list; Tab after `/shortcut` puts the canned text in its place.
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            return reply();
        }
        if ev.key() == "Escape" {
            return crate::inbox_list::focus("[data-testid=inbox]");
        }
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
                    <li class="hint">{t("tab_inserts")}</li>
                </ul>
            }
        })
    };
    // Drawn again only when what it shows changes, not with every message (a control being
    // clicked would otherwise be replaced under the pointer).
    let head = Memo::new(move |_| {
        desk.current().map(|c| {
            let waiting = c.status == ConversationStatus::Waiting;
            (c.id, waiting, c.page_url.unwrap_or_default())
        })
    });
    let toolbar = move || {
        head.get().map(|(id, waiting, page_url)| {
            view! {
                <div class="thread-head">
                    <span class="where">{page_url}</span>
                    {waiting.then(|| view! {
                        <button data-testid="accept" on:click=move |_| desk.act("accept", None)>{t("accept")}</button>
                    })}
                    {transfer_form(desk)}
                    {crate::cobrowse::controls(desk, id)}
                    <button data-testid="close-conversation" on:click=move |_| desk.act("close", None)>{t("close")}</button>
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
        reply();
    };
    // The tray is drawn in the thread, and files dropped on it or pasted into it are attached:
    // set up once, when the thread is first drawn.
    let thread = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |attached: Option<bool>| {
        if attached == Some(true) {
            return true;
        }
        let Some(thread) = thread.get() else {
            return false;
        };
        desk.uploads.with_value(|u| u.attach_to(thread.into()));
        true
    });
    view! {
        <section class="thread" node_ref=thread>
            {toolbar}
            {refusal}
            {crate::cobrowse::pane(desk)}
            {move || match selected.get() {
                None => view! { <p class="empty">{t("pick_conversation")}</p> }.into_any(),
                Some(id) => view! {
                    <ol class="messages" data-testid="thread">
                        {move || inbox.with(|i| i.threads.get(&id).map(|thread| thread.values().map(|m| {
                            let (class, who) = match &m.author {
                                Author::Visitor => ("msg", t("visitor")),
                                Author::Agent { name, .. } => ("msg agent", name.clone()),
                                Author::Bot { name } => ("msg agent", fill("bot_named", &[("name", name)])),
                                Author::Desk { name } => ("msg agent", fill("desk_named", &[("name", name)])),
                                Author::System => ("msg", t("system")),
                            };
                            let files = m.attachments.iter().map(attachment).collect_view();
                            view! { <li class=class data-testid="thread-message"><span class="who">{who}</span>{m.text.clone()}{files}</li> }
                        }).collect_view()))}
                    </ol>
                }.into_any(),
            }}
            {move || {
                let shown = selected.get().is_some_and(|id| visitor_typing.with(|t| t.contains_key(&id)));
                shown.then(|| view! { <p class="typing" data-testid="visitor-typing">{t("visitor_typing")}</p> })
            }}
            {hints}
            {tray_view()}
            <form class="reply" on:submit=send>
                <textarea rows="2" placeholder=t("reply_placeholder") data-testid="reply"
                    on:keydown=keys
                    prop:value=move || draft.get()
                    on:input=move |ev| { draft.set(event_target_value(&ev)); desk.typing(); }></textarea>
                {attach_button(t("attach"))}
                <button type="submit" data-testid="reply-send"
                    disabled=move || selected.get().is_none()>{t("send")}</button>
            </form>
        </section>
    }
}

/// A file of a message: an image as its thumbnail (opening the full image), anything else as
/// a card that downloads it. The console is on the gateway's origin, so its login cookie
/// authenticates both.
fn attachment(file: &Attachment) -> impl IntoView + use<> {
    let href = format!("/v1/agent/files/{}", file.id);
    if file.is_image() {
        let thumbnail = format!("{href}?thumbnail=true");
        view! {
            <a class="file-image" data-testid="thread-image" href=href target="_blank" rel="noopener">
                <img src=thumbnail alt=file.name.clone() loading="lazy" />
            </a>
        }
        .into_any()
    } else {
        view! {
            <a class="file-card" data-testid="thread-file" href=href download=file.name.clone()>
                <span class="file-name">{format!("📎 {}", file.name)}</span>
                <span class="file-size">{protocol::human_size(file.size)}</span>
            </a>
        }
        .into_any()
    }
}
