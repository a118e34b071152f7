//! Alerts. In the console: with two tabs of the agent's browser open, a new waiting chat makes
//! one sound (one tab is elected), and, the tabs hidden and notifications allowed from a click,
//! one desktop notification; the tab's title counts what is unread. On the visitor's page:
//! with the panel closed, the launcher counts the agent's messages and shows the last one.

use serde_json::json;
use std::time::Duration;
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::client::{agent_answers, visitor_writes};
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
            "return document.querySelector('[data-testid=connection]')?.dataset.live === 'true';",
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

/// Page script: counts the tones the loader plays.
const WATCH_TONES: &str = "window.tones = 0; \
    window.AudioContext = class { constructor() { this.currentTime = 0; this.destination = {}; } \
      createOscillator() { return { connect() {}, start() { window.tones++; }, stop() {} }; } };";

#[tokio::test]
async fn the_closed_panel_leaves_a_count_and_the_agents_words_on_the_launcher() {
    let demo = DemoStack::start().await;
    let gw = &demo.gateway;
    gw.edit_demo_channel(|c| c.appearance.sound = true).await;
    let visitor = Browser::launch().await;
    visitor.before_each_page(WATCH_TONES).await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    visitor.write_in_panel("Do you have it in green?").await;
    // The visitor closes the panel; the agent answers twice.
    let launcher = visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    visitor.click(&launcher).await;
    let none = visitor
        .eval(
            &format!(
                "return {}.offsetParent === null;",
                widget_query(".lc-root > button > b")
            ),
            json!([]),
        )
        .await;
    assert_eq!(none, json!(true), "no badge before a reply");
    agent_answers(
        gw,
        &[("r1", "Let me look."), ("r2", "Yes, green is in stock.")],
    )
    .await;
    let shown = visitor
        .wait_for(
            "the count and the preview",
            &format!(
                "const b = {}, p = {}; return b && b.offsetParent !== null && b.textContent === '2' && [b.textContent, p.textContent];",
                widget_query(".lc-root > button > b"),
                widget_query(".lc-root > p")
            ),
            WAIT,
        )
        .await;
    assert_eq!(shown, json!(["2", "Yes, green is in stock."]));
    assert_eq!(
        visitor.eval("return window.tones;", json!([])).await,
        json!(2)
    );
    // Opening the chat (from the preview) clears both.
    let preview = visitor
        .wait_for_element("the preview", &in_widget(".lc-root > p"), WAIT)
        .await;
    visitor.click(&preview).await;
    let cleared = visitor
        .wait_for(
            "the count cleared",
            &format!(
                "return {}.offsetParent === null && {}.offsetParent === null && {}.offsetParent !== null;",
                widget_query(".lc-root > button > b"),
                widget_query(".lc-root > p"),
                widget_query("[data-testid=composer]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(cleared, json!(true));
    visitor.quit().await;
}
