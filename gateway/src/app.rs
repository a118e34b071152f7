//! The router that merges every module's routes over the one [`AppState`].

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::error::Error;
use crate::state::AppState;
use crate::{
    agents, assets, canned, channels, contacts, conversations, openapi, queues, rules, visitors,
    webhooks,
};

pub fn router(state: AppState) -> Router {
    // Visitor endpoints answer any origin at the CORS level so the widget can read the JSON
    // refusal; the channel's allow-list is enforced in the handlers themselves.
    let visitor_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    let visitor = visitors::router().layer(visitor_cors);
    Router::new()
        .merge(visitor)
        .merge(agents::router())
        .merge(agents::sync::router())
        .merge(agents::join::router())
        .merge(agents::team::router())
        .merge(conversations::router())
        .merge(conversations::api::router())
        .merge(queues::router())
        .merge(contacts::router())
        .merge(canned::router())
        .merge(webhooks::router())
        .merge(channels::admin::router())
        .merge(rules::api::router())
        .merge(openapi::router())
        .merge(assets::router(&state))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(|| async { Error::NotFound })
        .layer(axum::middleware::from_fn(refuse_nul))
        // Spans carry the path only: query strings hold session tokens, which never reach logs.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let path = loggable_path(request.uri().path());
                tracing::info_span!("http", method = %request.method(), path = %path)
            }),
        )
        .with_state(state)
}

/// The most of a JSON body read: axum's own limit for `Json`.
const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

/// NUL is refused at the door, in the path, the query and JSON bodies: PostgreSQL cannot store
/// it in text and SQLite would, so without this the same input would be an error on one store
/// and stored on the other. (Socket frames are checked by their decoder.)
async fn refuse_nul(request: Request<Body>, next: Next) -> Result<Response, Error> {
    let refused = || Error::BadRequest("NUL characters are not accepted".into());
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or("");
    if parts.uri.path().contains("%00") || query.contains("%00") {
        return Err(refused());
    }
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| Error::BadRequest(format!("a JSON body is at most {MAX_JSON_BYTES} bytes")))?;
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(refused());
    }
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The path as logs may show it: a join link's token is a login, so it is cut out.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/join/") {
        "/join/[token]"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_tokens_never_reach_the_logs() {
        assert_eq!(loggable_path("/join/s3cr3t-token"), "/join/[token]");
        assert_eq!(loggable_path("/v1/widget/demo"), "/v1/widget/demo");
    }
}
