//! A channel's co-browsing settings in the console: whether agents may ask to see visitors'
//! pages, whether they may also ask to act on them, and the CSS selectors whose text goes as
//! bullets (mask) or which go as empty boxes (block), one per line.

use leptos::prelude::*;
use protocol::{ChannelView, CobrowseSettings};
use serde_json::{json, Value};

use crate::words::t;

/// The selectors typed one per line, blank lines left out.
fn selectors(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The body that saves these settings.
pub fn body(enabled: bool, control: bool, mask: &str, block: &str) -> Value {
    json!({"cobrowse": CobrowseSettings {
        enabled,
        control,
        mask: selectors(mask),
        block: selectors(block),
    }})
}

pub fn cobrowse_settings(
    channel: &ChannelView,
    save: impl Fn(Value) + Copy + 'static,
) -> impl IntoView {
    let settings = &channel.cobrowse;
    let enabled = RwSignal::new(settings.enabled);
    let control = RwSignal::new(settings.control);
    let mask = RwSignal::new(settings.mask.join("\n"));
    let block = RwSignal::new(settings.block.join("\n"));
    let submit = move |_| {
        save(body(
            enabled.get_untracked(),
            control.get_untracked(),
            &mask.get_untracked(),
            &block.get_untracked(),
        ))
    };
    view! {
        <fieldset data-testid="cobrowse-settings">
            <legend>{t("cobrowse_settings")}</legend>
            <label class="check"><input type="checkbox" data-testid="edit-cobrowse" prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev)) />" "{t("cobrowse_enabled")}</label>
            <label class="check"><input type="checkbox" data-testid="edit-cobrowse-control" prop:checked=move || control.get() on:change=move |ev| control.set(event_target_checked(&ev)) />" "{t("cobrowse_control")}</label>
            <label>{t("cobrowse_mask")}
                <textarea data-testid="edit-cobrowse-mask" rows="2" prop:value=move || mask.get() on:input=move |ev| mask.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t("cobrowse_block")}
                <textarea data-testid="edit-cobrowse-block" rows="2" prop:value=move || block.get() on:input=move |ev| block.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" data-testid="save-cobrowse-settings" on:click=submit>{t("save_these")}</button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn selectors_go_one_per_line_without_blank_ones() {
        let sent = body(true, false, " .card \n\n#iban", "");
        assert_eq!(
            sent,
            json!({"cobrowse": {"enabled": true, "control": false, "mask": [".card", "#iban"], "block": []}})
        );
    }
}
