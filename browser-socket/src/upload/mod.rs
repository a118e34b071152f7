//! Files a message carries, sent to the gateway before the message: the tray of the next
//! message's files (each uploading with its progress, stored, or refused with the gateway's
//! reason) and the upload itself, with the browser's own `XMLHttpRequest`, whose upload progress
//! `fetch` does not report. An upload the network cut off goes again with the same key (after
//! 1 s, then 2 s; the third cut shows it failed, with a Retry), so the gateway stores the file
//! once; a cancelled one is aborted and forgotten.
//!
//! The tray lives in `files.js`, not in Rust: it is all page work (requests, events, the list's
//! items), and each browser call bound from Rust, each closure and each signal of a new type
//! cost the panel's WASM far more than the same in JS (the panel's bytes are every visitor's).
//! Rust keeps what the apps decide: where a file goes, with which credential, and what a sent
//! message carries.

use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::Element;

#[wasm_bindgen(module = "/src/upload/files.js")]
extern "C" {
    /// The next message's files, in the order they were added.
    type Tray;

    /// A tray of at most `most` files, each sent where `request(name, key)` says: the URL and
    /// the bearer token (if any) as an array, or the reason (a string) when none can go now;
    /// its words are `say(key, n, name)`'s (see [`Destination::say`]).
    #[wasm_bindgen(constructor)]
    fn new(
        request: &Closure<dyn Fn(String, String) -> JsValue>,
        say: &Closure<dyn Fn(String, u32, String) -> String>,
        most: usize,
    ) -> Tray;

    /// Draws the tray in `root`'s `.lc-tray` from now on and takes the files picked with the
    /// `.lc-attach` input in it, dropped on it, or pasted into it (an image from the
    /// clipboard; pasted text stays text), while files are accepted. Marks `root` with
    /// `data-files` while they are, for the style sheet to show the paperclip.
    #[wasm_bindgen(method)]
    fn attach(this: &Tray, root: &Element);

    /// Files up to this many bytes are accepted (0: none).
    #[wasm_bindgen(method)]
    fn accept(this: &Tray, max_bytes: f64);

    /// Whether a file is still on its way (the message waits for it).
    #[wasm_bindgen(method)]
    fn busy(this: &Tray) -> bool;

    #[wasm_bindgen(method, js_name = hasStored)]
    fn has_stored(this: &Tray) -> bool;

    /// The gateway's answers for the stored files, which leave the tray (failed ones stay).
    #[wasm_bindgen(method)]
    fn take(this: &Tray) -> Vec<String>;

    /// Aborts and drops every file.
    #[wasm_bindgen(method)]
    fn clear(this: &Tray);
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
mod view;
pub use view::{attach_button, tray_view};

/// Where an app's files go.
pub trait Destination {
    /// The URL to POST the file to (its name and key in the query) and the bearer token to send,
    /// if any; Err with the reason when no upload can go now.
    fn request(&self, name: &str, key: &str) -> Result<(String, Option<String>), String>;

    /// The tray's words, in the app's language: `too_many_files` and `file_too_large` (their
    /// `{n}`: files, megabytes), `upload_failed`, `upload_interrupted`, `retry`, and
    /// `remove_file` (its `{name}`).
    fn say(&self, key: &str, n: u32, name: &str) -> String;
}

/// The tray of the next message's files; a clone is a handle on the same.
#[derive(Clone)]
pub struct Uploads(Rc<Inner>);

struct Inner {
    tray: Tray,
    _request: Closure<dyn Fn(String, String) -> JsValue>,
    _say: Closure<dyn Fn(String, u32, String) -> String>,
}

impl Uploads {
    /// Uploads to `destination`; no file is accepted until [`Uploads::accept_up_to`] says.
    pub fn new(destination: impl Destination + 'static) -> Self {
        let destination = Rc::new(destination);
        let speaker = destination.clone();
        let say = Closure::<dyn Fn(String, u32, String) -> String>::new(
            move |key: String, n: u32, name: String| speaker.say(&key, n, &name),
        );
        let request =
            Closure::<dyn Fn(String, String) -> JsValue>::new(move |name: String, key: String| {
                match destination.request(&name, &key) {
                    Ok((url, token)) => {
                        js_sys::Array::of2(&url.into(), &token.map_or(JsValue::NULL, Into::into))
                            .into()
                    }
                    Err(reason) => reason.into(),
                }
            });
        let tray = Tray::new(&request, &say, protocol::MAX_ATTACHMENTS);
        Self(Rc::new(Inner {
            tray,
            _request: request,
            _say: say,
        }))
    }

    /// Draws the tray in `root` and takes the files picked, dropped or pasted there, for as
    /// long as the page lives.
    pub fn attach_to(&self, root: Element) {
        self.0.tray.attach(&root);
    }

    /// The largest file the gateway takes from now on (None: no file can be attached).
    pub fn accept_up_to(&self, max_bytes: Option<u64>) {
        self.0.tray.accept(max_bytes.map_or(0.0, |max| max as f64));
    }

    /// Whether a message can go now, and whether it carries files: a message waits for its
    /// files, and may be files alone.
    pub fn ready(&self) -> Option<bool> {
        (!self.0.tray.busy()).then(|| self.0.tray.has_stored())
    }

    /// The gateway's answers for the stored files, for the message being sent now.
    pub fn take(&self) -> Vec<String> {
        self.0.tray.take()
    }

    /// Drops every queued file (another conversation on screen).
    pub fn clear(&self) {
        self.0.tray.clear();
    }
}
