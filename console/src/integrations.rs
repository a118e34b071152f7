//! A channel's integrations, for admins: the inbound URL an external desk answers through, the
//! webhook, bot and desk endpoints, and each endpoint's delivery log with a replay button.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    DeliveryPage, DeliveryView, EndpointKind, ErrorDetail, WebhookEndpointView, WEBHOOK_EVENTS,
};
use serde_json::{json, Value};

use crate::admin::api;

pub fn integrations(channel_id: String) -> impl IntoView {
    let base = format!("/v1/channels/{channel_id}/webhooks");
    let endpoints = RwSignal::new(Vec::<WebhookEndpointView>::new());
    let error = RwSignal::new(None::<ErrorDetail>);
    let reload = {
        let base = base.clone();
        move || {
            let base = base.clone();
            leptos::task::spawn_local(async move {
                match api::<Vec<WebhookEndpointView>>(Request::get(&base), None).await {
                    Ok(list) => endpoints.set(list),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    reload();
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let inbound = format!("{origin}/v1/channels/{channel_id}/inbound");
    let copy = {
        let inbound = inbound.clone();
        move |_| {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&inbound);
            }
        }
    };
    let rows = {
        let base = base.clone();
        let reload = reload.clone();
        move || {
            endpoints
                .get()
                .into_iter()
                .map(|endpoint| endpoint_row(&base, endpoint, error, reload.clone()))
                .collect_view()
        }
    };
    view! {
        <section class="integrations" data-testid="integrations">
            <h3>"Integrations"</h3>
            <p class="hint">"Programs use the channel secret as a bearer token. "
                <a href="/api" target="_blank" rel="noopener">"API reference"</a></p>
            <label>"Internal webhook URL: an external desk answers visitors here"
                <input readonly data-testid="inbound-url" value=inbound.clone() />
            </label>
            <button type="button" on:click=copy>"Copy URL"</button>
            <ul class="endpoints">{rows}</ul>
            {new_endpoint(base, error, reload)}
            {move || error.get().map(|e| {
                let fields = e.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
                view! { <p class="error" data-testid="integrations-error">{e.message} " " {fields}</p> }
            })}
        </section>
    }
}

fn kind_label(kind: EndpointKind) -> &'static str {
    match kind {
        EndpointKind::Webhook => "Webhook",
        EndpointKind::Bot => "Bot",
        EndpointKind::Desk => "Desk",
    }
}

fn endpoint_row(
    base: &str,
    endpoint: WebhookEndpointView,
    error: RwSignal<Option<ErrorDetail>>,
    reload: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let path = format!("{base}/{}", endpoint.id);
    let log_open = RwSignal::new(false);
    let remove = {
        let path = path.clone();
        move |_| {
            let path = path.clone();
            let reload = reload.clone();
            leptos::task::spawn_local(async move {
                match api::<Value>(Request::delete(&path), None).await {
                    Ok(_) => reload(),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let events = if endpoint.events.is_empty() {
        "all events".to_owned()
    } else {
        endpoint.events.join(", ")
    };
    let what = match endpoint.kind {
        EndpointKind::Webhook => events,
        _ => format!("as “{}”", endpoint.name),
    };
    view! {
        <li data-testid="endpoint">
            <strong>{kind_label(endpoint.kind)}</strong>" "<code>{endpoint.url.clone()}</code>" "{what}
            <details><summary>"Signing secret"</summary><code>{endpoint.secret.clone()}</code></details>
            <button type="button" data-testid="endpoint-log" on:click=move |_| log_open.update(|o| *o = !*o)>"Deliveries"</button>
            <button type="button" class="link" on:click=remove>"Delete"</button>
            {move || log_open.get().then(|| delivery_log(path.clone(), error))}
        </li>
    }
}

fn delivery_log(path: String, error: RwSignal<Option<ErrorDetail>>) -> impl IntoView {
    let deliveries = RwSignal::new(Vec::<DeliveryView>::new());
    let load = {
        let path = path.clone();
        move || {
            let path = path.clone();
            leptos::task::spawn_local(async move {
                match api::<DeliveryPage>(Request::get(&format!("{path}/deliveries")), None).await {
                    Ok(page) => deliveries.set(page.deliveries),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    load();
    let refresh = load.clone();
    let rows = move || {
        deliveries
            .get()
            .into_iter()
            .map(|d| {
                let url = format!("{path}/deliveries/{}/replay", d.id);
                let load = load.clone();
                let replay = move |_| {
                    let url = url.clone();
                    let load = load.clone();
                    leptos::task::spawn_local(async move {
                        match api::<Value>(Request::post(&url), Some(json!({}))).await {
                            Ok(_) => load(),
                            Err(e) => error.set(Some(e)),
                        }
                    });
                };
                let when = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(d.created_at_ms as f64))
                    .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED);
                view! {
                    <tr data-testid="delivery" data-status=d.status.clone()>
                        <td>{String::from(when)}</td>
                        <td>{d.event_type.clone()}</td>
                        <td class=format!("status {}", d.status)>{d.status.clone()}</td>
                        <td>{d.attempts}</td>
                        <td>{d.last_status.map(|s| s.to_string()).unwrap_or_default()}</td>
                        <td>{d.last_error.clone().unwrap_or_default()}</td>
                        <td><button type="button" data-testid="replay" on:click=replay>"Replay"</button></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="delivery-log">
            <button type="button" on:click=move |_| refresh()>"Refresh"</button>
            <table>
                <thead><tr><th>"When"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"HTTP"</th><th>"Last error"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn new_endpoint(
    base: String,
    error: RwSignal<Option<ErrorDetail>>,
    reload: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let kind = RwSignal::new("webhook".to_owned());
    let name = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<String>::new());
    let add = move |_| {
        let body = json!({
            "url": url.get_untracked(), "kind": kind.get_untracked(), "name": name.get_untracked(),
            "events": if kind.get_untracked() == "webhook" { events.get_untracked() } else { vec![] },
        });
        let base = base.clone();
        let reload = reload.clone();
        leptos::task::spawn_local(async move {
            match api::<WebhookEndpointView>(Request::post(&base), Some(body)).await {
                Ok(_) => {
                    error.set(None);
                    url.set(String::new());
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <fieldset class="new-endpoint">
            <legend>"Add an endpoint"</legend>
            <select data-testid="endpoint-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                <option value="webhook">"Webhook: events as they happen"</option>
                <option value="bot">"Bot: answers first, can hand over"</option>
                <option value="desk">"External desk: gets the conversations"</option>
            </select>
            <input placeholder="https://…" data-testid="endpoint-url" prop:value=move || url.get()
                on:input=move |ev| url.set(event_target_value(&ev)) />
            {move || (kind.get() != "webhook").then(|| view! {
                <input placeholder="Name shown to visitors" on:input=move |ev| name.set(event_target_value(&ev)) />
            })}
            {move || (kind.get() == "webhook").then(|| WEBHOOK_EVENTS.iter().map(|event| {
                let event = (*event).to_owned();
                let toggled = event.clone();
                view! {
                    <label class="check">
                        <input type="checkbox" data-testid=format!("event-{event}") on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            events.update(|list| {
                                list.retain(|e| *e != toggled);
                                if on { list.push(toggled.clone()); }
                            });
                        } />
                        " " {event}
                    </label>
                }
            }).collect_view())}
            <p class="hint">"No event ticked: every event."</p>
            <button type="button" data-testid="endpoint-add" on:click=add>"Add"</button>
        </fieldset>
    }
}
