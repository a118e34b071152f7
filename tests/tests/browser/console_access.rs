//! axe-core on the console's pages as an agent and an admin go through them (login, the inbox
//! with a waiting conversation, that conversation open, the Channels page with a channel open,
//! the rules of when the widget shows), in light and in dark mode: no violation allowed.

use serde_json::{json, Value};
use tests::browser::{by_testid, Browser, WAIT};
use tests::client::visitor_writes;
use tests::DemoStack;

/// axe-core's findings on each page, by name; None without axe-core.
async fn console_violations(demo: &DemoStack, dark: bool) -> Option<Value> {
    let agent = Browser::launch().await;
    if dark {
        agent.prefer_color_scheme("dark").await;
    }
    let console = demo.gateway.url("/console/");
    agent.goto(&console).await;
    agent
        .wait_for_element("the login form", &by_testid("email"), WAIT)
        .await;
    let login = agent.accessibility_violations("html").await?;
    agent.log_into_console(&console).await;
    agent
        .wait_for_element("the conversation listed", &by_testid("conversation"), WAIT)
        .await;
    let inbox = agent.accessibility_violations("html").await?;
    agent.click_on("conversation").await;
    agent
        .wait_for_element("the visitor's message", &by_testid("thread-message"), WAIT)
        .await;
    let conversation = agent.accessibility_violations("html").await?;
    agent.click_on("nav-channels").await;
    agent.click_on("channel-open").await;
    agent
        .wait_for_element("the appearance", &by_testid("appearance-preview"), WAIT)
        .await;
    let channels = agent.accessibility_violations("html").await?;
    agent.click_on("open-rules").await;
    agent
        .wait_for_element("the rules' preview", &by_testid("preview-verdict"), WAIT)
        .await;
    let rules = agent.accessibility_violations("html").await?;
    Some(json!({
        "login": login, "inbox": inbox, "conversation": conversation,
        "channels": channels, "rules": rules
    }))
}

#[tokio::test]
async fn axe_finds_nothing_wrong_with_the_console_light_or_dark() {
    let demo = DemoStack::start().await;
    visitor_writes(&demo.gateway, &demo.site, "Do you ship to Norway?").await;
    let clean = json!({
        "login": [], "inbox": [], "conversation": [], "channels": [], "rules": []
    });
    for dark in [false, true] {
        let Some(found) = console_violations(&demo, dark).await else {
            return;
        };
        assert_eq!(found, clean, "dark: {dark}");
    }
}
