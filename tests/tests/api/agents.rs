//! Agents synced from another system, by its ids: idempotent upserts, validation, deactivation.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, login};
use tests::TestGateway;

async fn sync(
    gw: &TestGateway,
    admin: &str,
    external_id: &str,
    body: serde_json::Value,
) -> tests::client::Answer {
    let path = format!("/v1/admin/agents/external/{external_id}");
    call(gw, admin, Method::PUT, &path, Some(body)).await
}

async fn agents_with_external_id(
    gw: &TestGateway,
    admin: &str,
    external_id: &str,
) -> Vec<serde_json::Value> {
    let list = call(gw, admin, Method::GET, "/v1/admin/agents", None).await;
    assert_eq!(list.status, StatusCode::OK);
    list.body
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["external_id"] == external_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn syncing_the_same_agent_twice_or_at_once_leaves_one_agent() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let ada = json!({"email": "Ada@Example.test", "name": "Ada", "capacity": 3});
    let first = sync(&gw, &admin, "crm-17", ada.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["email"], "ada@example.test");
    assert_eq!(first.body["role"], "agent");
    let again = sync(&gw, &admin, "crm-17", json!({"name": "Ada Lovelace"})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        (
            &again.body["name"],
            &again.body["capacity"],
            &again.body["email"]
        ),
        (
            &json!("Ada Lovelace"),
            &json!(3),
            &json!("ada@example.test")
        ),
        "fields left out keep their value"
    );
    assert_eq!(
        agents_with_external_id(&gw, &admin, "crm-17").await.len(),
        1
    );

    // Eight syncs of a new agent racing each other.
    let racing = (0..8).map(|_| {
        let (gw, admin) = (&gw, &admin);
        async move {
            sync(
                gw,
                admin,
                "crm-18",
                json!({"email": "grace@example.test", "name": "Grace"}),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(racing).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one sync creates the agent");
    assert!(answers
        .iter()
        .all(|a| a.status.is_success() && a.body["id"] == answers[0].body["id"]));
    assert_eq!(
        agents_with_external_id(&gw, &admin, "crm-18").await.len(),
        1
    );
}

#[tokio::test]
async fn bad_syncs_name_their_fields_and_change_nothing() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let refused = sync(
        &gw,
        &admin,
        "crm-1",
        json!({"email": "nope", "role": "boss", "capacity": 0, "password": "short"}),
    )
    .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&String> = refused.body["error"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(fields, ["capacity", "email", "name", "password", "role"]);
    assert!(agents_with_external_id(&gw, &admin, "crm-1")
        .await
        .is_empty());

    let taken = sync(
        &gw,
        &admin,
        "crm-2",
        json!({"email": gateway::demo::AGENT_EMAIL, "name": "Copy"}),
    )
    .await;
    taken.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(taken.body["error"]["fields"]["email"].is_string());

    // Only admins sync agents.
    sync(
        &gw,
        &admin,
        "crm-3",
        json!({"email": "plain@example.test", "name": "Plain", "password": "long enough"}),
    )
    .await;
    let plain = login(&gw, "plain@example.test", "long enough").await;
    sync(
        &gw,
        &plain,
        "crm-4",
        json!({"email": "x@example.test", "name": "X"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_deactivated_agent_is_logged_out_and_cannot_log_in() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let body = json!({"email": "lin@example.test", "name": "Lin", "password": "correct horse"});
    sync(&gw, &admin, "crm-9", body).await;
    let token = login(&gw, "LIN@example.test", "correct horse").await;
    assert_eq!(
        call(&gw, &token, Method::GET, "/v1/agent/me", None)
            .await
            .status,
        StatusCode::OK
    );

    let off = sync(&gw, &admin, "crm-9", json!({"active": false})).await;
    assert_eq!(off.body["active"], false);
    call(&gw, &token, Method::GET, "/v1/agent/me", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let request = json!({"email": "lin@example.test", "password": "correct horse"});
    tests::client::post(&gw.url("/v1/agent/login"), None, &request)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let listed = agents_with_external_id(&gw, &admin, "crm-9").await;
    assert_eq!(listed[0]["active"], false);

    sync(&gw, &admin, "crm-9", json!({"active": true})).await;
    login(&gw, "lin@example.test", "correct horse").await;
}
