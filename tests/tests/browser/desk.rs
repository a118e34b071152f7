//! An agent's shift in the console with a visitor in another browser: the first message arrives
//! live, the agent accepts, both see each other typing and writing, and the close reaches the
//! visitor, who rates the conversation.

use serde_json::json;
use tests::browser::{by_testid, in_widget, widget_query, Browser, WAIT};
use tests::DemoStack;

fn text_of(testid: &str) -> String {
    format!("return document.querySelector('[data-testid={testid}]')?.textContent ?? null;")
}

#[tokio::test]
async fn an_agent_accepts_a_visitor_and_both_see_typing_messages_and_the_close() {
    let demo = DemoStack::start().await;
    let admin = tests::client::agent_login(&demo.gateway).await;
    let manual = json!({"auto_assign": false});
    let canned = json!({"text": "Size 9 fits a 42 foot."});
    let saved = tests::client::call(
        &demo.gateway,
        &admin,
        reqwest::Method::PUT,
        "/v1/canned-responses/size",
        Some(canned),
    )
    .await;
    assert_eq!(saved.status, reqwest::StatusCode::OK, "{}", saved.body);
    let queue = tests::client::call(
        &demo.gateway,
        &admin,
        reqwest::Method::PATCH,
        "/v1/admin/queues/default",
        Some(manual),
    )
    .await;
    assert_eq!(queue.body["auto_assign"], false);

    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.change_value("presence", "away").await;
    agent.change_value("presence", "online").await;

    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let composer = visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    visitor
        .type_into(&composer, "Which size fits a 42 foot?\n")
        .await;

    // Live, without a reload: the waiting tab counts it.
    agent
        .wait_for("the waiting conversation", "return document.querySelector('[data-testid=tab-waiting] .count')?.textContent === '1';", WAIT)
        .await;
    agent.click_on("conversation").await;
    agent.click_on("accept").await;
    agent
        .wait_for(
            "the conversation in my tab",
            "return document.querySelector('[data-testid=tab-mine] .count')?.textContent === '1';",
            WAIT,
        )
        .await;

    // Beside it: where the visitor wrote from, which visit, the browser, the contact.
    let details = agent
        .wait_for(
            "the visitor's details",
            "const d = document.querySelector('[data-testid=visitor-details]')?.textContent ?? ''; \
             return d.includes('Headless Chrome') && d.includes('Anonymous visitor') ? d : null;",
            WAIT,
        )
        .await;
    assert!(details.as_str().unwrap().contains("#1"), "{details}");

    // Typing, both ways.
    visitor.type_into(&composer, "Also, do you").await;
    agent
        .wait_for("the visitor typing", &text_of("visitor-typing"), WAIT)
        .await;
    let reply = agent
        .wait_for_element("the reply box", &by_testid("reply"), WAIT)
        .await;
    // A canned response: `/size` then Tab.
    agent.type_into(&reply, "/size\u{E004}").await;
    let expanded = agent
        .eval(
            "return document.querySelector('[data-testid=reply]').value;",
            json!([]),
        )
        .await;
    assert_eq!(expanded, "Size 9 fits a 42 foot.");
    let typing = visitor
        .wait_for(
            "the agent typing",
            &format!(
                "return {}?.textContent || null;",
                widget_query("[data-testid=agent-typing]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(typing, format!("{} is typing…", gateway::demo::AGENT_NAME));

    agent.click_on("reply-send").await;
    visitor
        .wait_for(
            "the agent's answer",
            &format!(
                "return [...({}) ?? []].some(e => e.textContent.includes('Size 9 fits'));",
                in_widget_all("[data-testid=message]")
            ),
            WAIT,
        )
        .await;

    // Back to the queue with a note; it waits there until accepted again.
    agent.change_value("transfer-to", "queue:default").await;
    let note = agent
        .wait_for_element("the note", &by_testid("transfer-note"), WAIT)
        .await;
    agent.type_into(&note, "Needs the sizes table").await;
    agent.click_on("transfer").await;
    agent
        .wait_for("the conversation waiting again", "return document.querySelector('[data-testid=tab-waiting] .count')?.textContent === '1';", WAIT)
        .await;
    // The transfer and its note, beside the conversation, for whoever takes it next.
    let event = agent
        .wait_for(
            "the transfer among the notes",
            "return document.querySelector('[data-testid=conversation-event]')?.textContent ?? null;",
            WAIT,
        )
        .await;
    assert_eq!(
        event.as_str().unwrap(),
        "Dana (demo agent) sent it to the queue default Needs the sizes table"
    );
    agent.click_on("accept").await;

    agent.click_on("close-conversation").await;
    let notice = visitor
        .wait_for(
            "the closed notice",
            &format!(
                "return {}?.textContent || null;",
                widget_query("[data-testid=closed-notice]")
            ),
            WAIT,
        )
        .await;
    assert!(notice.as_str().unwrap().contains("closed"), "{notice}");

    // How was it? Four stars and a word; the panel thanks the visitor and the gateway keeps it.
    let four = visitor
        .wait_for_element(
            "the rating's four stars",
            &in_widget("[data-testid=rating] input[value=\"4\"]"),
            WAIT,
        )
        .await;
    let stars = visitor
        .eval(
            &format!(
                "return [...{}].map(l => l.textContent);",
                in_widget_all("[data-testid=rating] fieldset label")
            ),
            json!([]),
        )
        .await;
    assert_eq!(
        stars,
        json!(["5 stars", "4 stars", "3 stars", "2 stars", "1 star"])
    );
    visitor.click(&four).await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    visitor.screenshot(&shots.join("rating.png")).await;
    let comment = visitor
        .wait_for_element(
            "the rating's comment",
            &in_widget("[data-testid=rating] textarea"),
            WAIT,
        )
        .await;
    visitor.type_into(&comment, "Helpful sizes").await;
    visitor
        .click(
            &visitor
                .wait_for_element(
                    "the rating's button",
                    &in_widget("[data-testid=rating] button"),
                    WAIT,
                )
                .await,
        )
        .await;
    let thanks = visitor
        .wait_for(
            "the thanks",
            &format!(
                "return {}?.textContent || null;",
                widget_query("[data-testid=rated]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(thanks, "Thank you for your rating.");
    let channel = demo.gateway.demo_channel().await;
    let closed = tests::client::call(
        &demo.gateway,
        &admin,
        reqwest::Method::GET,
        &format!("/v1/channels/{}/conversations?status=closed", channel.id),
        None,
    )
    .await;
    assert_eq!(
        closed.body["conversations"][0]["rating"]["comment"],
        "Helpful sizes"
    );
    assert_eq!(closed.body["conversations"][0]["rating"]["score"], 4);
    // On the next page the panel remembers: thanks, not the question again.
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let remembered = visitor
        .wait_for(
            "the thanks again",
            &format!(
                "return {}?.textContent || null;",
                widget_query("[data-testid=rated]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(remembered, "Thank you for your rating.");
    assert_eq!(
        visitor
            .eval(
                &format!("return {} === null;", widget_query("[data-testid=rating]")),
                json!([])
            )
            .await,
        json!(true)
    );
    agent
        .wait_for(
            "the conversation gone from the inbox",
            "return document.querySelectorAll('[data-testid=conversation]').length === 0;",
            WAIT,
        )
        .await;
    visitor.quit().await;
    agent.quit().await;
}

/// Every element matching `css` inside the widget's shadow root.
fn in_widget_all(css: &str) -> String {
    format!("document.querySelector('livechat-widget')?.shadowRoot?.querySelectorAll({css:?})")
}
