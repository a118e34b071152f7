//! Abuse limits, each refusal with the stable `rate_limited` code.

use protocol::{VisitorClientFrame, VisitorServerFrame};
use reqwest::StatusCode;
use tests::client::{bootstrap, open_session, Visitor};
use tests::{test_redis, TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn one_ip_opening_sessions_in_a_loop_is_slowed_down() {
    let gw = TestGateway::spawn_with(|c| c.sessions_per_ip_per_minute = 3).await;
    // Each session needs a fresh page view: a ticket opens one chat.
    for _ in 0..3 {
        let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
        assert_eq!(
            open_session(&gw, SITE_ORIGIN, &ticket, None).await.status,
            StatusCode::OK
        );
    }
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let response = reqwest::Client::new()
        .post(gw.url("/v1/sessions"))
        .header("origin", SITE_ORIGIN)
        .json(&serde_json::json!({"channel_key": "demo", "visit_ticket": ticket}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=21).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn a_flood_of_uploads_counts_against_the_visitors_message_limit() {
    let gw = TestGateway::spawn_with(|c| c.messages_per_session_per_minute = 6).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let (mut stored, mut refused) = (0, 0);
    for i in 0..25 {
        let response = visitor
            .upload(&gw, "note.txt", &format!("k{i}"), b"hello\n".to_vec())
            .await;
        match response.status() {
            StatusCode::CREATED => stored += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "rate_limited");
                refused += 1;
            }
            other => panic!("upload {i}: {other}"),
        }
    }
    // The same burst of 20 as messages; an upload is a message's worth.
    assert_eq!((stored, refused), (20, 5));
}

#[tokio::test]
async fn a_flood_of_messages_is_refused_per_message_and_nothing_refused_is_stored() {
    let gw = TestGateway::spawn_with(|c| c.messages_per_session_per_minute = 6).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.recv::<VisitorServerFrame>().await;
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for i in 0..25 {
        socket
            .send(&VisitorClientFrame::Send {
                client_id: format!("m{i}"),
                text: "spam".into(),
                attachments: Vec::new(),
            })
            .await;
        match socket
            .recv_until(|f| {
                matches!(
                    f,
                    VisitorServerFrame::Ack { .. } | VisitorServerFrame::Error { .. }
                )
            })
            .await
        {
            VisitorServerFrame::Ack {
                conversation_id, ..
            } => acked.push(conversation_id),
            VisitorServerFrame::Error {
                code, client_id, ..
            } => {
                assert_eq!(
                    (code.as_str(), client_id),
                    ("rate_limited", Some(format!("m{i}")))
                );
                refused.push(i);
            }
            _ => unreachable!(),
        }
    }
    // The burst of 20 passes; the rest of an instant flood does not.
    assert_eq!((acked.len(), refused.len()), (20, 5));
    assert_eq!(gw.stored(&acked[0]).await.len(), 20);
}

#[tokio::test]
async fn many_sessions_from_one_address_share_its_message_limit() {
    let gw = TestGateway::spawn_with(|c| c.messages_per_ip_per_minute = 6).await;
    let mut refused = 0;
    // Three sessions, each well inside its own limit; together past the address's burst of 40.
    for tab in 0..3 {
        let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
        let mut socket = visitor.connect(&gw, None).await;
        socket.recv::<VisitorServerFrame>().await;
        for i in 0..15 {
            socket
                .send(&VisitorClientFrame::Send {
                    client_id: format!("t{tab}-{i}"),
                    text: "x".into(),
                    attachments: Vec::new(),
                })
                .await;
            if let VisitorServerFrame::Error { code, .. } = socket
                .recv_until(|f| {
                    matches!(
                        f,
                        VisitorServerFrame::Ack { .. } | VisitorServerFrame::Error { .. }
                    )
                })
                .await
            {
                assert_eq!(code, "rate_limited");
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 45 - 40);
}

/// Behind a load balancer each request may land on another gateway: with Redis, the gateways on
/// one database share each limit, so spreading sessions over them gains nothing.
#[tokio::test]
async fn gateways_sharing_redis_share_their_limits() {
    let Some(redis) = test_redis() else {
        return;
    };
    let relay = redis.clone();
    let a = TestGateway::spawn_with(move |c| {
        c.redis_url = Some(relay);
        c.sessions_per_ip_per_minute = 4;
    })
    .await;
    let shared = a.database_url();
    let b = TestGateway::spawn_with(move |c| {
        c.database_url = shared;
        c.redis_url = Some(redis);
        c.sessions_per_ip_per_minute = 4;
    })
    .await;
    let mut statuses = Vec::new();
    for gw in [&a, &b, &a, &b, &a, &b] {
        let ticket = bootstrap(gw, SITE_ORIGIN, None).await.visit_ticket;
        statuses.push(open_session(gw, SITE_ORIGIN, &ticket, None).await.status);
    }
    let opened = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(opened, 4, "{statuses:?}: four in all, not four per gateway");
    assert_eq!(statuses[4..], [StatusCode::TOO_MANY_REQUESTS; 2]);

    // Another deployment on the same Redis (its own database) has its own buckets.
    let other = TestGateway::spawn_with(move |c| {
        c.redis_url = test_redis();
        c.sessions_per_ip_per_minute = 4;
    })
    .await;
    let ticket = bootstrap(&other, SITE_ORIGIN, None).await.visit_ticket;
    assert_eq!(
        open_session(&other, SITE_ORIGIN, &ticket, None)
            .await
            .status,
        StatusCode::OK
    );
}
