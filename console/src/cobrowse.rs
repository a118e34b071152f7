//! Co-browsing in the console: the conversation's "Ask to see the page" (then waiting, then
//! Stop), and, while the visitor shares their page, the pane that shows it live. The pane is an
//! `iframe` sandboxed without scripts on the gateway's empty mirror document (which loads
//! nothing but images, stylesheets and fonts through the gateway); `mirror.js` builds the
//! visitor's page in it from the pieces the socket brings, their pointer and clicks included.
//! A click in the pane points there on the visitor's page, or, once they let the agent act
//! and the agent chose to, clicks there for them.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{CobrowseAct, CobrowseSession, CobrowseState};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::mirror::attach;

use crate::api::call;
use crate::desk::Desk;
use crate::words::t;

fn path(conversation_id: &str) -> String {
    format!("/v1/conversations/{conversation_id}/cobrowse")
}

/// Keeps the session as the gateway answered it, or says the refusal.
fn answered(desk: Desk, answer: Result<Option<CobrowseSession>, protocol::ErrorDetail>) {
    desk.inbox.update(|i| match answer {
        Ok(Some(session)) => i.keep_cobrowse(session),
        Ok(None) => {}
        Err(e) => i.error = Some(e.message),
    });
}

/// The toolbar's co-browsing controls for the conversation on screen.
pub fn controls(desk: Desk, conversation_id: String) -> impl IntoView {
    let ask = {
        let id = conversation_id.clone();
        move |_| {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let asked = call::<CobrowseSession>(Request::post(&path(&id)), None).await;
                answered(desk, asked.map(Some));
            });
        }
    };
    let stop = {
        let id = conversation_id.clone();
        move |_| {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let stopped = call::<Value>(Request::delete(&path(&id)), None).await;
                desk.inbox.update(|i| match stopped {
                    Ok(_) => _ = i.cobrowse.remove(&id),
                    Err(e) => i.error = Some(e.message),
                });
            });
        }
    };
    // Drawn again when the state changes, not with every message.
    let state = Memo::new(move |_| {
        desk.inbox
            .with(|i| i.cobrowse.get(&conversation_id).map(|s| s.state))
    });
    move || {
        match state.get() {
        None => view! {
            <button data-testid="cobrowse-ask" on:click=ask.clone()>{t("cobrowse_ask")}</button>
        }
        .into_any(),
        Some(CobrowseState::Requested) => view! {
            <span class="cobrowse-waiting" data-testid="cobrowse-waiting">{t("cobrowse_waiting")}</span>
            <button data-testid="cobrowse-cancel" on:click=stop.clone()>{t("cobrowse_cancel")}</button>
        }
        .into_any(),
        Some(_) => view! {
            <button data-testid="cobrowse-stop" on:click=stop.clone()>{t("cobrowse_stop")}</button>
        }
        .into_any(),
    }
    }
}

/// The visitor's page, live, while the conversation on screen shares it.
pub fn pane(desk: Desk) -> impl IntoView {
    // The running session of the conversation on screen: a new one is a new mirror, and
    // nothing else (a message) draws it again.
    let shown = Memo::new(move |_| {
        let id = desk.selected.get()?;
        desk.inbox.with(|i| {
            i.cobrowse
                .get(&id)
                .filter(|s| s.state == CobrowseState::Active)
                .map(|s| (id.clone(), s.id.clone()))
        })
    });
    move || shown.get().map(|(id, _session)| mirror(desk, id))
}

fn mirror(desk: Desk, conversation_id: String) -> impl IntoView {
    let frame = NodeRef::<leptos::html::Iframe>::new();
    // The agent chose to click for the visitor (offered once the visitor allowed it).
    let acting = RwSignal::new(false);
    let control = {
        let id = conversation_id.clone();
        Memo::new(move |_| {
            desk.inbox
                .with(|i| i.cobrowse.get(&id).is_some_and(|s| s.control))
        })
    };
    // A click points, unless the agent acts for the visitor (then clicks, typing and scrolling
    // are done on their page); nothing else is sent.
    let on_agent = {
        let id = conversation_id.clone();
        Closure::<dyn Fn(String, i32, i32, u32, String)>::new(
            move |kind: String, x: i32, y: i32, node: u32, text: String| {
                let acting = acting.get_untracked() && control.get_untracked();
                let act = match kind.as_str() {
                    "click" if acting && node != 0 => Some(CobrowseAct::Click { node }),
                    "click" => return desk.cobrowse_point(&id, x, y),
                    "type" if acting && node != 0 => Some(CobrowseAct::Type { node, text }),
                    "scroll" if acting => Some(CobrowseAct::Scroll { node: None, x, y }),
                    _ => None,
                };
                if let Some(act) = act {
                    desk.cobrowse_act(&id, act);
                }
            },
        )
        .into_js_value()
    };
    let watched = conversation_id.clone();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(element) = frame.get() else {
            return false;
        };
        attach(&element, &watched, on_agent.unchecked_ref());
        desk.show_mirror(&watched, Some(element));
        true
    });
    let unwatched = conversation_id.clone();
    on_cleanup(move || desk.show_mirror(&unwatched, None));
    view! {
        <section class="cobrowse" data-testid="cobrowse-pane" aria-label=t("cobrowse_title")>
            <p class="cobrowse-hint">
                {t("cobrowse_hint")}
                {move || control.get().then(|| view! {
                    <label>
                        <input type="checkbox" data-testid="cobrowse-acting"
                            prop:checked=move || acting.get()
                            on:change=move |ev| acting.set(event_target_checked(&ev)) />
                        {t("cobrowse_act")}
                    </label>
                })}
            </p>
            <div class="cobrowse-view">
                <iframe sandbox="allow-same-origin" src="/v1/agent/cobrowse/frame"
                    title=t("cobrowse_title") data-testid="cobrowse-frame" node_ref=frame></iframe>
            </div>
        </section>
    }
}
