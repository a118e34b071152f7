//! The agent console, served by the gateway under `/console/`.
//!
//! - [`inbox`]: the conversations and their messages as plain data, updated by socket frames;
//! - [`desk`]: the agent socket (cookie-authenticated, same origin), reconnecting on loss;
//! - [`views`]: login, inbox list and conversation thread;
//! - [`details`]: the visitor and their contact beside the conversation;
//! - [`admin`]: the Channels page for admins;
//! - [`rules`]: a channel's visibility rules, override and live preview;
//! - [`integrations`]: a channel's webhook, bot and desk endpoints and their delivery logs.

mod admin;
mod desk;
mod details;
mod inbox;
mod integrations;
mod rules;
mod views;

pub use views::app;
