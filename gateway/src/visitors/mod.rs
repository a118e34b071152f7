//! Everything a visitor's browser calls, in the order it calls it: the loader's bootstrap and
//! rechecks ([`bootstrap`]), carrying a signed visit ticket ([`tickets`]); the session that a
//! ticket buys when the visitor opens the chat, with the panel's texts in the page's language
//! ([`session`], [`texts`]); the pre-chat form's answers ([`prechat`]); and the socket that
//! session opens ([`socket`]).
//!
//! No conversation exists until the visitor's first message: opening and closing the widget
//! stores nothing.

pub mod bootstrap;
pub mod prechat;
pub mod rating;
pub mod session;
pub mod socket;
pub mod texts;
pub mod tickets;

use axum::http::{header, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The visitor-facing routes. They answer any origin at the CORS level so the widget can read
/// the JSON refusal; the channel's allow-list is enforced in the handlers themselves. They
/// carry no login, so the host page may time them too.
pub fn router() -> OpenApiRouter<AppState> {
    let any_origin = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(600));
    bootstrap::routes()
        .merge(session::routes())
        .merge(texts::routes())
        .merge(prechat::routes())
        .merge(rating::routes())
        .merge(socket::routes())
        .layer(crate::assets::timed_by_host_pages())
        .layer(any_origin)
}
