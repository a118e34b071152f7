//! What the panel asks the visitor in a form (an address for email; later the message left
//! while nobody is online, the pre-chat questions): one question at a time, drawn by `form.js`
//! from data. A form written as a Leptos view is code, kilobytes of it per form; as data it
//! costs the panel a string.

use wasm_bindgen::prelude::*;

use crate::texts::Texts;
use protocol::RatingScale;

#[wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// Shows the question in `container`: builds its form (fields: JSON `[name, label, type,
    /// required]` rows; type `message` is a textarea, a list of options a select, `{"r":
    /// [[value, label], ...]}` a group of radio buttons named by the label; a form with
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
    /// (`PrechatQuestions` as JSON): name, email and phone as asked, the topic, the consent;
    /// labelled with `texts` (the panel's, by key).
    #[wasm_bindgen(js_name = prechatFields)]
    pub fn prechat_fields(questions: &str, texts: &js_sys::Object) -> String;
}

/// A question for the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Question {
    /// Which one (and the form's `data-testid`); empty: nothing is asked.
    pub key: &'static str,
    pub prompt: String,
    /// Its fields, as `form.js` takes them.
    pub fields: String,
    pub submit: String,
    /// Where the answers go, with the session's token, instead of to the panel.
    pub post: Option<(String, String)>,
}

/// The address the panel asks for email.
pub fn email_fields(texts: &Texts) -> String {
    fields(&[row("email", &texts.get("your_email"), "email")])
}

/// A message left while nobody can chat, with an address for the answer (when the gateway
/// sends email) or without.
pub fn leave_message_fields(texts: &Texts, with_email: bool) -> String {
    let message = row("message", &texts.get("your_message"), "message");
    if with_email {
        fields(&[message, row("email", &texts.get("your_email"), "email")])
    } else {
        fields(&[message])
    }
}

/// The rating a closed conversation asks for: the scale's choices (a radio group, best
/// first) and an optional comment.
pub fn rating_fields(texts: &Texts, scale: RatingScale) -> String {
    let choices: Vec<String> = scale
        .scores()
        .iter()
        .rev()
        .map(|&score| {
            let label = match scale {
                RatingScale::Thumbs if score > 1 => texts.get("rating_good"),
                RatingScale::Thumbs => texts.get("rating_bad"),
                _ => texts.count("stars", u64::from(score)),
            };
            format!("[{score},{}]", json(&label))
        })
        .collect();
    let choices = format!(r#"{{"r":[{}]}}"#, choices.join(","));
    fields(&[
        format!(r#"["score",{},{choices},true]"#, json(&texts.get("rate"))),
        format!(
            r#"["comment",{},"message",false]"#,
            json(&texts.get("rating_comment"))
        ),
    ])
}

/// A required field as `ask` takes it: `[name, label, type, true]`, the label as JSON.
fn row(name: &str, label: &str, kind: &str) -> String {
    format!(r#"["{name}",{},"{kind}",true]"#, json(label))
}

fn json(text: &str) -> String {
    js_sys::JSON::stringify(&text.into()).map_or_else(|_| "\"\"".into(), String::from)
}

fn fields(rows: &[String]) -> String {
    format!("[{}]", rows.join(","))
}

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
        &question.submit,
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
        let texts = crate::texts::tests::english();
        let fields = prechat_fields(questions, &texts.object());
        assert_eq!(
            fields,
            r#"[["name","Your name","text",true],["phone","Your phone","tel",false],["topic","Topic",["Sales","Say \"hi\""],true],["consent","I accept <the> terms.","checkbox",true]]"#
        );
        let none = r#"{"name":"off","email":"required","phone":"off","topics":[],"consent":null}"#;
        assert_eq!(
            prechat_fields(none, &texts.object()),
            r#"[["email","Your email","email",true]]"#
        );
        assert_eq!(prechat_fields(none, &texts.object()), email_fields(&texts));
        let russian =
            Texts::from_answer(r#"{"locale":"ru","texts":{"your_message":"Ваше \"сообщение\""}}"#)
                .unwrap();
        assert_eq!(
            leave_message_fields(&russian, false),
            r#"[["message","Ваше \"сообщение\"","message",true]]"#
        );
    }

    #[wasm_bindgen_test]
    fn a_rating_is_asked_on_the_channels_scale_best_first() {
        let texts = crate::texts::tests::english();
        let comment = r#"["comment","A comment (optional)","message",false]"#;
        assert_eq!(
            rating_fields(&texts, RatingScale::Stars),
            format!(
                r#"[["score","How was this conversation?",{{"r":[[5,"5 stars"],[4,"4 stars"],[3,"3 stars"],[2,"2 stars"],[1,"1 star"]]}},true],{comment}]"#
            )
        );
        assert_eq!(
            rating_fields(&texts, RatingScale::Thumbs),
            format!(
                r#"[["score","How was this conversation?",{{"r":[[5,"👍 Good"],[1,"👎 Bad"]]}},true],{comment}]"#
            )
        );
    }
}
