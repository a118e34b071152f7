//! Canned responses: admins manage them, every agent reads them.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, login};
use tests::TestGateway;

#[tokio::test]
async fn admins_manage_canned_responses_and_agents_read_them() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let hours = json!({"text": "  We answer from 9 to 5.  "});
    let saved = call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/canned-responses/hours",
        Some(hours),
    )
    .await;
    assert_eq!(
        saved.body,
        json!({"shortcut": "hours", "text": "We answer from 9 to 5."})
    );
    let replaced = json!({"text": "We answer from 8 to 6."});
    call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/canned-responses/hours",
        Some(replaced),
    )
    .await;
    for bad in [
        "/v1/canned-responses/two%20words",
        "/v1/canned-responses/a.b",
    ] {
        call(&gw, &admin, Method::PUT, bad, Some(json!({"text": "x"})))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/canned-responses/empty",
        Some(json!({"text": " "})),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let body = json!({"email": "pat@example.test", "name": "Pat", "password": "a long password"});
    call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/p1",
        Some(body),
    )
    .await;
    let agent = login(&gw, "pat@example.test", "a long password").await;
    let listed = call(&gw, &agent, Method::GET, "/v1/canned-responses", None).await;
    assert_eq!(
        listed.body,
        json!([{"shortcut": "hours", "text": "We answer from 8 to 6."}])
    );
    call(
        &gw,
        &agent,
        Method::DELETE,
        "/v1/canned-responses/hours",
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let anonymous = reqwest::get(gw.url("/v1/canned-responses")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let gone = call(
        &gw,
        &admin,
        Method::DELETE,
        "/v1/canned-responses/hours",
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    call(
        &gw,
        &admin,
        Method::DELETE,
        "/v1/canned-responses/hours",
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}
