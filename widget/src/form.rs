//! What the panel asks the visitor in a form (an address for email; later the message left
//! while nobody is online, the pre-chat questions): one question at a time, drawn by `form.js`
//! from data. A form written as a Leptos view is code, kilobytes of it per form; as data it
//! costs the panel a string.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// Shows the question in `container`: builds its form (fields: JSON `[name, label, type,
    /// required]` rows; type `message` is a textarea) unless the one shown has the same `key`
    /// and fields, and sets its prompt. An empty `key` removes the form. Submitting calls `done(key,
    /// values)`, the values by field name.
    #[wasm_bindgen(js_name = ask)]
    fn ask_js(
        container: &web_sys::HtmlElement,
        key: &str,
        prompt: &str,
        fields: &str,
        submit: &str,
        done: &Closure<dyn Fn(String, JsValue)>,
    );
}

/// A question for the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Question {
    /// Which one (and the form's `data-testid`); empty: nothing is asked.
    pub key: &'static str,
    pub prompt: String,
    /// Its fields, as `form.js` takes them.
    pub fields: &'static str,
    pub submit: &'static str,
}

/// The address the panel asks for email.
pub const EMAIL_FIELDS: &str = r#"[["email","Your email","email",true]]"#;
/// A message left while nobody can chat, with an address for the answer (when the gateway
/// sends email) or without.
pub const LEAVE_MESSAGE_FIELDS: &str =
    r#"[["message","Your message","message",true],["email","Your email","email",true]]"#;
pub const LEAVE_MESSAGE_ONLY_FIELDS: &str = r#"[["message","Your message","message",true]]"#;

/// Shows `question` in `container`; the answer goes to `done`.
pub fn ask(
    container: &web_sys::HtmlElement,
    question: &Question,
    done: &Closure<dyn Fn(String, JsValue)>,
) {
    ask_js(
        container,
        question.key,
        &question.prompt,
        question.fields,
        question.submit,
        done,
    );
}

/// A field of the answer; empty if it was not filled in.
pub fn value(values: &JsValue, name: &str) -> String {
    js_sys::Reflect::get(values, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}
