//! The tray and the paperclip, the same in both apps (their style sheets draw the `lc-` classes).
//! `data-testid` attributes are what the browser tests hold on to.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::{Queued, Stage, Uploads};

#[wasm_bindgen(module = "/src/upload/files.js")]
extern "C" {
    #[wasm_bindgen(js_name = drawUpload)]
    #[allow(clippy::too_many_arguments)]
    fn draw_upload(
        list: &web_sys::HtmlElement,
        index: usize,
        key: &str,
        name: &str,
        state: &str,
        percent: u32,
        reason: &str,
        act: &Closure<dyn Fn(String, bool)>,
    );

    #[wasm_bindgen(js_name = keepUploads)]
    fn keep_uploads(list: &web_sys::HtmlElement, count: usize);
}

/// The next message's files: each with its progress, or why it was refused and a retry. Drawn
/// by `files.js`: the same items as a view here cost the panel kilobytes more.
pub fn tray_view<T: Clone + Send + Sync + 'static>(uploads: Uploads<T>) -> impl IntoView {
    let files = uploads.tray;
    let list = NodeRef::<leptos::html::Ul>::new();
    let act = Closure::<dyn Fn(String, bool)>::new(move |key: String, retry: bool| {
        if retry {
            uploads.retry(&key)
        } else {
            uploads.cancel(&key)
        }
    });
    let act = StoredValue::new_local(act);
    Effect::new(move |_| {
        let Some(list) = list.get() else { return };
        files.with(|tray| {
            for (index, file) in tray.files.iter().enumerate() {
                let (state, percent, reason) = stage_of(file);
                act.with_value(|act| {
                    draw_upload(
                        &list, index, &file.key, &file.name, state, percent, reason, act,
                    )
                });
            }
            keep_uploads(&list, tray.files.len());
        });
    });
    view! { <ul class="lc-tray" data-testid="uploads" node_ref=list></ul> }
}

/// A queued file as the tray shows it: its stage's name, the percent sent (whole: a float
/// would compile float formatting in), and why it failed.
fn stage_of<T>(file: &Queued<T>) -> (&'static str, u32, &str) {
    match &file.stage {
        Stage::Uploading { sent } => (
            "uploading",
            (sent * 100.0 / file.size.max(1.0)).min(100.0) as u32,
            "",
        ),
        Stage::Stored(_) => ("stored", 100, ""),
        Stage::Failed(reason) => ("failed", 0, reason),
    }
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
