//! The tray and the paperclip, the same in both apps (their style sheets draw the `lc-` classes).
//! `data-testid` attributes are what the browser tests hold on to.

use leptos::prelude::*;

use super::Uploads;

/// Where the next message's files show (see [`Uploads::attach_to`]): each with its progress, or
/// why it was refused and a retry.
pub fn tray_view() -> impl IntoView {
    view! { <ul class="lc-tray" data-testid="uploads"></ul> }
}

/// The paperclip: the file picker, several files at once; hidden while no file can be attached.
pub fn attach_button<T: Clone + Send + Sync + 'static>(uploads: Uploads<T>) -> impl IntoView {
    let tray = uploads.tray;
    let uploads = StoredValue::new_local(uploads);
    let picked = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        uploads.with_value(|u| u.add(input.files()));
        // The same file picked again is a new attachment.
        input.set_value("");
    };
    view! {
        <label class="lc-attach" title="Attach a file" hidden=move || tray.with(|t| t.max_bytes.is_none())>
            <input type="file" multiple data-testid="attach" aria-label="Attach a file" on:change=picked />
            "📎"
        </label>
    }
}
