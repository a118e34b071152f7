//! The tray and the paperclip, the same in both apps (their style sheets draw the `lc-` classes).
//! `data-testid` attributes are what the browser tests hold on to.

use leptos::prelude::*;

use super::{Queued, Stage, Uploads};

/// The next message's files: each with its progress, or why it was refused and a retry.
pub fn tray_view<T: Clone + Send + Sync + 'static>(uploads: Uploads<T>) -> impl IntoView {
    let files = uploads.tray;
    let uploads = StoredValue::new_local(uploads);
    view! {
        <ul class="lc-tray" data-testid="uploads">
            {move || files.with(|t| t.files.iter().map(|f| queued(uploads, f)).collect_view())}
        </ul>
    }
}

fn queued<T: Clone + Send + Sync + 'static>(
    uploads: StoredValue<Uploads<T>, LocalStorage>,
    file: &Queued<T>,
) -> impl IntoView {
    // In whole percent: a float attribute would compile float formatting into the panel.
    let percent = |sent: f64| (sent * 100.0 / file.size.max(1.0)).min(100.0) as u32;
    // One shape for every stage (the parts a stage lacks are hidden): each distinct view shape
    // costs the panel kilobytes of generated code.
    let (state, shown, reason) = match &file.stage {
        Stage::Uploading { sent } => ("uploading", percent(*sent), String::new()),
        Stage::Stored(_) => ("stored", 100, String::new()),
        Stage::Failed(reason) => ("failed", 0, reason.clone()),
    };
    let failed = !reason.is_empty();
    let (retry_key, cancel_key) = (file.key.clone(), file.key.clone());
    let retry = move |_| uploads.with_value(|u| u.retry(&retry_key));
    let cancel = move |_| uploads.with_value(|u| u.cancel(&cancel_key));
    view! {
        <li class="lc-upload" data-testid="upload" data-state=state>
            <span class="lc-fname">{file.name.clone()}</span>
            <progress max="100" value=shown hidden=failed></progress>
            <small>{reason}</small>
            <button data-testid="upload-retry" hidden=!failed on:click=retry>"Retry"</button>
            <button data-testid="upload-cancel" aria-label=format!("Remove {}", file.name) on:click=cancel>"×"</button>
        </li>
    }
}

/// The paperclip: the file picker, several files at once; hidden while `shown` says no.
pub fn attach_button<T: Clone + Send + Sync + 'static>(
    uploads: Uploads<T>,
    shown: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    let uploads = StoredValue::new_local(uploads);
    let picked = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        uploads.with_value(|u| u.add(input.files()));
        // The same file picked again is a new attachment.
        input.set_value("");
    };
    view! {
        <label class="lc-attach" title="Attach a file" hidden=move || !shown()>
            <input type="file" multiple data-testid="attach" aria-label="Attach a file" on:change=picked />
            "📎"
        </label>
    }
}
