//! An agent works the console in one browser while a visitor chats in another.

use std::time::Duration;
use tests::browser::{by_testid, in_widget, Browser, WAIT};
use tests::DemoStack;

#[tokio::test]
async fn an_agent_logs_in_sees_the_conversation_arrive_live_and_replies() {
    let demo = DemoStack::start().await;
    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;

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
    // Shift+Enter is a new line, Enter sends (as in the visitor's panel).
    agent
        .type_into(
            &reply,
            "Yes, under each\u{E008}\u{E007}\u{E000}product photo.\u{E007}",
        )
        .await;

    visitor
        .wait_for(
            "the agent's reply in the panel",
            "const h = document.querySelector('livechat-widget'); \
             return [...h.shadowRoot.querySelectorAll('[data-testid=message] .lc-text')] \
               .some(m => m.textContent === 'Yes, under each\\nproduct photo.');",
            WAIT,
        )
        .await;

    // The console survives a reload: logged in (cookie), history whole and single.
    agent.refresh().await;
    agent.click_on("conversation").await;
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

#[tokio::test]
async fn an_admin_creates_a_channel_gets_its_snippet_and_deletes_only_what_is_free() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin.log_into_console(&demo.gateway.url("/console/")).await;
    admin.click_on("nav-channels").await;
    admin
        .wait_for(
            "the demo channel listed",
            "return document.querySelectorAll('[data-testid=channel]').length === 1;",
            WAIT,
        )
        .await;

    let name = admin
        .wait_for_element("the name field", &by_testid("new-name"), WAIT)
        .await;
    admin.type_into(&name, "Careers site").await;
    admin.retype("new-timeout", "0").await;
    admin.click_on("create-channel").await;
    let problem = admin.wait_for("the field error", "return document.querySelector('[data-testid=error-inactivity_timeout_secs]')?.textContent;", WAIT).await;
    assert!(
        problem
            .as_str()
            .unwrap()
            .contains("whole number of seconds"),
        "{problem}"
    );

    admin.retype("new-timeout", "900").await;
    admin.click_on("create-channel").await;
    let key = admin
        .wait_for(
            "the new channel's key",
            "return document.querySelector('[data-testid=channel-key]')?.textContent;",
            WAIT,
        )
        .await;
    let key = key.as_str().unwrap().to_owned();
    let snippet = admin
        .eval(
            "return document.querySelector('[data-testid=channel-snippet]').value;",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        snippet,
        format!(
            "<script async src=\"{}\" data-channel=\"{key}\"></script>",
            demo.gateway.url("/embed.js")
        )
    );
    admin
        .wait_for(
            "two channels",
            "return document.querySelectorAll('[data-testid=channel]').length === 2;",
            WAIT,
        )
        .await;

    // The demo channel has a conversation in progress: a bulk delete of both keeps both.
    let visitor = tests::client::Visitor::arrive(&demo.gateway, &demo.site).await;
    let mut socket = visitor.connect(&demo.gateway, None).await;
    socket
        .send(&protocol::VisitorClientFrame::Send {
            client_id: "m1".into(),
            text: "hi".into(),
            attachments: Vec::new(),
        })
        .await;
    socket
        .recv_until(|f| matches!(f, protocol::VisitorServerFrame::Ack { .. }))
        .await;
    admin
        .eval(
            "document.querySelectorAll('[data-testid=channel-choose]').forEach(c => c.click());",
            serde_json::json!([]),
        )
        .await;
    admin.click_on("delete-chosen").await;
    let refused = admin
        .wait_for(
            "the refusal",
            "return document.querySelector('[data-testid=channels-error]')?.textContent;",
            WAIT,
        )
        .await;
    assert!(refused.as_str().unwrap().contains("Demo site"), "{refused}");
    assert!(
        demo.gateway
            .state
            .store
            .channel_by_key(&key)
            .await
            .unwrap()
            .is_some(),
        "nothing deleted"
    );

    // Untick the busy one: only the new channel is deleted.
    admin
        .eval(
            "document.querySelector('[data-key=demo] [data-testid=channel-choose]').click();",
            serde_json::json!([]),
        )
        .await;
    admin.click_on("delete-chosen").await;
    admin
        .wait_for(
            "one channel left",
            "return document.querySelectorAll('[data-testid=channel]').length === 1;",
            WAIT,
        )
        .await;
    assert!(demo
        .gateway
        .state
        .store
        .channel_by_key(&key)
        .await
        .unwrap()
        .is_none());
    admin.quit().await;
}

#[tokio::test]
async fn the_tab_title_counts_what_the_agent_has_not_read() {
    let demo = DemoStack::start().await;
    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    let loaded = agent
        .eval("return document.title;", serde_json::json!([]))
        .await;
    assert_eq!(loaded, "Live chat — agent console");

    let visitor = tests::client::Visitor::arrive(&demo.gateway, &demo.site).await;
    let mut socket = visitor.connect(&demo.gateway, None).await;
    socket.say("m1", "Hello?").await;
    socket.say("m2", "Anyone there?").await;
    agent
        .wait_for(
            "the count in the title",
            "return document.title === '(2) Live chat — agent console';",
            WAIT,
        )
        .await;

    // Opening the conversation reads it: the count goes.
    agent.click_on("conversation").await;
    agent
        .wait_for(
            "the title without a count",
            "return document.title === 'Live chat — agent console';",
            WAIT,
        )
        .await;
    agent.quit().await;
}
