//! Without a mouse: an agent logs in, reaches the inbox with Tab, picks the waiting
//! conversation with the arrow keys, answers it with Enter, and finds the shortcuts with `?`.

use serde_json::json;
use tests::browser::{by_testid, Browser, WAIT};
use tests::client::visitor_writes;
use tests::DemoStack;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ARROW_DOWN: &str = "\u{E015}";
const ESCAPE: &str = "\u{E00C}";

async fn focused_testid(browser: &Browser) -> serde_json::Value {
    browser
        .eval(
            "return document.activeElement?.dataset?.testid ?? null;",
            json!([]),
        )
        .await
}

#[tokio::test]
async fn an_agent_reaches_and_answers_a_conversation_without_the_mouse() {
    let demo = DemoStack::start().await;
    let conversation = visitor_writes(&demo.gateway, &demo.site, "Do you ship to Norway?").await;
    let agent = Browser::launch().await;
    agent.goto(&demo.gateway.url("/console/")).await;
    let email = agent
        .wait_for_element("email", &by_testid("email"), WAIT)
        .await;
    agent
        .type_into(&email, &format!("{}{TAB}", gateway::demo::AGENT_EMAIL))
        .await;
    agent
        .press(&format!("{}{ENTER}", gateway::demo::AGENT_PASSWORD))
        .await;
    agent
        .wait_for(
            "the live inbox",
            "return document.querySelector('[data-testid=connection]')?.dataset.live === 'true';",
            WAIT,
        )
        .await;
    agent
        .wait_for_element("the conversation listed", &by_testid("conversation"), WAIT)
        .await;

    // Tab until the inbox list has the focus (a bounded walk through the page).
    agent
        .eval("document.activeElement?.blur();", json!([]))
        .await;
    let body = agent
        .wait_for_element("the page", "return document.body;", WAIT)
        .await;
    agent.type_into(&body, TAB).await;
    let mut presses = 1;
    while focused_testid(&agent).await != json!("inbox") {
        assert!(presses < 40, "Tab never reached the inbox");
        agent.press(TAB).await;
        presses += 1;
    }
    agent.press("?").await;
    agent
        .wait_for_element("the shortcuts", &by_testid("shortcuts"), WAIT)
        .await;
    agent.press(ESCAPE).await;
    agent
        .wait_for(
            "the shortcuts hidden",
            "return !document.querySelector('[data-testid=shortcuts]');",
            WAIT,
        )
        .await;

    agent.press(ARROW_DOWN).await;
    agent
        .wait_for(
            "the conversation chosen",
            &format!(
                "return document.querySelector('[data-testid=conversation][aria-selected=true]')?.dataset.id === {};",
                json!(conversation)
            ),
            WAIT,
        )
        .await;
    agent.press(ENTER).await;
    assert_eq!(focused_testid(&agent).await, json!("reply"));
    agent.press(&format!("Yes, in three days.{ENTER}")).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let stored = demo.gateway.stored(&conversation).await;
        if stored.iter().any(|m| m.text == "Yes, in three days.") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the answer was not stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    agent.quit().await;
}
