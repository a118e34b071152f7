//! Email through the real panel: the visitor asks for the transcript from the panel, leaves,
//! the agent's replies arrive by email (a real SMTP server), and the email's link opens the
//! chat again, with its history, in another browser; the transcript comes when it closes.

use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tests::browser::{in_widget, Browser, WAIT};
use tests::client::{agent_login, call};
use tests::smtp::SmtpServer;
use tests::DemoStack;

/// A page script: the texts of the panel's messages, in order.
const PANEL_TEXTS: &str = "return [...(document.querySelector('livechat-widget')?.shadowRoot\
    ?.querySelectorAll('[data-testid=message] .lc-text') ?? [])].map(m => m.textContent);";

/// The prompt of the panel's form with this `data-testid`, once it shows one.
async fn prompt_of(visitor: &Browser, form: &str) -> serde_json::Value {
    let script = format!(
        "return {}?.textContent;",
        tests::browser::widget_query(&format!("[data-testid={form}] .lc-prompt"))
    );
    visitor
        .wait_for(&format!("the prompt of {form}"), &script, WAIT)
        .await
}

/// The demo sending email to a fresh SMTP server (replies batched for a second), or None when
/// no SMTP server is installed.
async fn demo_sending_email() -> Option<(SmtpServer, DemoStack)> {
    let smtp = SmtpServer::start().await?;
    let smtp_url = smtp.url();
    let demo = DemoStack::start_with(move |c| {
        c.smtp_url = Some(smtp_url);
        c.email_from = Some("chat@gateway.test".into());
        c.email_batch_secs = 1;
    })
    .await;
    Some((smtp, demo))
}

#[tokio::test]
async fn the_panel_takes_an_address_and_the_emailed_link_reopens_the_chat() {
    let Some((smtp, demo)) = demo_sending_email().await else {
        return;
    };
    let gw = &demo.gateway;
    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    visitor.write_in_panel("Do you deliver on Sundays?").await;
    // No form until asked for.
    let hidden = visitor
        .eval(
            "const f = document.querySelector('livechat-widget').shadowRoot\
               .querySelector('[data-testid=email-form]'); \
             return !f || f.offsetParent === null;",
            json!([]),
        )
        .await;
    assert_eq!(hidden, json!(true));
    let ask = visitor
        .wait_for_element(
            "the transcript button",
            &in_widget("[data-testid=email-transcript]:not([hidden])"),
            WAIT,
        )
        .await;
    visitor.click(&ask).await;
    let address = visitor
        .wait_for_element(
            "the address field",
            &in_widget("[data-testid=email-form] input[name=email]"),
            WAIT,
        )
        .await;
    visitor.type_into(&address, "sunday@visitor.test\n").await;
    let saved = visitor
        .wait_for(
            "the address saved",
            &format!(
                "return {}?.textContent;",
                tests::browser::widget_query("[data-testid=email-saved]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(saved, json!("We will email you at sunday@visitor.test."));
    visitor.quit().await;

    let admin = agent_login(gw).await;
    let channel = gw.demo_channel().await;
    let listed = call(
        gw,
        &admin,
        Method::GET,
        &format!("/v1/channels/{}/conversations", channel.id),
        None,
    )
    .await;
    let conversation = listed.body["conversations"][0]["id"]
        .as_str()
        .expect("the conversation")
        .to_owned();
    let messages = format!(
        "/v1/channels/{}/conversations/{conversation}/messages",
        channel.id
    );
    let body = json!({"client_id": "r1", "text": "Yes, until noon."});
    let replied = call(gw, &admin, Method::POST, &messages, Some(body)).await;
    assert!(replied.status.is_success(), "{}", replied.body);
    let emails = smtp.wait_for(1, Duration::from_secs(20)).await;
    let email = &emails[0];
    assert_eq!(email.to(), vec!["sunday@visitor.test".to_owned()]);
    assert!(email.text().contains("Yes, until noon."));
    let link = email
        .link(&gw.url("/chat/demo#livechat="))
        .expect("the chat link");

    // Another browser (no storage of the first): the link opens the chat as the same visitor.
    let elsewhere = Browser::launch().await;
    elsewhere.goto(&link).await;
    let texts = elsewhere
        .wait_for(
            "the conversation's history",
            &format!("const t = (() => {{ {PANEL_TEXTS} }})(); return t.length >= 2 && t;"),
            WAIT,
        )
        .await;
    assert_eq!(
        texts,
        json!(["Do you deliver on Sundays?", "Yes, until noon."])
    );
    let url = elsewhere.eval("return location.href;", json!([])).await;
    assert!(
        !url.as_str().unwrap_or_default().contains("livechat="),
        "the token leaves the address bar: {url}"
    );

    // The transcript asked for goes out at the close.
    let close = format!(
        "/v1/channels/{}/conversations/{conversation}/close",
        channel.id
    );
    let closed = call(gw, &admin, Method::POST, &close, None).await;
    assert!(closed.status.is_success());
    let emails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert!(emails[1].subject().starts_with("Your conversation with"));
    elsewhere.quit().await;
}

#[tokio::test]
async fn a_visitor_left_waiting_is_offered_replies_by_email() {
    let Some((_smtp, demo)) = demo_sending_email().await else {
        return;
    };
    demo.gateway
        .edit_demo_channel(|c| c.missed_chat_secs = 2)
        .await;
    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let started = std::time::Instant::now();
    visitor.write_in_panel("Anyone there?").await;
    let prompt = prompt_of(&visitor, "email-form").await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "offered after the channel's time, not before"
    );
    assert!(
        prompt
            .as_str()
            .unwrap_or_default()
            .starts_with("Nobody has answered yet"),
        "{prompt}"
    );
    let address = visitor
        .wait_for_element(
            "the address field",
            &in_widget("[data-testid=email-form] input[name=email]"),
            WAIT,
        )
        .await;
    visitor.type_into(&address, "wait@visitor.test\n").await;
    visitor
        .wait_for(
            "the address saved",
            &format!(
                "return {}?.textContent.includes('wait@visitor.test');",
                tests::browser::widget_query("[data-testid=email-saved]")
            ),
            WAIT,
        )
        .await;
    visitor.quit().await;
}

#[tokio::test]
async fn while_nobody_is_online_the_panel_takes_a_message_and_an_address_for_the_agents() {
    let Some((_smtp, demo)) = demo_sending_email().await else {
        return;
    };
    let gw = &demo.gateway;
    let mut rules = protocol::VisibilityRules::default();
    rules.agents_online.enabled = true;
    gw.set_demo_rules(&rules).await;
    gw.edit_demo_channel(|c| c.when_unavailable = protocol::WhenUnavailable::LeaveMessage)
        .await;

    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let prompt = prompt_of(&visitor, "leave-message").await;
    assert!(
        prompt
            .as_str()
            .unwrap_or_default()
            .starts_with("Nobody is here right now."),
        "{prompt}"
    );
    // The address field comes with the session (the gateway says it sends email), which
    // redraws the form: typed into before that, a field would be gone.
    let address = visitor
        .wait_for_element(
            "the address field",
            &in_widget("[data-testid=leave-message] input[name=email]"),
            WAIT,
        )
        .await;
    let message = visitor
        .wait_for_element(
            "the message field",
            &in_widget("[data-testid=leave-message] textarea[name=message]"),
            WAIT,
        )
        .await;
    visitor
        .type_into(&message, "My tent pole arrived bent. Order 4411.")
        .await;
    visitor.type_into(&address, "bent@visitor.test\n").await;
    visitor
        .wait_for(
            "the message sent and the address saved",
            &format!(
                "return {}?.textContent.includes('bent@visitor.test') && {} !== null;",
                tests::browser::widget_query("[data-testid=email-saved]"),
                tests::browser::widget_query("[data-testid=message][data-state=sent]")
            ),
            WAIT,
        )
        .await;
    let gone = visitor
        .eval(
            &format!(
                "return {} === null;",
                tests::browser::widget_query("[data-testid=leave-message]")
            ),
            json!([]),
        )
        .await;
    assert_eq!(gone, json!(true), "the form goes once the message is sent");
    visitor.quit().await;

    // An agent comes online and finds it, marked as left while nobody was there.
    let agent = Browser::launch().await;
    agent.log_into_console(&gw.url("/console/")).await;
    agent
        .wait_for_element(
            "the left message in the inbox",
            &tests::browser::by_testid("left-message"),
            WAIT,
        )
        .await;
    let preview = agent
        .eval(
            "return document.querySelector('[data-testid=conversation] .preview').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(preview, json!("My tent pole arrived bent. Order 4411."));
    agent.quit().await;
}

#[tokio::test]
async fn the_prechat_form_comes_first_refuses_what_is_missing_and_routes_by_topic() {
    let demo = DemoStack::start().await;
    let gw = &demo.gateway;
    let admin = agent_login(gw).await;
    let queue = call(
        gw,
        &admin,
        Method::POST,
        "/v1/admin/queues",
        Some(json!({"name": "Returns"})),
    )
    .await;
    let returns = queue.body["id"].as_str().expect("a queue").to_owned();
    let channel = gw.demo_channel().await;
    let form = json!({"prechat": {
        "name": "required", "phone": "optional",
        "topics": [{"label": "Buying", "queue_id": channel.queue_id}, {"label": "Returns", "queue_id": returns}],
        "consent": {"text": "I agree that my answers are kept.", "version": "2026-12"}
    }});
    let set = call(
        gw,
        &admin,
        Method::PATCH,
        &format!("/v1/admin/channels/{}", channel.id),
        Some(form),
    )
    .await;
    assert!(set.status.is_success(), "{}", set.body);

    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let name = visitor
        .wait_for_element(
            "the pre-chat form",
            &in_widget("[data-testid=prechat] input[name=name]"),
            WAIT,
        )
        .await;
    let composer_hidden = visitor
        .eval(
            &format!(
                "return {}.offsetParent === null;",
                tests::browser::widget_query("[data-testid=composer]")
            ),
            json!([]),
        )
        .await;
    assert_eq!(composer_hidden, json!(true), "no chat before the form");
    // The browser's own checks are set aside: the gateway's answer is what is tested.
    visitor
        .eval(
            &format!(
                "{}.noValidate = true;",
                tests::browser::widget_query("[data-testid=prechat]")
            ),
            json!([]),
        )
        .await;
    visitor.type_into(&name, "Ann\n").await;
    // Refused in the visitor's words, the fields to answer marked for them and screen readers.
    let refused = visitor
        .wait_for(
            "the refusal in the form",
            &format!(
                "const f = {}, t = f?.querySelector('.lc-prompt').textContent; \
                 return t && t.startsWith('Please check') && \
                     [t, [...f.querySelectorAll('[aria-invalid=true]')].map(e => e.name).sort()];",
                tests::browser::widget_query("[data-testid=prechat]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(
        refused,
        json!(["Please check what you entered.", ["consent", "topic"]])
    );
    visitor
        .eval(
            &format!(
                "const f = {}; f.querySelector('select[name=topic]').value = 'Returns'; \
                 f.querySelector('input[name=consent]').checked = true; f.requestSubmit();",
                tests::browser::widget_query("[data-testid=prechat]")
            ),
            json!([]),
        )
        .await;
    visitor
        .wait_for(
            "the composer once the form is answered",
            &format!(
                "return {}?.offsetParent !== null;",
                tests::browser::widget_query("[data-testid=composer]")
            ),
            WAIT,
        )
        .await;
    visitor.write_in_panel("The zip broke.").await;
    let listed = call(
        gw,
        &admin,
        Method::GET,
        &format!("/v1/channels/{}/conversations", channel.id),
        None,
    )
    .await;
    let conversation = &listed.body["conversations"][0];
    assert_eq!(
        conversation["queue_id"],
        returns.as_str(),
        "{listed:?}",
        listed = listed.body
    );
    let contact = call(
        gw,
        &admin,
        Method::GET,
        &format!(
            "/v1/contacts/{}",
            conversation["contact_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(contact.body["name"], "Ann");
    assert_eq!(contact.body["consent_version"], "2026-12");
    visitor.quit().await;

    // The agent sees the answers beside the conversation.
    let agent = Browser::launch().await;
    agent.log_into_console(&gw.url("/console/")).await;
    agent.click_on("conversation").await;
    let shown = agent
        .wait_for(
            "the pre-chat answers beside the conversation",
            "const n = document.querySelector('[data-testid=contact-name]')?.textContent; \
             const c = document.querySelector('[data-testid=contact-consent]')?.textContent; \
             return n && c && [n, c];",
            WAIT,
        )
        .await;
    assert_eq!(shown[0], "Ann");
    assert!(
        shown[1].as_str().unwrap().starts_with("Accepted 2026-12"),
        "{shown}"
    );
    agent.quit().await;
}

#[tokio::test]
async fn an_admin_sets_what_visitors_are_asked_on_the_channels_page() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;
    admin
        .wait_for_element(
            "the settings",
            &tests::browser::by_testid("visitor-settings"),
            WAIT,
        )
        .await;
    admin
        .change_value("edit-when-unavailable", "leave_message")
        .await;
    admin.change_value("prechat-name", "required").await;
    let topics = admin
        .wait_for_element(
            "the topics",
            &tests::browser::by_testid("prechat-topics"),
            WAIT,
        )
        .await;
    admin
        .type_into(&topics, "Orders = General\nNowhere = no such queue")
        .await;
    admin.click_on("save-visitor-settings").await;
    // A topic's unknown queue is named, and nothing is saved.
    admin
        .wait_for(
            "the refusal",
            "return document.querySelector('[data-testid=visitor-settings-error]')?.textContent.includes('prechat.topics[1].queue_id');",
            WAIT,
        )
        .await;
    assert_eq!(
        demo.gateway.demo_channel().await.prechat,
        protocol::Prechat::default()
    );
    admin
        .eval(
            "const t = document.querySelector('[data-testid=prechat-topics]'); \
             t.value = 'Orders = General'; t.dispatchEvent(new Event('input'));",
            json!([]),
        )
        .await;
    admin.click_on("save-visitor-settings").await;
    let mut saved = demo.gateway.demo_channel().await;
    for _ in 0..100 {
        if saved.prechat.name == protocol::Ask::Required {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        saved = demo.gateway.demo_channel().await;
    }
    assert_eq!(
        saved.when_unavailable,
        protocol::WhenUnavailable::LeaveMessage
    );
    assert_eq!(saved.prechat.name, protocol::Ask::Required);
    assert_eq!(
        saved.prechat.topics,
        vec![protocol::Topic {
            label: "Orders".into(),
            queue_id: saved.queue_id.clone()
        }]
    );
    admin.quit().await;
}
