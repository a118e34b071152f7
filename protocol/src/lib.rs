//! Wire types shared by the widget, the console and the gateway.
//!
//! Depends on serde alone, so it compiles for `wasm32-unknown-unknown` (widget, console) and for
//! the host (gateway, tests). Every socket frame is a JSON object tagged by `type`; every HTTP
//! error is an [`ErrorBody`] carrying one of the stable [`codes`].

pub mod admin;
pub mod api;
pub mod audit;
pub mod cobrowse;
pub mod codes;
pub mod history;
pub mod integrations;
pub mod locale;
pub mod look;
pub mod names;
pub mod problem;
pub mod ratings;
pub mod reports;
pub mod rules;
pub mod wire;

pub use admin::*;
pub use api::*;
pub use audit::*;
pub use cobrowse::*;
pub use history::*;
pub use integrations::*;
pub use locale::*;
pub use look::*;
pub use problem::Problem;
pub use ratings::*;
pub use reports::*;
pub use rules::*;
pub use wire::*;
