//! The whole HTTP surface over the one [`AppState`]: the documented API ([`openapi::api`]),
//! the widget's and console's files, and the layers every request passes.

use axum::body::Body;
use axum::http::{header, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::Error;
use crate::state::AppState;
use crate::{assets, openapi};

pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api().split_for_parts();
    api.merge(assets::router(&state))
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
