//! The tray and the paperclip, the same in both apps (their style sheets draw the `lc-` classes).
//! `data-testid` attributes are what the browser tests hold on to.

use leptos::prelude::*;

use super::{Queued, Stage, Uploads};

/// The next message's files: each with its progress, or why it was refused and a retry.
pub fn tray_view<T: Clone + Send + Sync + 'static>(uploads: Uploads<T>) -> impl IntoView {
    let files = uploads.tray;
    let uploads = StoredValue::new_local(uploads);
    move || {
        files.with(|t| {
            (!t.files.is_empty()).then(|| {
                let queued = t.files.iter().map(|f| queued(uploads, f)).collect_view();
                view! { <ul class="lc-tray" data-testid="uploads">{queued}</ul> }
            })
        })
    }
}

fn queued<T: Clone + Send + Sync + 'static>(
    uploads: StoredValue<Uploads<T>, LocalStorage>,
    file: &Queued<T>,
) -> impl IntoView {
    let (state, shown, reason) = match &file.stage {
        Stage::Uploading { sent } => ("uploading", Some(*sent), None),
        Stage::Stored(_) => ("stored", Some(file.size), None),
        Stage::Failed(reason) => ("failed", None, Some(reason.clone())),
    };
    let (retry_key, cancel_key) = (file.key.clone(), file.key.clone());
    let retry = reason.is_some().then(|| {
        let retry = move |_| uploads.with_value(|u| u.retry(&retry_key));
        view! { <button data-testid="upload-retry" on:click=retry>"Retry"</button> }
    });
    let cancel = move |_| uploads.with_value(|u| u.cancel(&cancel_key));
    view! {
        <li class="lc-upload" data-testid="upload" data-state=state>
            <span class="lc-fname">{file.name.clone()}</span>
            {shown.map(|sent| view! { <progress max=file.size value=sent></progress> })}
            {reason.map(|reason| view! { <small>{reason}</small> })}
            {retry}
            <button data-testid="upload-cancel" aria-label=format!("Remove {}", file.name) on:click=cancel>"×"</button>
        </li>
    }
}

/// The paperclip: the file picker, several files at once.
pub fn attach_button<T: Clone + Send + Sync + 'static>(uploads: Uploads<T>) -> impl IntoView {
    let uploads = StoredValue::new_local(uploads);
    let picked = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        uploads.with_value(|u| u.add(input.files()));
        // The same file picked again is a new attachment.
        input.set_value("");
    };
    view! {
        <label class="lc-attach" title="Attach a file">
            <input type="file" multiple data-testid="attach" aria-label="Attach a file" on:change=picked />
            "📎"
        </label>
    }
}
