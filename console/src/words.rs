//! What the console says, in the agent's language: the bundles in `console/locales/` (the
//! widget's six languages), the agent's choice remembered in this browser, else the browser's
//! languages, else English. A key the chosen bundle lacks falls back to English (a test keeps
//! every bundle complete). The language is chosen once per page load; choosing another reloads
//! the console, so no text needs to be reactive.

use std::collections::HashMap;

use leptos::prelude::*;
use protocol::{Locale, Problem};
use serde_json::Value;

const BUNDLES: &[(Locale, &str)] = &[
    (Locale::En, include_str!("../locales/en.json")),
    (Locale::Id, include_str!("../locales/id.json")),
    (Locale::Ru, include_str!("../locales/ru.json")),
    (Locale::PtBr, include_str!("../locales/pt-BR.json")),
    (Locale::Es, include_str!("../locales/es.json")),
    (Locale::Ar, include_str!("../locales/ar.json")),
];

/// Where the agent's choice is kept.
const CHOICE_KEY: &str = "livechat:console-locale";

/// A text, or for one that counts (`{n}`) a text per plural category of the language
/// (`Intl.PluralRules`: `one`, `few`, `many`, `other`…).
struct Words {
    locale: Locale,
    chosen: HashMap<String, Value>,
    english: HashMap<String, Value>,
}

fn bundle(locale: Locale) -> HashMap<String, Value> {
    BUNDLES
        .iter()
        .find(|(l, _)| *l == locale)
        .and_then(|(_, json)| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The agent's remembered choice, else the first of the browser's languages spoken here.
fn wanted() -> Locale {
    let remembered = storage().and_then(|s| s.get_item(CHOICE_KEY).ok().flatten());
    let browser: Vec<String> = web_sys::window()
        .map(|w| w.navigator().languages())
        .map(|languages| languages.iter().filter_map(|l| l.as_string()).collect())
        .unwrap_or_default();
    Locale::choose(remembered.iter().chain(&browser).map(String::as_str)).unwrap_or(Locale::En)
}

thread_local! {
    static WORDS: Words = {
        let locale = wanted();
        Words { locale, chosen: bundle(locale), english: bundle(Locale::En) }
    };
}

/// The text under `key` in the agent's language, or its plural form `category`.
fn lookup(key: &str, category: &str) -> String {
    WORDS.with(|w| {
        let text = w.chosen.get(key).or_else(|| w.english.get(key));
        match text {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Object(forms)) => forms
                .get(category)
                .or_else(|| forms.get("other"))
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned(),
            _ => key.to_owned(),
        }
    })
}

/// The text under `key`, when a bundle has one.
pub fn worded(key: &str) -> Option<String> {
    let known = WORDS.with(|w| w.chosen.contains_key(key) || w.english.contains_key(key));
    known.then(|| t(key))
}

/// The text under `key` in the agent's language.
pub fn t(key: &str) -> String {
    lookup(key, "other")
}

/// The counted text under `key` for `n`, in the language's plural form for it, `{n}` filled.
pub fn count(key: &str, n: u32) -> String {
    let options = js_sys::Object::new();
    let rules =
        js_sys::Intl::PluralRules::new(&js_sys::Array::of1(&locale().as_str().into()), &options);
    let category = rules.select(f64::from(n)).as_string().unwrap_or_default();
    lookup(key, &category).replace("{n}", &n.to_string())
}

/// What is wrong with a field, as the gateway named it (`{"code", facts…}`), in the agent's
/// language with each fact filled in; None for a code no bundle words (the gateway's English
/// then stands).
pub fn problem(problem: &Problem) -> Option<String> {
    let Ok(Value::Object(facts)) = serde_json::to_value(problem) else {
        return None;
    };
    let key = format!("problem_{}", facts.get("code")?.as_str()?);
    worded(&key)?;
    let facts: Vec<(&str, String)> = facts
        .iter()
        .filter(|(name, _)| *name != "code")
        .map(|(name, fact)| (name.as_str(), said(fact)))
        .collect();
    let facts: Vec<(&str, &str)> = facts.iter().map(|(n, f)| (*n, f.as_str())).collect();
    Some(fill(&key, &facts))
}

/// A fact as a sentence says it: a number with the language's digits and grouping, a list
/// comma-separated.
fn said(fact: &Value) -> String {
    match fact {
        Value::String(text) => text.clone(),
        Value::Number(n) => n
            .as_f64()
            .map(|n| {
                js_sys::Number::from(n)
                    .to_locale_string(locale().as_str())
                    .into()
            })
            .unwrap_or_default(),
        Value::Array(items) => items.iter().map(said).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The text under `key` with each `{name}` replaced by its value.
pub fn fill(key: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(t(key), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

pub fn locale() -> Locale {
    WORDS.with(|w| w.locale)
}

/// The page's `lang` and `dir` for the chosen language (screen readers' voice, right-to-left
/// layout).
pub fn apply_to_page() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let locale = locale();
    let _ = root.set_attribute("lang", locale.as_str());
    let _ = root.set_attribute("dir", if locale.right_to_left() { "rtl" } else { "ltr" });
}

/// Each language named in itself, as an agent looking for theirs reads it.
fn own_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "English",
        Locale::Id => "Bahasa Indonesia",
        Locale::Ru => "Русский",
        Locale::PtBr => "Português (Brasil)",
        Locale::Es => "Español",
        Locale::Ar => "العربية",
    }
}

/// The language switch: remembered in this browser, applied by reloading the console.
pub fn language_choice() -> impl IntoView {
    let current = locale();
    let change = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        if let Some(storage) = storage() {
            let _ = storage.set_item(CHOICE_KEY, &chosen);
        }
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <select class="language" data-testid="console-language" aria-label=t("language_of_console") on:change=change>
            {Locale::ALL.iter().map(|&l| view! {
                <option value=l.as_str() lang=l.as_str() selected=l == current>{own_name(l)}</option>
            }).collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The placeholders of a text, of every plural form of a counted one.
    fn placeholders(text: &Value) -> BTreeSet<String> {
        let forms: Vec<&str> = match text {
            Value::String(text) => vec![text.as_str()],
            Value::Object(forms) => forms.values().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        forms
            .into_iter()
            .flat_map(|text| text.split('{').skip(1))
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[wasm_bindgen_test]
    fn every_bundle_has_every_english_key_with_its_placeholders_and_nothing_else() {
        let english = bundle(Locale::En);
        assert!(english.len() > 200, "the English bundle did not parse");
        for &(locale, _) in BUNDLES {
            let other = bundle(locale);
            let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(extra.is_empty(), "{locale} has unknown keys {extra:?}");
            for (key, text) in &english {
                assert_eq!(
                    placeholders(&other[key]),
                    placeholders(text),
                    "{locale}: {key}"
                );
                let counted_has_other = other[key].get("other").is_some_and(Value::is_string);
                assert!(
                    other[key].as_str().is_some_and(|t| !t.trim().is_empty()) || counted_has_other,
                    "{locale}: {key} is empty, or counted without an `other` form"
                );
            }
        }
    }

    /// One of each problem the gateway names. The match keeps the list whole: a new variant
    /// does not compile here until it is handled, next to the list it belongs in.
    fn every_problem() -> Vec<Problem> {
        use Problem::*;
        let (min, max) = (1, 60);
        let all = vec![
            Required,
            UnknownSetting,
            NotText,
            NotFlag,
            Shape {
                shape: "[origins]".into(),
            },
            Empty,
            Characters { min, max },
            AtMostCharacters { max },
            AtLeastCharacters { min },
            Shortcut { max },
            Seconds { min, max },
            SecondsOrNever { min, max },
            Pixels { min, max },
            Bytes { min, max },
            Number {
                min: "0.0".into(),
                max: "1.0".into(),
            },
            TooMany { max },
            OneOf {
                allowed: vec!["light".into(), "dark".into()],
            },
            Twice,
            Origin,
            Url,
            UrlCredentials,
            Unresolved {
                host: "hooks.example".into(),
            },
            NotPublic {
                host: "intranet".into(),
            },
            Email,
            Phone,
            TimeOfDay,
            Date,
            TimeZone,
            Future,
            Taken,
            NoSuchAgent,
            NoSuchQueue,
            Cursor,
            Colour,
            Opaque,
            Contrast {
                ratio: "2.5".into(),
                min: "4.5".into(),
            },
            OneLine,
            LabelOrIcon,
            Placeholder {
                unknown: "who".into(),
                known: vec!["n".into()],
            },
            NotAsked,
            ConsentNeeded,
            CaptchaSecret,
            ScoreNotApplicable,
            PatternsNeeded,
            PatternSpaces,
            OverrideEnd,
            AgentOrQueue,
            AuthorNeeded,
            NoEventFilter,
            OneBotOneDesk,
            ConversationInProgress,
        ];
        for problem in &all {
            match problem {
                Required
                | UnknownSetting
                | NotText
                | NotFlag
                | Shape { .. }
                | Empty
                | Characters { .. }
                | AtMostCharacters { .. }
                | AtLeastCharacters { .. }
                | Shortcut { .. }
                | Seconds { .. }
                | SecondsOrNever { .. }
                | Pixels { .. }
                | Bytes { .. }
                | Number { .. }
                | TooMany { .. }
                | OneOf { .. }
                | Twice
                | Origin
                | Url
                | UrlCredentials
                | Unresolved { .. }
                | NotPublic { .. }
                | Email
                | Phone
                | TimeOfDay
                | Date
                | TimeZone
                | Future
                | Taken
                | NoSuchAgent
                | NoSuchQueue
                | Cursor
                | Colour
                | Opaque
                | Contrast { .. }
                | OneLine
                | LabelOrIcon
                | Placeholder { .. }
                | NotAsked
                | ConsentNeeded
                | CaptchaSecret
                | ScoreNotApplicable
                | PatternsNeeded
                | PatternSpaces
                | OverrideEnd
                | AgentOrQueue
                | AuthorNeeded
                | NoEventFilter
                | OneBotOneDesk
                | ConversationInProgress => {}
            }
        }
        all
    }

    // The other bundles have every key English has (above), so English wording each problem
    // is each language wording it.
    #[wasm_bindgen_test]
    fn every_problem_the_gateway_names_is_worded_with_its_facts() {
        for named in every_problem() {
            let words = problem(&named).unwrap_or_else(|| panic!("no words for {named:?}"));
            assert!(
                !words.contains('{'),
                "{named:?} left a placeholder: {words}"
            );
        }
        assert_eq!(
            problem(&Problem::Bytes {
                min: 1024,
                max: 104_857_600
            })
            .as_deref(),
            Some("must be 1,024 to 104,857,600 bytes")
        );
        assert_eq!(
            problem(&Problem::OneOf {
                allowed: vec!["light".into(), "dark".into()]
            })
            .as_deref(),
            Some("must be one of light, dark")
        );
    }

    // The test browser speaks English.
    #[wasm_bindgen_test]
    fn a_fill_replaces_each_named_placeholder_and_a_count_takes_the_plural_form() {
        assert_eq!(
            fill(
                "browser_on_system",
                &[("browser", "Firefox"), ("system", "Linux")]
            ),
            "Firefox on Linux"
        );
        assert_eq!(count("finding_agents_online", 1), "1 agent online");
        assert_eq!(count("finding_agents_online", 2), "2 agents online");
        assert_eq!(
            worded("error_invalid_credentials").as_deref(),
            Some("Wrong email or password.")
        );
        assert_eq!(worded("error_no_such_code"), None);
    }
}
