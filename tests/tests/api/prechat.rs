//! The pre-chat form: the channel's questions, the visitor's answers checked on the server
//! (422 by field, nothing stored), kept on the contact with the consent's version, and the
//! topic picked sending the conversation to its queue.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, Visitor};
use tests::receiver::Receiver;

use crate::deliveries::register;
use tests::{TestGateway, SITE_ORIGIN};

async fn answer(
    gw: &TestGateway,
    visitor: &Visitor,
    origin: &str,
    body: serde_json::Value,
) -> tests::client::Answer {
    let response = reqwest::Client::new()
        .post(gw.url("/v1/visitor/prechat"))
        .header("origin", origin)
        .bearer_auth(&visitor.session.session_token)
        .json(&body)
        .send()
        .await
        .expect("prechat");
    tests::client::answer(response).await
}

#[tokio::test]
async fn the_answers_are_checked_kept_on_the_contact_and_the_topic_picks_the_queue() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let hooks = Receiver::start().await;
    register(&gw, &hooks, json!({"events": ["conversation.created"]})).await;
    let admin = agent_login(&gw).await;
    let queue = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/queues",
        Some(json!({"name": "Support"})),
    )
    .await;
    assert_eq!(queue.status, StatusCode::CREATED, "{}", queue.body);
    let support = queue.body["id"].as_str().unwrap().to_owned();
    let channel = gw.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", channel.id);
    let form = |topic_queue: &str| {
        json!({"prechat": {
            "name": "required", "email": "optional",
            "topics": [{"label": "Sales", "queue_id": channel.queue_id}, {"label": "Support", "queue_id": topic_queue}],
            "consent": {"text": "I accept the privacy policy.", "version": "v3"}
        }})
    };
    let refused = call(
        &gw,
        &admin,
        Method::PATCH,
        &path,
        Some(form("no-such-queue")),
    )
    .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        refused.body["error"]["fields"]["prechat.topics[1].queue_id"].is_string(),
        "{}",
        refused.body
    );
    let set = call(&gw, &admin, Method::PATCH, &path, Some(form(&support))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let asked = visitor.session.prechat.clone().expect("the form is asked");
    assert_eq!(asked.topics, ["Sales", "Support"]);
    assert_eq!(
        asked.consent.as_deref(),
        Some("I accept the privacy policy.")
    );

    // Every problem at once, and nothing stored.
    let bad = answer(
        &gw,
        &visitor,
        SITE_ORIGIN,
        json!({"email": "nope", "phone": "555 0100", "topic": "Billing"}),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&String> = bad.body["error"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(fields, ["consent", "email", "name", "phone", "topic"]);
    assert!(!gw
        .state
        .store
        .answered_prechat(&channel.id, &visitor.session.visitor_id)
        .await
        .unwrap());

    // Only the visitor's own session, from the page it was opened on.
    let good =
        json!({"name": "Ann", "email": "ann@visitor.test", "topic": "Support", "consent": true});
    let no_token = reqwest::Client::new()
        .post(gw.url("/v1/visitor/prechat"))
        .header("origin", SITE_ORIGIN)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let foreign = answer(&gw, &visitor, "http://elsewhere.test", good.clone()).await;
    assert!(
        foreign.status.is_client_error() && foreign.status != StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign.status
    );

    let stored = answer(&gw, &visitor, SITE_ORIGIN, good).await;
    assert_eq!(stored.status, StatusCode::NO_CONTENT, "{}", stored.body);
    // Answered once: the next session does not ask again.
    let again = Visitor::arrive_with_ticket(&gw, SITE_ORIGIN, Some(&visitor.ticket)).await;
    assert_eq!(again.session.visitor_id, visitor.session.visitor_id);
    assert_eq!(again.session.prechat, None);

    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, _) = socket.say("q1", "My order never came.").await;
    let summary = gw.conversation(&conversation).await;
    assert_eq!(
        summary.queue_id.as_deref(),
        Some(support.as_str()),
        "the topic's queue"
    );
    let contact_id = summary.contact_id.expect("a contact");
    let contact = call(
        &gw,
        &admin,
        Method::GET,
        &format!("/v1/contacts/{contact_id}"),
        None,
    )
    .await;
    assert_eq!(contact.body["name"], "Ann", "{}", contact.body);
    assert_eq!(contact.body["email"], "ann@visitor.test");
    assert_eq!(contact.body["consent_version"], "v3");
    assert!(contact.body["consent_at_ms"].as_i64().unwrap() > 0);

    // Integrations get the same with the conversation.
    let created = hooks.wait_for(1, std::time::Duration::from_secs(10)).await;
    let sent = &created[0].payload["data"]["contact"];
    assert_eq!(sent["id"], contact_id.as_str());
    assert_eq!(sent["name"], "Ann", "{sent}");
    assert_eq!(sent["consent_version"], "v3");
}
