//! The hardening fixes that are not a hostile input as such: login limits, session limits that
//! cannot lock a channel out, proxies, logins ended by a new password, agent sync writing all or
//! nothing, and the sweep of what can never be used again.

use protocol::EndedSession;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::{Connection, Row};
use tests::client::{agent_login, bootstrap, call, login, Answer};
use tests::{TestGateway, SITE_ORIGIN};

async fn count(gw: &TestGateway, table: &str) -> i64 {
    let mut db = sqlx::SqliteConnection::connect(&gw.database_url())
        .await
        .unwrap();
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(&mut db)
        .await
        .unwrap()
        .get("n")
}

async fn try_login(
    gw: &TestGateway,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .post(gw.url("/v1/agent/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(client) = forwarded {
        request = request.header("x-forwarded-for", client);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body = response.json().await.unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(retry_after.is_some(), "a 429 says when to come back");
    }
    Answer { status, body }
}

#[tokio::test]
async fn logins_are_limited_per_account_and_per_address_whatever_the_password() {
    let gw = TestGateway::spawn_with(|c| {
        c.logins_per_account_per_minute = 3;
        c.logins_per_ip_per_minute = 5;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let email = gateway::demo::AGENT_EMAIL;
    for _ in 0..3 {
        try_login(&gw, email, "wrong", Some("198.51.100.1"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // The account's allowance is spent: even the right password waits.
    try_login(
        &gw,
        email,
        gateway::demo::AGENT_PASSWORD,
        Some("198.51.100.2"),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // One address trying many accounts runs out too; another address does not.
    for i in 0..2 {
        try_login(
            &gw,
            &format!("nobody{i}@example.test"),
            "x",
            Some("198.51.100.1"),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    try_login(&gw, "nobody9@example.test", "x", Some("198.51.100.1"))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    try_login(&gw, "nobody9@example.test", "x", Some("198.51.100.3"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

async fn open(gw: &TestGateway, ticket: &str, forwarded: &str) -> Answer {
    let response = reqwest::Client::new()
        .post(gw.url("/v1/sessions"))
        .header("origin", SITE_ORIGIN)
        .header("x-forwarded-for", forwarded)
        .json(&json!({"channel_key": "demo", "visit_ticket": ticket}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    Answer {
        status,
        body: response.json().await.unwrap_or_default(),
    }
}

#[tokio::test]
async fn garbage_tickets_do_not_spend_a_channels_sessions_and_proxies_are_believed_only_if_trusted()
{
    let gw = TestGateway::spawn_with(|c| {
        c.sessions_per_channel_per_minute = 4;
        c.sessions_per_ip_per_minute = 1;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for _ in 0..10 {
        open(&gw, "garbage", "203.0.113.7")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_visit_ticket");
    }
    // Behind the trusted proxy, each visitor has its own allowance.
    for client in ["203.0.113.1", "203.0.113.2", "2001:db8:1:1::1"] {
        let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
        let opened = open(&gw, &ticket, client).await;
        assert_eq!(opened.status, StatusCode::OK, "{client}: {}", opened.body);
    }
    // Another host of the same IPv6 /64 is the same subscriber.
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    open(&gw, &ticket, "2001:db8:1:1::2")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // The channel still has room: the next /64 gets in.
    assert_eq!(
        open(&gw, &ticket, "2001:db8:1:2::1").await.status,
        StatusCode::OK
    );

    // Without trusting the proxy, the header is anyone's to write and is ignored.
    let direct = TestGateway::spawn_with(|c| c.sessions_per_ip_per_minute = 1).await;
    let ticket = bootstrap(&direct, SITE_ORIGIN, None).await.visit_ticket;
    assert_eq!(
        open(&direct, &ticket, "203.0.113.1").await.status,
        StatusCode::OK
    );
    let ticket = bootstrap(&direct, SITE_ORIGIN, None).await.visit_ticket;
    open(&direct, &ticket, "203.0.113.2")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn a_new_password_from_agent_sync_ends_the_agents_logins() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let path = "/v1/admin/agents/external/sam";
    let body = json!({"email": "sam@example.test", "name": "Sam", "password": "first password"});
    assert!(call(&gw, &admin, Method::PUT, path, Some(body))
        .await
        .status
        .is_success());
    let sams = login(&gw, "sam@example.test", "first password").await;
    assert_eq!(
        call(&gw, &sams, Method::GET, "/v1/agent/me", None)
            .await
            .status,
        StatusCode::OK
    );
    // A change of name alone keeps the login.
    let renamed = json!({"name": "Samuel"});
    assert!(call(&gw, &admin, Method::PUT, path, Some(renamed))
        .await
        .status
        .is_success());
    assert_eq!(
        call(&gw, &sams, Method::GET, "/v1/agent/me", None)
            .await
            .status,
        StatusCode::OK
    );
    let body = json!({"password": "second password"});
    assert!(call(&gw, &admin, Method::PUT, path, Some(body))
        .await
        .status
        .is_success());
    call(&gw, &sams, Method::GET, "/v1/agent/me", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    login(&gw, "sam@example.test", "second password").await;
}

#[tokio::test]
async fn an_agent_sync_naming_a_queue_twice_is_refused_and_writes_nothing() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let agents = count(&gw, "agents").await;
    let members = count(&gw, "queue_members").await;
    let body =
        json!({"email": "rae@example.test", "name": "Rae", "queues": ["default", "default"]});
    let answer = call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/rae",
        Some(body),
    )
    .await;
    answer.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        answer.body["error"]["problems"],
        json!({"queues[1]": {"code": "twice"}}),
        "{}",
        answer.body
    );
    assert_eq!(
        (
            count(&gw, "agents").await,
            count(&gw, "queue_members").await
        ),
        (agents, members)
    );
}

#[tokio::test]
async fn the_sweep_forgets_expired_logins_ended_sessions_and_old_join_links_only() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let conversation = tests::client::visitor_writes(&gw, SITE_ORIGIN, "hello").await;
    let link = call(
        &gw,
        &admin,
        Method::POST,
        &format!("/v1/conversations/{conversation}/agent-link"),
        Some(json!({"email": gateway::demo::AGENT_EMAIL})),
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED);
    let now = gateway::now_ms();
    let demo = gw.demo_channel().await;
    let ended = EndedSession {
        session_id: "s-old".into(),
        visitor_id: "v".into(),
        reason: protocol::EndReason::Inactive,
    };
    gw.state
        .store
        .end_session(&ended, &demo.id, now)
        .await
        .unwrap();
    let tables = ["agent_sessions", "ended_sessions", "join_links"];
    let mut counts = Vec::new();
    for table in tables {
        counts.push(count(&gw, table).await);
    }
    assert_eq!(counts, [1, 1, 1]);

    assert_eq!(
        gateway::housekeeping::sweep(&gw.state, now).await.unwrap(),
        0,
        "all still live"
    );
    let hour = 3_600_000;
    // After the login's 12 hours and the session token's 10 minutes (and the visitor's page,
    // silent since); the link is kept a week.
    gw.state.store.flush_page_views().await.unwrap();
    assert_eq!(count(&gw, "live_visitors").await, 1);
    assert_eq!(
        gateway::housekeeping::sweep(&gw.state, now + 13 * hour)
            .await
            .unwrap(),
        3
    );
    assert_eq!(count(&gw, "live_visitors").await, 0);
    assert_eq!(count(&gw, "join_links").await, 1);
    call(&gw, &admin, Method::GET, "/v1/agent/me", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        gateway::housekeeping::sweep(&gw.state, now + 8 * 24 * hour)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn conversations_left_idle_close_by_themselves_after_the_channels_setting() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let demo = gw.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", demo.id);
    for bad in [json!(-1), json!(10), json!(1e12), json!("soon")] {
        call(
            &gw,
            &admin,
            Method::PATCH,
            &path,
            Some(json!({"idle_close_secs": bad})),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let conversation = tests::client::visitor_writes(&gw, SITE_ORIGIN, "anyone there?").await;
    let now = gateway::now_ms();
    // The default is never.
    assert_eq!(
        gateway::housekeeping::close_idle(&gw.state, now + 86_400_000)
            .await
            .unwrap(),
        0
    );
    let set = call(
        &gw,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"idle_close_secs": 3600})),
    )
    .await;
    assert_eq!(set.body["idle_close_secs"], 3600, "{}", set.body);
    assert_eq!(
        gateway::housekeeping::close_idle(&gw.state, now + 1_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        gateway::housekeeping::close_idle(&gw.state, now + 3_601_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gw.conversation(&conversation).await.status,
        protocol::ConversationStatus::Closed
    );
}
