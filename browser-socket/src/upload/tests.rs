//! The tray in a real page, with real requests: files refused before any request, a network
//! drop retried with the same key then shown failed, a refusal shown with its reason, and what
//! a message takes. (Stored files, progress and cancelling mid-upload, against the gateway, are
//! the browser tests' `files`.)

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{Destination, Uploads};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Sends every file to `url` (None: refuses with "offline"), and records each request's name
/// and key.
struct Recorded {
    url: Option<String>,
    requests: Rc<RefCell<Vec<(String, String)>>>,
}

impl Destination for Recorded {
    fn request(&self, name: &str, key: &str) -> Result<(String, Option<String>), String> {
        self.requests.borrow_mut().push((name.into(), key.into()));
        let url = self.url.clone().ok_or("offline")?;
        Ok((url, Some("token".into())))
    }

    // The app's words are its own: here, what the tray asked for.
    fn say(&self, key: &str, n: u32, name: &str) -> String {
        format!("{key}({n}, {name})")
    }
}

type Requests = Rc<RefCell<Vec<(String, String)>>>;

/// A tray drawn in a fresh element of the page, accepting files up to `max_bytes`.
fn tray(url: Option<&str>, max_bytes: u64) -> (Uploads, web_sys::Element, Requests) {
    let requests = Requests::default();
    let uploads = Uploads::new(Recorded {
        url: url.map(Into::into),
        requests: requests.clone(),
    });
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    root.set_inner_html(r#"<ul class="lc-tray"></ul>"#);
    document.body().unwrap().append_child(&root).unwrap();
    uploads.attach_to(root.clone());
    uploads.accept_up_to(Some(max_bytes));
    (uploads, root, requests)
}

/// Drops files of these sizes on `root`, as a person dragging them from their desktop would.
fn drop_files(root: &web_sys::Element, sizes: &[u32]) {
    let drop = js_sys::Function::new_with_args(
        "root, sizes",
        "const files = new DataTransfer(); \
         sizes.forEach((n, i) => files.items.add(new File(['x'.repeat(n)], 'f' + i + '.txt'))); \
         root.dispatchEvent(new DragEvent('drop', \
           { dataTransfer: files, bubbles: true, cancelable: true }));",
    );
    let sizes: js_sys::Array = sizes.iter().map(|n| JsValue::from(*n)).collect();
    drop.call2(&JsValue::NULL, root, &sizes).unwrap();
}

/// Each item of the tray: its state and the reason it shows.
fn items(root: &web_sys::Element) -> Vec<(String, String)> {
    let list = root.query_selector_all(".lc-upload").unwrap();
    (0..list.length())
        .map(|i| {
            let item: web_sys::Element = list.get(i).unwrap().unchecked_into();
            let state = item.get_attribute("data-state").unwrap_or_default();
            let reason = item
                .query_selector("small")
                .unwrap()
                .and_then(|s| s.text_content())
                .unwrap_or_default();
            (state, reason)
        })
        .collect()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// The reason the tray's only file shows once it failed (waiting at most 10 s for that).
async fn first_failure(root: &web_sys::Element) -> String {
    for _ in 0..200 {
        match items(root).as_slice() {
            [(state, reason)] if state == "failed" => return reason.clone(),
            _ => sleep(50).await,
        }
    }
    panic!("the file never failed: {:?}", items(root));
}

#[wasm_bindgen_test]
async fn files_beyond_the_limits_are_refused_without_a_request() {
    let (uploads, root, requests) = tray(None, 100);
    drop_files(&root, &[101]);
    assert_eq!(
        items(&root),
        [("failed".into(), "file_too_large(0, )".into())],
        "over the size limit"
    );
    assert!(requests.borrow().is_empty());

    let most = protocol::MAX_ATTACHMENTS;
    drop_files(&root, &vec![1; most]);
    let shown = items(&root);
    assert_eq!(shown.len(), most + 1);
    // The first `most` files (the refused one included) were taken, each asked for its way;
    // the one past the count was refused without asking.
    assert_eq!(requests.borrow().len(), most - 1);
    assert!(shown[1..most].iter().all(|(_, reason)| reason == "offline"));
    assert_eq!(shown[most].1, format!("too_many_files({most}, )"));
    // Nothing uploads, nothing is stored: a message can go, without files.
    assert_eq!(uploads.ready(), Some(false));
    assert!(uploads.take().is_empty());
    assert_eq!(
        items(&root).len(),
        most + 1,
        "failed files stay until removed"
    );

    uploads.accept_up_to(None);
    assert!(!root.has_attribute("data-files"));
    drop_files(&root, &[1]);
    assert_eq!(
        items(&root).len(),
        most + 1,
        "no file is taken while none is accepted"
    );
}

#[wasm_bindgen_test]
async fn a_network_drop_is_retried_with_the_same_key_then_shown_failed() {
    // Nothing listens on the discard port: each request ends as a network failure.
    let (uploads, root, requests) = tray(Some("http://127.0.0.1:9/files"), 1000);
    assert!(root.has_attribute("data-files"));
    drop_files(&root, &[10]);
    assert_eq!(uploads.ready(), None, "the message waits for the upload");
    assert_eq!(
        first_failure(&root).await,
        "upload_interrupted(0, )",
        "after three tries"
    );
    let tried = requests.borrow().clone();
    assert_eq!(tried.len(), 3);
    assert!(tried.iter().all(|t| *t == tried[0]), "one name, one key");

    // Retry by hand: again with the same key.
    let retry: web_sys::HtmlElement = root
        .query_selector("[data-testid=upload-retry]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    retry.click();
    assert_eq!(requests.borrow().len(), 4);
    assert_eq!(requests.borrow()[3], tried[0]);
    assert_eq!(uploads.ready(), None);

    // Removed: gone from the tray, and its request's end changes nothing.
    let remove: web_sys::HtmlElement = root
        .query_selector("[data-testid=upload-cancel]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    remove.click();
    assert!(items(&root).is_empty());
    assert_eq!(uploads.ready(), Some(false));
    sleep(1500).await;
    assert!(items(&root).is_empty());
    assert_eq!(requests.borrow().len(), 4, "no retry after removal");
}

#[wasm_bindgen_test]
async fn a_refusal_shows_the_gateways_reason() {
    // The test page's own server takes no uploads: a 4xx without an error body.
    let (uploads, root, _) = tray(Some("/no-such-upload-route"), 1000);
    drop_files(&root, &[10]);
    assert_eq!(first_failure(&root).await, "upload_failed(0, )");
    assert!(uploads.take().is_empty());
    uploads.clear();
    assert!(items(&root).is_empty());
}
