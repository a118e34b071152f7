//! A channel's settings of what its visitors are asked and told, on the Channels page: what
//! the widget does while nobody can chat, email (the sender's name, when a waiting visitor is
//! offered replies by email), the launcher's tone, and the pre-chat form. Saved apart from the
//! channel's other settings, with the gateway's field errors shown below.

use leptos::prelude::*;
use protocol::{Ask, ChannelView, Consent, Prechat, RatingScale, Topic, WhenUnavailable};
use serde_json::{json, Value};

use crate::desk::Desk;

use crate::words::t;

/// `Label = queue` per line (the queue by name or id), as the admin types topics.
fn topics_text(topics: &[Topic], queue_name: impl Fn(&str) -> String) -> String {
    topics
        .iter()
        .map(|t| format!("{} = {}", t.label, queue_name(&t.queue_id)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The topics typed, each queue named by name or id; a line without `=` or with an unknown
/// queue is kept as typed, so the gateway names what is wrong.
fn parse_topics(text: &str, queue_id: impl Fn(&str) -> Option<String>) -> Vec<Topic> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (label, queue) = line.split_once('=').unwrap_or((line, ""));
            let queue = queue.trim();
            Topic {
                label: label.trim().to_owned(),
                queue_id: queue_id(queue).unwrap_or_else(|| queue.to_owned()),
            }
        })
        .collect()
}

/// The body that saves these settings.
pub fn body(
    when: WhenUnavailable,
    missed_chat_secs: &str,
    sender: &str,
    sound: bool,
    prechat: &Prechat,
    rating_scale: RatingScale,
) -> Value {
    let sender = sender.trim();
    json!({
        "when_unavailable": when,
        "missed_chat_secs": missed_chat_secs.trim().parse::<i64>().map_or_else(|_| json!(missed_chat_secs), |n| json!(n)),
        "email_sender_name": if sender.is_empty() { Value::Null } else { json!(sender) },
        "appearance": {"sound": sound},
        "prechat": prechat,
        "rating_scale": rating_scale,
    })
}

pub fn visitor_settings(
    channel: &ChannelView,
    save: impl Fn(Value) + Copy + 'static,
) -> impl IntoView {
    let team = expect_context::<Desk>().team;
    let queue_name = move |id: &str| {
        team.with_untracked(|t| {
            t.queues
                .iter()
                .find(|q| q.id == id)
                .map_or_else(|| id.to_owned(), |q| q.name.clone())
        })
    };
    let queue_id = move |named: &str| {
        team.with_untracked(|t| {
            t.queues
                .iter()
                .find(|q| q.name == named || q.id == named)
                .map(|q| q.id.clone())
        })
    };
    let when = RwSignal::new(channel.when_unavailable);
    let missed = RwSignal::new(channel.missed_chat_secs.to_string());
    let sender = RwSignal::new(channel.email_sender_name.clone().unwrap_or_default());
    let sound = RwSignal::new(channel.appearance.sound);
    let rating_scale = RwSignal::new(channel.rating_scale);
    let asks = [
        ("name", RwSignal::new(channel.prechat.name)),
        ("email", RwSignal::new(channel.prechat.email)),
        ("phone", RwSignal::new(channel.prechat.phone)),
    ];
    let topics = RwSignal::new(topics_text(&channel.prechat.topics, queue_name));
    let consent_text = RwSignal::new(
        channel
            .prechat
            .consent
            .as_ref()
            .map(|c| c.text.clone())
            .unwrap_or_default(),
    );
    let consent_version = RwSignal::new(
        channel
            .prechat
            .consent
            .as_ref()
            .map(|c| c.version.clone())
            .unwrap_or_default(),
    );
    let submit = move |_| {
        let [name, email, phone] = asks.map(|(_, ask)| ask.get_untracked());
        let text = consent_text.get_untracked();
        let prechat = Prechat {
            name,
            email,
            phone,
            topics: parse_topics(&topics.get_untracked(), queue_id),
            consent: (!text.trim().is_empty()).then(|| Consent {
                text,
                version: consent_version.get_untracked(),
            }),
        };
        save(body(
            when.get_untracked(),
            &missed.get_untracked(),
            &sender.get_untracked(),
            sound.get_untracked(),
            &prechat,
            rating_scale.get_untracked(),
        ));
    };
    let ask_choice = |(field, ask): (&'static str, RwSignal<Ask>)| {
        view! {
            <label>{t(&format!("prechat_{field}"))}" "
                <select data-testid=format!("prechat-{field}") on:change=move |ev| {
                    if let Ok(chosen) = event_target_value(&ev).parse::<Ask>() { ask.set(chosen) }
                }>
                    {Ask::ALL.iter().map(|a| view! {
                        <option value=a.as_str() selected=move || ask.get() == *a>{t(&format!("ask_{}", a.as_str()))}</option>
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <fieldset data-testid="visitor-settings">
            <legend>{t("visitor_settings")}</legend>
            <label>{t("when_unavailable")}" "
                <select data-testid="edit-when-unavailable" on:change=move |ev| {
                    if let Ok(chosen) = event_target_value(&ev).parse::<WhenUnavailable>() { when.set(chosen) }
                }>
                    <option value="hide" selected=move || when.get() == WhenUnavailable::Hide>{t("unavailable_hide")}</option>
                    <option value="leave_message" selected=move || when.get() == WhenUnavailable::LeaveMessage>{t("unavailable_leave_message")}</option>
                </select>
            </label>
            <label>{t("missed_chat")}" "
                <input data-testid="edit-missed-chat" prop:value=move || missed.get() on:input=move |ev| missed.set(event_target_value(&ev)) />
            </label>
            <label>{t("sender_name")}" "
                <input data-testid="edit-sender-name" prop:value=move || sender.get() on:input=move |ev| sender.set(event_target_value(&ev)) />
            </label>
            <label class="check"><input type="checkbox" data-testid="edit-visitor-sound" prop:checked=move || sound.get() on:change=move |ev| sound.set(event_target_checked(&ev)) />" "{t("visitor_sound")}</label>
            <label>{t("rating_scale")}" "
                <select data-testid="edit-rating-scale" on:change=move |ev| {
                    if let Ok(chosen) = event_target_value(&ev).parse::<RatingScale>() { rating_scale.set(chosen) }
                }>
                    {RatingScale::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=move || rating_scale.get() == *s>{t(&format!("rating_scale_{}", s.as_str()))}</option>
                    }).collect_view()}
                </select>
            </label>
            <p>{t("prechat_asked")}</p>
            {asks.into_iter().map(ask_choice).collect_view()}
            <label>{t("prechat_topics")}
                <textarea data-testid="prechat-topics" rows="3" prop:value=move || topics.get() on:input=move |ev| topics.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t("prechat_consent")}
                <textarea data-testid="prechat-consent" rows="2" prop:value=move || consent_text.get() on:input=move |ev| consent_text.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t("prechat_consent_version")}" "
                <input data-testid="prechat-consent-version" prop:value=move || consent_version.get() on:input=move |ev| consent_version.set(event_target_value(&ev)) />
            </label>
            <button type="button" data-testid="save-visitor-settings" on:click=submit>{t("save_these")}</button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn topics_are_typed_as_label_equals_queue_and_read_back() {
        let by_name = |q: &str| (q == "Support").then(|| "q-support".to_owned());
        let topics = parse_topics("Billing = Support\n\n  Sales=nowhere \nOdd", by_name);
        assert_eq!(
            topics,
            vec![
                Topic {
                    label: "Billing".into(),
                    queue_id: "q-support".into()
                },
                Topic {
                    label: "Sales".into(),
                    queue_id: "nowhere".into()
                },
                Topic {
                    label: "Odd".into(),
                    queue_id: String::new()
                },
            ]
        );
        let named = |id: &str| {
            if id == "q-support" {
                "Support".to_owned()
            } else {
                id.to_owned()
            }
        };
        assert_eq!(topics_text(&topics[..1], named), "Billing = Support");
    }

    #[wasm_bindgen_test]
    fn a_number_goes_as_a_number_and_an_empty_sender_as_null() {
        let sent = body(
            WhenUnavailable::LeaveMessage,
            " 90 ",
            "  ",
            true,
            &Prechat::default(),
            RatingScale::Thumbs,
        );
        assert_eq!(sent["when_unavailable"], "leave_message");
        assert_eq!(sent["missed_chat_secs"], 90);
        assert_eq!(sent["email_sender_name"], Value::Null);
        assert_eq!(sent["appearance"], json!({"sound": true}));
        assert_eq!(sent["rating_scale"], "thumbs");
        assert_eq!(
            body(
                WhenUnavailable::Hide,
                "soon",
                "Acme",
                false,
                &Prechat::default(),
                RatingScale::Off,
            )["missed_chat_secs"],
            "soon"
        );
    }
}
