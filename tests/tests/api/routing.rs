//! Routing to agents: fewest conversations first with round-robin ties, capacity, and the race
//! of two agents accepting one conversation.

use futures_util::future::join_all;
use protocol::{ConversationStatus, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tests::client::{agent_login, agent_present, call, login, visitor_writes, Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

/// Syncs an agent with a password and capacity, logs it in and connects its console.
async fn agent_on_shift(
    gw: &TestGateway,
    admin: &str,
    name: &str,
    capacity: u32,
) -> (String, String, Socket) {
    let email = format!("{name}@example.test");
    let body =
        json!({"email": email, "name": name, "password": "a long password", "capacity": capacity});
    let synced = call(
        gw,
        admin,
        Method::PUT,
        &format!("/v1/admin/agents/external/{name}"),
        Some(body),
    )
    .await;
    assert!(synced.status.is_success(), "{}", synced.body);
    let token = login(gw, &email, "a long password").await;
    let socket = agent_present(gw, &token).await;
    (
        synced.body["id"].as_str().unwrap().to_owned(),
        token,
        socket,
    )
}

/// Conversations held by each agent (assigned, not closed), polled until `settled` says so.
async fn holdings_until(
    gw: &TestGateway,
    ids: &[String],
    settled: impl Fn(&BTreeMap<String, usize>, usize) -> bool,
) -> (BTreeMap<String, usize>, usize) {
    let start = Instant::now();
    loop {
        let mut held: BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 0)).collect();
        let mut waiting = 0;
        for c in gw
            .state
            .store
            .active_conversations(None, None, 1000)
            .await
            .unwrap()
        {
            match c.assigned_agent_id {
                Some(agent) => *held.entry(agent).or_default() += 1,
                None => waiting += 1,
            }
        }
        if settled(&held, waiting) {
            return (held, waiting);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not settled: {held:?}, {waiting} waiting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn conversations_go_to_the_least_busy_agent_in_turn_and_never_past_capacity() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let mut team = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        team.push(agent_on_shift(&gw, &admin, name, 2).await);
    }
    let ids: Vec<String> = team.iter().map(|(id, _, _)| id.clone()).collect();

    // One after the other: each goes to the next agent in turn.
    let mut first_round = Vec::new();
    for n in 0..3 {
        visitor_writes(&gw, SITE_ORIGIN, &format!("question {n}")).await;
        let (held, _) = holdings_until(&gw, &ids, |h, _| h.values().sum::<usize>() == n + 1).await;
        first_round.push(held);
    }
    let last = first_round.last().unwrap();
    assert!(
        last.values().all(|&n| n == 1),
        "one each before anyone gets a second: {last:?}"
    );

    // A burst: six more arrive at once for three free slots.
    join_all((0..6).map(|n| {
        let gw = &gw;
        async move { visitor_writes(gw, SITE_ORIGIN, &format!("burst {n}")).await }
    }))
    .await;
    let (held, waiting) =
        holdings_until(&gw, &ids, |h, w| h.values().sum::<usize>() == 6 && w == 3).await;
    assert!(held.values().all(|&n| n == 2), "capacity 2 each: {held:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (held, waiting_later) = holdings_until(&gw, &ids, |_, _| true).await;
    assert_eq!(
        (held.values().sum::<usize>(), waiting_later),
        (6, waiting),
        "nobody over capacity"
    );

    // A freed slot (here: more capacity) lets the oldest waiting conversation through.
    call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/ann",
        Some(json!({"capacity": 3})),
    )
    .await;
    let (held, waiting) = holdings_until(&gw, &ids, |_, w| w == 2).await;
    assert_eq!((held[&ids[0]], waiting), (3, 2));
    drop(team);
}

#[tokio::test]
async fn of_two_agents_accepting_at_once_one_wins_and_the_other_is_told() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let off = call(
        &gw,
        &admin,
        Method::PATCH,
        "/v1/admin/queues/default",
        Some(json!({"auto_assign": false})),
    )
    .await;
    assert_eq!(off.body["auto_assign"], false, "{}", off.body);
    let (_, ann, _ann_socket) = agent_on_shift(&gw, &admin, "ann", 10).await;
    let (_, bob, _bob_socket) = agent_on_shift(&gw, &admin, "bob", 10).await;

    for n in 0..10 {
        let conversation = visitor_writes(&gw, SITE_ORIGIN, &format!("question {n}")).await;
        assert_eq!(
            gw.conversation(&conversation).await.assigned_agent_id,
            None,
            "waits in the queue"
        );
        let path = format!("/v1/conversations/{conversation}/accept");
        let (a, b) = tokio::join!(
            call(&gw, &ann, Method::POST, &path, None),
            call(&gw, &bob, Method::POST, &path, None),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} / {}",
            a.body,
            b.body
        );
        let loser = if a.status == StatusCode::CONFLICT {
            &a
        } else {
            &b
        };
        assert_eq!(loser.code(), "conversation_taken");
        let winner = if a.status == StatusCode::OK {
            (&a, &ann)
        } else {
            (&b, &bob)
        };
        assert_eq!(
            gw.conversation(&conversation)
                .await
                .assigned_agent_id
                .as_deref(),
            winner.0.body["assigned_agent_id"].as_str()
        );
        // Accepting what one already holds is no error.
        assert_eq!(
            call(&gw, winner.1, Method::POST, &path, None).await.status,
            StatusCode::OK
        );
    }
    call(
        &gw,
        &ann,
        Method::POST,
        "/v1/conversations/nope/accept",
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "conversation_not_found");
}

#[tokio::test]
async fn transfer_with_a_note_close_and_reopen_within_the_window() {
    let gw = TestGateway::spawn_with(|c| c.reopen_window_secs = 2).await;
    let admin = agent_login(&gw).await;
    let (ann_id, ann, _ann_socket) = agent_on_shift(&gw, &admin, "ann", 5).await;
    let (bob_id, _, _bob_socket) = agent_on_shift(&gw, &admin, "bob", 5).await;
    let billing = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/queues",
        Some(json!({"name": "Billing"})),
    )
    .await;
    let billing = billing.body["id"].as_str().unwrap().to_owned();

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    let conversation = widget.say("v1", "My invoice is wrong").await.0;
    let ids = [ann_id.clone(), bob_id.clone()];
    holdings_until(&gw, &ids, |h, _| h.values().sum::<usize>() == 1).await;

    let path = |action: &str| format!("/v1/conversations/{conversation}/{action}");
    let to_bob = json!({"agent_id": bob_id, "note": "Bob knows invoices"});
    let moved = call(&gw, &ann, Method::POST, &path("transfer"), Some(to_bob)).await;
    assert_eq!(
        moved.body["assigned_agent_id"],
        bob_id.as_str(),
        "{}",
        moved.body
    );
    let to_billing = json!({"queue_id": billing, "note": "for the billing team"});
    let moved = call(&gw, &ann, Method::POST, &path("transfer"), Some(to_billing)).await;
    assert_eq!(
        (
            moved.body["status"].as_str(),
            &moved.body["assigned_agent_id"]
        ),
        (Some("waiting"), &json!(null)),
        "nobody works billing yet"
    );
    let nowhere = call(
        &gw,
        &ann,
        Method::POST,
        &path("transfer"),
        Some(json!({"queue_id": "nope"})),
    )
    .await;
    nowhere.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let events = call(&gw, &ann, Method::GET, &path("events"), None).await;
    let notes: Vec<&str> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert_eq!(notes, ["Bob knows invoices", "for the billing team"]);

    // Closed by an agent: the visitor is told; writing again reopens the same conversation.
    let closed = call(&gw, &ann, Method::POST, &path("close"), None).await;
    assert_eq!(closed.body["status"], "closed", "{}", closed.body);
    match widget
        .recv_until(|f| matches!(f, VisitorServerFrame::Status { .. }))
        .await
    {
        VisitorServerFrame::Status {
            conversation_id,
            status,
        } => {
            assert_eq!(
                (conversation_id.as_str(), status),
                (conversation.as_str(), ConversationStatus::Closed)
            )
        }
        _ => unreachable!(),
    }
    call(&gw, &ann, Method::POST, &path("close"), None)
        .await
        .assert_error(StatusCode::CONFLICT, "conversation_closed");
    assert_eq!(widget.say("v2", "Still wrong").await.0, conversation);
    assert_ne!(
        gw.conversation(&conversation).await.status,
        ConversationStatus::Closed
    );
    assert_eq!(
        gw.stored(&conversation).await.len(),
        2,
        "one conversation, whole history"
    );

    // After the window, the next message starts a new conversation.
    call(&gw, &ann, Method::POST, &path("close"), None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_ne!(widget.say("v3", "New question").await.0, conversation);
}
