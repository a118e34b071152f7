//! The host page in charge, in real browsers: the demo site's account page drives the chat
//! through `window.LiveChat` (its own button, calls queued before the loader, every event),
//! identifies its customer with a token the test signs as a site's back end would, and logs
//! them out in every tab; agents see who is on the site and start conversations, refused on
//! receptive channels; the proactive greeting opens the conversation it starts.

use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::client::{agent_login, call, identity_token, visitors_now};
use tests::DemoStack;

/// Page script: counts the sockets the page opens.
const COUNT_SOCKETS: &str = "window.socketsOpened = 0; const RealSocket = window.WebSocket; \
    window.WebSocket = function (...args) { window.socketsOpened++; return new RealSocket(...args); };";

/// The events the account page wrote down, as `type data` lines.
async fn events(browser: &Browser) -> Vec<String> {
    let lines = browser
        .eval(
            "return [...document.querySelectorAll('#events li')].map(l => l.textContent);",
            json!([]),
        )
        .await;
    serde_json::from_value(lines).unwrap()
}

/// Waits until the page heard an event starting with `line`.
async fn heard(browser: &Browser, line: &str) {
    let script = format!(
        "return [...document.querySelectorAll('#events li')].some(l => l.textContent.startsWith({}));",
        json!(line)
    );
    browser
        .wait_for(&format!("the event {line:?}"), &script, WAIT)
        .await;
}

async fn click_page_button(browser: &Browser, id: &str) {
    browser
        .eval(
            "document.getElementById(arguments[0]).click();",
            json!([id]),
        )
        .await;
}

/// The texts of the messages the open panel shows.
async fn panel_texts(browser: &Browser) -> Vec<String> {
    let texts = browser
        .eval(
            "const root = document.querySelector('livechat-widget')?.shadowRoot; \
             return [...(root?.querySelectorAll('[data-testid=message] .lc-text') ?? [])].map(m => m.textContent);",
            json!([]),
        )
        .await;
    serde_json::from_value(texts).unwrap()
}

async fn panel_shows(browser: &Browser, text: &str) {
    let script = format!(
        "const root = document.querySelector('livechat-widget')?.shadowRoot; \
         return [...(root?.querySelectorAll('.lc-log .lc-text, .lc-log .lc-greeting') ?? [])].some(m => m.textContent === {});",
        json!(text)
    );
    browser
        .wait_for(&format!("the panel showing {text:?}"), &script, WAIT)
        .await;
}

#[tokio::test]
async fn the_page_drives_the_chat_through_its_api_and_hears_every_event() {
    let demo = DemoStack::start().await;
    let admin = agent_login(&demo.gateway).await;
    let channel = demo.gateway.demo_channel().await;
    let visitor = Browser::launch().await;
    visitor.before_each_page(COUNT_SOCKETS).await;
    visitor.goto(&format!("{}/account.html", demo.site)).await;

    // The calls made before the loader ran were replayed: the page hears `ready`.
    heard(&visitor, "ready").await;
    let before_click = visitor
        .eval(
            "return [document.querySelector('livechat-widget')?.shadowRoot?.querySelector('.lc-launcher')?.hidden, \
              window.socketsOpened, \
              performance.getEntriesByType('resource').some(e => e.name.includes('/widget/widget'))];",
            json!([]),
        )
        .await;
    assert_eq!(
        before_click,
        json!([true, 0, false]),
        "data-launcher=none: no launcher; nothing fetched, no socket before the page opens the chat"
    );

    click_page_button(&visitor, "contact").await;
    heard(&visitor, "open").await;
    visitor.write_in_panel("Where is my order?").await;
    heard(
        &visitor,
        "message {\"author\":\"visitor\",\"text\":\"Where is my order?\"",
    )
    .await;
    heard(&visitor, "conversation {\"state\":\"started\"").await;
    let conversation = visitor
        .eval(
            "const line = [...document.querySelectorAll('#events li')].find(l => l.textContent.startsWith('conversation')); \
             return JSON.parse(line.textContent.slice('conversation '.length)).id;",
            json!([]),
        )
        .await;
    let conversation = conversation.as_str().unwrap().to_owned();
    let contact = demo
        .gateway
        .conversation(&conversation)
        .await
        .contact_id
        .unwrap();
    let card = call(
        &demo.gateway,
        &admin,
        Method::GET,
        &format!("/v1/contacts/{contact}"),
        None,
    )
    .await;
    assert_eq!(
        card.body["attributes"],
        json!({"plan": "Trail club", "basket": "2 items"}),
        "the queued setAttributes reached the agents, as unverified"
    );

    click_page_button(&visitor, "close").await;
    heard(&visitor, "close").await;
    let reply = call(
        &demo.gateway,
        &admin,
        Method::POST,
        &format!(
            "/v1/channels/{}/conversations/{conversation}/messages",
            channel.id
        ),
        Some(json!({"client_id": "a1", "text": "It ships tomorrow."})),
    )
    .await;
    assert!(reply.status.is_success(), "{}", reply.body);
    heard(&visitor, "unread 1").await;
    heard(
        &visitor,
        "message {\"author\":\"agent\",\"text\":\"It ships tomorrow.\"",
    )
    .await;
    assert_eq!(
        visitor
            .eval("return LiveChat.unreadCount();", json!([]))
            .await,
        json!(1)
    );
    assert_eq!(
        visitor
            .eval(
                "return document.getElementById('unread').textContent;",
                json!([])
            )
            .await,
        json!("(1)")
    );

    click_page_button(&visitor, "toggle").await;
    heard(&visitor, "unread 0").await;
    assert_eq!(
        visitor
            .eval("return LiveChat.unreadCount();", json!([]))
            .await,
        json!(0)
    );
    panel_shows(&visitor, "It ships tomorrow.").await;

    click_page_button(&visitor, "show").await;
    heard(&visitor, "visibility \"shown\"").await;
    visitor
        .wait_for(
            "the launcher shown",
            &format!("return {}?.hidden === false;", widget_query(".lc-launcher")),
            WAIT,
        )
        .await;
    click_page_button(&visitor, "hide").await;
    heard(&visitor, "visibility \"hidden\"").await;

    let closed = call(
        &demo.gateway,
        &admin,
        Method::POST,
        &format!("/v1/conversations/{conversation}/close"),
        None,
    )
    .await;
    assert!(closed.status.is_success(), "{}", closed.body);
    heard(&visitor, "conversation {\"state\":\"closed\"").await;

    // Every event the page heard, in order (visibility changes aside).
    let heard_all: Vec<String> = events(&visitor)
        .await
        .into_iter()
        .filter(|e| !e.starts_with("visibility"))
        .map(|e| e.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(heard_all.first().map(String::as_str), Some("ready"));
    for kind in ["open", "message", "conversation", "close", "unread"] {
        assert!(heard_all.iter().any(|e| e == kind), "{kind}: {heard_all:?}");
    }
    visitor.quit().await;
}

#[tokio::test]
async fn an_identified_customer_is_verified_for_agents_and_bad_tokens_are_refused() {
    let demo = DemoStack::start_with(|c| c.visitor_heartbeat_secs = 1).await;
    let admin = agent_login(&demo.gateway).await;
    let secret = demo.gateway.demo_channel().await.identity_secret.unwrap();

    // A forged and an expired token: the chat refuses (in the visitor's words), nothing is
    // written.
    for token in [
        identity_token("not-the-secret", "demo", "user-42", 300),
        identity_token(&secret, "demo", "user-42", -600),
    ] {
        let visitor = Browser::launch().await;
        visitor
            .goto(&format!("{}/account.html?identity={token}", demo.site))
            .await;
        heard(&visitor, "ready").await;
        click_page_button(&visitor, "contact").await;
        visitor
            .wait_for(
                "the refusal",
                &format!(
                    "return {}?.textContent.includes('Your sign-in could not be checked');",
                    widget_query("[data-testid=status]")
                ),
                WAIT,
            )
            .await;
        visitor.quit().await;
    }
    let page = call(&demo.gateway, &admin, Method::GET, "/v1/visitors", None).await;
    assert!(
        page.body["visitors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["external_id"].is_null()),
        "a refused token names nobody: {}",
        page.body
    );

    let token = identity_token(&secret, "demo", "user-42", 300);
    let visitor = Browser::launch().await;
    visitor
        .goto(&format!("{}/account.html?identity={token}", demo.site))
        .await;
    heard(&visitor, "ready").await;
    click_page_button(&visitor, "contact").await;
    visitor.write_in_panel("I am signed in").await;

    // The agent sees them verified: on the site now, and on the contact's card.
    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.click_on("nav-visitors").await;
    agent
        .wait_for(
            "the identified visitor listed",
            "return [...document.querySelectorAll('[data-testid=live-visitor]')].some(r => \
               r.textContent.includes('Ada Lovelace') && r.querySelector('[data-testid=verified]'));",
            WAIT,
        )
        .await;
    agent.click_on("nav-inbox").await;
    agent
        .wait_for(
            "the conversation in the inbox",
            "return [...document.querySelectorAll('[data-testid=conversation]')].find(c => c.textContent.includes('I am signed in'));",
            WAIT,
        )
        .await;
    agent
        .eval(
            "[...document.querySelectorAll('[data-testid=conversation]')].find(c => c.textContent.includes('I am signed in')).click();",
            json!([]),
        )
        .await;
    agent
        .wait_for(
            "verified on the card",
            "return document.querySelector('[data-testid=contact-verified]')?.textContent === 'verified';",
            WAIT,
        )
        .await;
    agent
        .wait_for(
            "the page's attributes, as unverified",
            "return document.querySelector('[data-testid=contact-attributes]')?.textContent.includes('Trail club');",
            WAIT,
        )
        .await;
    agent.quit().await;
    visitor.quit().await;
}

#[tokio::test]
async fn reset_forgets_the_customer_in_every_tab_and_another_device_sees_the_history() {
    let demo = DemoStack::start().await;
    let secret = demo.gateway.demo_channel().await.identity_secret.unwrap();
    let account = |sub: &str| {
        format!(
            "{}/account.html?identity={}",
            demo.site,
            identity_token(&secret, "demo", sub, 300)
        )
    };
    let laptop = Browser::launch().await;
    laptop.goto(&account("user-77")).await;
    heard(&laptop, "ready").await;
    click_page_button(&laptop, "contact").await;
    laptop.write_in_panel("Written on my laptop").await;
    let first_tab = laptop.current_tab().await;
    laptop.new_tab().await;
    laptop.goto(&account("user-77")).await;
    heard(&laptop, "ready").await;
    click_page_button(&laptop, "contact").await;
    panel_shows(&laptop, "Written on my laptop").await;
    let second_tab = laptop.current_tab().await;

    // Another device, the same customer: the same history.
    let phone = Browser::launch().await;
    phone.goto(&account("user-77")).await;
    heard(&phone, "ready").await;
    click_page_button(&phone, "contact").await;
    panel_shows(&phone, "Written on my laptop").await;
    phone.quit().await;

    // Logging out in one tab ends the identified chat in both.
    laptop.switch_to(first_tab).await;
    let remembered = laptop
        .eval("return localStorage.getItem('livechat:demo');", json!([]))
        .await;
    assert!(
        remembered.is_string(),
        "the opened chat remembers its visit"
    );
    click_page_button(&laptop, "logout").await;
    for tab in [second_tab.clone(), laptop.current_tab().await] {
        laptop.switch_to(tab).await;
        laptop
            .wait_for(
                "the panel started over",
                "const root = document.querySelector('livechat-widget')?.shadowRoot; \
                 return root?.querySelector('[data-testid=status]') && \
                   ![...root.querySelectorAll('[data-testid=message] .lc-text')].some(m => m.textContent === 'Written on my laptop');",
                WAIT,
            )
            .await;
        assert_ne!(
            laptop
                .eval("return localStorage.getItem('livechat:demo');", json!([]))
                .await,
            remembered,
            "the remembered visit is gone (the panel, open, remembers a new anonymous one)"
        );
    }
    // Still nothing of the customer's after the anonymous panel has connected.
    laptop.switch_to(second_tab).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !panel_texts(&laptop)
            .await
            .contains(&"Written on my laptop".to_owned()),
        "after reset, this browser reads none of the customer's history"
    );
    laptop.quit().await;
}

#[tokio::test]
async fn an_agent_starts_a_conversation_on_the_visitors_page_but_not_on_a_receptive_channel() {
    let demo = DemoStack::start_with(|c| c.visitor_heartbeat_secs = 1).await;
    let admin = agent_login(&demo.gateway).await;
    let visitor = Browser::launch().await;
    visitor.before_each_page(COUNT_SOCKETS).await;
    visitor.goto(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;

    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.click_on("nav-visitors").await;
    let form = agent
        .wait_for_element(
            "the visitor's start form",
            "return document.querySelector('[data-testid=live-visitor] [data-testid=start-chat] input');",
            WAIT,
        )
        .await;
    assert_eq!(
        visitor
            .eval("return window.socketsOpened;", json!([]))
            .await,
        json!(0),
        "no socket on the host page before the chat opens"
    );
    agent.type_into(&form, "Hello! Looking for a tent?\n").await;
    // The agent is taken to the conversation; the visitor's page opens the chat with it.
    agent
        .wait_for(
            "the started conversation open in the inbox",
            "return document.querySelector('[data-testid=thread]')?.textContent.includes('Looking for a tent?');",
            WAIT,
        )
        .await;
    panel_shows(&visitor, "Hello! Looking for a tent?").await;
    assert_eq!(
        visitor
            .eval("return window.socketsOpened;", json!([]))
            .await,
        json!(1)
    );
    visitor.quit().await;

    // A receptive channel: no action in the console, refused by the API, nothing on the page.
    demo.gateway.edit_demo_channel(|c| c.receptive = true).await;
    let quiet = Browser::launch().await;
    quiet.before_each_page(COUNT_SOCKETS).await;
    quiet.goto(&format!("{}/", demo.site)).await;
    quiet
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    let row = visitors_now(&demo.gateway, &admin, 2)
        .await
        .into_iter()
        .find(|v| v["conversation_id"].is_null())
        .expect("the new visitor");
    agent.click_on("nav-visitors").await;
    agent
        .wait_for(
            "the receptive channel's visitor without a start form",
            &format!(
                "const r = document.querySelector('[data-visitor=\"{}\"]'); \
                 return r && !r.querySelector('[data-testid=start-chat]') && r.textContent.includes('Receptive');",
                row["visitor_id"].as_str().unwrap()
            ),
            WAIT,
        )
        .await;
    let refused = call(
        &demo.gateway,
        &admin,
        Method::POST,
        &format!(
            "/v1/channels/{}/conversations",
            row["channel_id"].as_str().unwrap()
        ),
        Some(json!({"visitor_id": row["visitor_id"], "client_id": "r1", "text": "Hello?"})),
    )
    .await;
    refused.assert_error(reqwest::StatusCode::CONFLICT, "channel_receptive");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let seen = quiet
        .eval(
            "return [window.socketsOpened, !!document.querySelector('livechat-widget')?.shadowRoot?.querySelector('.lc-panel')];",
            json!([]),
        )
        .await;
    assert_eq!(seen, json!([0, false]), "the visitor sees nothing");
    quiet.quit().await;
    agent.quit().await;
}

#[tokio::test]
async fn the_proactive_greeting_opens_the_conversation_it_starts() {
    let demo = DemoStack::start().await;
    demo.gateway
        .edit_demo_channel(|c| {
            c.proactive = Some(protocol::Proactive {
                text: "Need a hand choosing a tent?".into(),
                after_secs: 1,
                pages: vec!["/".into(), "/index.html".into()],
            })
        })
        .await;
    let visitor = Browser::launch().await;
    visitor.goto(&format!("{}/", demo.site)).await;
    let bubble = visitor
        .wait_for_element(
            "the greeting by the launcher",
            "const p = document.querySelector('livechat-widget')?.shadowRoot?.querySelector('.lc-root > p'); \
             return p?.textContent === 'Need a hand choosing a tent?' && p;",
            WAIT,
        )
        .await;
    visitor.click(&bubble).await;
    panel_shows(&visitor, "Need a hand choosing a tent?").await;
    visitor.write_in_panel("Yes, for two people").await;
    let conversation = visitor
        .wait_for(
            "the conversation id",
            "const root = document.querySelector('livechat-widget').shadowRoot; \
             return root.querySelector('[data-state=sent]') && true;",
            WAIT,
        )
        .await;
    assert_eq!(conversation, json!(true));
    let admin = agent_login(&demo.gateway).await;
    let page = call(
        &demo.gateway,
        &admin,
        Method::GET,
        &format!(
            "/v1/channels/{}/conversations",
            demo.gateway.demo_channel().await.id
        ),
        None,
    )
    .await;
    let id = page.body["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = demo.gateway.stored(&id).await;
    assert_eq!(
        stored
            .iter()
            .map(|m| (m.author.kind().as_str(), m.text.as_str()))
            .collect::<Vec<_>>(),
        [
            ("system", "Need a hand choosing a tent?"),
            ("visitor", "Yes, for two people")
        ]
    );
    visitor.quit().await;
}
