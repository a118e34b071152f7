//! Several gateways on one database behind a load balancer: real-time events cross between
//! them through Redis, so a visitor on one and an agent on another talk live. Without Redis, or
//! with Redis down, each gateway still serves its own sockets.

use protocol::AgentServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, agent_present, call, Visitor};
use tests::{test_redis, TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn a_visitor_on_one_gateway_and_an_agent_on_another_talk_live() {
    let Some(redis) = test_redis() else {
        return;
    };
    let relay = redis.clone();
    let a = TestGateway::spawn_with(move |c| c.redis_url = Some(relay)).await;
    let shared = a.database_url();
    let b = TestGateway::spawn_with(move |c| {
        c.database_url = shared;
        c.redis_url = Some(redis);
    })
    .await;
    let channel = b.demo_channel().await;
    let token = agent_login(&b).await;
    let mut console = agent_present(&b, &token).await;

    let visitor = Visitor::arrive(&a, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&a, None).await;
    let (conversation, _) = socket.say("v1", "Hello from gateway A").await;
    let shown = console
        .recv_until(|f: &AgentServerFrame| {
            matches!(f, AgentServerFrame::Conversation { conversation: c } if c.id == conversation)
        })
        .await;
    let AgentServerFrame::Conversation {
        conversation: summary,
    } = shown
    else {
        unreachable!()
    };
    assert_eq!(summary.last_text, "Hello from gateway A");

    let reply = call(
        &b,
        &token,
        Method::POST,
        &format!(
            "/v1/channels/{}/conversations/{conversation}/messages",
            channel.id
        ),
        Some(json!({"client_id": "r1", "text": "Answered from gateway B"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let message = socket.visitor_message("r1").await;
    assert_eq!(message.text, "Answered from gateway B");
    // Each event reaches a socket once: its own gateway's copy is not relayed back to it.
    assert!(socket.is_quiet(std::time::Duration::from_millis(300)).await);
}

#[tokio::test]
async fn with_redis_unreachable_a_gateway_still_serves_its_own_sockets() {
    let gw = TestGateway::spawn_with(|c| c.redis_url = Some("redis://127.0.0.1:1".into())).await;
    let token = agent_login(&gw).await;
    let mut console = agent_present(&gw, &token).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, _) = socket.say("v1", "Is anyone there?").await;
    console
        .recv_until(|f: &AgentServerFrame| {
            matches!(f, AgentServerFrame::Conversation { conversation: c } if c.id == conversation)
        })
        .await;
}
