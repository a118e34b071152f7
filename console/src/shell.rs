//! The console's shell: who is logged in (the login form until someone is), the top bar with
//! the pages and the agent's presence, and the inbox page's three columns.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{AgentPresence, AgentProfile, SetPresence};

use crate::api::call;
use crate::desk::Desk;

use crate::words::t;

pub fn app() -> impl IntoView {
    crate::words::apply_to_page();
    // The page's title, before a workspace puts a count in front of it.
    let title = t("page_title");
    if let Some(document) = document() {
        document.set_title(&title);
    }
    // None: not known yet; Some(None): logged out; Some(Some(agent)): logged in.
    let agent = RwSignal::new(None::<Option<AgentProfile>>);
    leptos::task::spawn_local(async move {
        let me = call::<AgentProfile>(Request::get("/v1/agent/me"), None)
            .await
            .ok();
        agent.set(Some(me));
    });
    move || match agent.get() {
        None => view! { <main><p class="loading">{t("loading")}</p></main> }.into_any(),
        Some(None) => crate::login::login(agent).into_any(),
        Some(Some(profile)) => workspace(profile, title.clone()).into_any(),
    }
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

/// The page's title with the messages waiting to be read first, as mail clients show them: an
/// agent sees them on the tab while working in another.
pub fn page_title(title: &str, unread: i64) -> String {
    if unread > 0 {
        format!("({unread}) {title}")
    } else {
        title.to_owned()
    }
}

/// The inbox and the pages of a logged-in agent; the tab's `title` counts their unread messages
/// while it shows (and is given back as it was after a logout).
fn workspace(profile: AgentProfile, title: String) -> impl IntoView {
    let desk = Desk::start(profile.id.clone(), profile.queues.clone());
    let connected = desk.connected;
    let inbox = desk.inbox;
    let counted = title.clone();
    Effect::new(move |_| {
        let unread = inbox.with(crate::inbox::Inbox::unread_total);
        if let Some(document) = document() {
            document.set_title(&page_title(&counted, unread));
        }
    });
    on_cleanup(move || {
        if let Some(document) = document() {
            document.set_title(&title);
        }
    });
    let page = RwSignal::new(Page::Inbox);
    let shortcuts = shortcuts_on_question_mark();
    let is_admin = profile.role == protocol::Role::Admin;
    let to_inbox = move || page.set(Page::Inbox);
    let nav = move |to: Page, label: String, testid: &'static str| {
        view! {
            <button class="link" data-testid=testid aria-current=move || (page.get() == to).then_some("page")
                on:click=move |_| page.set(to)>{label}</button>
        }
    };
    view! {
        <div class="app" class:admin-page=move || page.get() != Page::Inbox>
            <header class="topbar">
                <h1 class="brand">{t("live_chat")}</h1>
                <nav aria-label=t("pages")>
                    {nav(Page::Inbox, t("inbox"), "nav-inbox")}
                    {nav(Page::Visitors, t("visitors_now"), "nav-visitors")}
                    {nav(Page::History, t("history"), "nav-history")}
                    {nav(Page::Reports, t("reports"), "nav-reports")}
                    {is_admin.then(|| nav(Page::Channels, t("channels"), "nav-channels"))}
                    {is_admin.then(|| nav(Page::Audit, t("audit_log"), "nav-audit"))}
                </nav>
                <span class="conn" data-testid="connection" data-live=move || connected.get().to_string()>
                    {move || if connected.get() { t("live") } else { t("reconnecting") }}
                </span>
                {crate::alerts::switches()}
                {presence_choice(profile.presence)}
                {crate::words::language_choice()}
                <span>{profile.name}</span>
            </header>
            <main class="pages">
            <div class="inbox-page" class:hidden=move || page.get() != Page::Inbox>
                {crate::inbox_list::inbox_list(profile.id.clone())}
                {crate::thread::thread()}
                {crate::details::visitor_details(is_admin)}
            </div>
            {move || shortcuts.get().then(shortcuts_list)}
            {move || match page.get() {
                Page::Inbox => None,
                Page::Visitors => Some(crate::visitors::visitors_page(to_inbox).into_any()),
                Page::History => Some(crate::history::history_page(is_admin, to_inbox).into_any()),
                Page::Reports => Some(crate::reports::reports_page(is_admin).into_any()),
                Page::Channels => Some(crate::channels::channels_page().into_any()),
                Page::Audit => Some(crate::audit::audit_page().into_any()),
            }}
            </main>
        </div>
    }
}

/// Whether the list of keyboard shortcuts shows: `?` (outside a text field) toggles it,
/// Escape hides it.
fn shortcuts_on_question_mark() -> RwSignal<bool> {
    let shown = RwSignal::new(false);
    let listener = window_event_listener(leptos::ev::keydown, move |ev| {
        let in_field = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        match ev.key().as_str() {
            "?" if !in_field => shown.update(|s| *s = !*s),
            "Escape" => shown.set(false),
            _ => {}
        }
    });
    on_cleanup(move || listener.remove());
    shown
}

fn shortcuts_list() -> impl IntoView {
    let keys = [
        // Keys are named as printed on keyboards, in every language.
        ("Tab".to_owned(), t("key_tab")),
        (t("key_arrows"), t("key_arrows_does")),
        (t("key_enter_inbox"), t("key_enter_inbox_does")),
        (t("key_enter_reply"), t("key_enter_reply_does")),
        ("Shift+Enter".to_owned(), t("key_shift_enter")),
        (t("key_canned"), t("key_canned_does")),
        (t("key_escape"), t("key_escape_does")),
        ("?".to_owned(), t("key_question")),
    ];
    view! {
        <aside class="shortcuts" role="dialog" aria-label=t("keyboard_shortcuts") data-testid="shortcuts">
            <h2>{t("keyboard_shortcuts")}</h2>
            <dl>
                {keys.into_iter().map(|(key, does)| view! { <dt><kbd>{key}</kbd></dt><dd>{does}</dd> }).collect_view()}
            </dl>
        </aside>
    }
}

/// The pages of the workspace; the inbox stays mounted behind the others (its socket and
/// alerts keep running).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Inbox,
    Visitors,
    History,
    Reports,
    Channels,
    Audit,
}

/// The agent's own presence: online takes conversations, away keeps the console open without
/// taking new ones, offline hides the agent from visitors' rules.
fn presence_choice(initial: AgentPresence) -> impl IntoView {
    let presence = RwSignal::new(initial);
    let label = |p: AgentPresence| match p {
        AgentPresence::Online => t("presence_online"),
        AgentPresence::Away => t("presence_away"),
        AgentPresence::Offline => t("presence_offline"),
    };
    let change = move |ev: leptos::ev::Event| {
        let Ok(chosen) = event_target_value(&ev).parse::<AgentPresence>() else {
            return;
        };
        let body = SetPresence { presence: chosen };
        leptos::task::spawn_local(async move {
            let body = serde_json::to_value(body).ok();
            if let Ok(profile) =
                call::<AgentProfile>(Request::put("/v1/agent/presence"), body).await
            {
                presence.set(profile.presence);
            }
        });
    };
    view! {
        <select class="presence" data-testid="presence" aria-label=t("your_presence") on:change=change>
            {AgentPresence::ALL.iter().map(|&p| {
                view! { <option value=p.as_str() selected=move || presence.get() == p>{label(p)}</option> }
            }).collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::page_title;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_title_leads_with_the_unread_count_when_there_is_one() {
        assert_eq!(page_title("Console", 3), "(3) Console");
        assert_eq!(page_title("Console", 0), "Console");
    }
}
