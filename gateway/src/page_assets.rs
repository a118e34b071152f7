//! The files of a visitor's page that the console's co-browsing mirror loads, fetched by the
//! gateway (see `cobrowse::assets` for who may ask): only from the origins given, images,
//! stylesheets and fonts only, within [`MAX_ASSET_BYTES`] and [`FETCH_TIMEOUT`], redirects
//! included; a stylesheet's own links rewritten to come through the gateway too. What was
//! fetched is kept for [`KEPT_FOR`] in a cache of [`CACHE_BYTES`], so a page's images are
//! fetched once for every agent and every snapshot.

use axum::http::header;
use bytes::Bytes;
use std::time::{Duration, Instant};
use url::Url;

use crate::error::{Error, Result};

/// Largest file fetched for a mirror.
pub const MAX_ASSET_BYTES: usize = 5 * 1024 * 1024;
/// How long one fetch may take, headers and body.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a fetched file is served from the cache.
const KEPT_FOR: Duration = Duration::from_secs(600);
/// What the cache holds at most.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Redirects followed, each to an allowed origin.
const MAX_REDIRECTS: usize = 3;

/// A fetched file: its type as served, its bytes, when it was fetched.
#[derive(Clone)]
pub struct Fetched {
    pub content_type: &'static str,
    pub bytes: Bytes,
    pub at: Instant,
}

/// The fetcher: its own HTTP client, which follows no redirect by itself (each is checked
/// against the allowed origins here), and the files it fetched, by URL, weighed by their size.
pub struct PageAssets {
    client: reqwest::Client,
    cache: quick_cache::sync::Cache<String, Fetched, Weight>,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<String, Fetched> for Weight {
    fn weight(&self, url: &String, fetched: &Fetched) -> u64 {
        (url.len() + fetched.bytes.len()) as u64
    }
}

impl PageAssets {
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("livechat-gateway/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Internal(format!("http client: {e}")))?;
        // Items estimated at 32 KiB each, for the cache's bookkeeping.
        let cache = quick_cache::sync::Cache::with_weighter(
            (CACHE_BYTES / (32 * 1024)) as usize,
            CACHE_BYTES,
            Weight,
        );
        Ok(Self { client, cache })
    }

    /// The file at `target` (allowed: its origin is one of `allowed`), from the cache or the
    /// site; a stylesheet with its links made `proxy(link)`.
    pub async fn get(
        &self,
        target: Url,
        allowed: &[String],
        proxy: impl Fn(&Url) -> String,
    ) -> Result<Fetched> {
        if !allowed.contains(&origin_of(&target)) {
            return Err(Error::OriginNotAllowed(origin_of(&target)));
        }
        let key = target.to_string();
        if let Some(fetched) = self.cache.get(&key).filter(|f| f.at.elapsed() < KEPT_FOR) {
            return Ok(fetched);
        }
        let mut fetched = fetch(&self.client, target.clone(), allowed).await?;
        if fetched.content_type == "text/css" {
            let css = rewrite_css(&String::from_utf8_lossy(&fetched.bytes), &target, proxy);
            fetched.bytes = Bytes::from(css);
        }
        self.cache.insert(key, fetched.clone());
        Ok(fetched)
    }
}

/// The kinds of file a mirror loads, by the type the site served them as.
fn served_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(match essence.as_str() {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "image/avif" => "image/avif",
        "image/svg+xml" => "image/svg+xml",
        "image/x-icon" | "image/vnd.microsoft.icon" => "image/x-icon",
        "text/css" => "text/css",
        "font/woff2" => "font/woff2",
        "font/woff" | "application/font-woff" => "font/woff",
        "font/ttf" | "application/x-font-ttf" => "font/ttf",
        "font/otf" => "font/otf",
        _ => return None,
    })
}

/// The origin of a URL as browsers write it (`scheme://host[:port]`).
fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Where the mirror of this conversation may load from: the page's own origin and the
/// channel's allowed origins.
pub fn allowed_origins(
    conversation_origin: Option<&str>,
    channel_origins: &[String],
) -> Vec<String> {
    conversation_origin
        .map(str::to_owned)
        .into_iter()
        .chain(channel_origins.iter().cloned())
        .collect()
}

/// A stylesheet with every `url(…)` and `@import "…"` it names resolved against `base` and
/// made to come through the proxy (`data:` URLs stay as they are; what is not a URL goes).
pub fn rewrite_css(css: &str, base: &Url, proxy: impl Fn(&Url) -> String) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    loop {
        let lower = rest.to_ascii_lowercase();
        let next = [lower.find("url("), lower.find("@import")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(rest);
            return out;
        };
        let is_import = lower[at..].starts_with("@import");
        let skip = if is_import {
            "@import".len()
        } else {
            "url(".len()
        };
        out.push_str(&rest[..at]);
        let after = &rest[at + skip..];
        let trimmed = after.trim_start();
        let (link, consumed) = if is_import {
            // `@import url(…)` is handled as a url( on the next turn.
            match quoted(trimmed) {
                Some((link, len)) => (Some(link), after.len() - trimmed.len() + len),
                None => {
                    out.push_str("@import");
                    rest = after;
                    continue;
                }
            }
        } else {
            match quoted(trimmed) {
                Some((link, len)) => {
                    let tail = trimmed[len..].trim_start();
                    let closing = tail.strip_prefix(')').map_or(0, |_| 1);
                    (Some(link), after.len() - tail.len() + closing)
                }
                None => match trimmed.find(')') {
                    Some(end) => (
                        Some(trimmed[..end].trim().to_owned()),
                        after.len() - trimmed.len() + end + 1,
                    ),
                    None => (None, after.len()),
                },
            }
        };
        let target = link.and_then(|link| {
            if link.trim_start().to_ascii_lowercase().starts_with("data:") {
                Some(link)
            } else {
                base.join(&link)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(|u| proxy(&u))
            }
        });
        let target = target.unwrap_or_default().replace(['"', '\\', '\n'], "");
        if is_import {
            out.push_str(&format!("@import \"{target}\""));
        } else {
            out.push_str(&format!("url(\"{target}\")"));
        }
        rest = &after[consumed.min(after.len())..];
    }
}

/// A CSS string at the start of `text` ("…" or '…'): its value and its length with quotes.
fn quoted(text: &str) -> Option<(String, usize)> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &text[1..];
    let end = body.find(quote)?;
    Some((body[..end].to_owned(), end + 2))
}

/// Fetches `target`, following redirects only to `allowed` origins, within the bounds.
async fn fetch(client: &reqwest::Client, target: Url, allowed: &[String]) -> Result<Fetched> {
    let unavailable = |why: String| Error::AssetUnavailable(why);
    let mut target = target;
    for _ in 0..=MAX_REDIRECTS {
        let sent = tokio::time::timeout(FETCH_TIMEOUT, async {
            let mut response = client
                .get(target.clone())
                .header(header::ACCEPT, "image/*,text/css,font/*;q=0.9,*/*;q=0.1")
                .send()
                .await
                .map_err(|e| unavailable(e.without_url().to_string()))?;
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| target.join(l).ok())
                    .ok_or_else(|| unavailable("a redirect to nowhere".into()))?;
                return Ok(Err(location));
            }
            if !response.status().is_success() {
                return Err(unavailable(format!(
                    "the site answered {}",
                    response.status()
                )));
            }
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|t| t.to_str().ok())
                .and_then(served_type)
                .ok_or_else(|| {
                    Error::FileTypeNotAllowed("not an image, stylesheet or font".into())
                })?;
            if response
                .content_length()
                .is_some_and(|n| n > MAX_ASSET_BYTES as u64)
            {
                return Err(Error::FileTooLarge {
                    max_bytes: MAX_ASSET_BYTES as u64,
                });
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| unavailable(e.without_url().to_string()))?
            {
                if bytes.len() + chunk.len() > MAX_ASSET_BYTES {
                    return Err(Error::FileTooLarge {
                        max_bytes: MAX_ASSET_BYTES as u64,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(Ok(Fetched {
                content_type,
                bytes: Bytes::from(bytes),
                at: Instant::now(),
            }))
        })
        .await
        .map_err(|_| unavailable("the site took too long".into()))??;
        match sent {
            Ok(fetched) => return Ok(fetched),
            Err(location) => {
                if !allowed.contains(&origin_of(&location)) {
                    return Err(Error::OriginNotAllowed(origin_of(&location)));
                }
                target = location;
            }
        }
    }
    Err(unavailable("too many redirects".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(u: &Url) -> String {
        format!("/p?u={u}")
    }

    #[test]
    fn a_stylesheet_links_through_the_proxy() {
        let base = Url::parse("https://shop.example/css/site.css").unwrap();
        let css = "@import 'print.css'; body { background: URL( ../img/bg.png ) } \
                   .a { src: url(\"/fonts/a.woff2\") format('woff2'), url(data:font/woff;base64,AA) } \
                   @import url(extra.css);";
        assert_eq!(
            rewrite_css(css, &base, proxy),
            "@import \"/p?u=https://shop.example/css/print.css\"; body { background: \
             url(\"/p?u=https://shop.example/img/bg.png\") } .a { src: \
             url(\"/p?u=https://shop.example/fonts/a.woff2\") format('woff2'), \
             url(\"data:font/woff;base64,AA\") } @import url(\"/p?u=https://shop.example/css/extra.css\");"
        );
    }

    #[test]
    fn what_is_not_a_web_url_goes() {
        let base = Url::parse("https://shop.example/").unwrap();
        assert_eq!(
            rewrite_css(
                "a { b: url(javascript:alert(1)) } c { d: url(",
                &base,
                proxy
            ),
            "a { b: url(\"\")) } c { d: url(\"\")"
        );
    }

    #[test]
    fn only_images_stylesheets_and_fonts_are_served() {
        assert_eq!(served_type("image/PNG; q=1"), Some("image/png"));
        assert_eq!(served_type("text/css; charset=utf-8"), Some("text/css"));
        assert_eq!(served_type("text/html"), None);
        assert_eq!(served_type("application/javascript"), None);
    }

    #[test]
    fn the_page_origin_and_the_channel_origins_are_allowed() {
        let allowed = allowed_origins(Some("https://a.example"), &["https://b.example".into()]);
        assert_eq!(allowed, ["https://a.example", "https://b.example"]);
        let url = Url::parse("https://b.example:443/x.png").unwrap();
        assert!(allowed.contains(&origin_of(&url)));
    }
}
