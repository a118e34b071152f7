//! The inbox column: tabs with their counts, the conversations each lists with their unread
//! counts and who has them, and the button for older ones.

use leptos::prelude::*;
use protocol::{ConversationStatus, Handler};

use crate::desk::Desk;
use crate::inbox::{step, View};

use crate::words::t;

pub fn inbox_list(me: String) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let inbox = desk.inbox;
    let selected = desk.selected;
    let tab = RwSignal::new(View::All);
    let me = StoredValue::new(me);
    let tabs = View::ALL.map(|view| {
        let count = move || me.with_value(|me| inbox.with(|i| i.count(view, me)));
        view! {
            <button class="tab" class:active=move || tab.get() == view data-testid=format!("tab-{}", view.key())
                on:click=move |_| tab.set(view)>
                {view.label()} " " <span class="count">{count}</span>
            </button>
        }
    });
    // ↑/↓ choose a conversation, Enter goes to its reply box (Escape there comes back).
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let by = match ev.key().as_str() {
            "ArrowDown" | "j" => 1,
            "ArrowUp" | "k" => -1,
            "Enter" => {
                ev.prevent_default();
                return focus("[data-testid=reply]");
            }
            _ => return,
        };
        ev.prevent_default();
        let listed: Vec<String> = me.with_value(|me| {
            inbox.with_untracked(|i| {
                i.listed(tab.get_untracked(), me)
                    .into_iter()
                    .map(|c| c.id)
                    .collect()
            })
        });
        if let Some(id) = step(&listed, selected.get_untracked().as_deref(), by) {
            desk.open(id);
        }
    };
    view! {
        <div class="inbox-column">
            <nav class="tabs" aria-label=t("conversations_by_state")>{tabs.into_iter().collect_view()}</nav>
            <ul class="inbox" data-testid="inbox" role="listbox" tabindex="0" aria-label=t("conversations")
                aria-activedescendant=move || selected.get().map(|id| format!("conversation-{id}"))
                on:keydown=keys>
                {move || {
                    let listed = me.with_value(|me| inbox.with(|i| i.listed(tab.get(), me)));
                    listed.into_iter().map(|c| {
                        let id = c.id.clone();
                        let is_selected = selected.get().as_deref() == Some(c.id.as_str());
                        let unread = inbox.with(|i| i.unread(&c));
                        // A bot's or desk's conversation is open without an agent: say who has it.
                        let (state, badge_class) = match (c.status, c.handler) {
                            (ConversationStatus::Closed, _) => (c.status.as_str(), "badge"),
                            (_, handler @ (Handler::Bot | Handler::Desk)) => (handler.as_str(), "badge"),
                            (ConversationStatus::Waiting, _) => (c.status.as_str(), "badge"),
                            (ConversationStatus::Open, _) => (c.status.as_str(), "badge open"),
                        };
                        let badge = t(&format!("state_{state}"));
                        view! {
                            <li class:selected=is_selected data-testid="conversation" data-id=c.id.clone()
                                role="option" aria-selected=is_selected.to_string() id=format!("conversation-{}", c.id)
                                on:click=move |_| desk.open(id.clone())>
                                <div class="meta">
                                    <span>{c.channel_name.clone()}</span>
                                    {(unread > 0).then(|| view! { <span class="unread" data-testid="unread">{unread}</span> })}
                                    <span class=badge_class>{badge}</span>
                                    {c.offline.then(|| view! {
                                        <span class="badge" data-testid="left-message" title=t("left_message_title")>{t("left_message")}</span>
                                    })}
                                </div>
                                <div class="preview">{c.last_text.clone()}</div>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            {move || inbox.with(|i| i.older.is_some()).then(|| view! {
                <button class="older" data-testid="load-older"
                    on:click=move |_| desk.load_older()>{t("load_older")}</button>
            })}
        </div>
    }
}

/// Moves the keyboard's focus to the element `css` names, if it is there.
pub fn focus(css: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(css).ok().flatten())
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}
