//! Page URL patterns: `*` matches any run of characters. A pattern starting with `/` is
//! matched against the path and query only, so one pattern covers every allowed host.

/// Whether the page (its URL, any `#fragment` ignored) matches the pattern.
pub fn matches(pattern: &str, page_url: &str) -> bool {
    let url = page_url.split('#').next().unwrap_or_default();
    let target = if pattern.starts_with('/') {
        path_and_query(url)
    } else {
        url
    };
    wildcard(pattern.as_bytes(), target.as_bytes())
}

fn path_and_query(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find(['/', '?'])
        .map_or("/", |start| &after_scheme[start..])
}

/// Linear-time wildcard match: on a mismatch, the last `*` absorbs one more character.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            last_star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = last_star {
            p = star + 1;
            t = matched + 1;
            last_star = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_as_marketers_expect() {
        let cases = [
            ("/pricing", "https://shop.example/pricing", true),
            ("/pricing", "https://shop.example/pricing/team", false),
            ("/pricing*", "https://shop.example/pricing/team", true),
            ("/pricing*", "https://shop.example/about", false),
            ("/", "https://shop.example", true),
            ("/help/*", "https://shop.example/help/returns?x=1#top", true),
            ("*/checkout", "https://a.example/checkout", true),
            ("*/checkout", "https://a.example/checkout#step2", true),
            ("https://shop.example/*", "https://shop.example/x", true),
            ("https://shop.example/*", "https://evil.example/x", false),
            (
                "*utm_source=ads*",
                "https://shop.example/?utm_source=ads&b=2",
                true,
            ),
            ("/a*b*c", "https://s.example/aXbYc", true),
            ("/a*b*c", "https://s.example/aXbYcd", false),
            ("*", "anything", true),
        ];
        for (pattern, url, expected) in cases {
            assert_eq!(matches(pattern, url), expected, "{pattern} vs {url}");
        }
    }
}
