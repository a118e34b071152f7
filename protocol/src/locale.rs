//! The languages the widget speaks, and its texts in one of them.

use crate::names::named;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

named! {
    /// A language the widget's texts come in (`widget/locales/{name}.json`).
    pub enum Locale {
        En = "en",
        Id = "id",
        Ru = "ru",
        PtBr = "pt-BR",
        Es = "es",
        /// Written right to left.
        Ar = "ar",
    }
}

impl Locale {
    pub fn right_to_left(self) -> bool {
        self == Locale::Ar
    }

    /// The first of `wanted` (BCP 47 tags, the most wanted first) spoken here, by its whole tag
    /// (`pt-BR`) or else by its language (`pt-PT` → `pt-BR`, `es-MX` → `es`); None when none is.
    pub fn choose<'a>(wanted: impl IntoIterator<Item = &'a str>) -> Option<Locale> {
        let language = |tag: &'a str| tag.split(['-', '_']).next().unwrap_or_default();
        wanted.into_iter().map(str::trim).find_map(|tag| {
            let spoken = Self::ALL.iter().copied();
            spoken
                .clone()
                .find(|locale| locale.as_str().eq_ignore_ascii_case(tag))
                .or_else(|| {
                    spoken.clone().find(|locale| {
                        !tag.is_empty()
                            && language(locale.as_str()).eq_ignore_ascii_case(language(tag))
                    })
                })
        })
    }
}

/// One of the widget's texts: a string with `{name}` placeholders, or, for one that counts
/// (`{n}`), a string per plural category of its language (`Intl.PluralRules`: `one`, `few`,
/// `many`, `other`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Text {
    Plain(String),
    Counted(BTreeMap<String, String>),
}

/// Texts by key.
pub type Texts = BTreeMap<String, Text>;

/// What a channel says instead of the widget's own texts, by language.
pub type ChannelTexts = BTreeMap<Locale, Texts>;

/// `GET /v1/widget/{channel_key}/texts`: the widget's texts in the language chosen for the page,
/// with what the channel says instead of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetTexts {
    pub locale: Locale,
    pub right_to_left: bool,
    pub texts: Texts,
}

#[cfg(test)]
mod tests {
    use super::Locale;

    #[test]
    fn the_first_wanted_language_spoken_is_chosen_by_tag_then_by_language() {
        assert_eq!(Locale::choose(["fr", "pt-PT", "es"]), Some(Locale::PtBr));
        assert_eq!(Locale::choose(["PT-br"]), Some(Locale::PtBr));
        assert_eq!(Locale::choose(["es_MX"]), Some(Locale::Es));
        assert_eq!(Locale::choose(["ar-EG", "en"]), Some(Locale::Ar));
        assert_eq!(Locale::choose(["fr", "", "de"]), None);
        assert_eq!(Locale::choose([]), None);
        assert!(Locale::Ar.right_to_left() && !Locale::Ru.right_to_left());
    }
}
