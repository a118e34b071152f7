//! `GET /metrics`: only for the holder of the metrics token (not an admin, not a channel
//! secret), and what it says moves with what the gateway does. The recorder is shared by every
//! gateway in this test process, so figures are compared before and after, never absolutely.
//! These tests are a binary of their own: in the `api` binary, the other tests' gateways set
//! the same gauges (a gateway's open sockets) between this one's two readings.

use reqwest::StatusCode;
use tests::client::{agent_login, bootstrap, open_session, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

const TOKEN: &str = "scrape-4f1c9a";

async fn scrape(gw: &TestGateway, bearer: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().get(gw.url("/metrics"));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The value of the series `series` (name and labels as rendered), or 0 if absent.
fn value(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn only_the_metrics_token_reads_the_page() {
    let gw = TestGateway::spawn_with(|c| c.metrics_token = Some(TOKEN.into())).await;
    let admin = agent_login(&gw).await;
    let secret = gw.demo_channel().await.secret;
    for bearer in [
        None,
        Some("wrong"),
        Some(admin.as_str()),
        Some(secret.as_str()),
    ] {
        let (status, body) = scrape(&gw, bearer).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert!(!body.contains("livechat_"), "{body}");
    }
    let (status, _) = scrape(&gw, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);

    // Without a token configured, nobody reads it.
    let closed = TestGateway::spawn().await;
    assert_eq!(scrape(&closed, Some("")).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_figures_follow_sockets_messages_commits_and_refusals() {
    let gw = TestGateway::spawn_with(|c| {
        c.metrics_token = Some(TOKEN.into());
        c.sessions_per_ip_per_minute = 2;
    })
    .await;
    let (_, before) = scrape(&gw, Some(TOKEN)).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.say("m1", "Hello").await;
    socket.say("m2", "Anyone?").await;
    let (_, during) = scrape(&gw, Some(TOKEN)).await;

    let visitors_open = r#"livechat_sockets_open{kind="visitor"}"#;
    assert_eq!(
        value(&during, visitors_open),
        value(&before, visitors_open) + 1.0
    );
    let accepted = r#"livechat_messages_accepted_total{author="visitor"}"#;
    assert!(value(&during, accepted) >= value(&before, accepted) + 2.0);
    assert!(
        value(&during, "livechat_ack_seconds_count")
            >= value(&before, "livechat_ack_seconds_count") + 2.0
    );
    assert!(
        during.contains("livechat_ack_seconds_bucket{le=\"0.01\"}"),
        "{during}"
    );
    assert!(
        value(&during, "livechat_store_commit_seconds_count")
            > value(&before, "livechat_store_commit_seconds_count")
    );
    assert!(value(&during, "livechat_routing_waiting_conversations") >= 1.0);
    assert!(during.contains("livechat_outbox_backlog "), "{during}");

    // The session limit (2 a minute from one address) refuses the third.
    Visitor::arrive(&gw, SITE_ORIGIN).await;
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let refused = open_session(&gw, SITE_ORIGIN, &ticket, None).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    socket.close().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, after) = scrape(&gw, Some(TOKEN)).await;
        let refusals = r#"livechat_rate_limit_refusals_total{limit="sessions_per_ip"}"#;
        if value(&after, visitors_open) == value(&before, visitors_open) {
            assert!(
                value(&after, refusals) >= value(&before, refusals) + 1.0,
                "{after}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed socket is still counted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
