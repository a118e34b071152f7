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

#[tokio::test]
async fn a_marketer_sets_a_rule_in_the_console_and_the_live_preview_explains_it() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;
    admin.click_on("open-rules").await;
    let says = |expected: &'static str| {
        format!(
            "const v = document.querySelector('[data-testid=preview-verdict]')?.textContent; \
             return v && v.startsWith({expected:?}) ? v : null;"
        )
    };
    admin
        .wait_for("a preview with no rule", &says("Yes"), WAIT)
        .await;

    // Unsaved edits are previewed at once.
    admin.click_on("rule-dwell").await;
    admin.change_value("dwell-seconds", "30").await;
    // (Switching the rule on previews its default of 10 s first; then the 30 s arrive.)
    admin
        .wait_for(
            "the dwell rule in the preview",
            &says("No: Time on page: on the page 0 s of 30 s"),
            WAIT,
        )
        .await;
    admin.change_value("preview-seconds", "45").await;
    admin
        .wait_for("a visitor who stayed long enough", &says("Yes"), WAIT)
        .await;
    // Nothing is saved until the marketer says so.
    assert_eq!(
        tests::client::bootstrap(&demo.gateway, &demo.site, None)
            .await
            .visibility,
        protocol::Visibility::Visible
    );

    // A bad schedule is named by the gateway, and nothing is saved.
    admin.click_on("rule-business-hours").await;
    admin.change_value("hours-monday", "9am-5pm").await;
    admin
        .wait_for("the preview refusing", &says("Cannot preview"), WAIT)
        .await;
    admin.click_on("save-rules").await;
    let problem = admin
        .wait_for(
            "the field error",
            "return document.querySelector('[data-testid=rules-error]')?.textContent;",
            WAIT,
        )
        .await;
    assert!(
        problem.as_str().unwrap().contains("weekly.mon[0].from"),
        "{problem}"
    );
    admin.change_value("hours-monday", "").await;
    admin.click_on("rule-business-hours").await;
    admin.click_on("save-rules").await;
    admin
        .wait_for(
            "the rules saved",
            "return document.querySelector('[data-testid=rules-saved]')?.textContent === 'Saved';",
            WAIT,
        )
        .await;
    let page = tests::client::bootstrap(&demo.gateway, &demo.site, None).await;
    assert_eq!(
        page.visibility,
        protocol::Visibility::Hidden {
            reason: "rule_dwell_time".into()
        }
    );
    admin.quit().await;
}

#[tokio::test]
async fn the_launcher_follows_agents_coming_online_and_going_away_without_a_reload() {
    let demo = DemoStack::start_with(|c| c.visibility_poll_secs = 1).await;
    let rules = VisibilityRules {
        agent_available: protocol::Switch { enabled: true },
        ..VisibilityRules::default()
    };
    demo.gateway.set_demo_rules(&rules).await;
    let browser = Browser::launch().await;
    browser.goto(&format!("{}/", demo.site)).await;
    bootstrap_answered(&browser).await;
    let launcher_shown = "return !!document.querySelector('livechat-widget')?.isConnected;";
    assert_eq!(browser.eval(launcher_shown, json!([])).await, json!(false));

    let token = tests::client::agent_login(&demo.gateway).await;
    let agent = tests::client::agent_socket(&demo.gateway, &token).await;
    browser
        .wait_for(
            "the launcher after the agent came online",
            launcher_shown,
            WAIT,
        )
        .await;
    let away = json!({ "presence": "away" });
    let set = tests::client::call(
        &demo.gateway,
        &token,
        reqwest::Method::PUT,
        "/v1/agent/presence",
        Some(away),
    )
    .await;
    assert_eq!(set.body["presence"], "away");
    browser
        .wait_for(
            "the launcher gone after the agent went away",
            "return !document.querySelector('livechat-widget')?.isConnected;",
            WAIT,
        )
        .await;
    drop(agent);
    browser.quit().await;
}
