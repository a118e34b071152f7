//! A channel's appearance on the Channels page: title, greeting, the two colours, light or dark,
//! the launcher (side, distance from the edges, icon, label) and the panel's size, with a live
//! preview drawn from the same style the gateway gives the loader. A colour pair whose text
//! would not be readable (below WCAG AA) cannot be saved; the gateway refuses it too.

use leptos::prelude::*;
use protocol::{
    colour, contrast, said_ratio, Appearance, ChannelView, LauncherIcon, LauncherPosition, Look,
    Theme, MIN_CONTRAST,
};
use serde_json::{json, Value};

use crate::words::{fill, t};

/// The body that saves these settings. Pixels that are not numbers go as typed, so the gateway
/// names the field.
fn body(appearance: &Appearance, pixels: [(&str, String); 4]) -> Value {
    let mut body = json!({
        "title": appearance.title,
        "greeting": appearance.greeting,
        "accent_color": appearance.accent_color,
        "text_color": appearance.look.text_color,
        "position": appearance.position,
        "theme": appearance.theme,
        "launcher_icon": appearance.look.launcher_icon,
        "launcher_label": appearance.look.launcher_label,
    });
    for (field, typed) in pixels {
        body[field] = typed
            .trim()
            .parse::<u16>()
            .map_or_else(|_| json!(typed), |px| json!(px));
    }
    json!({ "appearance": body })
}

/// Each choice by its name, with the key of its words.
const THEMES: &[(Theme, &str)] = &[
    (Theme::Auto, "theme_auto"),
    (Theme::Light, "theme_light"),
    (Theme::Dark, "theme_dark"),
];
const SIDES: &[(LauncherPosition, &str)] = &[
    (LauncherPosition::BottomRight, "bottom_right"),
    (LauncherPosition::BottomLeft, "bottom_left"),
];
const ICONS: &[(LauncherIcon, &str)] = &[
    (LauncherIcon::Chat, "icon_chat"),
    (LauncherIcon::Help, "icon_help"),
    (LauncherIcon::Mail, "icon_mail"),
    (LauncherIcon::None, "icon_none"),
];

/// A select of `options` bound to `chosen`.
fn name_select<T>(
    testid: &'static str,
    chosen: RwSignal<T>,
    options: &'static [(T, &'static str)],
) -> impl IntoView
where
    T: Copy + PartialEq + std::fmt::Display + std::str::FromStr + Send + Sync + 'static,
{
    view! {
        <select data-testid=testid on:change=move |ev| {
            if let Ok(picked) = event_target_value(&ev).parse::<T>() { chosen.set(picked) }
        }>
            {options.iter().map(|&(value, words)| view! {
                <option value=value.to_string() selected=move || chosen.get() == value>{t(words)}</option>
            }).collect_view()}
        </select>
    }
}

/// The text under `key` with the pair's ratio (as the gateway says it) and the bar.
fn contrast_words(key: &str, ratio: f64) -> String {
    fill(
        key,
        &[
            ("ratio", &said_ratio(ratio)),
            ("min", &MIN_CONTRAST.to_string()),
        ],
    )
}

/// A pixel field's text, and the value the preview uses while it is not a number yet.
fn pixels(typed: &str, fallback: u16) -> u16 {
    typed.trim().parse().unwrap_or(fallback)
}

pub fn appearance_settings(
    channel: &ChannelView,
    save: impl Fn(Value) + Copy + 'static,
) -> impl IntoView {
    let saved = channel.appearance.clone();
    let title = RwSignal::new(saved.title.clone());
    let greeting = RwSignal::new(saved.greeting.clone());
    let accent = RwSignal::new(saved.accent_color.clone());
    let text = RwSignal::new(saved.look.text_color.clone());
    let position = RwSignal::new(saved.position);
    let theme = RwSignal::new(saved.theme);
    let icon = RwSignal::new(saved.look.launcher_icon);
    let label = RwSignal::new(saved.look.launcher_label.clone());
    let sizes = [
        ("offset_x", saved.look.offset_x),
        ("offset_y", saved.look.offset_y),
        ("panel_width", saved.look.panel_width),
        ("panel_height", saved.look.panel_height),
    ]
    .map(|(field, px)| (field, RwSignal::new(px.to_string()), px));
    let current = Memo::new(move |_| {
        let [x, y, width, height] = sizes.map(|(_, typed, px)| pixels(&typed.get(), px));
        Appearance {
            title: title.get(),
            greeting: greeting.get(),
            accent_color: accent.get(),
            position: position.get(),
            sound: saved.sound,
            theme: theme.get(),
            look: Look {
                text_color: text.get(),
                launcher_icon: icon.get(),
                launcher_label: label.get(),
                offset_x: x,
                offset_y: y,
                panel_width: width,
                panel_height: height,
            },
        }
    });
    // WCAG's ratio of the pair, None while a colour cannot be read.
    let ratio = Memo::new(move |_| {
        current.with(
            |a| match (colour(&a.accent_color), colour(&a.look.text_color)) {
                (Ok(accent), Ok(text)) => Some(contrast(&accent, &text)),
                _ => None,
            },
        )
    });
    let unreadable = move || ratio.get().filter(|r| *r < MIN_CONTRAST);
    let figure = move || match ratio.get() {
        Some(r) => contrast_words("contrast_ratio", r),
        None => t("contrast_unreadable"),
    };
    let submit = move |_| {
        if ratio.get_untracked().is_some_and(|r| r >= MIN_CONTRAST) {
            save(body(
                &current.get_untracked(),
                sizes.map(|(field, typed, _)| (field, typed.get_untracked())),
            ));
        }
    };
    let size_labels = [
        t("launcher_offset_x"),
        t("launcher_offset_y"),
        t("panel_width"),
        t("panel_height"),
    ];
    view! {
        <fieldset data-testid="appearance-settings" class="appearance">
            <legend>{t("appearance")}</legend>
            <div class="appearance-fields">
                <label>{t("title")}" " <input data-testid="edit-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) /></label>
                <label>{t("greeting")}" " <textarea data-testid="edit-greeting" rows="2" prop:value=move || greeting.get() on:input=move |ev| greeting.set(event_target_value(&ev))></textarea></label>
                <label>{t("accent_colour")}" " <input data-testid="edit-accent" prop:value=move || accent.get() on:input=move |ev| accent.set(event_target_value(&ev)) /></label>
                <label>{t("text_colour")}" " <input data-testid="edit-text-color" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) /></label>
                {move || unreadable().map(|r| view! {
                    <p class="error" role="alert" data-testid="contrast-problem">{contrast_words("contrast_too_low", r)}</p>
                })}
                <label>{t("chat_panel")}" "{name_select("edit-theme", theme, THEMES)}</label>
                <label>{t("launcher_side")}" "{name_select("edit-position", position, SIDES)}</label>
                <label>{t("launcher_icon")}" "{name_select("edit-launcher-icon", icon, ICONS)}</label>
                <label>{t("launcher_label")}" " <input data-testid="edit-launcher-label" maxlength="30" prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) /></label>
                {sizes.into_iter().zip(size_labels).map(|((field, typed, _), words)| view! {
                    <label>{words}" " <input data-testid=format!("edit-{}", field.replace('_', "-")) inputmode="numeric" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) /></label>
                }).collect_view()}
                <button type="button" data-testid="save-appearance" on:click=submit disabled=move || unreadable().is_some()>{t("save_appearance")}</button>
            </div>
            <figure class="appearance-preview" data-testid="appearance-preview" aria-label=t("preview") style=move || current.with(protocol::style)>
                <div class="preview-panel" data-theme=move || theme.get().as_str()>
                    <div class="preview-head">{move || title.get()}</div>
                    <p class="preview-agent">{move || greeting.get()}</p>
                    <p class="preview-me">{t("preview_visitor")}</p>
                </div>
                <span class="preview-launcher" data-testid="preview-launcher"></span>
                <figcaption data-testid="contrast-ratio">{figure}</figcaption>
            </figure>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn pixels_go_as_numbers_and_anything_else_as_typed() {
        let appearance = Appearance {
            title: "Help".into(),
            greeting: "Hi".into(),
            accent_color: "#2563eb".into(),
            position: LauncherPosition::BottomLeft,
            sound: false,
            theme: Theme::Dark,
            look: Look::default(),
        };
        let sent = body(
            &appearance,
            [
                ("offset_x", " 24 ".into()),
                ("offset_y", "lots".into()),
                ("panel_width", "400".into()),
                ("panel_height", "600".into()),
            ],
        );
        let sent = &sent["appearance"];
        assert_eq!(sent["offset_x"], json!(24));
        assert_eq!(sent["offset_y"], json!("lots"));
        assert_eq!(sent["position"], json!("bottom_left"));
        assert_eq!(sent["launcher_icon"], json!("chat"));
        assert_eq!(
            sent.get("sound"),
            None,
            "the tone is saved with the visitor settings"
        );
    }
}
