//! An agent works the console in one browser while a visitor chats in another.

use std::time::Duration;
use tests::browser::{in_widget, Browser, WAIT};
use tests::DemoStack;

fn by_testid(id: &str) -> String {
    format!("return document.querySelector('[data-testid={id}]');")
}

#[tokio::test]
async fn an_agent_logs_in_sees_the_conversation_arrive_live_and_replies() {
    let demo = DemoStack::start().await;
    let agent = Browser::launch().await;
    agent.goto(&demo.gateway.url("/console/")).await;
    let email = agent
        .wait_for_element("the login form", &by_testid("email"), WAIT)
        .await;
    agent.type_into(&email, gateway::demo::AGENT_EMAIL).await;
    let password = agent
        .wait_for_element("the password field", &by_testid("password"), WAIT)
        .await;
    agent
        .type_into(&password, gateway::demo::AGENT_PASSWORD)
        .await;
    agent
        .click(
            &agent
                .wait_for_element("the login button", &by_testid("login"), WAIT)
                .await,
        )
        .await;
    agent
        .wait_for("the live inbox", "return document.querySelector('[data-testid=connection]')?.textContent.includes('live');", WAIT)
        .await;

    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let composer = visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    // Markup in a visitor's message must reach the agent as text, never as HTML.
    let question = "Do you have <b>size</b> charts?";
    visitor.type_into(&composer, question).await;
    visitor
        .click(
            &visitor
                .wait_for_element("send", &in_widget("[data-testid=send]"), WAIT)
                .await,
        )
        .await;

    // The conversation appears in the console without a reload.
    let conversation = agent
        .wait_for_element(
            "the new conversation",
            "return document.querySelector('[data-testid=conversation]');",
            WAIT,
        )
        .await;
    agent.click(&conversation).await;
    agent
        .wait_for(
            "the visitor's message as text",
            &format!(
                "const m = document.querySelector('[data-testid=thread-message]'); \
                      return m && m.textContent.includes({question:?}) && !m.querySelector('b');"
            ),
            WAIT,
        )
        .await;
    let reply = agent
        .wait_for_element("the reply box", &by_testid("reply"), WAIT)
        .await;
    agent
        .type_into(&reply, "Yes, under each product photo.")
        .await;
    agent
        .click(
            &agent
                .wait_for_element("send reply", &by_testid("reply-send"), WAIT)
                .await,
        )
        .await;

    visitor
        .wait_for(
            "the agent's reply in the panel",
            "const h = document.querySelector('livechat-widget'); \
             return [...h.shadowRoot.querySelectorAll('[data-testid=message]')] \
               .some(m => m.textContent.includes('Yes, under each product photo.'));",
            WAIT,
        )
        .await;

    // The console survives a reload: logged in (cookie), history whole and single.
    agent.refresh().await;
    agent
        .click(
            &agent
                .wait_for_element(
                    "the conversation after reload",
                    "return document.querySelector('[data-testid=conversation]');",
                    WAIT,
                )
                .await,
        )
        .await;
    let count = agent
        .wait_for("the history", "const n = document.querySelectorAll('[data-testid=thread-message]').length; return n >= 2 && n;", WAIT)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = agent
        .eval(
            "return document.querySelectorAll('[data-testid=thread-message]').length;",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        (count, settled),
        (serde_json::json!(2), serde_json::json!(2))
    );
    agent.quit().await;
    visitor.quit().await;
}
