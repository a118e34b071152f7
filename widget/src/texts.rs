//! What the panel says, in the page's language: the gateway's texts for the channel
//! (`GET /v1/widget/{key}/texts`, one language's, every key in it). Looked up, filled and
//! counted (`Intl.PluralRules`) by `say` in `form.js`: as JavaScript it costs the panel less than
//! half what it would in Rust.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/form.js")]
extern "C" {
    /// `answer.texts[key]` with its `{name}` filled by `value`; a counted text's form for the
    /// number `value` in `answer.locale`; the key itself when there is none.
    fn say(answer: &JsValue, key: &str, name: &str, value: &JsValue) -> String;

    /// `ms` as a weekday and a time, in `locale` and the visitor's time zone.
    fn when(locale: &str, ms: f64) -> String;
}

#[derive(Debug, Clone)]
pub struct Texts {
    /// The gateway's answer, as the browser parsed it.
    answer: JsValue,
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
        let field = |name: &str| js_sys::Reflect::get(&answer, &name.into()).unwrap_or_default();
        let locale = field("locale").as_string()?;
        field("texts").is_object().then(|| Self {
            right_to_left: field("right_to_left").is_truthy(),
            locale,
            answer: answer.clone(),
        })
    }

    /// The gateway's answer as parsed, for the panel's JavaScript (`say`).
    pub fn answer(&self) -> &JsValue {
        &self.answer
    }

    /// Every text by key, for the panel's JavaScript.
    pub fn object(&self) -> js_sys::Object {
        js_sys::Reflect::get(&self.answer, &"texts".into())
            .unwrap_or_default()
            .into()
    }

    pub fn get(&self, key: &str) -> String {
        say(&self.answer, key, "", &JsValue::UNDEFINED)
    }

    /// The text for a view drawn once per mount: a `&'static str` draws with the code the
    /// panel has for its literals (a `String` attribute or text node is code of its own, about
    /// 8 KB brotli over the panel's texts). Each mount keeps its few hundred bytes.
    pub fn fixed(&self, key: &str) -> &'static str {
        Box::leak(self.get(key).into_boxed_str())
    }

    /// The text with its `{name}` placeholder filled.
    /// Why the gateway refused something, in the visitor's words: its code's own text
    /// (`error_{code}`), else a general one. The gateway's message is for developers, in English.
    pub fn refusal(&self, code: &str) -> String {
        let key = format!("error_{code}");
        match self.get(&key) {
            missing if missing == key => self.get("error_other"),
            text => text,
        }
    }

    pub fn fill(&self, key: &str, name: &str, value: &str) -> String {
        say(&self.answer, key, name, &value.into())
    }

    /// An instant (ms since the epoch) as a weekday and a time, as the visitor reads them.
    pub fn weekday_and_time(&self, ms: i64) -> String {
        when(&self.locale, ms as f64)
    }

    /// The counted text's form for `n`, its `{n}` filled.
    pub fn count(&self, key: &str, n: u64) -> String {
        say(&self.answer, key, "n", &(n as f64).into())
    }
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
        // Monday 30 November 2026, noon UTC (Monday in nearly every time zone), as the visitor reads it.
        let monday = js_sys::Date::new(&1_796_040_000_000.0.into());
        let said = texts.weekday_and_time(1_796_040_000_000);
        assert!(said.contains("понедельник"), "{said}");
        let time = format!("{:02}:00", monday.get_hours());
        assert!(said.contains(&time), "{said} lacks {time}");
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
