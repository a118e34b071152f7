//! The panel's view. Every text from the conversation is rendered as a text node, never as
//! HTML. `data-testid` attributes are what the browser tests hold on to.

use browser_socket::upload::{attach_button, tray_view};
use leptos::prelude::*;
use protocol::Attachment;
use std::rc::Rc;

use crate::connection::{Chat, Status};
use crate::form::{
    ask, email_fields, leave_message_fields, prechat_fields, rating_fields, value, Question,
};
use crate::texts::Texts;
use crate::transcript::{Delivery, Line, Who};
use leptos::html::Div;
use wasm_bindgen::prelude::{Closure, JsValue};

pub fn panel(chat: Rc<Chat>) -> impl IntoView {
    let appearance = chat.options.appearance.clone();
    let t = &chat.texts;
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
            <div class="lc-head">
                <strong>{appearance.title}</strong>
                <button
                    class="lc-mail"
                    data-testid="email-transcript"
                    aria-label=t.fixed("email_transcript")
                    hidden=move || !can_ask()
                    on:click=move |_| asking.update(|a| *a = !*a)
                >
                    "✉"
                </button>
                <button class="lc-close" aria-label=t.fixed("close") on:click=move |_| closing.with_value(|c| c.close())>
                    "×"
                </button>
            </div>
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

/// Who is typing, said politely: the region is always there, so a screen reader hears it change.
fn typing_notice(chat: Rc<Chat>) -> impl IntoView {
    let typing = chat.agent_typing;
    let t = chat.texts.clone();
    let text = move || typing.get().map(|name| t.fill("typing", "name", &name));
    view! { <p class="lc-typing" data-testid="agent-typing" role="status">{text}</p> }
}

fn closed_notice(chat: Rc<Chat>) -> impl IntoView {
    let transcript = chat.transcript;
    let closed = chat.texts.fixed("closed");
    let text = move || transcript.with(|t| t.closed).then_some(closed);
    view! { <p class="lc-notice" data-testid="closed-notice" role="status">{text}</p> }
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
    let t = chat.texts.clone();
    // Why the gateway refused the rating, said in its form.
    let rating_refused = RwSignal::new(None::<String>);
    let question = move || {
        // Nobody can chat: before anything is sent, the panel takes a message.
        if let Some(leave) = &leave_message {
            if transcript.with(|t| t.lines.is_empty()) {
                let offered = asks.with(|e| e.offered);
                let back = leave
                    .back_at_ms
                    .map(|ms| format!(" {}", t.fill("back_at", "at", &t.weekday_and_time(ms))))
                    .unwrap_or_default();
                let how = t.get(if offered {
                    "leave_by_email"
                } else {
                    "leave_here"
                });
                return Question {
                    key: "leave-message",
                    prompt: format!("{}{back} {how}", t.get("nobody_here")),
                    fields: leave_message_fields(&t, offered),
                    submit: t.get("send"),
                    post: None,
                };
            }
        }
        // The channel's questions come before the first message.
        let prechat = asks.with(|a| {
            a.prechat
                .as_deref()
                .map(|q| (prechat_fields(q, &t.object()), a.refused.clone()))
        });
        if let Some((fields, refused)) = prechat.filter(|_| transcript.with(|t| t.lines.is_empty()))
        {
            return Question {
                key: "prechat",
                prompt: refused.unwrap_or_else(|| t.get("before_we_start")),
                fields,
                submit: t.get("start_chat"),
                post: target.with_value(|chat| chat.prechat_target()),
            };
        }
        // Closed: how was it? Then thanks.
        let closed = transcript.with(|t| t.conversation_id.clone().filter(|_| t.closed));
        if let Some(id) = closed {
            match asks.with(|a| (a.rating, a.rated.as_deref() == Some(id.as_str()))) {
                (Some(scale), false) => {
                    return Question {
                        key: "rating",
                        prompt: rating_refused.get().unwrap_or_else(|| t.get("rate")),
                        fields: rating_fields(&t, scale),
                        submit: t.get("send"),
                        post: target.with_value(|chat| chat.rating_target(&id)),
                    }
                }
                (Some(_), true) => {
                    return Question {
                        key: "rated",
                        prompt: t.get("rated"),
                        fields: "[]".into(),
                        submit: String::new(),
                        post: None,
                    }
                }
                _ => {}
            }
        }
        // Saved: where the emails go, said in a form without fields.
        if let Some(address) = asks.with(|e| e.saved.clone()) {
            return Question {
                key: "email-saved",
                prompt: t.fill("will_email", "address", &address),
                fields: "[]".into(),
                submit: String::new(),
                post: None,
            };
        }
        let (prompt, offered) = asks.with(|e| match &e.refused {
            Some(refused) => (Some(refused.clone()), true),
            None => (None, e.offered),
        });
        let prompt = match prompt {
            Some(refused) => refused,
            None if offered && asking.get() => t.get("email_for_transcript"),
            None if offered && missed.get() && waiting() => t.get("nobody_answered"),
            None => return Question::default(),
        };
        Question {
            key: "email-form",
            prompt,
            fields: email_fields(&t),
            submit: t.get("save"),
            post: None,
        }
    };
    let container = NodeRef::<Div>::new();
    let done = Closure::<dyn Fn(String, JsValue)>::new(move |key: String, values: JsValue| {
        if key == "prechat" {
            // Posted by the form: `values` is the refusal, or null once stored.
            return chat.asks.update(|a| match values.as_string() {
                Some(code) => a.refused = Some(chat.texts.refusal(&code)),
                None => {
                    a.prechat = None;
                    a.refused = None;
                }
            });
        }
        if key == "rating" {
            // Posted by the form: `values` is the refusal, or null once kept.
            let refusal = values.as_string();
            rating_refused.set(refusal.as_deref().map(|code| chat.texts.refusal(code)));
            if refusal.is_none() {
                let id = chat
                    .transcript
                    .with_untracked(|t| t.conversation_id.clone());
                chat.asks.update(|a| a.rated = id);
            }
            return;
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
    let t = chat.texts.clone();
    let start_again_text = t.fixed("start_again");
    let text = move || match status.get() {
        Status::Connecting => t.get("connecting"),
        Status::Online => String::new(),
        Status::Captcha => t.get("captcha"),
        Status::Retrying(reason) | Status::Ended(reason) => reason,
    };
    let chat = StoredValue::new_local(chat);
    let start_again = move || {
        matches!(status.get(), Status::Ended(_)).then(|| {
            view! {
                <button class="lc-again" data-testid="start-again" on:click=move |_| chat.with_value(|c| c.start_again())>
                    {start_again_text}
                </button>
            }
        })
    };
    view! {
        <p class="lc-status" data-testid="status" role="status" data-state=move || status.with(Status::name)>
            {text}
            {start_again}
        </p>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// Brings the log (after its first item, the greeting) to `lines`, each
    /// `[key, who, author, text, state, note, seq, files]` with files as
    /// `[testid, url, thumbnail, name, label]`: an item per key, made once (text as text) and
    /// updated in place, so a screen reader hears each message once.
    fn draw(log: &web_sys::HtmlElement, lines: &js_sys::Array);
}

/// The messages, a `role="log"`: drawn by [`draw`] rather than as a Leptos list, which would
/// cost the panel kilobytes and, redrawn whole, have screen readers read it again.
fn log(chat: Rc<Chat>, greeting: String) -> impl IntoView {
    let transcript = chat.transcript;
    let t = chat.texts.clone();
    let label = t.fixed("messages");
    let list = NodeRef::<Div>::new();
    Effect::new(move |_| {
        let lines: js_sys::Array =
            transcript.with(|tr| tr.lines.iter().map(|l| line(l, &t)).collect());
        if let Some(list) = list.get() {
            draw(&list, &lines);
            // Keep the newest message in view.
            list.set_scroll_top(list.scroll_height());
        }
    });
    view! {
        <div class="lc-log" data-testid="log" role="log" aria-label=label node_ref=list>
            <p class="lc-msg lc-agent lc-greeting">{greeting}</p>
        </div>
    }
}

fn line(line: &Line, t: &Texts) -> JsValue {
    let (who, author) = match &line.who {
        Who::Me => ("me", None),
        Who::Agent(name) => ("agent", Some(name.as_str())),
        Who::System => ("system", None),
    };
    let (state, note) = match &line.delivery {
        Delivery::Sending => ("sending", Some(t.get("sending"))),
        Delivery::Sent => ("sent", None),
        Delivery::Failed(code) => (
            "failed",
            Some(t.fill("not_sent", "reason", &t.refusal(code))),
        ),
    };
    let files: js_sys::Array = line.attachments.iter().map(attachment).collect();
    [
        JsValue::from(&line.client_id),
        who.into(),
        author.into(),
        JsValue::from(&line.text),
        state.into(),
        note.into(),
        line.seq.map(|seq| seq as f64).into(),
        files.into(),
    ]
    .into_iter()
    .collect::<js_sys::Array>()
    .into()
}

/// An image as its thumbnail, any other file as its name, size and kind; either opens (an
/// image, full size) or downloads (the gateway serves other files as attachments) through its
/// signed link.
fn attachment(file: &Attachment) -> JsValue {
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
    [
        JsValue::from(if image { "image" } else { "file" }),
        file.url.clone().into(),
        thumbnail.into(),
        JsValue::from(&file.name),
        label.into(),
    ]
    .into_iter()
    .collect::<js_sys::Array>()
    .into()
}

fn composer(chat: Rc<Chat>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let t = chat.texts.clone();
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
                placeholder=t.fixed("write_message")
                aria-label=t.fixed("message")
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown
            ></textarea>
            {attach_button(t.get("attach"))}
            <button type="submit" data-testid="send">{t.fixed("send")}</button>
        </form>
    }
}
