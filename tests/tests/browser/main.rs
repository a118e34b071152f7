//! Browser tests in real headless Chromium: the demo site on its own origin embeds the
//! snippet; the visitor works the widget inside its shadow root like a person would.

mod alerts;
mod appearance;
mod audit;
mod cobrowse;
mod console;
mod console_access;
mod desk;
mod email;
mod files;
mod gate;
mod history;
mod host_page;
mod integrations;
mod keyboard;
mod locales;
mod reports;
mod rules;
mod visitor;
mod widget_access;
