//! The bindings of `mirror.js`, which builds a visitor's shared page in the console's pane
//! (see `cobrowse`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/mirror.js")]
extern "C" {
    /// Makes `frame` the mirror of `conversation`'s page: once its document loads, what
    /// arrives is built in it, and what the agent does in it is `each(kind, x, y, node, text)`:
    /// `click` (the page's coordinates and the mirror's id of the element, 0 for none), `type`
    /// (a field's id and what the agent typed in it) and `scroll` (where the page would be).
    pub fn attach(frame: &web_sys::HtmlIFrameElement, conversation: &str, each: &js_sys::Function);
    /// A piece of the mirror as the visitor's module sent it; the last (`more` false) of a
    /// batch has it built.
    pub fn piece(frame: &web_sys::HtmlIFrameElement, data: &str, more: bool);
}
