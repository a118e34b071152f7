//! The widget's texts: each language's bundle (`widget/locales/*.json`, compiled in), with what
//! a channel's admins say instead, per language.

use protocol::{ChannelTexts, Locale, Problem, Text, Texts, WidgetTexts};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The longest text a channel may set.
pub const MAX_TEXT_CHARS: usize = 500;

/// Every plural category a language may have (`Intl.PluralRules`).
const PLURAL_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

const SOURCES: [(Locale, &str); 6] = [
    (Locale::En, include_str!("../../widget/locales/en.json")),
    (Locale::Id, include_str!("../../widget/locales/id.json")),
    (Locale::Ru, include_str!("../../widget/locales/ru.json")),
    (
        Locale::PtBr,
        include_str!("../../widget/locales/pt-BR.json"),
    ),
    (Locale::Es, include_str!("../../widget/locales/es.json")),
    (Locale::Ar, include_str!("../../widget/locales/ar.json")),
];

// A bundle that does not parse is empty here, and the tests below fail on it.
static BUNDLES: LazyLock<BTreeMap<Locale, Texts>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(locale, json)| (*locale, serde_json::from_str(json).unwrap_or_default()))
        .collect()
});

/// The bundle of `locale` as shipped.
pub fn bundle(locale: Locale) -> &'static Texts {
    static NONE: Texts = Texts::new();
    BUNDLES.get(&locale).unwrap_or(&NONE)
}

/// The widget's texts in `locale`: its bundle (every key English has: tested below), with the
/// channel's own laid over it, a counted text category by category.
pub fn for_channel(own: &ChannelTexts, locale: Locale) -> WidgetTexts {
    let mut texts = bundle(locale).clone();
    if let Some(own) = own.get(&locale) {
        lay_over(&mut texts, own);
    }
    WidgetTexts {
        locale,
        right_to_left: locale.right_to_left(),
        texts,
    }
}

fn lay_over(texts: &mut Texts, over: &Texts) {
    for (key, text) in over {
        match (texts.get_mut(key), text) {
            (Some(Text::Counted(forms)), Text::Counted(own)) => forms.extend(own.clone()),
            _ => {
                texts.insert(key.clone(), text.clone());
            }
        }
    }
}

/// A channel's texts as an admin writes them: `{language: {key: text}}`, each key one the widget
/// has, a string where English has one, and strings by plural category where English counts;
/// each text 1 to [`MAX_TEXT_CHARS`] characters, with no placeholder English does not have.
/// Each problem is named by where it is (`ru.send`).
pub fn parse(value: &Value) -> Result<ChannelTexts, BTreeMap<String, Problem>> {
    let mut problems = BTreeMap::new();
    let mut parsed = ChannelTexts::new();
    let Some(languages) = value.as_object() else {
        problems.insert(
            String::new(),
            Problem::Shape {
                shape: "{language: {key: text}}".into(),
            },
        );
        return Err(problems);
    };
    let english = bundle(Locale::En);
    for (language, texts) in languages {
        let Ok(locale) = language.parse::<Locale>() else {
            problems.insert(
                language.clone(),
                Problem::OneOf {
                    allowed: Locale::NAMES.iter().map(|&name| name.to_owned()).collect(),
                },
            );
            continue;
        };
        let Some(texts) = texts.as_object() else {
            problems.insert(
                language.clone(),
                Problem::Shape {
                    shape: "{key: text}".into(),
                },
            );
            continue;
        };
        let own: &mut Texts = parsed.entry(locale).or_default();
        for (key, text) in texts {
            let at = format!("{language}.{key}");
            match english.get(key).map(|english| parse_text(english, text)) {
                None => {
                    problems.insert(at, Problem::UnknownSetting);
                }
                Some(Err(problem)) => {
                    problems.insert(at, problem);
                }
                Some(Ok(text)) => {
                    own.insert(key.clone(), text);
                }
            }
        }
    }
    parsed.retain(|_, texts| !texts.is_empty());
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

fn parse_text(english: &Text, text: &Value) -> Result<Text, Problem> {
    match (english, text) {
        (Text::Plain(english), Value::String(text)) => {
            checked(english, text).map(|text| Text::Plain(text.to_owned()))
        }
        (Text::Counted(english), Value::Object(forms)) if !forms.is_empty() => {
            let other = english.get("other").map(String::as_str).unwrap_or_default();
            forms
                .iter()
                .map(|(category, text)| {
                    if !PLURAL_CATEGORIES.contains(&category.as_str()) {
                        return Err(plural_forms());
                    }
                    let text = text.as_str().ok_or_else(plural_forms)?;
                    checked(other, text).map(|text| (category.clone(), text.to_owned()))
                })
                .collect::<Result<_, _>>()
                .map(Text::Counted)
        }
        (Text::Plain(_), _) => Err(Problem::NotText),
        (Text::Counted(_), _) => Err(plural_forms()),
    }
}

/// A counted text is a text by plural category.
fn plural_forms() -> Problem {
    Problem::Shape {
        shape: format!("{{{}: text}}", PLURAL_CATEGORIES.join(" | ")),
    }
}

/// `text`, trimmed, when it is 1 to [`MAX_TEXT_CHARS`] characters and names no placeholder
/// that `english` does not (it may leave some out: "one minute" needs no `{n}`).
fn checked<'a>(english: &str, text: &'a str) -> Result<&'a str, Problem> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(Problem::Characters {
            min: 1,
            max: MAX_TEXT_CHARS as u64,
        });
    }
    let known = placeholders(english);
    match placeholders(text)
        .into_iter()
        .find(|name| !known.contains(name))
    {
        Some(unknown) => Err(Problem::Placeholder {
            unknown: format!("{{{unknown}}}"),
            known: known.iter().map(|n| format!("{{{n}}}")).collect(),
        }),
        None => Ok(text),
    }
}

/// The `{name}`s in a text.
fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts_of(text: &Text) -> Vec<&str> {
        match text {
            Text::Plain(text) => vec![text],
            Text::Counted(forms) => forms.values().map(String::as_str).collect(),
        }
    }

    /// Every bundle parses and has exactly English's keys, each of the same kind (plain or
    /// counted, with an `other` form), and no placeholder English lacks; a plain text has all
    /// of English's.
    #[test]
    fn every_bundle_has_every_english_text_and_no_other() {
        let english = bundle(Locale::En);
        assert!(english.len() > 40, "English has {} texts", english.len());
        for locale in Locale::ALL {
            let texts = bundle(*locale);
            let keys = |t: &Texts| t.keys().cloned().collect::<Vec<_>>();
            assert_eq!(
                keys(texts),
                keys(english),
                "{} lacks or adds keys",
                locale.as_str()
            );
            for (key, english_text) in english {
                let text = &texts[key];
                match (english_text, text) {
                    (Text::Plain(en), Text::Plain(own)) => {
                        let (mut a, mut b) = (placeholders(en), placeholders(own));
                        a.sort_unstable();
                        b.sort_unstable();
                        assert_eq!(a, b, "{}.{key}: placeholders", locale.as_str());
                    }
                    (Text::Counted(en), Text::Counted(own)) => {
                        assert!(
                            own.contains_key("other"),
                            "{}.{key}: no other",
                            locale.as_str()
                        );
                        for (category, form) in own {
                            assert!(PLURAL_CATEGORIES.contains(&category.as_str()));
                            assert!(
                                checked(&en["other"], form).is_ok(),
                                "{}.{key}.{category}",
                                locale.as_str()
                            );
                        }
                    }
                    _ => panic!(
                        "{}.{key}: plain in one, counted in the other",
                        locale.as_str()
                    ),
                }
                for form in texts_of(text) {
                    assert!(!form.trim().is_empty() && form.chars().count() <= MAX_TEXT_CHARS);
                }
            }
        }
    }

    #[test]
    fn a_channels_texts_lie_over_the_bundle_category_by_category() {
        let own = parse(&serde_json::json!({
            "ru": {"send": "  Послать ", "unread": {"few": "{n} непрочитанных"}}
        }))
        .unwrap();
        let answer = for_channel(&own, Locale::Ru);
        assert_eq!(answer.texts["send"], Text::Plain("Послать".into()));
        let Text::Counted(unread) = &answer.texts["unread"] else {
            panic!("counted")
        };
        assert_eq!(unread["few"], "{n} непрочитанных");
        assert_eq!(unread["many"], "{n} новых сообщений");
        assert!(!answer.right_to_left);
        // Another language keeps its bundle.
        assert_eq!(
            for_channel(&own, Locale::Es).texts["send"],
            Text::Plain("Enviar".into())
        );
        assert!(for_channel(&own, Locale::Ar).right_to_left);
    }

    #[test]
    fn what_the_widget_cannot_show_is_refused_by_name() {
        let refused = parse(&serde_json::json!({
            "fr": {"send": "Envoyer"},
            "ru": {
                "nope": "x",
                "send": "",
                "typing": "{who} печатает",
                "unread": "not counted",
                "closed_after_minutes": {"several": "{n}"},
            },
            "es": {"send": "x".repeat(MAX_TEXT_CHARS + 1)},
        }))
        .unwrap_err();
        let names: Vec<&str> = refused.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "es.send",
                "fr",
                "ru.closed_after_minutes",
                "ru.nope",
                "ru.send",
                "ru.typing",
                "ru.unread"
            ]
        );
        assert!(parse(&serde_json::json!([])).is_err());
        assert_eq!(parse(&serde_json::json!({})).unwrap(), ChannelTexts::new());
    }
}
