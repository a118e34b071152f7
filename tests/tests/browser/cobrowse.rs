//! Co-browsing with two browsers: the agent asks from the console; the visitor declines (nothing
//! is sent, the module is not even fetched), then accepts; the agent's pane shows the demo page
//! (its heading, its image through the gateway), a change to it within a second, what the
//! visitor types as bullets only (in no frame the gateway relayed), the password field and the
//! private element as empty boxes; the agent points; the next page of the site continues it;
//! either side stops it. Then the strict-CSP page, and a channel with co-browsing off.

use protocol::{AgentClientFrame, AgentServerFrame};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::client::{agent_login, agent_present, call, Socket};
use tests::DemoStack;

/// A page expression for the mirror's document in the agent's pane, or null.
const MIRROR: &str = "document.querySelector('[data-testid=cobrowse-frame]')?.contentDocument";

/// The newest conversation's id, as the history lists it.
async fn newest_conversation(demo: &DemoStack, admin: &str) -> String {
    let page = call(
        &demo.gateway,
        admin,
        reqwest::Method::GET,
        "/v1/conversations?limit=1",
        None,
    )
    .await;
    page.body["conversations"][0]["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every piece of the page the gateway relays to a console watching the conversation.
async fn relayed(watcher: &mut Socket, wait: Duration) -> Vec<String> {
    let mut pieces = Vec::new();
    while let Some(frame) = watcher.try_recv(wait).await {
        if let Ok(AgentServerFrame::Mirror { data, .. }) = serde_json::from_value(frame) {
            pieces.push(data);
        }
    }
    pieces
}

/// Clicks the panel's answer to the request (`1`: accept, `2`: decline).
async fn answer(visitor: &Browser, which: u8) {
    let button = visitor
        .wait_for_element(
            "the request in the panel",
            &in_widget(&format!(
                "[data-testid=cobrowse-request] button:nth-of-type({which})"
            )),
            WAIT,
        )
        .await;
    visitor.click(&button).await;
}

fn module_fetches() -> &'static str {
    "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/widget/cobrowse.js')).length;"
}

#[tokio::test]
async fn the_agent_sees_the_page_only_as_the_visitor_lets_them() {
    let demo = DemoStack::start().await;
    let admin = agent_login(&demo.gateway).await;
    let visitor = Browser::launch().await;
    visitor
        .open_chat(&format!("{}/checkout.html", demo.site))
        .await;
    visitor.write_in_panel("Can you help me check out?").await;
    let conversation = newest_conversation(&demo, &admin).await;
    let mut watcher = agent_present(&demo.gateway, &admin).await;
    watcher
        .send(&AgentClientFrame::Watch {
            conversation_id: conversation.clone(),
            on: true,
        })
        .await;

    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.click_on("conversation").await;

    // Declined: nothing is sent, and the module is not even fetched.
    agent.click_on("cobrowse-ask").await;
    answer(&visitor, 2).await;
    agent
        .wait_for_element(
            "the ask button again",
            "return document.querySelector('[data-testid=cobrowse-ask]');",
            WAIT,
        )
        .await;
    assert!(relayed(&mut watcher, Duration::from_millis(800))
        .await
        .is_empty());
    assert_eq!(visitor.eval(module_fetches(), json!([])).await, json!(0));

    // Accepted: the page, live, with its image through the gateway.
    agent.click_on("cobrowse-ask").await;
    agent
        .wait_for_element(
            "waiting for the visitor",
            "return document.querySelector('[data-testid=cobrowse-waiting]');",
            WAIT,
        )
        .await;
    answer(&visitor, 1).await;
    let shown = agent
        .wait_for(
            "the page's heading and image in the pane",
            &format!(
                "const d = {MIRROR}; const img = d?.getElementById('tent'); \
                 return d?.querySelector('h1')?.textContent === 'Northwind Outdoor' && img?.complete \
                 && img.naturalWidth > 0 ? img.getAttribute('src') : null;"
            ),
            WAIT,
        )
        .await;
    assert!(
        shown.as_str().unwrap().contains("/cobrowse/asset?url="),
        "{shown}"
    );
    let banner = visitor
        .wait_for(
            "the banner on the visitor's page",
            "return document.querySelector('livechat-cobrowse')?.shadowRoot?.querySelector('[data-testid=cobrowse-banner]')?.textContent ?? null;",
            WAIT,
        )
        .await;
    assert!(
        banner.as_str().unwrap().starts_with(&format!(
            "Sharing this page with {}",
            gateway::demo::AGENT_NAME
        )),
        "{banner}"
    );

    // A change to the page shows within a second.
    visitor
        .eval(
            "document.querySelector('main h2').textContent = 'Changed by the test';",
            json!([]),
        )
        .await;
    let changed = Instant::now();
    agent
        .wait_for(
            "the change in the pane",
            &format!(
                "return {MIRROR}?.querySelector('main h2')?.textContent === 'Changed by the test';"
            ),
            Duration::from_secs(1),
        )
        .await;
    assert!(changed.elapsed() <= Duration::from_secs(1));

    // The pane scrolls with the visitor.
    visitor.eval("window.scrollTo(0, 150);", json!([])).await;
    agent
        .wait_for(
            "the pane scrolled",
            &format!("return ({MIRROR}?.defaultView?.scrollY ?? 0) > 0;"),
            WAIT,
        )
        .await;

    // What the visitor types arrives as bullets; the password and the private element as
    // empty boxes; the card number (the demo channel's block selector) too.
    for (id, text) in [
        ("name", "Ada Lovelace"),
        ("password", "hunter2hunter2"),
        ("notes", "Leave it by the blue door"),
    ] {
        let field = visitor
            .wait_for_element(
                id,
                &format!("return document.getElementById('{id}');"),
                WAIT,
            )
            .await;
        visitor.type_into(&field, text).await;
    }
    let bullets = agent
        .wait_for(
            "the name as bullets",
            &format!(
                "const v = {MIRROR}?.getElementById('name')?.value; return v === '•'.repeat(12) ? v : null;"
            ),
            WAIT,
        )
        .await;
    assert_eq!(bullets, json!("•".repeat(12)));
    agent
        .wait_for(
            "the notes as bullets",
            &format!("return {MIRROR}?.getElementById('notes')?.value === '•'.repeat(25);"),
            WAIT,
        )
        .await;
    let boxes = agent
        .eval(
            &format!(
                "return [...{MIRROR}.querySelectorAll('[data-private]')].map(b => [b.textContent, b.offsetWidth > 0 && b.offsetHeight > 0]);"
            ),
            json!([]),
        )
        .await;
    assert_eq!(
        boxes,
        json!([["", true], ["", true], ["", true]]),
        "card, password, address"
    );
    let pane_text = agent
        .eval(
            &format!("return {MIRROR}.documentElement.outerHTML;"),
            json!([]),
        )
        .await;
    for secret in [
        "12 Fell Lane",
        "hunter2",
        "Ada Lovelace",
        "blue door",
        "onsubmit",
    ] {
        assert!(
            !pane_text.as_str().unwrap().contains(secret),
            "{secret} in the pane"
        );
    }
    let pieces = relayed(&mut watcher, Duration::from_millis(500)).await;
    assert!(!pieces.is_empty(), "the watcher got the page");
    for secret in [
        "12 Fell Lane",
        "hunter2",
        "Ada Lovelace",
        "blue door",
        "onsubmit",
        "<script",
    ] {
        assert!(
            !pieces.iter().any(|p| p.contains(secret)),
            "{secret} in a relayed frame"
        );
    }

    // The agent points (a click in the pane, which the pane's document receives as a click
    // from the agent's mouse): a ring on the visitor's page.
    agent
        .eval(
            &format!(
                "const h = {MIRROR}.querySelector('h1'), r = h.getBoundingClientRect(); \
                 h.dispatchEvent(new MouseEvent('click', {{bubbles: true, cancelable: true, \
                 clientX: r.left + 5, clientY: r.top + 5}}));"
            ),
            json!([]),
        )
        .await;
    visitor
        .wait_for_element(
            "where the agent points",
            "return document.querySelector('livechat-cobrowse')?.shadowRoot?.querySelector('[data-testid=cobrowse-ring]');",
            WAIT,
        )
        .await;

    // The visitor lets the agent act: the agent clicks and types on their page, then the
    // visitor takes it back.
    visitor
        .eval(
            "window.bought = 0; document.getElementById('buy').addEventListener('click', () => window.bought++);",
            json!([]),
        )
        .await;
    let allow = visitor
        .wait_for_element(
            "the banner's control switch",
            "return document.querySelector('livechat-cobrowse')?.shadowRoot?.querySelector('[data-testid=cobrowse-control]');",
            WAIT,
        )
        .await;
    visitor.click(&allow).await;
    agent.click_on("cobrowse-acting").await;
    agent
        .eval(
            &format!(
                "const b = {MIRROR}.getElementById('buy'), r = b.getBoundingClientRect(); \
                 b.dispatchEvent(new MouseEvent('click', {{bubbles: true, cancelable: true, \
                 clientX: r.left + 2, clientY: r.top + 2}})); \
                 const n = {MIRROR}.getElementById('name'); n.value = 'Grace Hopper'; \
                 n.dispatchEvent(new Event('input', {{bubbles: true}}));"
            ),
            json!([]),
        )
        .await;
    visitor
        .wait_for(
            "the agent's click and typing on the page",
            "return window.bought === 1 && document.getElementById('name').value === 'Grace Hopper';",
            WAIT,
        )
        .await;
    visitor.click(&allow).await;
    agent
        .wait_for(
            "control taken back",
            "return !document.querySelector('[data-testid=cobrowse-acting]');",
            WAIT,
        )
        .await;

    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    agent.screenshot(&shots.join("cobrowse-console.png")).await;
    visitor
        .screenshot(&shots.join("cobrowse-visitor.png"))
        .await;

    // The next page of the site continues it, the panel not even open there.
    visitor.goto(&format!("{}/account.html", demo.site)).await;
    agent
        .wait_for(
            "the next page in the pane",
            &format!("return {MIRROR}?.body?.textContent.includes('My account') ?? false;"),
            WAIT,
        )
        .await;
    let stop = visitor
        .wait_for_element(
            "the banner's Stop",
            "return document.querySelector('livechat-cobrowse')?.shadowRoot?.querySelector('[data-testid=cobrowse-stop]');",
            WAIT,
        )
        .await;
    if let Some(violations) = agent
        .accessibility_violations("[data-testid=cobrowse-pane]")
        .await
    {
        assert_eq!(violations, json!([]));
    }

    // The visitor stops: the pane goes.
    visitor.click(&stop).await;
    agent
        .wait_for(
            "the pane gone",
            "return !document.querySelector('[data-testid=cobrowse-pane]') && !!document.querySelector('[data-testid=cobrowse-ask]');",
            WAIT,
        )
        .await;
    visitor
        .wait_for(
            "the banner gone",
            "return !document.querySelector('livechat-cobrowse');",
            WAIT,
        )
        .await;

    // Asked again (the panel opened on this page), accepted, and the agent stops it.
    let contact = visitor
        .wait_for_element(
            "the page's chat button",
            "return document.getElementById('contact');",
            WAIT,
        )
        .await;
    visitor.click(&contact).await;
    agent.click_on("cobrowse-ask").await;
    answer(&visitor, 1).await;
    agent
        .wait_for_element(
            "the pane",
            "return document.querySelector('[data-testid=cobrowse-pane]');",
            WAIT,
        )
        .await;
    visitor
        .wait_for_element(
            "the banner",
            "return document.querySelector('livechat-cobrowse');",
            WAIT,
        )
        .await;
    agent.click_on("cobrowse-stop").await;
    visitor
        .wait_for(
            "the banner gone",
            "return !document.querySelector('livechat-cobrowse');",
            WAIT,
        )
        .await;
    agent.quit().await;
    visitor.quit().await;
}

#[tokio::test]
async fn it_works_under_a_strict_csp_and_not_where_the_channel_is_off() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    visitor
        .goto(&format!("{}/strict-csp.html", demo.site))
        .await;
    // Any violation from here on (the panel, the module, the banner) is recorded by the page.
    visitor
        .eval(
            "window.violations = []; \
             document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));",
            json!([]),
        )
        .await;
    let launcher = visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    visitor.click(&launcher).await;
    visitor
        .write_in_panel("Strictly speaking, can you see this?")
        .await;
    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.click_on("conversation").await;
    agent.click_on("cobrowse-ask").await;
    answer(&visitor, 1).await;
    agent
        .wait_for(
            "the strict page's heading and image",
            &format!(
                "const d = {MIRROR}; const img = d?.getElementById('tent'); \
                 return d?.querySelector('h1')?.textContent === 'Checkout' && img?.complete && img.naturalWidth > 0;"
            ),
            WAIT,
        )
        .await;
    // The page's policy refused nothing of the widget's.
    let refused = visitor.eval("return window.violations;", json!([])).await;
    assert_eq!(refused, json!([]));
    agent.click_on("cobrowse-stop").await;
    visitor
        .wait_for(
            "the banner gone",
            "return !document.querySelector('livechat-cobrowse');",
            WAIT,
        )
        .await;

    // An admin turns co-browsing off in the channel's settings: the console then says so when
    // asked, and the visitor is asked nothing.
    agent.click_on("nav-channels").await;
    agent.click_on("channel-open").await;
    let enabled = agent
        .wait_for_element(
            "the co-browsing switch",
            "return document.querySelector('[data-testid=edit-cobrowse]');",
            WAIT,
        )
        .await;
    let on = agent
        .eval("return arguments[0].checked;", json!([enabled.to_json()]))
        .await;
    assert_eq!(on, json!(true), "the demo channel shares pages");
    agent.click(&enabled).await;
    agent.click_on("save-cobrowse-settings").await;
    let deadline = Instant::now() + WAIT;
    while demo.gateway.demo_channel().await.cobrowse.enabled {
        assert!(Instant::now() < deadline, "co-browsing was not turned off");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.click_on("nav-inbox").await;
    agent.click_on("conversation").await;
    agent.click_on("cobrowse-ask").await;
    let said = agent
        .wait_for(
            "the refusal",
            "return document.querySelector('[data-testid=desk-error]')?.textContent ?? null;",
            WAIT,
        )
        .await;
    assert!(
        said.as_str().unwrap().contains("Co-browsing is off"),
        "{said}"
    );
    let asked: Value = visitor
        .eval(
            &format!(
                "return !!{};",
                widget_query("[data-testid=cobrowse-request]")
            ),
            json!([]),
        )
        .await;
    assert_eq!(asked, json!(false));
    agent.quit().await;
    visitor.quit().await;
}
