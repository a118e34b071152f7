//! What makes an agent notice: a sound when a conversation starts waiting and when a visitor
//! writes in a conversation the agent holds, and, in a hidden tab, a desktop notification that
//! opens the conversation when clicked. One tab of the browser alerts (`alerts.js` elects it
//! over a `BroadcastChannel`: the tab with the smallest id among those that spoke in the last
//! three seconds), so three open consoles make one sound. Each can be switched off; the choice
//! is kept in the browser. Notifications need the agent's permission, asked from a click.

use leptos::prelude::*;
use protocol::{AgentServerFrame, AuthorKind, ConversationStatus};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::inbox::Inbox;

use crate::words::{fill, t};

#[wasm_bindgen(module = "/src/alerts.js")]
extern "C" {
    /// Sounds (if on) and notifies (if on, permitted and the tab is hidden), in the elected
    /// tab only; clicking the notification calls `open`.
    fn raise(title: &str, body: &str, tag: &str, open: JsValue);
    /// A remembered switch, or `otherwise`.
    fn setting(name: &str, otherwise: bool) -> bool;
    fn remember(name: &str, on: bool);
    /// `Notification.requestPermission()`: resolves with the answer.
    #[wasm_bindgen(js_name = askPermission)]
    fn ask_permission() -> js_sys::Promise;
}

/// What an agent should be alerted of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub conversation_id: String,
    pub title: String,
    pub body: String,
}

/// The alert an inbox update calls for, judged against the inbox before it: a conversation that
/// was not waiting and now is (new, or back in a queue) in one of `my_queues`, or one `me`
/// holds whose newest message is a visitor's new one. (Every message updates the inbox,
/// whichever conversation is on screen; the update says who wrote last.)
pub fn alert_for(
    before: &Inbox,
    frame: &AgentServerFrame,
    me: &str,
    my_queues: &[String],
) -> Option<Alert> {
    let AgentServerFrame::Conversation { conversation } = frame else {
        return None;
    };
    let known = before.conversation(&conversation.id);
    let was_waiting = known.is_some_and(|c| c.status == ConversationStatus::Waiting);
    let in_my_queue = conversation
        .queue_id
        .as_ref()
        .is_some_and(|queue| my_queues.contains(queue));
    if conversation.status == ConversationStatus::Waiting && !was_waiting && in_my_queue {
        return Some(Alert {
            conversation_id: conversation.id.clone(),
            title: fill(
                "chat_waiting_on",
                &[("channel", &conversation.channel_name)],
            ),
            body: conversation.last_text.clone(),
        });
    }
    let visitor_wrote = conversation.last_author == Some(AuthorKind::Visitor)
        && known.is_none_or(|c| c.last_seq < conversation.last_seq);
    let held = conversation.assigned_agent_id.as_deref() == Some(me)
        && conversation.status == ConversationStatus::Open;
    (held && visitor_wrote).then(|| Alert {
        conversation_id: conversation.id.clone(),
        title: t("alert_visitor_wrote"),
        body: conversation.last_text.clone(),
    })
}

/// Alerts the agent; clicking the notification runs `open`.
pub fn sound_and_notify(alert: &Alert, open: impl FnOnce() + 'static) {
    let open = Closure::once_into_js(open);
    raise(&alert.title, &alert.body, &alert.conversation_id, open);
}

/// The two switches, in the top bar.
pub fn switches() -> impl IntoView {
    let sound = RwSignal::new(setting("sound", true));
    let desktop = RwSignal::new(setting("desktop", false));
    let on_sound = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        remember("sound", on);
        sound.set(on);
    };
    // Asked from this click, never on load: browsers refuse (or hold against the site) a
    // permission prompt nobody asked for.
    let on_desktop = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        leptos::task::spawn_local(async move {
            let granted = !on
                || JsFuture::from(ask_permission())
                    .await
                    .ok()
                    .and_then(|answer| answer.as_string())
                    .is_some_and(|answer| answer == "granted");
            let on = on && granted;
            remember("desktop", on);
            desktop.set(on);
        });
    };
    view! {
        <label class="switch" title=t("alert_sound_title")>
            <input type="checkbox" data-testid="alert-sound" prop:checked=move || sound.get() on:change=on_sound />
            {t("alert_sound")}
        </label>
        <label class="switch" title=t("alert_desktop_title")>
            <input type="checkbox" data-testid="alert-desktop" prop:checked=move || desktop.get() on:change=on_desktop />
            {t("alert_desktop")}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ConversationSummary;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn update(
        id: &str,
        status: ConversationStatus,
        agent: Option<&str>,
        last: (i64, AuthorKind),
    ) -> AgentServerFrame {
        AgentServerFrame::Conversation {
            conversation: ConversationSummary {
                status,
                assigned_agent_id: agent.map(Into::into),
                last_seq: last.0,
                last_text: "still there?".into(),
                channel_name: "Shop".into(),
                last_author: Some(last.1),
                queue_id: Some("sales".into()),
                ..crate::inbox::tests::summary(id, 1)
            },
        }
    }

    #[wasm_bindgen_test]
    fn a_new_waiting_chat_and_a_visitors_message_in_a_held_one_alert_and_nothing_else() {
        use ConversationStatus::{Open, Waiting};
        let mut inbox = Inbox::default();
        let queues = vec!["sales".to_owned()];
        let waiting = update("c1", Waiting, None, (1, AuthorKind::Visitor));
        assert_eq!(alert_for(&inbox, &waiting, "me", &[]), None, "not my queue");
        assert!(
            alert_for(&inbox, &waiting, "me", &queues).is_some(),
            "a new chat"
        );
        inbox.apply(waiting.clone());
        assert_eq!(
            alert_for(&inbox, &waiting, "me", &queues),
            None,
            "still the same wait"
        );

        let taken = update("c1", Open, Some("me"), (2, AuthorKind::Agent));
        assert_eq!(
            alert_for(&inbox, &taken, "me", &queues),
            None,
            "my own answer"
        );
        inbox.apply(taken);
        let wrote = update("c1", Open, Some("me"), (3, AuthorKind::Visitor));
        let alert = alert_for(&inbox, &wrote, "me", &queues).expect("an alert");
        assert_eq!(
            (alert.conversation_id.as_str(), alert.body.as_str()),
            ("c1", "still there?")
        );
        assert_eq!(
            alert_for(&inbox, &wrote, "someone else", &queues),
            None,
            "another agent's"
        );
        inbox.apply(wrote.clone());
        assert_eq!(
            alert_for(&inbox, &wrote, "me", &queues),
            None,
            "the same update again"
        );
    }
}
