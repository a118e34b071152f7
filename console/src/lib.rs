//! The agent console, served by the gateway under `/console/`.
//!
//! - [`inbox`]: the conversations and their messages as plain data, updated by socket frames;
//! - [`desk`]: the agent socket (cookie-authenticated, same origin), reconnecting on loss, and
//!   the signals every view shares (a `Copy` context);
//! - [`api`]: the one helper every HTTP call goes through; [`time`]: times as agents read them;
//! - [`shell`]: the top bar and the inbox page's layout; [`login`]: the login form;
//! - [`alerts`]: the sound and desktop notification when a chat waits or a visitor writes;
//! - [`inbox_list`], [`thread`], [`details`]: the inbox page's three columns;
//! - [`visitors`]: who is on the site now, and starting a conversation with them;
//! - [`channels`]: the Channels page for admins, with [`visitor_settings`] (what its visitors
//!   are asked and told: while nobody can chat, email, the pre-chat form), [`host_page_settings`]
//!   (signed-in visitors, the proactive greeting), [`text_settings`] (what its widget says
//!   instead of its own texts, per language), [`rules`] (a channel's visibility rules,
//!   override and live preview), [`integrations`] (its webhook, bot and desk endpoints and their
//!   delivery logs) and [`canned`] (the team's canned responses).

mod alerts;
mod api;
mod appearance_settings;
mod audit;
mod canned;
mod channels;
mod cobrowse;
mod cobrowse_settings;
mod desk;
mod details;
mod history;
mod host_page_settings;
mod inbox;
mod inbox_list;
mod integrations;
mod login;
mod mirror;
mod reports;
mod rules;
mod shell;
mod text_settings;
mod thread;
mod time;
mod visitor_settings;
mod visitors;
mod words;

pub use shell::app;

// The unit tests need a page (the models use `js_sys`): they run in headless Chromium.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
