//! The visitor beside the conversation: where they wrote from, which visit, the browser, and
//! their contact (names, email, labels) with every conversation of that person; and what
//! happened to the conversation (transfers and the bot's hand-over with their notes, closes).

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    ContactView, ConversationEvent, ConversationEventKind, ConversationSummary, Handler, Rating,
    RatingScale,
};

use crate::api::call;
use crate::desk::Desk;

use crate::words::{fill, t};

/// "Firefox on Windows" from a `User-Agent`: enough for an agent, nothing to maintain.
pub fn describe_user_agent(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map_or_else(|| t("another_browser"), |(_, name)| (*name).to_owned());
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => fill(
            "browser_on_system",
            &[("browser", &browser), ("system", system)],
        ),
        None => browser,
    }
}

/// One line for an event in the conversation's history, for agents.
pub fn describe_event(event: &ConversationEvent) -> String {
    let by = event.agent_name.as_deref();
    let target = event.target.as_deref().unwrap_or_default();
    match (event.kind, by) {
        (ConversationEventKind::Closed, Some(agent)) => fill("closed_by", &[("agent", agent)]),
        (ConversationEventKind::Closed, None) => t("closed_by_integration"),
        (ConversationEventKind::TransferredToAgent, _) => {
            let who = by.map_or_else(|| t("an_integration"), str::to_owned);
            fill("gave_to_agent", &[("who", &who)])
        }
        (ConversationEventKind::TransferredToQueue, _) => {
            let who = by.map_or_else(|| t("an_integration"), str::to_owned);
            fill("sent_to_queue", &[("who", &who), ("queue", target)])
        }
        (ConversationEventKind::HandedOver, _) if target == Handler::Desk.as_str() => {
            t("bot_to_desk")
        }
        (ConversationEventKind::HandedOver, _) => t("bot_to_agents"),
    }
}

/// The name the company's records give, else the one the visitor gave before chatting.
fn contact_name(contact: &ContactView) -> String {
    protocol::person_name(
        contact.first_name.as_deref(),
        contact.last_name.as_deref(),
        contact.name.as_deref(),
    )
    .unwrap_or_else(|| t("anonymous_visitor"))
}

/// "Accepted v3, 06/12/2026 15:04:00" (the version of the text the visitor ticked, and when).
fn consent(contact: &ContactView) -> Option<String> {
    let version = contact.consent_version.as_deref()?;
    Some(match contact.consent_at_ms {
        Some(at) => fill(
            "consent_accepted_at",
            &[("version", version), ("at", &crate::time::local_time(at))],
        ),
        None => fill("consent_accepted", &[("version", version)]),
    })
}

/// A rating as the visitor gave it: stars out of five, or a thumb.
pub fn describe_rating(rating: &Rating) -> String {
    let score = usize::from(rating.score.min(5));
    match rating.scale {
        RatingScale::Thumbs if score > 1 => "👍".into(),
        RatingScale::Thumbs => "👎".into(),
        _ => format!("{}{}", "★".repeat(score), "☆".repeat(5 - score)),
    }
}

/// An admin's actions on the contact: export everything held about them, or erase it after
/// a confirmation.
fn contact_actions(contact: RwSignal<Option<ContactView>>, id: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let selected = expect_context::<Desk>().selected;
    let export = format!("/v1/contacts/{id}/export");
    let erase = move |_| {
        let url = format!("/v1/contacts/{id}");
        leptos::task::spawn_local(async move {
            match call::<serde_json::Value>(Request::delete(&url), None).await {
                Ok(_) => {
                    // Its conversations are gone with it.
                    contact.set(None);
                    selected.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
            confirming.set(false);
        });
    };
    view! {
        <div class="contact-actions">
            <a class="link" data-testid="contact-export" href=export download="">{t("export_contact")}</a>
            {move || if confirming.get() {
                view! {
                    <p role="alert" data-testid="erase-warning">{t("erase_contact_warning")}</p>
                    <button class="danger" data-testid="contact-erase-confirm" on:click=erase.clone()>{t("erase_for_good")}</button>
                    " "<button class="link" on:click=move |_| confirming.set(false)>{t("keep_contact")}</button>
                }.into_any()
            } else {
                view! { <button class="link" data-testid="contact-erase" on:click=move |_| confirming.set(true)>{t("erase_contact")}</button> }.into_any()
            }}
            {move || error.get().map(|e| view! { <p class="error" data-testid="erase-error">{e}</p> })}
        </div>
    }
}

pub fn visitor_details(is_admin: bool) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let contact = RwSignal::new(None::<ContactView>);
    let current = move || desk.current();
    // The contact of the conversation on screen, read again when another one is chosen.
    let contact_id = Memo::new(move |_| current().and_then(|c| c.contact_id));
    Effect::new(move |_| {
        let Some(id) = contact_id.get() else {
            contact.set(None);
            return;
        };
        leptos::task::spawn_local(async move {
            let url = format!("/v1/contacts/{id}");
            contact.set(call::<ContactView>(Request::get(&url), None).await.ok());
        });
    });
    // What happened to it, read again whenever the conversation changes.
    let events = RwSignal::new(Vec::<ConversationEvent>::new());
    let changed = Memo::new(move |_| current().map(|c| (c.id, c.updated_at_ms, c.status)));
    Effect::new(move |_| {
        let Some((id, _, _)) = changed.get() else {
            events.set(vec![]);
            return;
        };
        leptos::task::spawn_local(async move {
            let url = format!("/v1/conversations/{id}/events");
            let found = call::<Vec<ConversationEvent>>(Request::get(&url), None).await;
            events.set(found.unwrap_or_default());
        });
    });
    let history_of_conversation = move || {
        let list = events.get();
        (!list.is_empty()).then(|| {
            let lines = list
                .iter()
                .map(|e| {
                    let note = e.note.clone().map(|n| view! { <q>{n}</q> });
                    view! { <li data-testid="conversation-event">{describe_event(e)}" "{note}</li> }
                })
                .collect_view();
            view! { <h2>{t("notes")}</h2><ul class="events">{lines}</ul> }
        })
    };
    let desk = StoredValue::new_local(desk);
    let rating = move |c: &ConversationSummary| {
        c.rating.as_ref().map(|r| {
            let said = r.comment.clone().map(|text| view! { " "<q>{text}</q> });
            let title = fill("rated_at", &[("at", &crate::time::local_time(r.rated_at_ms))]);
            view! {
                <dt>{t("rating")}</dt>
                <dd data-testid="conversation-rating" title=title>
                    <span aria-label=fill("rating_of", &[("score", &r.score.to_string())])>{describe_rating(r)}</span>
                    {said}
                </dd>
            }
        })
    };
    let facts = move |c: ConversationSummary| {
        let rows = [
            (t("page"), c.page_url),
            (t("origin"), c.origin),
            (t("visit"), c.visit.map(|v| format!("#{v}"))),
            (
                t("browser"),
                c.user_agent.as_deref().map(describe_user_agent),
            ),
        ];
        rows.into_iter()
            .filter_map(|(label, value)| value.map(|v| view! { <dt>{label}</dt><dd>{v}</dd> }))
            .collect_view()
    };
    let person = move || {
        contact.get().map(|p| {
            let history = p
                .conversations
                .iter()
                .map(|c| {
                    let found = c.clone();
                    let status = t(&format!("state_{}", c.status.as_str()));
                    view! {
                        <li on:click=move |_| desk.with_value(|d| d.open_found(found.clone()))>
                            <span class="badge">{status}</span>" "{c.last_text.clone()}
                        </li>
                    }
                })
                .collect_view();
            let verified = p.verified_at_ms.map(|at| {
                let title = fill("identified_at", &[("at", &crate::time::local_time(at))]);
                view! { " "<span class="badge" data-testid="contact-verified" title=title>{t("verified")}</span> }
            });
            let attributes = (!p.attributes.is_empty()).then(|| {
                let rows = p
                    .attributes
                    .iter()
                    .map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{v.clone()}</dd> })
                    .collect_view();
                view! {
                    <h2 title=t("unverified_title")>{t("unverified")}</h2>
                    <dl data-testid="contact-attributes">{rows}</dl>
                }
            });
            // Someone the agents may write to first, with nothing in progress to answer.
            let idle = p.conversations.iter().all(|c| c.status == protocol::ConversationStatus::Closed);
            let start = (p.startable && idle).then(|| {
                let to = serde_json::json!({"contact_id": p.id});
                view! {
                    <h2>{t("write_first")}</h2>
                    {crate::visitors::start_form(p.channel_id.clone(), to, || {})}
                }
            });
            view! {
                <dl>
                    <dt>{t("contact")}</dt><dd data-testid="contact-name">{contact_name(&p)}{verified}</dd>
                    {p.email.clone().map(|e| view! { <dt>{t("email")}</dt><dd data-testid="contact-email">{e}</dd> })}
                    {p.phone.clone().map(|e| view! { <dt>{t("phone")}</dt><dd data-testid="contact-phone">{e}</dd> })}
                    {consent(&p).map(|e| view! { <dt>{t("consent")}</dt><dd data-testid="contact-consent">{e}</dd> })}
                    {p.external_id.clone().map(|e| view! { <dt>{t("customer_id")}</dt><dd>{e}</dd> })}
                    {(!p.labels.is_empty()).then(|| view! { <dt>{t("labels")}</dt><dd data-testid="contact-labels">{p.labels.join(", ")}</dd> })}
                </dl>
                {attributes}
                <h2>{t("conversations")}</h2>
                <ul class="history" data-testid="contact-history">{history}</ul>
                {start}
                {is_admin.then(|| contact_actions(contact, p.id.clone()))}
            }
        })
    };
    view! {
        <aside class="details" data-testid="visitor-details">
            {move || current().map(|c| {
                let text = format!("/v1/conversations/{}/transcript", c.id);
                let html = format!("{text}?format=html");
                view! {
                    <dl>{rating(&c)}{facts(c)}</dl>
                    <p class="downloads">
                        <a class="link" data-testid="details-transcript-text" href=text download="">{t("download_text")}</a>
                        " "<a class="link" data-testid="details-transcript-html" href=html download="">{t("download_html")}</a>
                    </p>
                }
            })}
            {history_of_conversation}
            {person}
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_event, describe_user_agent};
    use protocol::{ConversationEvent, ConversationEventKind};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn events_read_as_sentences() {
        let event = |kind: ConversationEventKind, agent: Option<&str>, target: Option<&str>| {
            ConversationEvent {
                at_ms: 0,
                kind,
                agent_name: agent.map(Into::into),
                target: target.map(Into::into),
                note: None,
            }
        };
        let cases = [
            (
                event(ConversationEventKind::Closed, Some("Dana"), None),
                "Closed by Dana",
            ),
            (
                event(ConversationEventKind::Closed, None, None),
                "Closed by an integration",
            ),
            (
                event(
                    ConversationEventKind::TransferredToQueue,
                    Some("Dana"),
                    Some("billing"),
                ),
                "Dana sent it to the queue billing",
            ),
            (
                event(ConversationEventKind::TransferredToAgent, None, Some("a1")),
                "An integration gave it to an agent",
            ),
            (
                event(ConversationEventKind::HandedOver, None, Some("desk")),
                "The bot handed it to the external desk",
            ),
            (
                event(ConversationEventKind::HandedOver, None, Some("agents")),
                "The bot handed it to the agents",
            ),
        ];
        for (e, expected) in cases {
            assert_eq!(describe_event(&e), expected);
        }
    }

    #[wasm_bindgen_test]
    fn user_agents_are_named_briefly() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36", "Headless Chrome on Linux"),
            ("curl/8.0", "Another browser"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe_user_agent(ua), expected);
        }
    }
}
