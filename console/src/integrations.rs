//! A channel's integrations, for admins: the inbound URL an external desk answers through, the
//! webhook, bot and desk endpoints, and each endpoint's delivery log with a replay button.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    DeliveryPage, DeliveryView, EndpointKind, ErrorDetail, EventType, NewWebhookEndpoint,
    WebhookEndpointView, WEBHOOK_EVENTS,
};
use serde_json::{json, Value};

use crate::api::call;

use crate::words::{fill, t};

pub fn integrations(channel_id: String) -> impl IntoView {
    let base = format!("/v1/channels/{channel_id}/webhooks");
    let endpoints = RwSignal::new(Vec::<WebhookEndpointView>::new());
    let error = RwSignal::new(None::<ErrorDetail>);
    let reload = {
        let base = base.clone();
        move || {
            let base = base.clone();
            leptos::task::spawn_local(async move {
                match call::<Vec<WebhookEndpointView>>(Request::get(&base), None).await {
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
            <h3>{t("integrations")}</h3>
            <p class="hint">{t("integrations_hint")}" "
                <a href="/api" target="_blank" rel="noopener">{t("api_reference")}</a></p>
            <label>{t("inbound_url")}
                <input readonly data-testid="inbound-url" value=inbound.clone() />
            </label>
            <button type="button" on:click=copy>{t("copy_url")}</button>
            <ul class="endpoints">{rows}</ul>
            {new_endpoint(base, error, reload)}
            {move || error.get().map(|e| {
                let fields = e.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
                view! { <p class="error" data-testid="integrations-error">{e.message} " " {fields}</p> }
            })}
        </section>
    }
}

fn kind_label(kind: EndpointKind) -> String {
    match kind {
        EndpointKind::Webhook => t("kind_webhook"),
        EndpointKind::Bot => t("kind_bot"),
        EndpointKind::Desk => t("kind_desk"),
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
                match call::<Value>(Request::delete(&path), None).await {
                    Ok(_) => reload(),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let events = if endpoint.events.is_empty() {
        t("all_events")
    } else {
        let names: Vec<&str> = endpoint.events.iter().map(|e| e.as_str()).collect();
        names.join(", ")
    };
    let what = match endpoint.kind {
        EndpointKind::Webhook => events,
        _ => fill("as_name", &[("name", &endpoint.name)]),
    };
    view! {
        <li data-testid="endpoint">
            <strong>{kind_label(endpoint.kind)}</strong>" "<code>{endpoint.url.clone()}</code>" "{what}
            <details><summary>{t("signing_secret")}</summary><code>{endpoint.secret.clone()}</code></details>
            <button type="button" data-testid="endpoint-log" on:click=move |_| log_open.update(|o| *o = !*o)>{t("deliveries")}</button>
            <button type="button" class="link" on:click=remove>{t("delete")}</button>
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
                match call::<DeliveryPage>(Request::get(&format!("{path}/deliveries")), None).await
                {
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
                        match call::<Value>(Request::post(&url), Some(json!({}))).await {
                            Ok(_) => load(),
                            Err(e) => error.set(Some(e)),
                        }
                    });
                };
                let when = crate::time::local_time(d.created_at_ms);
                view! {
                    <tr data-testid="delivery" data-status=d.status.as_str()>
                        <td>{when}</td>
                        <td>{d.event_type.as_str()}</td>
                        <td class=format!("status {}", d.status)>{d.status.as_str()}</td>
                        <td>{d.attempts}</td>
                        <td>{d.last_status.map(|s| s.to_string()).unwrap_or_default()}</td>
                        <td>{d.last_error.clone().unwrap_or_default()}</td>
                        <td><button type="button" data-testid="replay" on:click=replay>{t("replay")}</button></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="delivery-log">
            <button type="button" on:click=move |_| refresh()>{t("refresh")}</button>
            <table>
                <thead><tr><th>{t("col_when")}</th><th>{t("col_event")}</th><th>{t("col_status")}</th><th>{t("col_attempts")}</th><th>"HTTP"</th><th>{t("col_last_error")}</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn kind_choice(kind: EndpointKind) -> String {
    match kind {
        EndpointKind::Webhook => t("endpoint_webhook"),
        EndpointKind::Bot => t("endpoint_bot"),
        EndpointKind::Desk => t("endpoint_desk"),
    }
}

fn new_endpoint(
    base: String,
    error: RwSignal<Option<ErrorDetail>>,
    reload: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let kind = RwSignal::new(EndpointKind::Webhook);
    let name = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<EventType>::new());
    let add = move |_| {
        let chosen = kind.get_untracked();
        let body = json!(NewWebhookEndpoint {
            url: url.get_untracked(),
            kind: chosen,
            name: name.get_untracked(),
            events: match chosen {
                EndpointKind::Webhook => events.with_untracked(|list| {
                    list.iter().map(|e| e.as_str().to_owned()).collect()
                }),
                EndpointKind::Bot | EndpointKind::Desk => vec![],
            },
        });
        let base = base.clone();
        let reload = reload.clone();
        leptos::task::spawn_local(async move {
            match call::<WebhookEndpointView>(Request::post(&base), Some(body)).await {
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
            <legend>{t("add_endpoint")}</legend>
            <select data-testid="endpoint-kind" aria-label=t("endpoint_kind") on:change=move |ev| {
                if let Ok(chosen) = event_target_value(&ev).parse() { kind.set(chosen) }
            }>
                {EndpointKind::ALL.iter().map(|&k| view! {
                    <option value=k.as_str()>{kind_choice(k)}</option>
                }).collect_view()}
            </select>
            <input placeholder="https://…" data-testid="endpoint-url" prop:value=move || url.get()
                on:input=move |ev| url.set(event_target_value(&ev)) />
            {move || (kind.get() != EndpointKind::Webhook).then(|| view! {
                <input placeholder=t("endpoint_name") on:input=move |ev| name.set(event_target_value(&ev)) />
            })}
            {move || (kind.get() == EndpointKind::Webhook).then(|| WEBHOOK_EVENTS.iter().map(|&event| {
                let toggled = event;
                view! {
                    <label class="check">
                        <input type="checkbox" data-testid=format!("event-{event}") on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            events.update(|list| {
                                list.retain(|e| *e != toggled);
                                if on { list.push(toggled); }
                            });
                        } />
                        " " {event.as_str()}
                    </label>
                }
            }).collect_view())}
            <p class="hint">{t("no_event_ticked")}</p>
            <button type="button" data-testid="endpoint-add" on:click=add>{t("add")}</button>
        </fieldset>
    }
}
