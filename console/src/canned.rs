//! The team's canned responses, for admins (on the Channels page): what agents insert with
//! `/shortcut` and Tab in a reply.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{CannedResponse, ErrorDetail};
use serde_json::{json, Value};

use crate::api::call;

use crate::words::t;

/// The team's canned responses: listed, added or replaced by shortcut, deleted.
pub fn canned_admin() -> impl IntoView {
    let list = RwSignal::new(Vec::<CannedResponse>::new());
    let shortcut = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ErrorDetail>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match call::<Vec<CannedResponse>>(Request::get("/v1/canned-responses"), None).await {
                Ok(all) => list.set(all),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    reload();
    let path = |shortcut: &str| {
        format!(
            "/v1/canned-responses/{}",
            js_sys::encode_uri_component(shortcut)
        )
    };
    let save = move |_| {
        let url = path(shortcut.get_untracked().trim());
        let body = json!({ "text": text.get_untracked() });
        leptos::task::spawn_local(async move {
            match call::<CannedResponse>(Request::put(&url), Some(body)).await {
                Ok(_) => {
                    error.set(None);
                    shortcut.set(String::new());
                    text.set(String::new());
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let rows = move || {
        list.get()
            .into_iter()
            .map(|c| {
                let url = path(&c.shortcut);
                let remove = move |_| {
                    let url = url.clone();
                    leptos::task::spawn_local(async move {
                        if let Err(e) = call::<Value>(Request::delete(&url), None).await {
                            error.set(Some(e));
                        }
                        reload();
                    });
                };
                view! {
                    <li data-testid="canned">
                        <code>{format!("/{}", c.shortcut)}</code>" "{c.text.clone()}" "
                        <button type="button" class="link" on:click=remove>{t("delete")}</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="canned-admin">
            <h3>{t("canned_responses")}</h3>
            <p class="hint">{t("canned_hint")}</p>
            <ul>{rows}</ul>
            <input placeholder=t("canned_shortcut") data-testid="canned-shortcut" prop:value=move || shortcut.get()
                on:input=move |ev| shortcut.set(event_target_value(&ev)) />
            <textarea rows="2" placeholder=t("canned_text") data-testid="canned-text" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button type="button" data-testid="canned-save" on:click=save>{t("save")}</button>
            {move || error.get().map(|e| {
                let fields = e.fields.values().cloned().collect::<Vec<_>>().join("; ");
                view! { <p class="error">{e.message} " " {fields}</p> }
            })}
        </section>
    }
}
