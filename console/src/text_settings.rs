//! What a channel's widget says instead of its own texts, on the Channels page: each text of
//! the chosen language beside the widget's own (its placeholder); left empty, the widget's own
//! stays. A counted text has one box per plural form of the language. Saved apart from the
//! channel's other settings.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{ChannelTexts, ChannelView, Locale, Text};
use serde_json::{json, Value};

use crate::api;

use crate::words::t;

/// Puts `value` (trimmed) as the channel's `key` in `locale`, for the plural `form` of a counted
/// text; empty takes it away (and a text or language left with nothing).
pub fn set_text(
    own: &mut ChannelTexts,
    locale: Locale,
    key: &str,
    form: Option<&str>,
    value: &str,
) {
    let value = value.trim();
    let texts = own.entry(locale).or_default();
    match form {
        None if value.is_empty() => {
            texts.remove(key);
        }
        None => {
            texts.insert(key.to_owned(), Text::Plain(value.to_owned()));
        }
        Some(form) => {
            let entry = texts
                .entry(key.to_owned())
                .or_insert_with(|| Text::Counted(Default::default()));
            if let Text::Counted(forms) = entry {
                if value.is_empty() {
                    forms.remove(form);
                } else {
                    forms.insert(form.to_owned(), value.to_owned());
                }
                if forms.is_empty() {
                    texts.remove(key);
                }
            }
        }
    }
    if own.get(&locale).is_some_and(|texts| texts.is_empty()) {
        own.remove(&locale);
    }
}

/// The channel's own text for `key` (its plural `form`), or empty.
fn own_text(own: &ChannelTexts, locale: Locale, key: &str, form: Option<&str>) -> String {
    match (own.get(&locale).and_then(|texts| texts.get(key)), form) {
        (Some(Text::Plain(text)), None) => text.clone(),
        (Some(Text::Counted(forms)), Some(form)) => forms.get(form).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn body(own: &ChannelTexts) -> Value {
    json!({ "texts": own })
}

pub fn text_settings(
    channel: &ChannelView,
    save: impl Fn(Value) + Copy + 'static,
) -> impl IntoView {
    let defaults = RwSignal::new(None::<ChannelTexts>);
    leptos::task::spawn_local(async move {
        if let Ok(texts) = api::call::<ChannelTexts>(Request::get("/v1/admin/texts"), None).await {
            defaults.set(Some(texts));
        }
    });
    let own = RwSignal::new(channel.texts.clone());
    let locale = RwSignal::new(Locale::En);
    let rows = move || {
        let chosen = locale.get();
        let texts = defaults.with(|d| d.as_ref().and_then(|d| d.get(&chosen)).cloned())?;
        let boxes = texts.into_iter().flat_map(|(key, text)| match text {
            Text::Plain(widget) => vec![(key, None, widget)],
            Text::Counted(forms) => forms
                .into_iter()
                .map(|(form, widget)| (key.clone(), Some(form), widget))
                .collect(),
        });
        Some(
            boxes
                .map(|(key, form, widget)| {
                    let name = match &form {
                        Some(form) => format!("{key} ({form})"),
                        None => key.clone(),
                    };
                    let testid = format!("edit-text-{name}");
                    let current = own.with_untracked(|o| own_text(o, chosen, &key, form.as_deref()));
                    view! {
                        <label>{name}
                            <input data-testid=testid placeholder=widget prop:value=current
                                on:input=move |ev| own.update(|o| set_text(o, chosen, &key, form.as_deref(), &event_target_value(&ev))) />
                        </label>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <fieldset data-testid="text-settings">
            <legend>{t("texts_title")}</legend>
            <label>{t("language")}" "
                <select data-testid="edit-texts-locale" on:change=move |ev| {
                    if let Ok(chosen) = event_target_value(&ev).parse::<Locale>() { locale.set(chosen) }
                }>
                    {Locale::ALL.iter().map(|l| view! { <option value=l.as_str()>{l.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <div class="texts">{rows}</div>
            <button type="button" data-testid="save-texts" on:click=move |_| save(body(&own.get_untracked()))>{t("save_texts")}</button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn texts_are_set_by_form_and_emptied_away() {
        let mut own = ChannelTexts::new();
        set_text(&mut own, Locale::Ru, "send", None, " Послать ");
        set_text(
            &mut own,
            Locale::Ru,
            "unread",
            Some("few"),
            "{n} непрочитанных",
        );
        assert_eq!(
            body(&own),
            json!({"texts": {"ru": {"send": "Послать", "unread": {"few": "{n} непрочитанных"}}}})
        );
        assert_eq!(
            own_text(&own, Locale::Ru, "unread", Some("few")),
            "{n} непрочитанных"
        );
        set_text(&mut own, Locale::Ru, "unread", Some("few"), "  ");
        set_text(&mut own, Locale::Ru, "send", None, "");
        assert_eq!(body(&own), json!({"texts": {}}));
    }
}
