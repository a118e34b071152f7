//! Alerts in the console: with two tabs of the agent's browser open, a new waiting chat makes
//! one sound (one tab is elected), and, the tabs hidden and notifications allowed from a click,
//! one desktop notification; the tab's title counts what is unread.

use serde_json::json;
use std::time::Duration;
use tests::browser::{Browser, WAIT};
use tests::client::visitor_writes;
use tests::DemoStack;

/// Page script: counts the sounds played and the notifications shown (still shown: the real
/// `Notification` is called), and lets the test say the tab is hidden, as a background tab is.
const WATCH_ALERTS: &str = "window.plays = 0; window.notes = []; \
    HTMLMediaElement.prototype.play = function () { window.plays++; return Promise.resolve(); }; \
    const Real = window.Notification; \
    window.Notification = function (title, options) { window.notes.push([title, options.body]); return new Real(title, options); }; \
    Object.defineProperty(window.Notification, 'permission', { get: () => Real.permission }); \
    window.Notification.requestPermission = () => Real.requestPermission(); \
    Object.defineProperty(document, 'hidden', { get: () => window.pretendHidden === true });";

#[tokio::test]
async fn two_console_tabs_make_one_sound_and_one_notification() {
    let demo = DemoStack::start().await;
    let console = demo.gateway.url("/console/");
    let agent = Browser::launch().await;
    agent.grant("notifications", &demo.gateway.url("")).await;
    agent.before_each_page(WATCH_ALERTS).await;
    agent.log_into_console(&console).await;
    let first = agent.new_tab().await;
    agent.before_each_page(WATCH_ALERTS).await;
    agent.goto(&console).await;
    agent
        .wait_for(
            "the second tab live",
            "return document.querySelector('[data-testid=connection]')?.textContent.includes('live');",
            WAIT,
        )
        .await;
    // Notifications on, from a click (the permission is granted as a person allowing it would).
    agent.click_on("alert-desktop").await;
    agent
        .wait_for(
            "the switch on",
            "return document.querySelector('[data-testid=alert-desktop]').checked;",
            WAIT,
        )
        .await;
    let second = agent.current_tab().await;
    agent.eval("window.pretendHidden = true;", json!([])).await;
    agent.switch_to(first.clone()).await;
    agent.eval("window.pretendHidden = true;", json!([])).await;
    // The tabs have heard each other (each speaks every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;

    visitor_writes(&demo.gateway, &demo.site, "Is anyone there?").await;
    agent
        .wait_for(
            "the title counting the new message",
            "return document.title.startsWith('(1) ');",
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut plays = 0;
    let mut notes = Vec::new();
    for tab in [first, second] {
        agent.switch_to(tab).await;
        plays += agent
            .eval("return window.plays;", json!([]))
            .await
            .as_i64()
            .unwrap();
        notes.extend(
            agent
                .eval("return window.notes;", json!([]))
                .await
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    assert_eq!(plays, 1, "one tab sounds");
    assert_eq!(notes.len(), 1, "one notification: {notes:?}");
    assert_eq!(notes[0][1], "Is anyone there?");
    agent.quit().await;
}
