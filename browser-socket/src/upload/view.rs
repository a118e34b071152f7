//! The tray and the paperclip, the same in both apps (their style sheets draw the `lc-` classes,
//! and show the paperclip inside an element marked `data-files`). `data-testid` attributes are
//! what the browser tests hold on to.

use leptos::prelude::*;

/// Where the next message's files show (see [`super::Uploads::attach_to`]): each with its
/// progress, or why it was refused and a retry.
pub fn tray_view() -> impl IntoView {
    view! { <ul class="lc-tray" data-testid="uploads"></ul> }
}

/// The paperclip: the file picker, several files at once (the tray takes what is picked);
/// `label` is its name in the app's language.
pub fn attach_button(label: String) -> impl IntoView {
    let name = label.clone();
    view! {
        <label class="lc-attach" title=label>
            <input type="file" multiple data-testid="attach" aria-label=name />
            "📎"
        </label>
    }
}
