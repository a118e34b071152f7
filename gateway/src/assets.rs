//! What browsers download: `/embed.js` (the loader), the widget's WASM panel under `/widget/`
//! and the agent console under `/console/` (Trunk's output directories, served with the brotli
//! and gzip files xtask writes beside each asset, chosen by `Accept-Encoding`).
//!
//! The build names the panel's files by a hash of their content and writes the loader that
//! names them (`dist/widget/embed.js`), so the panel is cached `immutable` and a new build is
//! new names, while the loader, whose URL site owners paste once, stays on a short cache with an
//! `ETag`. Without a build, the loader compiled into the gateway is served (there is no panel
//! to load then anyway).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::channels;
use crate::state::AppState;

const EMBED_JS: &str = include_str!("../../widget/loader/embed.js");
const LAUNCHER_CSS: &str = include_str!("../../widget/loader/launcher.css");

/// The loader's source with the launcher's stylesheet where it says `LAUNCHER_CSS`, as the
/// build puts them together (unminified): served when there is no widget build.
pub static SOURCE_LOADER: LazyLock<String> = LazyLock::new(|| {
    let css = serde_json::to_string(LAUNCHER_CSS).unwrap_or_default();
    EMBED_JS.replacen("LAUNCHER_CSS", &css, 1)
});

/// Short: site owners never change the snippet, so a loader fix must reach pages soon; the
/// `ETag` makes each revalidation a 304 of a few bytes.
const LOADER_CACHE: &str = "public, max-age=300";
/// A file whose name carries its content hash never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub fn router(state: &AppState) -> Router<AppState> {
    let widget_dir = &state.config.widget_dir;
    let console_dir = &state.config.console_dir;
    for (what, dir) in [("widget", widget_dir), ("console", console_dir)] {
        if !dir.is_dir() {
            tracing::warn!(dir = %dir.display(), "no {what} build found; run `cargo xtask demo` to build it");
        }
    }
    // The panel is loaded cross-origin by `import()`, which requires CORS; its files carry no
    // cookies or secrets, so any origin may read them.
    let widget = Router::new()
        .fallback_service(
            ServeDir::new(widget_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(axum::middleware::from_fn(panel_cache))
        .layer(vary_by_encoding())
        .layer(timed_by_host_pages())
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ));
    // The console's names carry no hash: browsers revalidate (a 304 when nothing changed), so an
    // agent never runs an old console against a new gateway.
    let console = Router::new()
        .fallback_service(
            ServeDir::new(console_dir)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(ServeFile::new(console_dir.join("index.html"))),
        )
        .layer(vary_by_encoding())
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    let loader = Arc::new(Loader::new(widget_dir.join("embed.js")));
    Router::new()
        .route(
            "/embed.js",
            get(move |request: Request| {
                let loader = loader.clone();
                async move { loader.serve(request).await }
            })
            .layer(timed_by_host_pages()),
        )
        .route("/chat/{channel_key}", get(hosted_chat))
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .nest_service("/widget", widget)
        .nest_service("/console/", console)
}

/// The loader: the build's file (with its compressed copies) or, without a build, the source.
struct Loader {
    built: Option<PathBuf>,
    etag: HeaderValue,
}

impl Loader {
    fn new(built: PathBuf) -> Self {
        let bytes = std::fs::read(&built).ok();
        let etag = entity_tag(bytes.as_deref().unwrap_or(SOURCE_LOADER.as_bytes()));
        Self {
            built: bytes.map(|_| built),
            etag,
        }
    }

    async fn serve(&self, request: Request) -> Response {
        let unchanged = request
            .headers()
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim() == self.etag || tag.trim() == "*");
        let mut response = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else if let Some(built) = &self.built {
            // ServeFile picks the brotli or gzip copy the browser accepts (and says so in `Vary`).
            let mut served = match ServeFile::new(built)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(request)
                .await
            {
                Ok(served) => served.map(Body::new),
                Err(never) => match never {},
            };
            // Its Last-Modified would let a browser revalidate by date as well; the tag is exact.
            served.headers_mut().remove(header::LAST_MODIFIED);
            served
        } else {
            (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                SOURCE_LOADER.as_str(),
            )
                .into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(LOADER_CACHE),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

/// Precompressed files differ by `Accept-Encoding`: a shared cache (a CDN in front of the
/// gateway) must not give a browser an encoding it did not ask for. (`ServeDir` does not say so.)
fn vary_by_encoding() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::VARY, HeaderValue::from_static("accept-encoding"))
}

/// What the host page loads from the gateway (the loader, its bootstrap, the panel) may be
/// timed and sized by that page (`Timing-Allow-Origin`): site owners see the widget's real
/// cost in their own performance tools. Never on what a login or secret reads, whose sizes
/// would tell another site something.
pub fn timed_by_host_pages() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(
        header::HeaderName::from_static("timing-allow-origin"),
        HeaderValue::from_static("*"),
    )
}

/// A strong entity tag: the content's SHA-256, shortened.
fn entity_tag(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Hashed names are cached for good; anything else (the snippets wasm-bindgen names by crate,
/// not content) is revalidated.
async fn panel_cache(request: Request, next: Next) -> Response {
    let immutable = is_content_named(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let policy = if immutable { IMMUTABLE } else { "no-cache" };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// `widget_bg-0123456789abcdef.wasm`: a name the build gave from the file's content.
fn is_content_named(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        hash.len() == 16
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

/// The channel's own chat page: the snippet on a page of the gateway, for sharing as a link.
async fn hosted_chat(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
) -> crate::error::Result<Html<String>> {
    let channel = channels::by_key(&state, &channel_key).await?;
    let escape = crate::html::escape;
    Ok(Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\
         <body style=\"font-family: system-ui, sans-serif; margin: 10vh auto; max-width: 32rem; padding: 0 1rem\">\
         <h1>{title}</h1><p>{greeting}</p><p>Open the chat with the button at the bottom of the page.</p>\
         <script async src=\"/embed.js\" data-channel=\"{key}\"></script></body></html>",
        title = escape(&channel.appearance.title),
        greeting = escape(&channel.appearance.greeting),
        key = escape(&channel.key),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_the_build_hashed_are_immutable() {
        assert!(is_content_named("/widget_bg-0123456789abcdef.wasm"));
        assert!(is_content_named("/widget-fedcba9876543210.js"));
        assert!(!is_content_named("/widget.js"));
        assert!(!is_content_named(
            "/snippets/widget-4f3a2b1c/src/captcha.js"
        ));
        assert!(!is_content_named("/widget-0123456789ABCDEF.js"));
        assert!(!is_content_named("/embed.js"));
    }
}
