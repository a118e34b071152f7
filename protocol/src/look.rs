//! How a channel's launcher and panel look beyond the title and the accent colour: the colour
//! of text on the accent, the launcher's icon and label, its distance from the window's edges,
//! and the panel's size on a desktop. With the `look` feature (the gateway and the console): the
//! CSS custom properties the loader sets on its element, and the WCAG contrast check that keeps
//! text on the accent readable.

use serde::{Deserialize, Serialize};

use crate::names::named;

named! {
    #[derive(Default)]
    pub enum LauncherIcon {
        #[default]
        Chat = "chat",
        Help = "help",
        Mail = "mail",
        /// The label alone.
        None = "none",
    }
}

/// Stored as one document beside the appearance's older columns; flattened into
/// [`crate::Appearance`] on the wire, so the admin API sees one flat appearance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Look {
    /// Text and icons on the accent colour (the launcher, the panel's header, the visitor's
    /// bubbles): at least 4.5:1 against it, as WCAG AA asks of text.
    pub text_color: String,
    pub launcher_icon: LauncherIcon,
    /// Words beside the icon; empty: a round launcher.
    pub launcher_label: String,
    /// The launcher's distance from the side of the window, px.
    pub offset_x: u16,
    /// And from its bottom, px (the phone's safe area is added).
    pub offset_y: u16,
    /// The open panel on a desktop, px; on a phone it takes the whole screen.
    pub panel_width: u16,
    pub panel_height: u16,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            text_color: "#ffffff".into(),
            launcher_icon: LauncherIcon::Chat,
            launcher_label: String::new(),
            offset_x: 20,
            offset_y: 20,
            panel_width: 360,
            panel_height: 520,
        }
    }
}

/// The bounds an admin's values are checked against.
pub const OFFSETS: std::ops::RangeInclusive<u16> = 0..=200;
pub const PANEL_WIDTHS: std::ops::RangeInclusive<u16> = 300..=640;
pub const PANEL_HEIGHTS: std::ops::RangeInclusive<u16> = 400..=900;
pub const LABEL_CHARS: usize = 30;
/// WCAG 2 AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

#[cfg(feature = "look")]
pub use colours::*;

#[cfg(feature = "look")]
mod colours {
    use std::fmt::Write;

    use csscolorparser::Color;

    use super::{LauncherIcon, MIN_CONTRAST};
    use crate::{Appearance, LauncherPosition, Problem};

    /// An opaque CSS colour, or why it is not one.
    pub fn colour(css: &str) -> Result<Color, Problem> {
        let colour = csscolorparser::parse(css.trim()).map_err(|_| Problem::Colour)?;
        if colour.a < 1.0 {
            return Err(Problem::Opaque);
        }
        Ok(colour)
    }

    /// WCAG 2's relative luminance.
    fn luminance(colour: &Color) -> f64 {
        let [r, g, b, _] = colour.to_linear_rgba();
        0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
    }

    /// WCAG 2's contrast ratio, from 1 (the same) to 21 (black on white).
    pub fn contrast(one: &Color, other: &Color) -> f64 {
        let (a, b) = (luminance(one), luminance(other));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// A ratio as people read it: rounded down to a tenth, so a pair just under the bar never
    /// reads as meeting it.
    pub fn said_ratio(ratio: f64) -> String {
        format!("{:.1}", (ratio * 10.0).floor() / 10.0)
    }

    /// Why text in `text` on `accent` would not be readable enough; None when it is.
    pub fn contrast_problem(accent: &str, text: &str) -> Option<Problem> {
        let (Ok(accent), Ok(text)) = (colour(accent), colour(text)) else {
            return None;
        };
        let ratio = contrast(&accent, &text);
        (ratio < MIN_CONTRAST).then(|| Problem::Contrast {
            ratio: said_ratio(ratio),
            min: MIN_CONTRAST.to_string(),
        })
    }

    /// An SVG of the icon in `fill`, as a CSS `url()`; `none` for no icon.
    fn icon(icon: LauncherIcon, fill: &str) -> String {
        let fill = fill.replace('#', "%23");
        let body = match icon {
            LauncherIcon::None => return "none".into(),
            LauncherIcon::Chat => format!("<path fill='{fill}' d='M3 3h18v13H8l-5 5z'/>"),
            LauncherIcon::Help => format!(
                "<g fill='none' stroke='{fill}' stroke-width='2' stroke-linecap='round'><circle cx='12' cy='12' r='9'/><path d='M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5v.7'/></g><circle fill='{fill}' cx='12' cy='17' r='1.2'/>"
            ),
            LauncherIcon::Mail => format!(
                "<g fill='none' stroke='{fill}' stroke-width='2' stroke-linejoin='round'><path d='M3 5h18v14H3z'/><path d='m3 6 9 7 9-7'/></g>"
            ),
        };
        format!(
            "url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='28' height='28' viewBox='0 0 24 24'>{body}</svg>\")"
        )
    }

    /// `text` as a CSS string: quotes and backslashes escaped (an admin's label goes into a
    /// stylesheet's value).
    fn css_string(text: &str) -> String {
        let mut out = String::from("\"");
        for ch in text.chars() {
            match ch {
                '"' | '\\' | '\n' | '\r' | '\u{c}' => {
                    let _ = write!(out, "\\{:x} ", u32::from(ch));
                }
                ch => out.push(ch),
            }
        }
        out.push('"');
        out
    }

    /// The custom properties the loader sets on its element (its launcher and the panel inside
    /// read them). Colours are written as the parser read them, never as the admin typed them;
    /// one that cannot be read (stored before colours were checked) falls back to the default.
    pub fn style(appearance: &Appearance) -> String {
        let look = &appearance.look;
        let hex = |css: &str, fallback: &str| {
            colour(css).map_or_else(|_| fallback.to_owned(), |c| c.to_css_hex().to_string())
        };
        let accent = hex(&appearance.accent_color, "#2563eb");
        let text = hex(&look.text_color, "#ffffff");
        let label = look.launcher_label.trim();
        let (label, pad) = if label.is_empty() {
            ("none".to_owned(), 0)
        } else {
            (css_string(label), 20)
        };
        let x = format!("{}px", look.offset_x);
        let (start, end, align) = match appearance.position {
            LauncherPosition::BottomRight => ("auto", x.as_str(), "end"),
            LauncherPosition::BottomLeft => (x.as_str(), "auto", "start"),
        };
        format!(
            "--lc-accent:{accent};--lc-text:{text};--lc-icon:{icon};--lc-label:{label};--lc-pad:{pad}px;\
             --lc-start:{start};--lc-end:{end};--lc-y:{y}px;--lc-align:{align};--lc-w:{w}px;--lc-h:{h}px",
            icon = icon(look.launcher_icon, &text),
            y = look.offset_y,
            w = look.panel_width,
            h = look.panel_height,
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::{Look, Theme};

        fn appearance(look: Look) -> Appearance {
            Appearance {
                title: "Chat".into(),
                greeting: String::new(),
                accent_color: "rebeccapurple".into(),
                position: LauncherPosition::BottomLeft,
                sound: false,
                theme: Theme::Auto,
                look,
            }
        }

        #[test]
        fn contrast_is_wcags_ratio() {
            let ratio = |a, b| contrast(&colour(a).unwrap(), &colour(b).unwrap());
            assert!((ratio("black", "#fff") - 21.0).abs() < 0.01);
            assert!((ratio("#777", "#777") - 1.0).abs() < 0.01);
            // Published pairs: #2563eb on white 5.17, #767676 on white 4.54.
            assert!((ratio("#2563eb", "white") - 5.17).abs() < 0.01);
            assert!((ratio("rgb(118 118 118)", "hsl(0 0% 100%)") - 4.54).abs() < 0.01);
        }

        #[test]
        fn a_pair_below_aa_is_named_and_a_pair_above_is_not() {
            assert_eq!(contrast_problem("#2563eb", "#ffffff"), None);
            assert_eq!(
                contrast_problem("#60a5fa", "white"),
                Some(Problem::Contrast {
                    ratio: "2.5".into(),
                    min: "4.5".into()
                })
            );
            assert_eq!(colour("#2563eb80").unwrap_err(), Problem::Opaque);
            assert!(colour("blue; color: red").is_err());
        }

        #[test]
        fn the_style_carries_parsed_colours_escaped_label_and_mirrored_side() {
            let look = Look {
                text_color: "black".into(),
                launcher_label: "Say \"hi\" \\ o/".into(),
                launcher_icon: LauncherIcon::Mail,
                offset_x: 32,
                ..Look::default()
            };
            let style = style(&appearance(look));
            assert!(
                style.contains("--lc-accent:#663399;--lc-text:#000000;"),
                "{style}"
            );
            assert!(
                style.contains(r#"--lc-label:"Say \22 hi\22  \5c  o/";--lc-pad:20px"#),
                "{style}"
            );
            assert!(style.contains("--lc-start:32px;--lc-end:auto;"), "{style}");
            assert!(style.contains("stroke='%23000000'"), "{style}");
            assert!(!style.contains("stroke='#"), "{style}");

            let round = style_of_default();
            assert!(round.contains("--lc-label:none;--lc-pad:0px"), "{round}");
            assert!(round.contains("--lc-w:360px;--lc-h:520px"), "{round}");
        }

        fn style_of_default() -> String {
            let mut plain = appearance(Look::default());
            plain.position = LauncherPosition::BottomRight;
            style(&plain)
        }

        #[test]
        fn an_unreadable_stored_colour_falls_back_to_the_default() {
            let mut odd = appearance(Look::default());
            odd.accent_color = "not a colour".into();
            assert!(style(&odd).starts_with("--lc-accent:#2563eb;"));
        }
    }
}
