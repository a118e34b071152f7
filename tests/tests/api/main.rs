//! Gateway integration tests: one binary, one module per feature. Each test starts its own
//! gateway on port 0 with a fresh SQLite database and speaks HTTP and WebSocket to it.

mod admin;
mod agents;
mod assets;
mod audit;
mod blobs;
mod canned;
mod capacity;
mod captcha;
mod chat;
mod contacts;
mod crash;
mod deliveries;
mod email;
mod erasure;
mod fanout;
mod files;
mod hardening;
mod history;
mod host_page;
mod hostile;
mod inactivity;
mod integrations;
mod limits;
mod offline;
mod openapi;
mod postgres;
mod prechat;
mod ratings;
mod retention;
mod routing;
mod statistics;
mod texts;
mod visibility;
mod visitors;
mod webhooks;
