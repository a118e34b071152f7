//! A channel's settings for the host page, on the Channels page: whether visitors must be
//! identified by the site, the key the site signs their identity tokens with (rotatable), and
//! the proactive greeting. Saved apart from the channel's other settings.

use gloo_net::http::{Request, RequestBuilder};
use leptos::prelude::*;
use protocol::{ChannelView, IdentityMode};
use serde_json::{json, Value};

use crate::words::t;

/// The body that saves these settings: no greeting text, no greeting; what is not a number
/// goes as typed, so the gateway names the field.
pub fn body(identity: IdentityMode, text: &str, after_secs: &str, pages: &str) -> Value {
    let text = text.trim();
    let proactive = if text.is_empty() {
        Value::Null
    } else {
        let pages: Vec<&str> = pages
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let after = after_secs.trim();
        let after = after
            .parse::<u32>()
            .map_or_else(|_| json!(after), |n| json!(n));
        json!({"text": text, "after_secs": after, "pages": pages})
    };
    json!({"identity": identity, "proactive": proactive})
}

pub fn host_page_settings(
    channel: &ChannelView,
    save: impl Fn(Value) + Copy + 'static,
    rotate: impl Fn(RequestBuilder) + Copy + 'static,
) -> impl IntoView {
    let identity = RwSignal::new(channel.identity);
    let greeting = channel.proactive.clone();
    let text = RwSignal::new(
        greeting
            .as_ref()
            .map(|g| g.text.clone())
            .unwrap_or_default(),
    );
    let after = RwSignal::new(greeting.as_ref().map_or(20, |g| g.after_secs).to_string());
    let pages = RwSignal::new(greeting.map(|g| g.pages.join("\n")).unwrap_or_default());
    let rotate_path = format!("/v1/admin/channels/{}/rotate-identity-secret", channel.id);
    let submit = move |_| {
        save(body(
            identity.get_untracked(),
            &text.get_untracked(),
            &after.get_untracked(),
            &pages.get_untracked(),
        ))
    };
    let secret = channel
        .identity_secret
        .clone()
        .unwrap_or_else(|| t("identity_secret_none"));
    view! {
        <fieldset data-testid="host-page-settings">
            <legend>{t("host_page_settings")}</legend>
            <label>{t("visitors_identity")}" "
                <select data-testid="edit-identity" on:change=move |ev| {
                    if let Ok(chosen) = event_target_value(&ev).parse::<IdentityMode>() { identity.set(chosen) }
                }>
                    <option value="optional" selected=move || identity.get() == IdentityMode::Optional>{t("identity_optional")}</option>
                    <option value="required" selected=move || identity.get() == IdentityMode::Required>{t("identity_required")}</option>
                </select>
            </label>
            <dl>
                <dt>{t("identity_secret")}</dt>
                <dd data-testid="identity-secret">{secret}</dd>
            </dl>
            <button type="button" data-testid="rotate-identity-secret" on:click=move |_| rotate(Request::post(&rotate_path))>{t("rotate_identity_secret")}</button>
            <label>{t("proactive_text")}
                <input data-testid="edit-proactive-text" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
            <label>{t("proactive_after")}" "
                <input data-testid="edit-proactive-after" prop:value=move || after.get() on:input=move |ev| after.set(event_target_value(&ev)) />
            </label>
            <label>{t("proactive_pages")}
                <textarea data-testid="edit-proactive-pages" rows="2" prop:value=move || pages.get() on:input=move |ev| pages.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" data-testid="save-host-page-settings" on:click=submit>{t("save_these")}</button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_greeting_is_sent_with_its_pages_and_none_without_text() {
        let sent = body(
            IdentityMode::Required,
            " Questions? ",
            " 20 ",
            "/pricing*\n\n /plans ",
        );
        assert_eq!(
            sent,
            json!({"identity": "required", "proactive":
                   {"text": "Questions?", "after_secs": 20, "pages": ["/pricing*", "/plans"]}})
        );
        let none = body(IdentityMode::Optional, "  ", "soon", "");
        assert_eq!(none, json!({"identity": "optional", "proactive": null}));
        assert_eq!(
            body(IdentityMode::Optional, "Hi", "soon", "")["proactive"]["after_secs"],
            "soon"
        );
    }
}
