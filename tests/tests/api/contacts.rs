//! Contacts: created at a visitor's first message, matched and labelled through the REST API,
//! read by agents with every conversation of that person.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, login, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn a_contact_is_created_at_the_first_message_matched_labelled_and_lists_its_conversations() {
    let gw = TestGateway::spawn_with(|c| c.reopen_window_secs = 0).await;
    let admin = agent_login(&gw).await;
    let secret = gw.demo_channel().await.secret;

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    let (first, _) = widget.say("m1", "message 1").await;
    let contact = gw
        .conversation(&first)
        .await
        .contact_id
        .expect("a contact from the first message");
    let path = format!("/v1/contacts/{contact}");

    // Agents read; only the channel's secret or an admin writes.
    let anonymous = reqwest::Client::new()
        .get(gw.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/p1",
        Some(json!({"email": "pat@example.test", "name": "Pat", "password": "a long password"})),
    )
    .await;
    let plain = login(&gw, "pat@example.test", "a long password").await;
    let read = call(&gw, &plain, Method::GET, &path, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["visitor_id"], visitor.session.visitor_id.as_str());
    call(
        &gw,
        &plain,
        Method::PUT,
        &path,
        Some(json!({"email": "x@example.test"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let matched = json!({"external_id": "cus_42", "email": "lee@example.test", "first_name": "Lee", "last_name": "Park"});
    let saved = call(&gw, &secret, Method::PUT, &path, Some(matched)).await;
    assert_eq!(
        (
            saved.body["external_id"].as_str(),
            saved.body["last_name"].as_str()
        ),
        (Some("cus_42"), Some("Park")),
        "{}",
        saved.body
    );
    let partial = call(
        &gw,
        &secret,
        Method::PUT,
        &path,
        Some(json!({"first_name": ""})),
    )
    .await;
    assert_eq!(
        (
            partial.body["first_name"].clone(),
            partial.body["email"].as_str()
        ),
        (json!(null), Some("lee@example.test")),
        "empty clears, missing keeps"
    );
    call(
        &gw,
        &secret,
        Method::PUT,
        &path,
        Some(json!({"email": "not an address"})),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    for label in ["vip", "vip", "churn-risk"] {
        call(
            &gw,
            &secret,
            Method::PUT,
            &format!("{path}/labels/{label}"),
            None,
        )
        .await;
    }
    let removed = call(
        &gw,
        &admin,
        Method::DELETE,
        &format!("{path}/labels/churn-risk"),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let long = "x".repeat(51);
    call(
        &gw,
        &secret,
        Method::PUT,
        &format!("{path}/labels/{long}"),
        None,
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Closed, then a new conversation of the same person: the contact lists both.
    call(
        &gw,
        &admin,
        Method::POST,
        &format!("/v1/conversations/{first}/close"),
        None,
    )
    .await;
    let (second, _) = widget.say("m2", "message 2").await;
    assert_ne!(first, second);
    let person = call(&gw, &plain, Method::GET, &path, None).await;
    let ids: Vec<&str> = person.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");
    assert_eq!(person.body["labels"], json!(["vip"]));
    assert_eq!(person.body["email"], "lee@example.test");
}
