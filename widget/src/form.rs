//! What the panel asks the visitor in a form (an address for email; later the message left
//! while nobody is online, the pre-chat questions): one question at a time, drawn by `form.js`
//! from data. A form written as a Leptos view is code, kilobytes of it per form; as data it
//! costs the panel a string.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// Shows the question in `container`: builds its form (fields: JSON `[name, label, type,
    /// required]` rows; type `message` is a textarea, a list of options a select; a form with
    /// no fields and no `submit` only says its prompt) unless the one shown has the same `key`
    /// and fields, and sets its prompt. An empty `key` removes the form. Submitting calls
    /// `done(key, values)`, the values by field name; with a `url` (and the session's `token`) the
    /// values are POSTed there as JSON instead and `done(key, refusal)` gets the gateway's
    /// refusal, or null.
    #[wasm_bindgen(js_name = ask)]
    fn ask_js(
        container: &web_sys::HtmlElement,
        key: &str,
        prompt: &str,
        fields: &str,
        submit: &str,
        done: &Closure<dyn Fn(String, JsValue)>,
        url: &str,
        token: &str,
    );

    /// The pre-chat form's fields (as `ask` takes them) for the questions the session brought
    /// (`PrechatQuestions` as JSON): name, email and phone as asked, the topic, the consent.
    #[wasm_bindgen(js_name = prechatFields)]
    pub fn prechat_fields(questions: &str) -> String;
}

/// A question for the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Question {
    /// Which one (and the form's `data-testid`); empty: nothing is asked.
    pub key: &'static str,
    pub prompt: String,
    /// Its fields, as `form.js` takes them.
    pub fields: String,
    pub submit: &'static str,
    /// Where the answers go, with the session's token, instead of to the panel.
    pub post: Option<(String, String)>,
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
        &question.fields,
        question.submit,
        done,
        question.post.as_ref().map_or("", |(url, _)| url),
        question.post.as_ref().map_or("", |(_, token)| token),
    );
}

/// A field of the answer; empty if it was not filled in.
pub fn value(values: &JsValue, name: &str) -> String {
    js_sys::Reflect::get(values, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_prechat_form_has_the_fields_asked_in_order() {
        let questions = r#"{"name":"required","email":"off","phone":"optional",
            "topics":["Sales","Say \"hi\""],"consent":"I accept <the> terms."}"#;
        let fields = prechat_fields(questions);
        assert_eq!(
            fields,
            r#"[["name","Your name","text",true],["phone","Your phone","tel",false],["topic","Topic",["Sales","Say \"hi\""],true],["consent","I accept <the> terms.","checkbox",true]]"#
        );
        let none = r#"{"name":"off","email":"required","phone":"off","topics":[],"consent":null}"#;
        assert_eq!(
            prechat_fields(none),
            r#"[["email","Your email","email",true]]"#
        );
    }
}
