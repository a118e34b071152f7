//! The proactive greeting: a line the launcher shows by itself once the visitor has spent a
//! while on some pages, as a marketer sets it ("after 20 s on `/pricing*`: Questions about
//! plans?"). Decided with the page view's signed facts like the visibility rules, and only
//! while the widget shows; it stores nothing until the visitor answers.

use protocol::{Proactive, Problem};

use super::schedule::FieldErrors;
use super::{check_pattern_list, pages, PageView, MAX_DWELL_SECS, MIN_RECHECK_MS};

/// The longest greeting: a bubble, not a letter.
pub const MAX_TEXT_CHARS: usize = 300;

/// What the launcher does with the greeting on this page view now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Greeting {
    /// Show this now.
    pub text: Option<String>,
    /// Not yet: the page view will have been long enough after this long.
    pub due_in_ms: Option<u64>,
}

pub fn greeting(proactive: Option<&Proactive>, view: &PageView<'_>, now_ms: i64) -> Greeting {
    let Some(proactive) = proactive else {
        return Greeting::default();
    };
    let url = view.page_url.unwrap_or_default();
    if !proactive.pages.is_empty() && !proactive.pages.iter().any(|p| pages::matches(p, url)) {
        return Greeting::default();
    }
    let needed_ms = i64::from(proactive.after_secs) * 1000;
    let remaining = needed_ms - (now_ms - view.viewed_at_ms).max(0);
    match u64::try_from(remaining) {
        Ok(ms) if ms > 0 => Greeting {
            text: None,
            due_in_ms: Some(ms.max(MIN_RECHECK_MS)),
        },
        _ => Greeting {
            text: Some(proactive.text.clone()),
            due_in_ms: None,
        },
    }
}

/// Every problem of a greeting as an admin sent it, by field (under `proactive.`).
pub fn validate(proactive: &Proactive) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let chars = proactive.text.trim().chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        errors.insert(
            "proactive.text".into(),
            Problem::Characters {
                min: 1,
                max: MAX_TEXT_CHARS as u64,
            },
        );
    }
    if proactive.after_secs > MAX_DWELL_SECS {
        errors.insert(
            "proactive.after_secs".into(),
            Problem::Seconds {
                min: 0,
                max: u64::from(MAX_DWELL_SECS),
            },
        );
    }
    check_pattern_list("proactive.pages", &proactive.pages, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing_after_20s() -> Proactive {
        Proactive {
            text: "Questions about plans?".into(),
            after_secs: 20,
            pages: vec!["/pricing*".into()],
        }
    }

    fn view(url: &str) -> PageView<'_> {
        PageView {
            visit: 1,
            viewed_at_ms: 1_000_000,
            page_url: Some(url),
        }
    }

    #[test]
    fn the_greeting_waits_for_its_time_on_its_pages() {
        let p = pricing_after_20s();
        let pricing = view("https://shop.example/pricing/team");
        assert_eq!(
            greeting(Some(&p), &pricing, 1_005_000),
            Greeting {
                text: None,
                due_in_ms: Some(15_000)
            }
        );
        assert_eq!(
            greeting(Some(&p), &pricing, 1_020_000).text.as_deref(),
            Some("Questions about plans?")
        );
        assert_eq!(
            greeting(Some(&p), &view("https://shop.example/about"), 1_020_000),
            Greeting::default()
        );
        assert_eq!(greeting(None, &pricing, 1_020_000), Greeting::default());
    }

    #[test]
    fn a_greeting_needs_text_and_sane_patterns() {
        let bad = Proactive {
            text: " ".into(),
            after_secs: MAX_DWELL_SECS + 1,
            pages: vec!["/a b".into()],
        };
        let fields: Vec<_> = validate(&bad).into_keys().collect();
        assert_eq!(
            fields,
            [
                "proactive.after_secs",
                "proactive.pages[0]",
                "proactive.text"
            ]
        );
        assert!(validate(&pricing_after_20s()).is_empty());
    }
}
