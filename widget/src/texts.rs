//! What the panel says, in the page's language: the gateway's texts for the channel
//! (`GET /v1/widget/{key}/texts`, one language's, every key in it). Counted texts take the
//! language's plural form from the browser (`Intl.PluralRules`).

use js_sys::{Array, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

#[derive(Debug, Clone)]
pub struct Texts {
    texts: Object,
    plurals: Intl::PluralRules,
    /// The language chosen (a BCP 47 tag), for the panel's `lang`.
    pub locale: String,
    pub right_to_left: bool,
}

impl Texts {
    /// The gateway's answer (`WidgetTexts`); None if it is not one.
    pub fn from_answer(answer: &str) -> Option<Self> {
        let answer = js_sys::JSON::parse(answer)
            .ok()
            .filter(JsValue::is_object)?;
        let texts = field(&answer, "texts");
        let locale = field(&answer, "locale").as_string()?;
        texts.is_object().then(|| Self {
            texts: texts.into(),
            plurals: Intl::PluralRules::new(&Array::of1(&locale.as_str().into()), &Object::new()),
            right_to_left: field(&answer, "right_to_left").is_truthy(),
            locale,
        })
    }

    /// Every text by key, for the panel's JavaScript.
    pub fn object(&self) -> &Object {
        &self.texts
    }

    pub fn get(&self, key: &str) -> String {
        field(&self.texts, key)
            .as_string()
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text for a view drawn once per mount: a `&'static str` draws with the code the
    /// panel has for its literals (a `String` attribute or text node is code of its own, about
    /// 8 KB brotli over the panel's texts). Each mount keeps its few hundred bytes.
    pub fn fixed(&self, key: &str) -> &'static str {
        Box::leak(self.get(key).into_boxed_str())
    }

    /// The text with its `{name}` placeholder filled (by the browser: Rust's substring search
    /// costs the panel a kilobyte).
    pub fn fill(&self, key: &str, name: &str, value: &str) -> String {
        js_sys::JsString::from(self.get(key))
            .replace_all(&format!("{{{name}}}"), value)
            .into()
    }

    /// The counted text's form for `n`, its `{n}` filled.
    pub fn count(&self, key: &str, n: u64) -> String {
        let forms = field(&self.texts, key);
        let category = self.plurals.select(n as f64);
        let form = Reflect::get(&forms, &category)
            .ok()
            .and_then(|form| form.as_string())
            .or_else(|| field(&forms, "other").as_string())
            .unwrap_or_else(|| key.to_owned());
        js_sys::JsString::from(form)
            .replace_all("{n}", &n.to_string())
            .into()
    }
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The English bundle as the gateway sends it.
    pub(crate) fn english() -> Texts {
        let bundle = include_str!("../locales/en.json");
        Texts::from_answer(&format!(
            r#"{{"locale":"en","right_to_left":false,"texts":{bundle}}}"#
        ))
        .unwrap()
    }

    const RUSSIAN: &str = r#"{"locale": "ru", "right_to_left": false, "texts": {
        "send": "Отправить", "typing": "{name} печатает… {name}",
        "unread": {"one": "{n} новое сообщение", "few": "{n} новых сообщения",
                   "many": "{n} новых сообщений", "other": "{n} нового сообщения"}}}"#;

    #[wasm_bindgen_test]
    fn russian_counts_in_its_three_forms() {
        let texts = Texts::from_answer(RUSSIAN).unwrap();
        assert_eq!(texts.count("unread", 1), "1 новое сообщение");
        assert_eq!(texts.count("unread", 3), "3 новых сообщения");
        assert_eq!(texts.count("unread", 5), "5 новых сообщений");
        assert_eq!(texts.count("unread", 21), "21 новое сообщение");
        assert_eq!(texts.fill("typing", "name", "Ана"), "Ана печатает… Ана");
        assert_eq!(texts.get("send"), "Отправить");
        assert_eq!((texts.locale.as_str(), texts.right_to_left), ("ru", false));
    }

    #[wasm_bindgen_test]
    fn english_counts_one_and_other_and_a_broken_answer_is_none() {
        let texts = english();
        assert_eq!(texts.count("unread", 1), "1 new message");
        assert_eq!(texts.count("unread", 2), "2 new messages");
        assert!(Texts::from_answer("not json").is_none());
        assert!(Texts::from_answer(r#"{"locale":"en"}"#).is_none());
    }
}
