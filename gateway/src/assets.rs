//! What browsers download: `/embed.js` (the loader, compiled into the binary), the widget's
//! WASM panel under `/widget/` and the agent console under `/console/` (Trunk's output
//! directories, served with the brotli/gzip files xtask writes beside each asset).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::channels;
use crate::state::AppState;

/// The loader a site owner's page fetches. Plain JS, a few hundred bytes compressed.
pub const EMBED_JS: &str = include_str!("../../widget/loader/embed.js");

pub fn router(state: &AppState) -> Router<AppState> {
    let widget_dir = &state.config.widget_dir;
    let console_dir = &state.config.console_dir;
    for (what, dir) in [("widget", widget_dir), ("console", console_dir)] {
        if !dir.is_dir() {
            tracing::warn!(dir = %dir.display(), "no {what} build found; run `cargo xtask demo` to build it");
        }
    }
    // The panel is loaded cross-origin by `import()`, which requires CORS; its files carry no
    // cookies or secrets, so any origin may read them. `no-cache` makes browsers revalidate
    // (cheap: Last-Modified) so a new gateway version is never mixed with an old panel.
    let widget = Router::new()
        .fallback_service(
            ServeDir::new(widget_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    let console = ServeDir::new(console_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(console_dir.join("index.html")));
    Router::new()
        .route("/embed.js", get(embed_js))
        .route("/chat/{channel_key}", get(hosted_chat))
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .nest_service("/widget", widget)
        .nest_service("/console/", console)
}

async fn embed_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Short: site owners never change the snippet, so a loader fix must reach pages soon.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        EMBED_JS,
    )
}

/// The channel's own chat page: the snippet on a page of the gateway, for sharing as a link.
async fn hosted_chat(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
) -> crate::error::Result<Html<String>> {
    let channel = channels::by_key(&state, &channel_key).await?;
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
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
