//! Enums whose variants travel as names (in JSON, in database columns, in URLs): each variant's
//! name is written once, in [`named!`], and serde, `as_str`, `FromStr` and `Display` all use it.

/// A name that no variant of the enum has: a decoder's loud failure, never a silent default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The enum's type name.
    pub kind: &'static str,
    pub value: String,
    /// The names there are.
    pub expected: &'static [&'static str],
}

impl core::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?} is not one of {}",
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

/// Declares a fieldless enum with each variant's name: `Variant = "name"`. Derives `Debug`,
/// `Clone`, `Copy`, `PartialEq`, `Eq`, `Hash` and serde under those names (more derives may be
/// given, `Default` with `#[default]` on a variant), and adds `ALL`, `as_str`, `FromStr` and
/// `Display`.
macro_rules! named {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every variant's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::names::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::names::UnknownName {
                        kind: stringify!($name),
                        value: s.to_owned(),
                        expected: Self::NAMES,
                    }),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named;

#[cfg(test)]
mod tests {
    use crate::{ConversationStatus, EventType, Handler};

    #[test]
    fn a_name_round_trips_through_as_str_from_str_and_serde() {
        for status in ConversationStatus::ALL {
            assert_eq!(status.as_str().parse::<ConversationStatus>(), Ok(*status));
            assert_eq!(
                serde_json::to_string(status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert_eq!(EventType::MessageCreated.as_str(), "message.created");
        assert_eq!(
            serde_json::from_str::<EventType>("\"conversation.handed_over\"").unwrap(),
            EventType::HandedOver
        );
    }

    #[test]
    fn an_unknown_name_is_an_error_not_a_default() {
        let refused = "robot".parse::<Handler>().unwrap_err();
        assert_eq!(
            refused.to_string(),
            "\"robot\" is not one of agents, bot, desk"
        );
        assert!(serde_json::from_str::<Handler>("\"robot\"").is_err());
    }
}
