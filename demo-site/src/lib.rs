//! The demo site: pages a site owner would have, each with the snippet pasted exactly as the
//! README shows it. It runs on its own origin (127.0.0.1:8081 by default) so the embed is
//! cross-origin, as on a real site. When the gateway is not at the default address (tests bind
//! port 0), the snippet's gateway URL is rewritten as the page is served.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The gateway address written in the pages' snippets.
pub const SNIPPET_GATEWAY: &str = "http://127.0.0.1:8080";

/// Each page: its path, its HTML, and whether it is served under a strict CSP.
const PAGES: &[(&str, &str, bool)] = &[
    ("index.html", include_str!("../pages/index.html"), false),
    ("account.html", include_str!("../pages/account.html"), false),
    (
        "checkout.html",
        include_str!("../pages/checkout.html"),
        false,
    ),
    (
        "strict-csp.html",
        include_str!("../pages/strict-csp.html"),
        true,
    ),
];

/// The product's picture on the pages.
const TENT: &str = include_str!("../pages/tent.svg");

struct Site {
    gateway: String,
}

pub fn router(gateway_origin: &str) -> Router {
    let site = Arc::new(Site {
        gateway: gateway_origin.trim_end_matches('/').to_owned(),
    });
    Router::new()
        .route(
            "/tent.svg",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], TENT) }),
        )
        .route(
            "/",
            get(|State(site): State<Arc<Site>>| async move { page(&site, "index.html") }),
        )
        .route(
            "/{page}",
            get(
                |State(site): State<Arc<Site>>, Path(name): Path<String>| async move {
                    page(&site, &name)
                },
            ),
        )
        .with_state(site)
}

fn page(site: &Site, name: &str) -> Response {
    let Some((_, html, strict)) = PAGES.iter().find(|(path, _, _)| *path == name) else {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    };
    let html = html.replace(SNIPPET_GATEWAY, &site.gateway);
    if !strict {
        return Html(html).into_response();
    }
    // What a careful site owner sends: only their own scripts, the gateway's, and WebAssembly
    // compilation; no inline script or style anywhere.
    let ws = site.gateway.replacen("http", "ws", 1);
    let csp = format!(
        "default-src 'self'; script-src 'self' {gw} 'wasm-unsafe-eval'; connect-src 'self' {gw} {ws}; \
         style-src 'self'; img-src 'self' data: {gw}; object-src 'none'; base-uri 'none'",
        gw = site.gateway
    );
    ([(header::CONTENT_SECURITY_POLICY, csp)], Html(html)).into_response()
}

/// Serves the demo pages on `listener` until the process ends.
pub async fn serve(listener: TcpListener, gateway_origin: &str) -> std::io::Result<()> {
    axum::serve(listener, router(gateway_origin)).await
}
