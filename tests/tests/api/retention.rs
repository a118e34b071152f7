//! Retention: a channel keeping closed conversations two days loses the older ones, in batches,
//! while visitors keep writing (every message is acknowledged and stored); newer and open
//! conversations stay. Who may set it, and what it accepts.

use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tests::client::{agent_login, patch_demo_channel, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

use gateway::store::{ChannelRef, NewMessage, VisitContext};

const DAY_MS: i64 = 24 * 3600 * 1000;
const OLD: usize = 60;
const WRITERS: usize = 3;
/// At most, each: writers stop when the purge is done.
const MESSAGES: usize = 500;

/// A conversation written `at_ms` and closed an hour later.
async fn closed_conversation(
    gw: &TestGateway,
    channel: &ChannelRef,
    visitor: &str,
    at_ms: i64,
) -> String {
    let context = VisitContext::default();
    let client_id = format!("{visitor}-1");
    let message = NewMessage {
        sent_at_ms: at_ms,
        ..NewMessage::now(&client_id, "An old question")
    };
    let store = &gw.state.store;
    let id = store
        .append_visitor_message(channel, visitor, context, message, at_ms)
        .await
        .unwrap()
        .conversation
        .id;
    assert!(store
        .close_conversation(&id, None, at_ms + 3_600_000)
        .await
        .unwrap());
    id
}

#[tokio::test]
async fn old_conversations_go_in_batches_while_visitors_keep_writing() {
    let gw = TestGateway::spawn_with(|c| {
        c.retention_batch = 7;
        c.retention_pause_ms = 5;
        // The writers here are one address writing fast, which the limits would slow.
        c.messages_per_ip_per_minute = 60_000;
        c.messages_per_session_per_minute = 60_000;
    })
    .await;
    let admin = agent_login(&gw).await;
    let record = gw.demo_channel().await;
    let channel = ChannelRef::from(&record);
    let now = gateway::now_ms();
    let mut old = Vec::new();
    for i in 0..OLD {
        old.push(closed_conversation(&gw, &channel, &format!("old-{i}"), now - 3 * DAY_MS).await);
    }
    let recent = closed_conversation(&gw, &channel, "recent", now - DAY_MS).await;

    // Admins set it, in days; 0 is for ever.
    for (days, accepted) in [
        (json!(-1), false),
        (json!(3651), false),
        (json!("2"), false),
        (json!(2), true),
    ] {
        let answer = patch_demo_channel(&gw, &admin, json!({"retention_days": days})).await;
        assert_eq!(
            answer.status.is_success(),
            accepted,
            "{days}: {}",
            answer.body
        );
        if !accepted {
            assert_eq!(
                answer.body["error"]["problems"]["retention_days"]["code"],
                "number"
            );
        }
    }
    let agent = crate::hostile::plain_agent(&gw, &admin).await;
    let refused = patch_demo_channel(&gw, &agent, json!({"retention_days": 0})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Visitors, already on the page, write for as long as the purge runs.
    let mut sockets = Vec::new();
    for _ in 0..WRITERS {
        let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
        sockets.push(visitor.connect(&gw, None).await);
    }
    let purge_done = std::sync::atomic::AtomicBool::new(false);
    let writing = sockets.into_iter().enumerate().map(|(w, mut socket)| {
        let purge_done = &purge_done;
        async move {
            let (mut conversation, mut sent, mut during) = (String::new(), 0, 0);
            while sent < MESSAGES && (sent == 0 || !purge_done.load(Ordering::SeqCst)) {
                // `say` waits for the acknowledgement: a refused or lost message fails here.
                conversation = socket.say(&format!("w{w}-{sent}"), "Still here").await.0;
                sent += 1;
                during += usize::from(!purge_done.load(Ordering::SeqCst));
            }
            (conversation, sent, during)
        }
    });
    let purging = async {
        let purged = gateway::retention::purge(
            &gw.state.store,
            &gw.state.files.blobs,
            gateway::now_ms(),
            gw.state.config.retention_batch,
            Duration::from_millis(gw.state.config.retention_pause_ms),
        )
        .await;
        purge_done.store(true, Ordering::SeqCst);
        purged
    };
    let (written, purged) = tokio::join!(futures_util::future::join_all(writing), purging);
    let purged = purged.unwrap();
    assert_eq!(purged.conversations, OLD);
    assert_eq!(purged.batches, OLD.div_ceil(7));
    for id in &old {
        assert!(
            gw.state.store.conversation(id).await.unwrap().is_none(),
            "{id}"
        );
    }
    assert!(gw
        .state
        .store
        .conversation(&recent)
        .await
        .unwrap()
        .is_some());
    for (conversation, sent, during) in written {
        assert!(during > 0, "every visitor wrote while the purge ran");
        assert_eq!(gw.stored(&conversation).await.len(), sent);
    }
    // Nothing more to do.
    let again = gateway::retention::purge(
        &gw.state.store,
        &gw.state.files.blobs,
        gateway::now_ms(),
        7,
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(again, gateway::retention::Purged::default());
}
