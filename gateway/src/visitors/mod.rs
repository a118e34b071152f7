//! Everything a visitor's browser calls, in the order it calls it: the loader's bootstrap and
//! rechecks ([`bootstrap`]), carrying a signed visit ticket ([`tickets`]); the session that a
//! ticket buys when the visitor opens the chat ([`session`]); and the socket that session opens
//! ([`socket`]).
//!
//! No conversation exists until the visitor's first message: opening and closing the widget
//! stores nothing.

pub mod bootstrap;
pub mod session;
pub mod socket;
pub mod tickets;

use axum::Router;

use crate::state::AppState;

/// The visitor-facing routes, which answer any origin at the CORS level (see `app.rs`).
pub fn router() -> Router<AppState> {
    bootstrap::routes()
        .merge(session::routes())
        .merge(socket::routes())
}
