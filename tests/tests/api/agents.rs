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

#[tokio::test]
async fn a_join_link_logs_its_agent_in_once_and_expires() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let body = json!({"email": "ann@example.test", "name": "Ann", "password": "a long password"});
    sync(&gw, &admin, "crm-ann", body).await;
    let conversation = tests::client::visitor_writes(&gw, tests::SITE_ORIGIN, "Help?").await;
    let path = format!("/v1/conversations/{conversation}/agent-link");
    let for_ann = json!({"email": "ann@example.test"});

    let anonymous = reqwest::Client::new()
        .post(gw.url(&path))
        .json(&for_ann)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let ann = login(&gw, "ann@example.test", "a long password").await;
    call(&gw, &ann, Method::POST, &path, Some(for_ann.clone()))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // The channel secret may ask for one, as an admin may.
    let secret = gw.demo_channel().await.secret;
    let link = call(&gw, &secret, Method::POST, &path, Some(for_ann.clone())).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let url = link.body["url"].as_str().unwrap().to_owned();

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Opening it (or a chat tool previewing it) does not use it.
    for _ in 0..2 {
        let page = browser.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("data-testid=\"join\""));
    }
    let joined = browser.post(&url).send().await.unwrap();
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        joined.headers()["location"],
        format!("/console/#conversation={conversation}").as_str()
    );
    let cookie = joined.headers()["set-cookie"].to_str().unwrap();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("livechat_agent=")
        .unwrap();
    let me = call(&gw, token, Method::GET, "/v1/agent/me", None).await;
    assert_eq!(me.body["email"], "ann@example.test");

    for attempt in [browser.post(&url), browser.get(&url)] {
        let used = attempt.send().await.unwrap();
        assert_eq!(used.status(), StatusCode::GONE);
        assert!(used.text().await.unwrap().contains("join_link_used"));
    }

    // Clicked in several tabs at once: one gets in.
    let link = call(&gw, &admin, Method::POST, &path, Some(for_ann.clone())).await;
    let url = link.body["url"].as_str().unwrap().to_owned();
    let racing = (0..5).map(|_| browser.post(&url).send());
    let statuses: Vec<StatusCode> = futures_util::future::join_all(racing)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let winners = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(winners, 1, "{statuses:?}");

    let short = json!({"email": "ann@example.test", "ttl_secs": 1});
    let link = call(&gw, &admin, Method::POST, &path, Some(short)).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let expired = browser
        .post(link.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(expired.text().await.unwrap().contains("join_link_expired"));
    let unknown = browser
        .get(gw.url("/join/not-a-link"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    call(
        &gw,
        &admin,
        Method::POST,
        &path,
        Some(json!({"email": "nobody@example.test"})),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
