//! The audit log: each admin action (and each action with a channel's secret) is recorded with
//! who, when and what changed, and no secret ever appears in it; only admins read it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::client::{agent_login, call, visitor_writes};
use tests::{TestGateway, SITE_ORIGIN};

/// The newest entries of an action, as the API gives them.
async fn entries(gw: &TestGateway, admin: &str, query: &str) -> Vec<Value> {
    let page = call(
        gw,
        admin,
        Method::GET,
        &format!("/v1/admin/audit?{query}"),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn admin_actions_are_recorded_without_their_secrets() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let admin = agent_login(&gw).await;
    let me = call(&gw, &admin, Method::GET, "/v1/agent/me", None)
        .await
        .body;
    let mut secrets = Vec::new();

    let created = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "Audit shop", "inactivity_timeout_secs": 600})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    secrets.push(created.body["secret"].as_str().unwrap().to_owned());
    secrets.push(created.body["identity_secret"].as_str().unwrap().to_owned());
    let path = format!("/v1/admin/channels/{id}");

    // One edit of a name, the captcha and the retention: three entries, one per concern.
    let captcha_secret = "the-captcha-provider-secret";
    secrets.push(captcha_secret.to_owned());
    let edit = json!({"name": "Audit store", "retention_days": 90,
        "captcha": {"provider": "recaptcha_v2", "site_key": "site-key-1", "secret": captcha_secret}});
    let edited = call(&gw, &admin, Method::PATCH, &path, Some(edit)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let rotated = call(
        &gw,
        &admin,
        Method::POST,
        &format!("{path}/rotate-secret"),
        None,
    )
    .await;
    let secret = rotated.body["secret"].as_str().unwrap().to_owned();
    secrets.push(secret.clone());

    // With the channel's secret: a webhook, and a contact erased.
    let hook = call(
        &gw,
        &secret,
        Method::POST,
        &format!("/v1/channels/{id}/webhooks"),
        Some(json!({"url": "http://127.0.0.1:9/hook"})),
    )
    .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    secrets.push(hook.body["secret"].as_str().unwrap().to_owned());
    let demo = gw.demo_channel().await;
    let conversation = visitor_writes(&gw, SITE_ORIGIN, "Please forget me").await;
    let close = format!(
        "/v1/channels/{}/conversations/{conversation}/close",
        demo.id
    );
    call(&gw, &demo.secret, Method::POST, &close, Some(json!({}))).await;
    let contact = gw.conversation(&conversation).await.contact_id.unwrap();
    let erased = call(
        &gw,
        &demo.secret,
        Method::DELETE,
        &format!("/v1/contacts/{contact}"),
        None,
    )
    .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);

    // An agent synced with a password; the channel deleted.
    let password = "a long and secret password";
    secrets.push(password.to_owned());
    let synced = call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/ext-7",
        Some(json!({"email": "sam@example.test", "name": "Sam", "password": password})),
    )
    .await;
    assert_eq!(synced.status, StatusCode::CREATED, "{}", synced.body);
    let deleted = call(&gw, &admin, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    let all = entries(&gw, &admin, "limit=200").await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "channel_created",
        "channel_edited",
        "captcha_changed",
        "retention_changed",
        "secret_rotated",
        "webhook_added",
        "contact_erased",
        "agent_synced",
        "channel_deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(actions[0], "channel_deleted", "newest first");
    let written = serde_json::to_string(&all).unwrap();
    for secret in &secrets {
        assert!(
            !written.contains(secret.as_str()),
            "a secret in the log: {written}"
        );
    }
    assert!(
        !written.contains(&contact),
        "the erased contact is not named"
    );

    let one = |action: &str| all.iter().find(|e| e["action"] == action).unwrap().clone();
    let edit = one("channel_edited");
    assert_eq!(
        edit["actor"],
        json!({"kind": "agent", "id": me["id"], "name": me["name"]})
    );
    assert_eq!(edit["channel_id"], id.as_str());
    assert_eq!(
        edit["changes"],
        json!({"name": {"before": "Audit shop", "after": "Audit store"}})
    );
    assert_eq!(
        one("retention_changed")["changes"],
        json!({"retention_days": {"before": "0", "after": "90"}})
    );
    assert_eq!(
        one("captcha_changed")["changes"]["captcha.site_key"],
        json!({"after": "site-key-1"})
    );
    assert_eq!(
        one("secret_rotated")["changes"],
        json!({"secret": {"redacted": true}})
    );
    assert_eq!(
        one("channel_created")["changes"]["secret"],
        json!({"redacted": true})
    );
    assert_eq!(
        one("channel_created")["changes"]["name"],
        json!({"after": "Audit shop"})
    );
    let hook = one("webhook_added");
    assert_eq!(hook["actor"]["kind"], "channel_secret");
    assert_eq!(
        hook["changes"]["url"],
        json!({"after": "http://127.0.0.1:9/hook"})
    );
    assert_eq!(hook["changes"]["secret"], json!({"redacted": true}));
    assert_eq!(
        one("contact_erased")["changes"],
        json!({"conversations": {"before": "1"}})
    );
    assert!(one("contact_erased")["target"].is_null());
    let sync = one("agent_synced");
    assert_eq!(sync["changes"]["password"], json!({"redacted": true}));
    assert_eq!(
        sync["changes"]["email"],
        json!({"after": "sam@example.test"})
    );

    // Filters and pages.
    let edits = entries(&gw, &admin, "action=retention_changed").await;
    assert_eq!(edits.len(), 1);
    assert_eq!(
        entries(&gw, &admin, &format!("channel_id={id}"))
            .await
            .len(),
        7
    );
    let page = call(&gw, &admin, Method::GET, "/v1/admin/audit?limit=4", None).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = entries(&gw, &admin, &format!("limit=200&cursor={cursor}")).await;
    assert_eq!(next.len() + 4, all.len());
    assert_eq!(next[0], all[4]);
    let bad = call(
        &gw,
        &admin,
        Method::GET,
        "/v1/admin/audit?action=lunch",
        None,
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Admins only.
    let agent = crate::hostile::plain_agent(&gw, &admin).await;
    call(&gw, &agent, Method::GET, "/v1/admin/audit", None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(&gw, &demo.secret, Method::GET, "/v1/admin/audit", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let anonymous = reqwest::Client::new()
        .get(gw.url("/v1/admin/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
