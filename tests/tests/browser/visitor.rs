//! A visitor chats from the demo page and an agent answers.

use protocol::{AgentClientFrame, AgentServerFrame};
use std::time::Duration;
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::client::{agent_login, agent_socket};
use tests::DemoStack;

async fn messages(browser: &Browser) -> Vec<(String, String)> {
    let script = format!("{MESSAGES_FN} return msgs();");
    serde_json::from_value(browser.eval(&script, serde_json::json!([])).await).expect("messages")
}

#[tokio::test]
async fn a_visitor_chats_from_the_demo_page_and_sees_the_agents_reply_after_a_reload() {
    let demo = DemoStack::start().await;
    let browser = Browser::launch().await;
    browser.goto(&format!("{}/", demo.site)).await;

    let launcher = browser
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    // Before the visitor acts: no storage, no cookie, and the panel's code not even fetched.
    let untouched = browser
        .eval(
            "return [localStorage.length, document.cookie, \
              performance.getEntriesByType('resource').some(e => e.name.includes('/widget/widget'))];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(untouched, serde_json::json!([0, "", false]));
    // The host page's `button { background: red !important }` does not reach the launcher.
    let background = browser
        .eval(
            "return getComputedStyle(arguments[0]).backgroundColor;",
            serde_json::json!([launcher.to_json()]),
        )
        .await;
    assert_eq!(background, "rgb(37, 99, 235)");

    browser.click(&launcher).await;
    let composer = browser
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    browser
        .type_into(&composer, "Is the Ridgeline 2 waterproof?")
        .await;
    let send = browser
        .wait_for_element("the send button", &in_widget("[data-testid=send]"), WAIT)
        .await;
    browser.click(&send).await;
    browser
        .wait_for(
            "the gateway's ack",
            &format!("{MESSAGES_FN} return msgs().some(m => m[0] === 'Is the Ridgeline 2 waterproof?' && m[1] === 'sent');"),
            WAIT,
        )
        .await;

    // The agent answers through the agent socket, as the console does.
    let token = agent_login(&demo.gateway).await;
    let mut agent = agent_socket(&demo.gateway, &token).await;
    let conversation = match agent.recv::<AgentServerFrame>().await {
        AgentServerFrame::Inbox { conversations, .. } => conversations[0].id.clone(),
        other => panic!("expected the inbox, got {other:?}"),
    };
    let reply = "Yes: 3000 mm hydrostatic head, taped seams.";
    agent
        .send(&AgentClientFrame::Send {
            conversation_id: conversation,
            client_id: "r1".into(),
            text: reply.into(),
            attachments: Vec::new(),
        })
        .await;
    browser
        .wait_for(
            "the agent's reply",
            &format!("{MESSAGES_FN} return msgs().some(m => m[0] === {reply:?});"),
            WAIT,
        )
        .await;

    // A reload loses nothing and duplicates nothing.
    browser.refresh().await;
    let launcher = browser
        .wait_for_element(
            "the launcher after reload",
            &in_widget(".lc-launcher"),
            WAIT,
        )
        .await;
    browser.click(&launcher).await;
    browser
        .wait_for(
            "the history",
            &format!("{MESSAGES_FN} return msgs().length >= 2;"),
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts: Vec<String> = messages(&browser)
        .await
        .into_iter()
        .map(|(text, _)| text)
        .collect();
    assert_eq!(
        texts,
        vec![
            "Is the Ridgeline 2 waterproof?".to_owned(),
            reply.to_owned()
        ]
    );
    browser.quit().await;
}

/// `msgs()` in page scripts: the panel's messages as [text, state] pairs.
const MESSAGES_FN: &str =
    "const msgs = () => { const host = document.querySelector('livechat-widget'); \
     if (!host) return []; \
     return [...host.shadowRoot.querySelectorAll('[data-testid=message]')] \
       .map(m => [m.querySelector('.lc-text').textContent, m.dataset.state]); };";

#[tokio::test]
async fn the_chat_works_on_a_page_under_a_strict_content_security_policy() {
    let demo = DemoStack::start().await;
    let browser = Browser::launch().await;
    browser
        .goto(&format!("{}/strict-csp.html", demo.site))
        .await;
    // Any violation from here on (panel code, styles, socket) is recorded by the page.
    browser
        .eval(
            "window.violations = []; \
             document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));",
            serde_json::json!([]),
        )
        .await;
    let launcher = browser
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    browser.click(&launcher).await;
    let composer = browser
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    browser.type_into(&composer, "Hello from checkout\n").await;
    browser
        .wait_for("the ack", &format!("{MESSAGES_FN} return msgs().some(m => m[0] === 'Hello from checkout' && m[1] === 'sent');"), WAIT)
        .await;
    assert_eq!(
        browser
            .eval("return window.violations;", serde_json::json!([]))
            .await,
        serde_json::json!([])
    );
    browser.quit().await;
}

#[tokio::test]
async fn an_idle_visitor_is_told_the_chat_closed_and_can_start_again() {
    let demo = DemoStack::start().await;
    demo.gateway
        .edit_demo_channel(|c| c.inactivity_timeout_secs = 2)
        .await;

    let browser = Browser::launch().await;
    browser.open_chat(&format!("{}/", demo.site)).await;
    browser
        .wait_for("the session online", &status_text("online"), WAIT)
        .await;
    let notice = browser
        .wait_for("the inactivity notice", &status_text("ended"), WAIT)
        .await;
    assert!(
        notice
            .as_str()
            .unwrap()
            .contains("closed after 2 seconds without activity"),
        "{notice}"
    );

    browser
        .click(
            &browser
                .wait_for_element("start again", &in_widget("[data-testid=start-again]"), WAIT)
                .await,
        )
        .await;
    browser
        .wait_for("online again", &status_text("online"), WAIT)
        .await;
    browser.quit().await;
}

/// A page script returning the panel's status text once its state is `state` (else false).
fn status_text(state: &str) -> String {
    format!(
        "const s = {}; return !!s && s.dataset.state === '{state}' && (s.textContent || '{state}');",
        widget_query("[data-testid=status]")
    )
}

#[tokio::test]
async fn the_page_on_a_disallowed_origin_shows_no_chat_and_opens_no_socket() {
    let demo = DemoStack::start().await;
    let browser = Browser::launch().await;
    browser
        .before_each_page(
            "window.socketsOpened = 0; const RealSocket = window.WebSocket; \
             window.WebSocket = function (...args) { window.socketsOpened++; return new RealSocket(...args); };",
        )
        .await;
    browser.goto(&format!("{}/", demo.foreign_site)).await;
    // The loader asked the gateway, and was refused.
    browser
        .wait_for(
            "the bootstrap request",
            "return performance.getEntriesByType('resource').some(e => e.name.includes('/v1/widget/demo'));",
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = browser
        .eval(
            "return [!!document.querySelector('livechat-widget'), window.socketsOpened, \
              performance.getEntriesByType('resource').some(e => e.name.includes('/widget/widget'))];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(seen, serde_json::json!([false, 0, false]));

    // The same page on the allowed origin, same browser: the chat is there.
    browser.goto(&format!("{}/", demo.site)).await;
    browser
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    browser.quit().await;
}
