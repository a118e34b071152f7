//! Visitors now: who is on a page of a channel at this moment (`GET /v1/visitors`, read again
//! every few seconds while the page shows, a page of rows at a time), and starting a
//! conversation with one of them, or with a known contact from their card.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{ConversationStarted, ErrorDetail, LiveVisitor, LiveVisitorPage};
use serde_json::{json, Value};

use crate::api::call;
use crate::desk::Desk;

use crate::words::{fill, t};

/// How often the list is read again.
const REFRESH_MS: u64 = 5_000;

/// Starts a conversation on the channel with `to` (`visitor_id` or `contact_id`) and opens it.
async fn start(desk: Desk, channel_id: &str, to: Value, text: String) -> Result<(), ErrorDetail> {
    let mut body = to;
    body["client_id"] = json!(browser_socket::client_id());
    body["text"] = json!(text);
    let url = format!("/v1/channels/{channel_id}/conversations");
    let started = call::<ConversationStarted>(Request::post(&url), Some(body)).await?;
    desk.open(started.conversation.id);
    Ok(())
}

/// A time spent, as agents read it: "45 s", "3 min", "2 h 05".
pub fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0..60 => fill("duration_s", &[("n", &secs.to_string())]),
        60..3600 => fill("duration_min", &[("n", &(secs / 60).to_string())]),
        _ => fill(
            "duration_h",
            &[
                ("h", &(secs / 3600).to_string()),
                ("m", &format!("{:02}", secs % 3600 / 60)),
            ],
        ),
    }
}

/// The page; `to_inbox` shows the inbox (where a started conversation opens).
pub fn visitors_page(to_inbox: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let page = RwSignal::new(None::<Result<LiveVisitorPage, ErrorDetail>>);
    // The cursor of the page shown; None: the first.
    let cursor = RwSignal::new(None::<String>);
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        tick.track();
        let url = match cursor.get() {
            Some(c) => format!("/v1/visitors?cursor={c}"),
            None => "/v1/visitors".to_owned(),
        };
        leptos::task::spawn_local(async move {
            page.set(Some(
                call::<LiveVisitorPage>(Request::get(&url), None).await,
            ));
        });
    });
    let interval = set_interval_with_handle(
        move || tick.update(|t| *t = t.wrapping_add(1)),
        std::time::Duration::from_millis(REFRESH_MS),
    );
    on_cleanup(move || {
        if let Ok(handle) = interval {
            handle.clear();
        }
    });
    let rows = move || match page.get() {
        None => view! { <p>{t("loading")}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
        Some(Ok(found)) if found.visitors.is_empty() => {
            view! { <p data-testid="no-visitors">{t("nobody_on_site")}</p> }.into_any()
        }
        Some(Ok(found)) => {
            let now = js_sys::Date::now() as i64;
            let next = found.next_cursor.clone();
            view! {
                <table class="visitors">
                    <thead><tr>
                        <th>{t("col_who")}</th><th>{t("page")}</th><th>{t("col_on_page")}</th><th>{t("visit")}</th>
                        <th>{t("col_channel")}</th><th>{t("col_chat")}</th>
                    </tr></thead>
                    <tbody>
                        {found.visitors.into_iter().map(|v| row(v, now, to_inbox)).collect_view()}
                    </tbody>
                </table>
                <p class="paging">
                    {move || cursor.get().is_some().then(|| view! {
                        <button class="link" on:click=move |_| cursor.set(None)>{t("first_page")}</button>
                    })}
                    {next.map(|next| view! {
                        <button class="link" data-testid="visitors-next" on:click=move |_| cursor.set(Some(next.clone()))>{t("next_page")}</button>
                    })}
                </p>
            }
            .into_any()
        }
    };
    view! {
        <section class="visitors-page" data-testid="visitors-page">
            <h2>{t("visitors_now")}</h2>
            {rows}
        </section>
    }
}

fn row(visitor: LiveVisitor, now: i64, to_inbox: impl Fn() + Copy + 'static) -> impl IntoView {
    let who = match (&visitor.name, &visitor.email) {
        (Some(name), _) => name.clone(),
        (None, Some(email)) => email.clone(),
        (None, None) => t("anonymous_visitor"),
    };
    let verified = visitor.external_id.is_some();
    let desk = expect_context::<Desk>();
    let chat = match (&visitor.conversation_id, visitor.startable) {
        (Some(id), _) => {
            let id = id.clone();
            view! {
                <button class="link" on:click=move |_| {
                    desk.open(id.clone());
                    to_inbox();
                }>{t("in_conversation")}</button>
            }
            .into_any()
        }
        (None, true) => start_form(
            visitor.channel_id.clone(),
            json!({"visitor_id": visitor.visitor_id}),
            to_inbox,
        )
        .into_any(),
        (None, false) => view! { <span class="muted">{t("receptive_channel")}</span> }.into_any(),
    };
    view! {
        <tr data-testid="live-visitor" data-visitor=visitor.visitor_id.clone()>
            <td>{who}{verified.then(|| view! { " "<span class="badge" data-testid="verified">"verified"</span> })}</td>
            <td class="url">{visitor.page_url.unwrap_or_default()}</td>
            <td>{duration(now - visitor.viewed_at_ms)}</td>
            <td>{format!("#{}", visitor.visit)}</td>
            <td>{visitor.channel_name}</td>
            <td>{chat}</td>
        </tr>
    }
}

/// A first line and its Start button; the conversation opens in the inbox once started.
pub fn start_form(
    channel_id: String,
    to: Value,
    to_inbox: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let written = text.get_untracked();
        if written.trim().is_empty() {
            return;
        }
        let (channel_id, to) = (channel_id.clone(), to.clone());
        leptos::task::spawn_local(async move {
            match start(desk, &channel_id, to, written).await {
                Ok(()) => to_inbox(),
                Err(e) => problem.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="start-chat" data-testid="start-chat" on:submit=submit>
            <input
                aria-label=t("first_message")
                placeholder=t("say_hello")
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button type="submit">{t("start_chat")}</button>
            {move || problem.get().map(|p| view! { <span class="error">{p}</span> })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn time_on_page_reads_briefly() {
        let cases = [
            (-5, "0 s"),
            (45_000, "45 s"),
            (180_000, "3 min"),
            (7_500_000, "2 h 05"),
        ];
        for (ms, expected) in cases {
            assert_eq!(duration(ms), expected);
        }
    }
}
