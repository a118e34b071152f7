//! Webhook delivery from the outbox: signed, at least once, in order per conversation, through
//! 5xx answers, timeouts, refused connections and a gateway restart; then failed after the
//! retry time, and replayed.

use protocol::VisitorServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tests::client::{agent_login, call, Visitor};
use tests::receiver::{Delivery, Failure, Receiver};
use tests::{TestGateway, SITE_ORIGIN};

const WAIT: Duration = Duration::from_secs(20);

/// A gateway that may deliver to 127.0.0.1 and retries fast.
async fn gateway(retry_for_secs: u64) -> TestGateway {
    TestGateway::spawn_with(move |c| {
        c.webhooks_allow_private = true;
        c.webhook_timeout_ms = 300;
        c.webhook_retry_base_ms = 50;
        c.webhook_retry_max_ms = 400;
        c.webhook_retry_for_secs = retry_for_secs;
    })
    .await
}

/// Registers the receiver for the demo channel (all events unless `body` says otherwise) and
/// gives it the endpoint's secret; returns the endpoint's id.
pub async fn register(gw: &TestGateway, receiver: &Receiver, mut body: Value) -> String {
    let channel = gw.demo_channel().await;
    body["url"] = json!(receiver.url());
    let created = call(
        gw,
        &channel.secret,
        Method::POST,
        &format!("/v1/channels/{}/webhooks", channel.id),
        Some(body),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    receiver.set_secret(created.body["secret"].as_str().unwrap());
    created.body["id"].as_str().unwrap().to_owned()
}

/// The log once every delivery in it is recorded as delivered: the receiver has a delivery
/// a moment before the gateway records its answer.
pub async fn delivered_log(gw: &TestGateway, endpoint: &str) -> Vec<Value> {
    tokio::time::timeout(WAIT, async {
        loop {
            let log = delivery_log(gw, endpoint).await;
            if log.iter().all(|d| d["status"] == "delivered") {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("every delivery recorded as delivered")
}

async fn delivery_log(gw: &TestGateway, endpoint: &str) -> Vec<Value> {
    let channel = gw.demo_channel().await;
    let path = format!(
        "/v1/channels/{}/webhooks/{endpoint}/deliveries?limit=200",
        channel.id
    );
    let log = call(gw, &channel.secret, Method::GET, &path, None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    log.body["deliveries"].as_array().unwrap().clone()
}

/// Each conversation's events as the receiver saw them: type, and the message's seq if any.
fn by_conversation(deliveries: &[Delivery]) -> BTreeMap<String, Vec<(String, Option<i64>)>> {
    let mut seen: BTreeMap<String, Vec<(String, Option<i64>)>> = BTreeMap::new();
    for delivery in deliveries {
        let conversation = delivery.conversation_id().expect("about a conversation");
        seen.entry(conversation.to_owned()).or_default().push((
            delivery.event_type().to_owned(),
            delivery.payload["data"]["message"]["seq"].as_i64(),
        ));
    }
    seen
}

fn events(list: &[(&str, Option<i64>)]) -> Vec<(String, Option<i64>)> {
    list.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect()
}

#[tokio::test]
async fn every_event_arrives_signed_once_and_in_order_despite_failures_and_a_restart() {
    let mut gw = gateway(600).await;
    let channel = gw.demo_channel().await;
    let mut receiver = Receiver::start().await;
    let endpoint = register(&gw, &receiver, json!({})).await;
    receiver.fail_next([
        Failure::Status(500),
        Failure::Status(503),
        Failure::Hang(Duration::from_millis(1500)),
        Failure::Status(502),
        Failure::Hang(Duration::from_millis(1500)),
    ]);

    // Conversation A: three visitor messages, assigned and answered through the REST API, closed.
    let a = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = a.connect(&gw, None).await;
    let (conversation_a, _) = socket.say("a1", "Hello").await;
    socket.say("a2", "Anyone there?").await;
    socket.say("a3", "About my order").await;
    drop(socket);
    let agent = call(
        &gw,
        &agent_login(&gw).await,
        Method::GET,
        "/v1/agent/me",
        None,
    )
    .await;
    let base = format!("/v1/channels/{}/conversations/{conversation_a}", channel.id);
    for (action, body) in [
        ("assign", json!({"agent_id": agent.body["id"]})),
        (
            "messages",
            json!({"agent_id": agent.body["id"], "client_id": "r1", "text": "Here!"}),
        ),
        ("close", json!({})),
    ] {
        let done = call(
            &gw,
            &channel.secret,
            Method::POST,
            &format!("{base}/{action}"),
            Some(body),
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{action}: {}", done.body);
    }

    // Conversation B: one message, then the visitor goes quiet and the session ends.
    gw.edit_demo_channel(|c| c.inactivity_timeout_secs = 1)
        .await;
    let b = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = b.connect(&gw, None).await;
    let (conversation_b, _) = socket.say("b1", "Quick question").await;
    socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::SessionEnded { .. }))
        .await;
    receiver.wait_for(10, WAIT).await;

    // Conversation C while the receiver is down: the attempts are refused...
    receiver.stop().await;
    let c = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = c.connect(&gw, None).await;
    let (conversation_c, _) = socket.say("c1", "Is the shop open?").await;
    socket.say("c2", "Tomorrow?").await;
    drop(socket);
    let refused = tokio::time::timeout(WAIT, async {
        loop {
            let log = delivery_log(&gw, &endpoint).await;
            if log.iter().any(|d| {
                d["status"] == "pending"
                    && d["last_error"]
                        .as_str()
                        .is_some_and(|e| e.contains("connect") || e.contains("refused"))
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "no refused attempt was logged");
    // ...and the gateway restarts before the receiver is back: nothing pending is lost.
    gw.restart().await;
    receiver.resume().await;
    // An attempt in flight when the gateway stopped stays leased (so no other gateway sends it
    // at the same time) until its lease runs out; a busy machine makes that likely.
    let lease = Duration::from_millis(300 + gateway::webhooks::delivery::LEASE_MARGIN_MS as u64);
    let accepted = receiver.wait_for(13, lease + WAIT).await;
    // Anything sent twice would have arrived by the time every delivery is recorded.
    delivered_log(&gw, &endpoint).await;
    let accepted = if receiver.accepted().len() > accepted.len() {
        receiver.accepted()
    } else {
        accepted
    };

    assert_eq!(receiver.forged(), 0, "every delivery is signed");
    let ids: HashSet<&str> = accepted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), accepted.len(), "each event accepted once");
    let seen = by_conversation(&accepted);
    assert_eq!(
        seen[&conversation_a],
        events(&[
            ("conversation.created", None),
            ("message.created", Some(1)),
            ("message.created", Some(2)),
            ("message.created", Some(3)),
            ("conversation.assigned", None),
            ("message.created", Some(4)),
            ("conversation.closed", None),
        ])
    );
    assert_eq!(
        seen[&conversation_b],
        events(&[
            ("conversation.created", None),
            ("message.created", Some(1)),
            ("visitor.session_ended", None),
        ])
    );
    assert_eq!(
        seen[&conversation_c],
        events(&[
            ("conversation.created", None),
            ("message.created", Some(1)),
            ("message.created", Some(2)),
        ])
    );
    assert_eq!(seen.len(), 3);

    // The log tells what happened: every delivery made, the failures on the way.
    let log = delivered_log(&gw, &endpoint).await;
    assert_eq!(log.len(), 13);
    let errors: Vec<&str> = log
        .iter()
        .filter_map(|d| d["last_error"].as_str())
        .collect();
    // Each delivery keeps its last error: the five failures hit the first delivery in turn
    // (the others of its conversation wait behind it), the refusals hit conversation C's.
    for expected in ["timed out", "Connection refused"] {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected} in {errors:?}"
        );
    }
    let attempts: i64 = log.iter().map(|d| d["attempts"].as_i64().unwrap()).sum();
    assert!(attempts >= 13 + 5, "{attempts} attempts");
}

#[tokio::test]
async fn a_delivery_failing_past_its_retry_time_is_marked_failed_and_can_be_replayed() {
    let gw = gateway(1).await;
    let channel = gw.demo_channel().await;
    let receiver = Receiver::start().await;
    let endpoint = register(&gw, &receiver, json!({"events": ["conversation.created"]})).await;
    receiver.fail_next(std::iter::repeat_n(Failure::Status(500), 1000));
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.say("m1", "Hello").await;

    let failed = tokio::time::timeout(WAIT, async {
        loop {
            let log = delivery_log(&gw, &endpoint).await;
            if log.len() == 1 && log[0]["status"] == "failed" {
                return log[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the delivery is given up within its retry time");
    assert_eq!(failed["event_type"], "conversation.created");
    assert_eq!(failed["last_status"], 500);
    assert!(failed["attempts"].as_i64().unwrap() >= 2, "{failed}");
    assert!(failed["next_attempt_at_ms"].is_null());
    assert!(receiver.accepted().is_empty());

    // The receiver is fixed; the delivery log's replay sends it again, once.
    receiver.stop_failing();
    let replay = format!(
        "/v1/channels/{}/webhooks/{endpoint}/deliveries/{}/replay",
        channel.id,
        failed["id"].as_str().unwrap()
    );
    let anonymous = reqwest::Client::new()
        .post(gw.url(&replay))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let replayed = call(&gw, &channel.secret, Method::POST, &replay, None).await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.body["status"], "pending");
    let accepted = receiver.wait_for(1, WAIT).await;
    assert_eq!(accepted[0].id, failed["event_id"].as_str().unwrap());
    call(
        &gw,
        &channel.secret,
        Method::POST,
        &replay.replace(failed["id"].as_str().unwrap(), "no-such-delivery"),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_delivery_log_forgets_finished_deliveries_only() {
    let gw = gateway(600).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&gw, &receiver, json!({})).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.say("m1", "Hello").await;
    receiver.wait_for(2, WAIT).await;
    receiver.fail_next(std::iter::repeat_n(Failure::Status(500), 1000));
    socket.say("m2", "Again").await;
    tokio::time::timeout(WAIT, async {
        while !delivery_log(&gw, &endpoint)
            .await
            .iter()
            .any(|d| d["attempts"].as_i64() > Some(0) && d["status"] == "pending")
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the third delivery is failing");

    let pruned = gw
        .state
        .store
        .prune_outbox(gateway::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    let log = delivery_log(&gw, &endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "pending");
    receiver.stop_failing();
    receiver.wait_for(3, WAIT).await;
}
