//! Visibility rules as a visitor meets them: the launcher shows when the gateway says so.

use protocol::{DwellTime, RepeatVisit, VisibilityRules};
use serde_json::json;
use std::time::Duration;
use tests::browser::{Browser, WAIT};
use tests::DemoStack;

/// Records, in the page, when (ms after navigation) the launcher's host element first appears.
const WATCH_LAUNCHER: &str = "new MutationObserver(() => { \
    if (window.__launcherAt === undefined && document.querySelector('livechat-widget')) \
      window.__launcherAt = performance.now(); \
  }).observe(document, { childList: true, subtree: true });";

const LAUNCHER_AT: &str = "return window.__launcherAt ?? null;";

/// Waits until the page has had the gateway's answer to its bootstrap, and a moment to act on it.
async fn bootstrap_answered(browser: &Browser) {
    browser
        .wait_for(
            "the bootstrap request",
            "return performance.getEntriesByType('resource').some(e => e.name.includes('/v1/widget/demo?'));",
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn with_a_dwell_rule_the_launcher_appears_after_the_dwell_time_and_not_before() {
    let demo = DemoStack::start().await;
    let rules = VisibilityRules {
        dwell_time: DwellTime {
            enabled: true,
            seconds: 2,
        },
        ..VisibilityRules::default()
    };
    demo.gateway.set_demo_rules(&rules).await;

    let browser = Browser::launch().await;
    browser.before_each_page(WATCH_LAUNCHER).await;
    browser.goto(&format!("{}/", demo.site)).await;
    bootstrap_answered(&browser).await;
    assert_eq!(browser.eval(LAUNCHER_AT, json!([])).await, json!(null));
    let shown_at = browser
        .wait_for("the launcher", LAUNCHER_AT, WAIT)
        .await
        .as_f64()
        .unwrap();
    assert!(
        (2000.0..6000.0).contains(&shown_at),
        "the launcher appeared {shown_at} ms after navigation"
    );
    browser.quit().await;
}

#[tokio::test]
async fn with_a_repeat_visit_rule_the_launcher_shows_from_the_second_visit() {
    let demo = DemoStack::start_with(|c| c.visit_gap_secs = 2).await;
    let rules = VisibilityRules {
        repeat_visit: RepeatVisit {
            enabled: true,
            min_visit: 2,
        },
        ..VisibilityRules::default()
    };
    demo.gateway.set_demo_rules(&rules).await;

    let browser = Browser::launch().await;
    browser.before_each_page(WATCH_LAUNCHER).await;
    let page = format!("{}/", demo.site);
    browser.goto(&page).await;
    bootstrap_answered(&browser).await;
    assert_eq!(browser.eval(LAUNCHER_AT, json!([])).await, json!(null));
    // The rule needs the visit ticket kept; the privacy trade-off the README states.
    let kept = browser
        .eval("return localStorage.getItem('livechat:demo');", json!([]))
        .await;
    assert!(kept.is_string(), "the ticket was not kept: {kept}");

    // Another page view inside the visit gap is still the first visit.
    browser.goto(&page).await;
    bootstrap_answered(&browser).await;
    assert_eq!(browser.eval(LAUNCHER_AT, json!([])).await, json!(null));

    // Back after the gap: a second visit.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    browser.goto(&page).await;
    browser.wait_for("the launcher", LAUNCHER_AT, WAIT).await;
    browser.quit().await;
}
