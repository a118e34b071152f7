//! The panel's view. Every text from the conversation is rendered as a text node, never as
//! HTML. `data-testid` attributes are what the browser tests hold on to.

use browser_socket::upload::{attach_button, tray_view};
use leptos::html::Ol;
use leptos::prelude::*;
use protocol::Attachment;
use std::rc::Rc;

use crate::connection::{Chat, Status};
use crate::form::{
    ask, prechat_fields, value, Question, EMAIL_FIELDS, LEAVE_MESSAGE_FIELDS,
    LEAVE_MESSAGE_ONLY_FIELDS,
};
use crate::transcript::{Delivery, Line, Who};
use leptos::html::Div;
use wasm_bindgen::prelude::{Closure, JsValue};

pub fn panel(chat: Rc<Chat>) -> impl IntoView {
    let appearance = chat.options.appearance.clone();
    let title = appearance.title.clone();
    // The visitor asked for the transcript by email: the form shows.
    let asking = RwSignal::new(false);
    let (asks, transcript) = (chat.asks, chat.transcript);
    // The loader (which owns the launcher) hides the panel.
    let closing = StoredValue::new_local(chat.clone());
    let can_ask = move || {
        asks.with(|e| e.offered && e.saved.is_none())
            && transcript.with(|t| t.conversation_id.is_some())
    };
    view! {
        <section class="lc-panel" role="dialog" aria-label=title>
            <header class="lc-head">
                <strong>{appearance.title}</strong>
                <button
                    class="lc-mail"
                    data-testid="email-transcript"
                    aria-label="Email me the transcript"
                    hidden=move || !can_ask()
                    on:click=move |_| asking.update(|a| *a = !*a)
                >
                    "✉"
                </button>
                <button class="lc-close" aria-label="Close chat" on:click=move |_| closing.with_value(|c| c.close())>
                    "×"
                </button>
            </header>
            {status_bar(chat.clone())}
            <div class="lc-captcha" data-testid="captcha" node_ref=chat.captcha_box></div>
            {log(chat.clone(), appearance.greeting)}
            {typing_notice(chat.clone())}
            {closed_notice(chat.clone())}
            {email_offer(chat.clone(), asking)}
            {tray_view()}
            {composer(chat)}
        </section>
    }
}

fn typing_notice(chat: Rc<Chat>) -> impl IntoView {
    let typing = chat.agent_typing;
    move || {
        typing.get().map(|name| {
            view! { <p class="lc-typing" data-testid="agent-typing">{format!("{name} is typing…")}</p> }
        })
    }
}

fn closed_notice(chat: Rc<Chat>) -> impl IntoView {
    let transcript = chat.transcript;
    move || {
        transcript.with(|t| t.closed).then(|| {
            view! {
                <p class="lc-notice" data-testid="closed-notice">
                    "This conversation was closed. Write again to reopen it."
                </p>
            }
        })
    }
}

/// The visitor's address: asked for the transcript (`asking`), or offered to a visitor left
/// waiting; then where the emails will go.
fn email_offer(chat: Rc<Chat>, asking: RwSignal<bool>) -> impl IntoView {
    let (asks, transcript) = (chat.asks, chat.transcript);
    // Sent, and no one has answered: the visitor is waiting.
    let waiting = move || {
        transcript.with(|t| {
            !t.closed
                && t.lines.iter().any(|l| l.seq.is_some())
                && !t.lines.iter().any(|l| matches!(l.who, Who::Agent(_)))
        })
    };
    let missed = RwSignal::new(false);
    let timing = std::cell::Cell::new(false);
    // One timer, from the moment this panel sees the visitor waiting.
    Effect::new(move |_| {
        let after = asks.with(|e| e.missed_chat_secs.filter(|_| e.offered));
        if let Some(secs) = after.filter(|_| waiting() && !timing.replace(true)) {
            set_timeout(
                move || missed.set(true),
                std::time::Duration::from_secs(secs),
            );
        }
    });
    let leave_message = chat.options.leave_message.clone();
    let target = StoredValue::new_local(chat.clone());
    let question = move || {
        // Nobody can chat: before anything is sent, the panel takes a message.
        if let Some(leave) = &leave_message {
            if transcript.with(|t| t.lines.is_empty()) {
                let offered = asks.with(|e| e.offered);
                let back = leave
                    .back_at
                    .as_ref()
                    .map(|at| format!(" We are back {at}."))
                    .unwrap_or_default();
                let how = if offered {
                    "Leave a message and your email: we answer by email."
                } else {
                    "Leave a message: we answer here."
                };
                return Question {
                    key: "leave-message",
                    prompt: format!("Nobody is here right now.{back} {how}"),
                    fields: if offered {
                        LEAVE_MESSAGE_FIELDS
                    } else {
                        LEAVE_MESSAGE_ONLY_FIELDS
                    }
                    .into(),
                    submit: "Send",
                    post: None,
                };
            }
        }
        // The channel's questions come before the first message.
        let prechat = asks.with(|a| {
            a.prechat
                .as_deref()
                .map(|q| (prechat_fields(q), a.refused.clone()))
        });
        if let Some((fields, refused)) = prechat.filter(|_| transcript.with(|t| t.lines.is_empty()))
        {
            return Question {
                key: "prechat",
                prompt: refused.unwrap_or_else(|| "Before we start:".into()),
                fields,
                submit: "Start the chat",
                post: target.with_value(|chat| chat.prechat_target()),
            };
        }
        // Saved: where the emails go, said in a form without fields.
        if let Some(address) = asks.with(|e| e.saved.clone()) {
            return Question {
                key: "email-saved",
                prompt: format!("We will email you at {address}."),
                fields: "[]".into(),
                submit: "",
                post: None,
            };
        }
        let (prompt, offered) = asks.with(|e| match &e.refused {
            Some(refused) => (Some(refused.clone()), true),
            None => (None, e.offered),
        });
        let prompt = match prompt {
            Some(refused) => refused,
            None if offered && asking.get() => {
                "Your email for the transcript when this chat ends, and for replies you miss:".into()
            }
            None if offered && missed.get() && waiting() => {
                "Nobody has answered yet. Leave your email and we will reply there, or keep waiting.".into()
            }
            None => return Question::default(),
        };
        Question {
            key: "email-form",
            prompt,
            fields: EMAIL_FIELDS.into(),
            submit: "Save",
            post: None,
        }
    };
    let container = NodeRef::<Div>::new();
    let done = Closure::<dyn Fn(String, JsValue)>::new(move |key: String, values: JsValue| {
        if key == "prechat" {
            // Posted by the form: `values` is the refusal, or null once stored.
            return chat.asks.update(|a| match values.as_string() {
                Some(refused) => a.refused = Some(refused),
                None => {
                    a.prechat = None;
                    a.refused = None;
                }
            });
        }
        if key == "leave-message" {
            chat.send(value(&values, "message"));
        }
        let address = value(&values, "email");
        if !address.is_empty() {
            chat.leave_email(&address, asking.get_untracked());
        }
    });
    Effect::new(move |_| {
        let question = question();
        if let Some(container) = container.get() {
            ask(&container, &question, &done);
        }
    });
    view! { <div class="lc-ask" node_ref=container></div> }
}

fn status_bar(chat: Rc<Chat>) -> impl IntoView {
    let status = chat.status;
    let text = move || match status.get() {
        Status::Connecting => "Connecting…".to_owned(),
        Status::Online => String::new(),
        Status::Captcha => "Please confirm you are human to start the chat.".to_owned(),
        Status::Retrying(reason) | Status::Ended(reason) => reason,
    };
    let chat = StoredValue::new_local(chat);
    let start_again = move || {
        matches!(status.get(), Status::Ended(_)).then(|| {
            view! {
                <button class="lc-again" data-testid="start-again" on:click=move |_| chat.with_value(|c| c.start_again())>
                    "Start again"
                </button>
            }
        })
    };
    view! {
        <p class="lc-status" data-testid="status" data-state=move || status.with(Status::name)>
            {text}
            {start_again}
        </p>
    }
}

fn log(chat: Rc<Chat>, greeting: String) -> impl IntoView {
    let transcript = chat.transcript;
    let list = NodeRef::<Ol>::new();
    // Keep the newest message in view.
    Effect::new(move |_| {
        transcript.track();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    view! {
        <ol class="lc-log" data-testid="log" aria-live="polite" node_ref=list>
            <li class="lc-msg lc-agent lc-greeting">{greeting}</li>
            {move || transcript.with(|t| t.lines.iter().map(line).collect_view())}
        </ol>
    }
}

fn line(line: &Line) -> impl IntoView {
    let (class, author) = match &line.who {
        Who::Me => ("lc-msg lc-me", None),
        Who::Agent(name) => ("lc-msg lc-agent", Some(name.clone())),
        Who::System => ("lc-msg lc-system", None),
    };
    let (state, note) = match &line.delivery {
        Delivery::Sending => ("sending", Some("Sending…".to_owned())),
        Delivery::Sent => ("sent", None),
        Delivery::Failed(reason) => ("failed", Some(format!("Not sent: {reason}"))),
    };
    view! {
        <li class=class data-testid="message" data-state=state data-seq=line.seq.map(|s| s.to_string())>
            {author.map(|name| view! { <span class="lc-author">{name}</span> })}
            <span class="lc-text">{line.text.clone()}</span>
            {line.attachments.iter().map(attachment).collect_view()}
            {note.map(|note| view! { <span class="lc-note">{note}</span> })}
        </li>
    }
}

/// An image as its thumbnail, any other file as its name, size and kind; either opens (an
/// image, full size) or downloads (the gateway serves other files as attachments) through its
/// signed link. One element shape for both: each shape costs the panel kilobytes.
fn attachment(file: &Attachment) -> impl IntoView {
    let image = file.is_image();
    let thumbnail = file
        .url
        .as_ref()
        .filter(|_| image)
        .map(|url| format!("{url}&thumbnail=true"));
    let label = match file.name.rsplit_once('.') {
        _ if image => file.name.clone(),
        Some((_, kind)) => format!(
            "📎 {} · {} · {}",
            file.name,
            protocol::human_size(file.size),
            kind.to_ascii_uppercase()
        ),
        None => format!("📎 {} · {}", file.name, protocol::human_size(file.size)),
    };
    let testid = if image { "image" } else { "file" };
    view! {
        <a class="lc-file" data-testid=testid href=file.url.clone() target="_blank" rel="noopener">
            <img src=thumbnail alt=file.name.clone() hidden=!image />
            <span class="lc-fname">{label}</span>
        </a>
    }
}

fn composer(chat: Rc<Chat>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let on_input = {
        let chat = chat.clone();
        move |ev| {
            draft.set(event_target_value(&ev));
            chat.typing();
        }
    };
    let submit = Rc::new(move || {
        let text = draft.get_untracked();
        match chat.uploads.ready() {
            Some(files) if files || !text.trim().is_empty() => {
                chat.send(text);
                draft.set(String::new());
            }
            _ => {}
        }
    });
    let on_submit = {
        let submit = submit.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            submit();
        }
    };
    // Enter sends, Shift+Enter starts a new line.
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            submit();
        }
    };
    view! {
        <form class="lc-compose" on:submit=on_submit>
            <textarea
                data-testid="composer"
                rows="2"
                maxlength=protocol::MAX_MESSAGE_CHARS.to_string()
                placeholder="Write a message…"
                aria-label="Message"
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown
            ></textarea>
            {attach_button()}
            <button type="submit" data-testid="send">"Send"</button>
        </form>
    }
}
