//! Files a message carries, sent to the gateway before the message: the tray of the next
//! message's files (each uploading with its progress, stored, or refused with the gateway's
//! reason) and the upload itself, with the browser's own `XMLHttpRequest`, whose upload progress
//! `fetch` does not report. An upload the network cut off goes again with the same key, so the
//! gateway stores the file once; a cancelled one is aborted and forgotten.
//!
//! What touches the page is in `files.js` rather than bound through web-sys: each browser call
//! bound from Rust costs both apps' WASM a shim, and the panel's bytes are every visitor's.

use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{Element, File};

#[wasm_bindgen(module = "/src/upload/files.js")]
extern "C" {
    /// Files dropped on `root` or pasted into it (an image from the clipboard) go to the
    /// paperclip's file input inside it, as if picked there, while the paperclip shows; a
    /// dropped file is otherwise opened by the browser, and pasted text stays text.
    #[wasm_bindgen(js_name = listenForFiles)]
    fn listen_for_files(root: &Element);

    /// POSTs the file's bytes as they are to `url` (with `token` as the bearer, if any):
    /// `progress(sent bytes)` as it goes, then `end(status, body)` once, status 0 when the
    /// network cut it off or it was aborted. Returns the function that aborts it.
    #[wasm_bindgen(js_name = upload)]
    fn upload_file(
        url: &str,
        token: Option<&str>,
        file: &File,
        progress: &Closure<dyn FnMut(f64)>,
        end: JsValue,
    ) -> js_sys::Function;

    /// Draws the file at `index` of the tray (the `.lc-tray` list in `root`): its name, its
    /// progress while it uploads, or why it failed and a Retry; × removes it. The item drawn
    /// before for the same key is updated and moved, not drawn anew, so a person's click never
    /// lands on a replaced element. `act(key, retry)` runs on a click. Names are set as text.
    #[wasm_bindgen(js_name = drawUpload)]
    #[allow(clippy::too_many_arguments)]
    fn draw_upload(
        root: &Element,
        index: usize,
        key: &str,
        name: &str,
        state: &str,
        percent: u32,
        reason: &str,
        act: &Closure<dyn Fn(String, bool)>,
    );

    /// Removes the tray's items past the first `count` (files cancelled or sent).
    #[wasm_bindgen(js_name = keepUploads)]
    fn keep_uploads(root: &Element, count: usize);
}

mod view;
pub use view::{attach_button, tray_view};

/// An upload is tried this many times before the network drop is shown as a failure.
pub const MAX_TRIES: u32 = 3;
/// The wait before the next try grows with each: 1 s, 2 s.
const RETRY_AFTER_MS: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Stage<T> {
    /// `sent` bytes of the file are out.
    Uploading {
        sent: f64,
    },
    /// The gateway has it: `T` is what it answered (the attachment to send).
    Stored(T),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Queued<T> {
    /// The upload's own key: a retry with it gets the same file back.
    pub key: String,
    pub name: String,
    pub size: f64,
    pub stage: Stage<T>,
    tries: u32,
}

/// The next message's files, in the order they were added, and the largest file the gateway
/// takes now (None: no file can be attached).
#[derive(Debug, Clone, PartialEq)]
pub struct Tray<T> {
    pub files: Vec<Queued<T>>,
    pub max_bytes: Option<u64>,
}

impl<T> Default for Tray<T> {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            max_bytes: None,
        }
    }
}

impl<T> Tray<T> {
    fn find(&mut self, key: &str) -> Option<&mut Queued<T>> {
        self.files.iter_mut().find(|f| f.key == key)
    }

    pub fn add(&mut self, key: String, name: String, size: f64, refusal: Option<String>) {
        let stage = match refusal {
            Some(reason) => Stage::Failed(reason),
            None => Stage::Uploading { sent: 0.0 },
        };
        self.files.push(Queued {
            key,
            name,
            size,
            stage,
            tries: 1,
        });
    }

    pub fn progress(&mut self, key: &str, sent: f64) {
        if let Some(file) = self.find(key) {
            if matches!(file.stage, Stage::Uploading { .. }) {
                file.stage = Stage::Uploading { sent };
            }
        }
    }

    /// The gateway answered: stored, or refused for good (a retry would be refused the same).
    pub fn answered(&mut self, key: &str, answer: Result<T, String>) {
        if let Some(file) = self.find(key) {
            file.stage = match answer {
                Ok(stored) => Stage::Stored(stored),
                Err(reason) => Stage::Failed(reason),
            };
        }
    }

    /// The network cut the upload off: whether to try again (after [`Tray::retry_delay_ms`]);
    /// after the last try it is failed. False too for a file no longer here (cancelled).
    pub fn interrupted(&mut self, key: &str) -> bool {
        let Some(file) = self.find(key) else {
            return false;
        };
        if file.tries < MAX_TRIES {
            file.tries += 1;
            file.stage = Stage::Uploading { sent: 0.0 };
            true
        } else {
            file.stage = Stage::Failed("The upload was interrupted.".into());
            false
        }
    }

    pub fn retry_delay_ms(&self, key: &str) -> u32 {
        let tries = self
            .files
            .iter()
            .find(|f| f.key == key)
            .map_or(1, |f| f.tries);
        RETRY_AFTER_MS * (tries - 1).max(1)
    }

    /// The visitor asks again for a failed file: true if it is one to upload again.
    pub fn retry(&mut self, key: &str) -> bool {
        match self.find(key) {
            Some(file) if matches!(file.stage, Stage::Failed(_)) => {
                file.tries = 1;
                file.stage = Stage::Uploading { sent: 0.0 };
                true
            }
            _ => false,
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.files.retain(|f| f.key != key);
    }

    /// Whether a file is still on its way (the message waits for it).
    pub fn busy(&self) -> bool {
        self.files
            .iter()
            .any(|f| matches!(f.stage, Stage::Uploading { .. }))
    }

    /// The stored files, for the message being sent: they leave the tray, failed ones stay.
    pub fn take_stored(&mut self) -> Vec<T> {
        let mut stored = Vec::new();
        let mut kept = Vec::new();
        for file in self.files.drain(..) {
            match file.stage {
                Stage::Stored(attachment) => stored.push(attachment),
                _ => kept.push(file),
            }
        }
        self.files = kept;
        stored
    }

    pub fn has_stored(&self) -> bool {
        self.files
            .iter()
            .any(|f| matches!(f.stage, Stage::Stored(_)))
    }
}

/// Where an app's files go and how it reads the answers.
pub trait Destination<T> {
    /// The URL to POST the file to (its name and key in the query) and the bearer token to send,
    /// if any; Err with the reason when no upload can go now.
    fn request(&self, name: &str, key: &str) -> Result<(String, Option<String>), String>;
    /// The stored file from a 2xx answer's body, or the refusal's sentence from another's.
    fn answer(&self, ok: bool, body: &str) -> Result<T, String>;
}

/// An upload in flight: what aborts it, and the progress callback its request calls.
struct InFlight {
    abort: js_sys::Function,
    _progress: Closure<dyn FnMut(f64)>,
}

struct Inner<T: 'static> {
    tray: RwSignal<Tray<T>>,
    destination: Box<dyn Destination<T>>,
    /// Each queued file's bytes (kept for retries) and its request while it is out.
    files: RefCell<Vec<(String, File, Option<InFlight>)>>,
    /// Where the tray is drawn and files are dropped, once the app says ([`Uploads::attach_to`]).
    root: RefCell<Option<Element>>,
    /// The tray's clicks: × and Retry on the file of that key.
    act: Closure<dyn Fn(String, bool)>,
}

impl<T: Clone + Send + Sync + 'static> Inner<T> {
    /// Changes the tray, then draws it.
    fn update(&self, change: impl FnOnce(&mut Tray<T>)) {
        self.tray.update(change);
        let Some(root) = self.root.borrow().clone() else {
            return;
        };
        self.tray.with_untracked(|tray| {
            for (index, file) in tray.files.iter().enumerate() {
                let (state, percent, reason) = stage_of(file);
                draw_upload(
                    &root, index, &file.key, &file.name, state, percent, reason, &self.act,
                );
            }
            keep_uploads(&root, tray.files.len());
        });
    }
}

/// A queued file as the tray shows it: its stage's name, the percent sent (whole: a float would
/// compile float formatting in), and why it failed.
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

/// The tray as the app's views see it (a signal) and the uploads behind it; a clone is a
/// handle on the same.
pub struct Uploads<T: Send + Sync + 'static> {
    pub tray: RwSignal<Tray<T>>,
    inner: Rc<Inner<T>>,
}

impl<T: Send + Sync + 'static> Clone for Uploads<T> {
    fn clone(&self) -> Self {
        Self {
            tray: self.tray,
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Uploads<T> {
    /// Uploads to `destination`, of files up to `max_bytes` (None: none until
    /// [`Uploads::accept_up_to`] says otherwise).
    pub fn new(destination: impl Destination<T> + 'static, max_bytes: Option<u64>) -> Self {
        let tray = RwSignal::new(Tray {
            files: Vec::new(),
            max_bytes,
        });
        let inner = Rc::new_cyclic(|me: &Weak<Inner<T>>| {
            let me = me.clone();
            Inner {
                tray,
                destination: Box::new(destination),
                files: RefCell::new(Vec::new()),
                root: RefCell::new(None),
                act: Closure::new(move |key: String, retry: bool| {
                    let Some(inner) = me.upgrade() else { return };
                    let uploads = Uploads { tray, inner };
                    if retry {
                        uploads.retry(&key)
                    } else {
                        uploads.cancel(&key)
                    }
                }),
            }
        });
        Self { tray, inner }
    }

    /// Draws the tray in `root`'s `.lc-tray` from now on, and takes the files dropped on `root`
    /// or pasted into it (see `listenForFiles`), for as long as the page lives.
    pub fn attach_to(&self, root: Element) {
        listen_for_files(&root);
        *self.inner.root.borrow_mut() = Some(root);
    }

    /// Queues the files (from the file picker, a drop or a paste) and starts their uploads; one
    /// over the size limit or beyond the message's count is shown refused without being sent.
    pub fn add(&self, files: Option<web_sys::FileList>) {
        let Some(files) = files else { return };
        let Some(max_bytes) = self.tray.with_untracked(|t| t.max_bytes) else {
            return;
        };
        let max_files = protocol::MAX_ATTACHMENTS;
        for index in 0..files.length() {
            let Some(file) = files.get(index) else {
                continue;
            };
            let key = crate::client_id();
            let count = self.tray.with_untracked(|t| t.files.len());
            let refusal = if count >= max_files {
                Some(format!("At most {max_files} files in one message."))
            } else if file.size() > max_bytes as f64 {
                Some(format!("Larger than {} MB.", max_bytes / 1_000_000))
            } else {
                None
            };
            let upload = refusal.is_none();
            self.inner
                .update(|t| t.add(key.clone(), file.name(), file.size(), refusal));
            if upload {
                self.inner
                    .files
                    .borrow_mut()
                    .push((key.clone(), file, None));
                start(&self.inner, &key);
            }
        }
    }

    /// The largest file the gateway takes from now on (None: no file can be attached).
    pub fn accept_up_to(&self, max_bytes: Option<u64>) {
        self.tray.update(|t| t.max_bytes = max_bytes);
    }

    pub fn cancel(&self, key: &str) {
        self.inner.update(|t| t.remove(key));
        let removed = {
            let mut files = self.inner.files.borrow_mut();
            let index = files.iter().position(|(k, ..)| k == key);
            index.map(|i| files.remove(i))
        };
        // Aborting ends the request at once; its end finds the file gone and does nothing.
        if let Some((_, _, Some(in_flight))) = removed {
            let _ = in_flight.abort.call0(&JsValue::NULL);
        }
    }

    pub fn retry(&self, key: &str) {
        let mut again = false;
        self.inner.update(|t| again = t.retry(key));
        if again {
            start(&self.inner, key);
        }
    }

    /// The stored files, for the message being sent now.
    pub fn take(&self) -> Vec<T> {
        let mut stored = Vec::new();
        self.inner.update(|t| stored = t.take_stored());
        let tray = self.tray;
        self.inner
            .files
            .borrow_mut()
            .retain(|(key, ..)| tray.with_untracked(|t| t.files.iter().any(|f| &f.key == key)));
        stored
    }

    /// Drops every queued file (another conversation on screen).
    pub fn clear(&self) {
        let keys: Vec<String> = self
            .tray
            .with_untracked(|t| t.files.iter().map(|f| f.key.clone()).collect());
        for key in keys {
            self.cancel(&key);
        }
    }
}

/// Sends the queued file `key` (again).
fn start<T: Clone + Send + Sync + 'static>(inner: &Rc<Inner<T>>, key: &str) {
    let file = {
        let files = inner.files.borrow();
        files
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, f, _)| f.clone())
    };
    let Some(file) = file else { return };
    let sent = inner
        .destination
        .request(&file.name(), key)
        .map(|(url, bearer)| {
            let (progress, done) = (Rc::downgrade(inner), Rc::downgrade(inner));
            let (progress_key, done_key) = (key.to_owned(), key.to_owned());
            let progress = Closure::<dyn FnMut(f64)>::new(move |sent| {
                if let Some(inner) = progress.upgrade() {
                    inner.update(|t| t.progress(&progress_key, sent));
                }
            });
            let end = Closure::once_into_js(move |status: u16, body: String| {
                let answer = (status != 0).then(|| ((200..300).contains(&status), body));
                finished(done, &done_key, answer);
            });
            InFlight {
                abort: upload_file(&url, bearer.as_deref(), &file, &progress, end),
                _progress: progress,
            }
        });
    match sent {
        Ok(in_flight) => {
            if let Some(entry) = inner.files.borrow_mut().iter_mut().find(|(k, ..)| k == key) {
                entry.2 = Some(in_flight);
            }
        }
        Err(reason) => inner.update(|t| t.answered(key, Err(reason))),
    }
}

/// The request ended: `answer` is the status's class and the body, or None when the network cut
/// it off (or it was aborted).
fn finished<T: Clone + Send + Sync + 'static>(
    inner: Weak<Inner<T>>,
    key: &str,
    answer: Option<(bool, String)>,
) {
    let Some(inner) = inner.upgrade() else { return };
    if let Some(entry) = inner.files.borrow_mut().iter_mut().find(|(k, ..)| k == key) {
        entry.2 = None;
    }
    match answer {
        Some((ok, body)) => {
            let answer = inner.destination.answer(ok, &body);
            inner.update(|t| t.answered(key, answer));
        }
        None => {
            let mut again = false;
            inner.update(|t| again = t.interrupted(key));
            if again {
                let delay = inner.tray.with_untracked(|t| t.retry_delay_ms(key));
                let (weak, key) = (Rc::downgrade(&inner), key.to_owned());
                set_timeout(
                    move || {
                        if let Some(inner) = weak.upgrade() {
                            start(&inner, &key);
                        }
                    },
                    std::time::Duration::from_millis(delay.into()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tray(names: &[&str]) -> Tray<String> {
        let mut tray = Tray::default();
        for name in names {
            tray.add(name.to_string(), name.to_string(), 10.0, None);
        }
        tray
    }

    #[test]
    fn a_message_waits_for_its_uploads_and_takes_only_what_was_stored() {
        let mut t = tray(&["a", "b", "c"]);
        assert!(t.busy());
        t.progress("a", 5.0);
        assert_eq!(t.files[0].stage, Stage::Uploading { sent: 5.0 });
        t.answered("a", Ok("file-a".into()));
        t.answered("b", Err("Not allowed.".into()));
        assert!(t.busy());
        t.answered("c", Ok("file-c".into()));
        assert!(!t.busy());
        assert!(t.has_stored());
        assert_eq!(t.take_stored(), vec!["file-a", "file-c"]);
        // The refused one stays, with its reason, until removed.
        assert_eq!(t.files.len(), 1);
        assert_eq!(t.files[0].stage, Stage::Failed("Not allowed.".into()));
        assert!(!t.has_stored());
    }

    #[test]
    fn a_network_drop_is_retried_then_shown_failed_and_can_be_retried_by_hand() {
        let mut t = tray(&["a"]);
        t.progress("a", 7.0);
        assert!(t.interrupted("a"));
        assert_eq!(t.files[0].stage, Stage::Uploading { sent: 0.0 });
        assert_eq!(t.retry_delay_ms("a"), 1000);
        assert!(t.interrupted("a"));
        assert_eq!(t.retry_delay_ms("a"), 2000);
        assert!(!t.interrupted("a"));
        assert_eq!(
            t.files[0].stage,
            Stage::Failed("The upload was interrupted.".into())
        );
        assert!(t.retry("a"));
        assert!(t.busy());
        // Only a failed file is retried.
        assert!(!t.retry("a"));
    }

    #[test]
    fn a_cancelled_upload_ends_without_a_trace() {
        let mut t = tray(&["a", "b"]);
        t.remove("a");
        // Its request's end (an abort) neither retries nor stores it.
        assert!(!t.interrupted("a"));
        t.answered("a", Ok("file-a".into()));
        assert_eq!(t.files.len(), 1);
        assert_eq!(t.files[0].key, "b");
    }

    #[test]
    fn a_file_refused_before_sending_is_shown_failed() {
        let mut t: Tray<String> = Tray::default();
        t.add(
            "k".into(),
            "big.zip".into(),
            1e9,
            Some("Larger than 10 MB.".into()),
        );
        assert!(!t.busy());
        assert_eq!(t.files[0].stage, Stage::Failed("Larger than 10 MB.".into()));
    }
}
