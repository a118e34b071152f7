//! Leave a message: while a rule of who is there and when keeps the chat closed, a channel set
//! to take messages still shows, opens sessions, and stores the visitor's message as a
//! conversation marked offline, in its queue, as durable and idempotent as any.

use protocol::{ConversationStatus, LeaveMessage, Visibility, VisibilityRules};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, bootstrap, call, open_session, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn while_nobody_is_online_a_channel_taking_messages_shows_and_keeps_them() {
    let gw = TestGateway::spawn().await;
    let mut rules = VisibilityRules::default();
    rules.agents_online.enabled = true;
    gw.set_demo_rules(&rules).await;

    // The default hides the widget and refuses a chat.
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert!(matches!(page.visibility, Visibility::Hidden { .. }));
    assert_eq!(page.leave_message, None);
    open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "rule_agents_online");

    // An admin sets the channel to take messages; a bad value is refused by name.
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", channel.id);
    let bad = call(
        &gw,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"when_unavailable": "sometimes"})),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(bad.body["error"]["fields"]["when_unavailable"].is_string());
    let set = call(
        &gw,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"when_unavailable": "leave_message"})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["when_unavailable"], "leave_message");

    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(page.visibility, Visibility::Visible);
    assert_eq!(page.leave_message, Some(LeaveMessage { back_at_ms: None }));
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, seq) = socket
        .say("left-1", "Please call me back about my order.")
        .await;
    // A resend (the panel reconnecting) stores nothing new.
    assert_eq!(
        socket
            .say("left-1", "Please call me back about my order.")
            .await,
        (conversation.clone(), seq)
    );
    let stored = gw.conversation(&conversation).await;
    assert!(stored.offline, "marked as left while nobody was there");
    assert_eq!(stored.status, ConversationStatus::Waiting);
    assert_eq!(stored.queue_id.as_deref(), Some(channel.queue_id.as_str()));
    assert_eq!(gw.stored(&conversation).await.len(), 1);

    // Agents find it marked so.
    let listed = call(
        &gw,
        &admin,
        Method::GET,
        &format!("/v1/channels/{}/conversations", channel.id),
        None,
    )
    .await;
    assert_eq!(
        listed.body["conversations"][0]["offline"], true,
        "{}",
        listed.body
    );

    // With someone online again, chats are live and not marked.
    gw.set_demo_rules(&VisibilityRules::default()).await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(page.leave_message, None);
    let live = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = live.connect(&gw, None).await;
    let (live_conversation, _) = socket.say("live-1", "Hello").await;
    assert!(!gw.conversation(&live_conversation).await.offline);
}
