//! The channel's inactivity timeout, enforced by the gateway: a visitor who sends nothing
//! (message or typing) for that long has the session ended on the server, is told why, and can
//! start again into the same conversation.

use protocol::{EndReason, VisitorClientFrame, VisitorServerFrame};
use std::time::{Duration, Instant};
use tests::client::{Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

async fn gateway_with_timeout(secs: i64) -> TestGateway {
    let gw = TestGateway::spawn().await;
    gw.edit_demo_channel(|c| c.inactivity_timeout_secs = secs)
        .await;
    gw
}

async fn ended(socket: &mut Socket) -> VisitorServerFrame {
    socket
        .recv_until(|f| matches!(f, VisitorServerFrame::SessionEnded { .. }))
        .await
}

#[tokio::test]
async fn an_idle_session_is_ended_by_the_gateway_and_its_token_opens_nothing_again() {
    let gw = gateway_with_timeout(1).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket
        .send(&VisitorClientFrame::Send {
            client_id: "m1".into(),
            text: "hello?".into(),
            attachments: Vec::new(),
        })
        .await;
    let started = Instant::now();
    let frame = ended(&mut socket).await;
    assert_eq!(
        frame,
        VisitorServerFrame::SessionEnded {
            reason: EndReason::Inactive,
            after_secs: 1
        }
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "ended after {waited:?}"
    );
    assert!(
        socket.closes_within(Duration::from_secs(2)).await,
        "the gateway closes the socket"
    );

    let url = gw.ws_url(&format!(
        "/v1/visitor/ws?token={}",
        visitor.session.session_token
    ));
    match Socket::connect(&url, Some(SITE_ORIGIN), None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            let body = String::from_utf8(response.into_body().unwrap_or_default()).unwrap();
            assert!(body.contains("session_ended"), "{body}");
        }
        other => panic!(
            "an ended session must not reopen, got {:?}",
            other.map(|_| ())
        ),
    }

    // Starting again: a new session for the same browser finds the conversation, whole.
    let again = Visitor::arrive_with_ticket(&gw, SITE_ORIGIN, Some(&visitor.ticket)).await;
    let mut socket = again.connect(&gw, None).await;
    let conversation = match socket.recv::<VisitorServerFrame>().await {
        VisitorServerFrame::Ready {
            conversation_id, ..
        } => conversation_id.expect("kept"),
        other => panic!("expected ready, got {other:?}"),
    };
    match socket.recv::<VisitorServerFrame>().await {
        VisitorServerFrame::Message { message } => {
            assert_eq!((message.text.as_str(), message.seq), ("hello?", 1))
        }
        other => panic!("expected the history, got {other:?}"),
    }
    assert_eq!(
        gw.conversation(&conversation).await.status,
        protocol::ConversationStatus::Waiting
    );
}

#[tokio::test]
async fn typing_and_messages_keep_the_session_alive() {
    let gw = gateway_with_timeout(2).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let started = Instant::now();
    for step in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        if step == 1 {
            socket
                .send(&VisitorClientFrame::Send {
                    client_id: "m1".into(),
                    text: "still here".into(),
                    attachments: Vec::new(),
                })
                .await;
        } else {
            socket.send(&VisitorClientFrame::Typing).await;
        }
    }
    // 2.4 s in, with activity every 0.8 s against a 2 s timeout: not ended. Then silence ends it.
    let frame = ended(&mut socket).await;
    assert!(matches!(
        frame,
        VisitorServerFrame::SessionEnded {
            reason: EndReason::Inactive,
            ..
        }
    ));
    assert!(
        started.elapsed() >= Duration::from_millis(4200),
        "ended too early: {:?}",
        started.elapsed()
    );
}
