//! The chat panel. `embed.js` (the loader in `loader/`) fetches this module only when the
//! visitor clicks the launcher, then calls [`mount`] with the shadow-root element to draw into
//! and the page view's bootstrap. Nothing here touches the host page outside that element.
//!
//! - [`transcript`]: what the visitor sees, kept consistent under acks, replays and resends;
//! - [`connection`]: the session token and the socket, reconnecting with `resume_after`;
//! - [`captcha`]: the provider's challenge, when the channel requires one;
//! - [`panel`]: the Leptos view, with [`form`] for what it asks the visitor;
//! - [`texts`]: what it says, in the page's language;
//! - [`wire`]: what it reads from the gateway and the loader.

mod captcha;
mod connection;
mod form;
mod panel;
mod texts;
mod transcript;
mod wire;

use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The appearance the panel draws itself: colours, sizes and the launcher are the gateway's
/// style, which the loader set on the element the panel is in.
#[derive(Debug, Clone)]
pub struct Look {
    pub title: String,
    pub greeting: String,
    pub sound: bool,
    pub theme: protocol::Theme,
}

/// What the loader passes: its page view's bootstrap (the latest answer merged over the first),
/// where the gateway is, and its callbacks.
#[derive(Debug, Clone)]
pub struct Options {
    pub gateway: String,
    pub channel: String,
    pub ticket: String,
    /// The appearance, its greeting being the proactive one when the launcher showed that.
    pub appearance: Look,
    /// The launcher showed a proactive greeting: the visitor's first message answers it.
    pub greeted: bool,
    /// The challenge to solve before a session opens, when the channel requires one.
    pub captcha: Option<protocol::CaptchaChallenge>,
    /// The localStorage key under which the visit ticket is remembered once the visitor chats.
    pub store: String,
    /// Nobody can chat now: the panel takes a message.
    pub leave_message: Option<protocol::LeaveMessage>,
    /// What the host page adds to each `POST /v1/sessions` (identity token, attributes): the
    /// loader's own object, so a token `LiveChat.identify` renews is the one the next session
    /// sends.
    pub session: JsValue,
    /// The loader's `(type, data)`: the page's `LiveChat.on` events.
    pub emit: js_sys::Function,
    /// The loader's: hides the panel (the launcher is the loader's).
    pub close: js_sys::Function,
    /// The snippet's `data-locale`.
    pub locale: Option<String>,
}

// In form.js: each JavaScript module of its own costs the panel a request and its bytes.
#[wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// Adds the panel's stylesheet to the shadow root `root` is in, once however often the panel
    /// is mounted (a constructed sheet: no `style-src` the host page's CSP must allow).
    fn adopt(root: &web_sys::HtmlElement, css: &str);

    /// The languages the panel would speak, the most wanted first, comma-separated: the page's
    /// choice (`LiveChat.setLocale`, in `session.locale`), its `<html lang>`, the snippet's
    /// `data-locale` (`hint`), the browser's.
    fn wanted(session: &JsValue, hint: Option<String>) -> String;

    /// Keeps the panel (`root`) usable by keyboard and on a phone: focus in the composer
    /// whenever it shows, Escape `close`s it (the loader gives focus back to the launcher), Tab
    /// and Shift+Tab go round inside it; on a narrow screen the page behind does not scroll
    /// while it shows, and its height follows the visual viewport (the on-screen keyboard).
    fn keep(root: &web_sys::HtmlElement, close: &js_sys::Function);
}

/// The panel's look, in its WASM: no request of its own after the click.
const STYLESHEET: &str = include_str!("../widget.css");

/// Mounts the panel into `root` (inside the loader's shadow root) and starts the session, once
/// its texts in the page's language are here. Resolves to the function that stops it for good
/// (its socket closed, no reconnect), which the loader calls to start over for another person
/// (`identify`, `reset`) or in another language (`setLocale`); rejects when the texts cannot be
/// had (the loader lets the next click try again). A function, not an exported class: the
/// panel's glue keeps no class (see `xtask/src/exports.rs`).
#[wasm_bindgen]
pub fn mount(root: web_sys::HtmlElement, options: JsValue) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let options =
            wire::options(options).ok_or_else(|| JsValue::from_str("livechat: bad options"))?;
        let url = format!(
            "{}/v1/widget/{}/texts?locale={}",
            options.gateway,
            options.channel,
            js_sys::encode_uri_component(&wanted(&options.session, options.locale.clone()))
        );
        let texts = match connection::fetch_text(&url, None).await? {
            (true, answer) => texts::Texts::from_answer(&answer),
            _ => None,
        }
        .ok_or_else(|| JsValue::from_str("livechat: no texts"))?;
        adopt(&root, STYLESHEET);
        let _ = root.set_attribute("lang", &texts.locale);
        let _ = root.set_attribute("dir", if texts.right_to_left { "rtl" } else { "ltr" });
        let _ = root.set_attribute("data-theme", options.appearance.theme.as_str());
        let started = Rc::new(std::cell::OnceCell::new());
        let (stop, drawn_in) = (started.clone(), root.clone());
        // The chat starts inside the mount, where Leptos has set up its task executor.
        leptos::mount::mount_to(root.clone(), move || {
            let chat = connection::Chat::start(options, texts);
            let _ = started.set(chat.clone());
            // A file dropped anywhere on the panel, or an image pasted into it, is attached when
            // the channel takes visitors' files.
            chat.uploads.attach_to(root.clone().into());
            *chat.shown_in.borrow_mut() = Some(root);
            panel::panel(chat)
        })
        // Unmounting would cost the panel the view's drop code; stopped, the view is inert and
        // its elements are removed.
        .forget();
        if let Some(chat) = stop.get() {
            keep(&drawn_in, &chat.options.close);
        }
        Ok(Closure::once_into_js(move || {
            if let Some(chat) = stop.get() {
                chat.stop();
            }
            drawn_in.set_text_content(None);
        }))
    })
}

// The unit tests need a page (the models use `js_sys`): they run in headless Chromium.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
