//! Webhook endpoints: registered per channel with the channel secret, target URLs checked.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::call;
use tests::TestGateway;

#[tokio::test]
async fn endpoints_are_registered_with_their_own_secret_and_safe_targets_only() {
    let gw = TestGateway::spawn().await;
    let channel = gw.demo_channel().await;
    let path = format!("/v1/channels/{}/webhooks", channel.id);
    let local = json!({"url": "http://127.0.0.1:9/hook", "events": ["message.created"]});

    let anonymous = reqwest::Client::new()
        .post(gw.url(&path))
        .json(&local)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let refused = call(
        &gw,
        &channel.secret,
        Method::POST,
        &path,
        Some(local.clone()),
    )
    .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(refused.body["error"]["fields"]["url"]
        .as_str()
        .unwrap()
        .contains("private"));
    let bad_event = json!({"url": "https://93.184.216.34/hook", "events": ["message.deleted"]});
    let refused = call(&gw, &channel.secret, Method::POST, &path, Some(bad_event)).await;
    assert!(
        refused.body["error"]["fields"]["events[0]"].is_string(),
        "{}",
        refused.body
    );

    // A self-hosted receiver on the same network, allowed by the operator.
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let channel = gw.demo_channel().await;
    let path = format!("/v1/channels/{}/webhooks", channel.id);
    let created = call(&gw, &channel.secret, Method::POST, &path, Some(local)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    let listed = call(&gw, &channel.secret, Method::GET, &path, None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["events"], json!(["message.created"]));

    let one = format!("{path}/{}", created.body["id"].as_str().unwrap());
    assert_eq!(
        call(&gw, &channel.secret, Method::DELETE, &one, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    call(&gw, &channel.secret, Method::DELETE, &one, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
