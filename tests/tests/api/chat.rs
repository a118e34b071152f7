//! The chat path over real sockets: ack after commit, idempotent resend, replay on reconnect,
//! live delivery both ways, and survival of a gateway restart.

use protocol::{
    AgentClientFrame, AgentServerFrame, Author, ConversationStatus, VisitorClientFrame,
    VisitorServerFrame,
};
use std::time::Duration;
use tests::client::{agent_login, agent_socket, Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

fn send(client_id: &str, text: &str) -> VisitorClientFrame {
    VisitorClientFrame::Send {
        client_id: client_id.into(),
        text: text.into(),
        attachments: Vec::new(),
    }
}

async fn ready(socket: &mut Socket) -> Option<String> {
    match socket.recv::<VisitorServerFrame>().await {
        VisitorServerFrame::Ready {
            conversation_id, ..
        } => conversation_id,
        other => panic!("expected ready, got {other:?}"),
    }
}

#[tokio::test]
async fn opening_the_widget_creates_no_conversation() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    assert_eq!(ready(&mut socket).await, None);
    drop(socket);
    assert!(gw
        .state
        .store
        .active_conversations(None, None, 1000)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_first_message_creates_the_conversation_and_is_acked_after_commit() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    ready(&mut socket).await;
    let (conversation, seq) = socket.say("m-1", "Hello, is anyone there?").await;
    assert_eq!(seq, 1);
    // The ack means committed: the store has it.
    let stored = gw.stored(&conversation).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].text.as_str(), &stored[0].author),
        ("Hello, is anyone there?", &Author::Visitor)
    );
    let summary = gw.conversation(&conversation).await;
    assert_eq!(summary.status, ConversationStatus::Waiting);
    assert_eq!(
        summary.page_url.as_deref(),
        Some("http://site.test/pricing")
    );
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_returns_the_same_seq_without_a_copy() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    ready(&mut socket).await;
    let first = socket.say("m-1", "one").await;
    let second = socket.say("m-2", "two").await;
    // The ack of m-2 was "lost": the widget reconnects and resends both.
    drop(socket);
    let mut socket = visitor.connect(&gw, Some((&first.0, 2))).await;
    ready(&mut socket).await;
    assert_eq!(socket.say("m-2", "two").await, second);
    assert_eq!(socket.say("m-1", "one").await, first);
    let stored = gw.stored(&first.0).await;
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
}

#[tokio::test]
async fn two_tabs_writing_at_once_share_one_gap_free_conversation() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut socket = visitor.connect(&gw, None).await;
        ready(&mut socket).await;
        tabs.push(socket);
    }
    let mut handles = Vec::new();
    for (tab, mut socket) in tabs.into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..10 {
                acks.push(socket.say(&format!("t{tab}-{i}"), "x").await);
            }
            acks
        }));
    }
    let mut acks = Vec::new();
    for handle in handles {
        acks.extend(handle.await.unwrap());
    }
    let conversation = &acks[0].0;
    assert!(
        acks.iter().all(|(c, _)| c == conversation),
        "both tabs must land in one conversation"
    );
    let mut seqs: Vec<i64> = acks.iter().map(|(_, s)| *s).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

/// Reads message frames until `count` arrived; fails on anything unexpected.
async fn messages(socket: &mut Socket, count: usize) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    while out.len() < count {
        match socket.recv::<VisitorServerFrame>().await {
            VisitorServerFrame::Message { message } => out.push((message.seq, message.text)),
            other => panic!("expected a message, got {other:?}"),
        }
    }
    out
}

#[tokio::test]
async fn reconnecting_replays_exactly_what_the_client_lacks() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    ready(&mut socket).await;
    let (conversation, _) = socket.say("a", "first").await;
    socket.say("b", "second").await;
    socket.say("c", "third").await;
    drop(socket);

    let mut resumed = visitor.connect(&gw, Some((&conversation, 1))).await;
    assert_eq!(
        ready(&mut resumed).await.as_deref(),
        Some(conversation.as_str())
    );
    assert_eq!(
        messages(&mut resumed, 2).await,
        vec![(2, "second".into()), (3, "third".into())]
    );
    assert!(
        resumed.is_quiet(Duration::from_millis(300)).await,
        "nothing beyond the gap is replayed"
    );

    // A reload knows nothing: it gets the whole history once.
    let mut reloaded = visitor.connect(&gw, None).await;
    ready(&mut reloaded).await;
    let all = messages(&mut reloaded, 3).await;
    assert_eq!(
        all.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(reloaded.is_quiet(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn an_agent_sees_the_conversation_arrive_and_the_visitor_sees_the_reply_at_once() {
    let gw = TestGateway::spawn().await;
    let token = agent_login(&gw).await;
    let mut agent = agent_socket(&gw, &token).await;
    match agent.recv::<AgentServerFrame>().await {
        AgentServerFrame::Inbox { conversations, .. } => assert!(conversations.is_empty()),
        other => panic!("expected inbox, got {other:?}"),
    }

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    ready(&mut widget).await;
    let (conversation, _) = widget.say("v1", "Do you ship to Norway?").await;

    // The inbox learns of it without asking.
    match agent.recv::<AgentServerFrame>().await {
        AgentServerFrame::Conversation { conversation: c } => {
            assert_eq!(
                (c.id.as_str(), c.last_text.as_str()),
                (conversation.as_str(), "Do you ship to Norway?")
            );
            assert_eq!(c.status, ConversationStatus::Waiting);
        }
        other => panic!("expected a conversation update, got {other:?}"),
    }
    agent
        .send(&AgentClientFrame::Open {
            conversation_id: conversation.clone(),
            resume_after: 0,
        })
        .await;
    // (Routing may announce the conversation's assignment to this agent meanwhile.)
    match agent
        .recv_until(|f| matches!(f, AgentServerFrame::Message { .. }))
        .await
    {
        AgentServerFrame::Message { message } => assert_eq!(message.text, "Do you ship to Norway?"),
        other => panic!("expected the history, got {other:?}"),
    }

    let reply = AgentClientFrame::Send {
        conversation_id: conversation.clone(),
        client_id: "a1".into(),
        text: "Yes, in 3 days.".into(),
        attachments: Vec::new(),
    };
    agent.send(&reply).await;
    let acked = agent
        .recv_until(|f| matches!(f, AgentServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(acked, AgentServerFrame::Ack { seq: 2, .. }),
        "{acked:?}"
    );

    // The visitor's own message came back as an event first, then the agent's reply.
    let got = widget
        .recv_until(|f| matches!(f, VisitorServerFrame::Message { message } if message.seq == 2))
        .await;
    match got {
        VisitorServerFrame::Message { message } => {
            assert_eq!(message.text, "Yes, in 3 days.");
            assert!(
                matches!(message.author, Author::Agent { ref name, .. } if name == "Dana (demo agent)")
            );
        }
        _ => unreachable!(),
    }
    let summary = gw.conversation(&conversation).await;
    assert_eq!(summary.status, ConversationStatus::Open);

    // The agent's idempotency works the same way.
    agent.send(&reply).await;
    let again = agent
        .recv_until(|f| matches!(f, AgentServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(again, AgentServerFrame::Ack { seq: 2, .. }),
        "{again:?}"
    );
    assert_eq!(gw.stored(&conversation).await.len(), 2);
}

#[tokio::test]
async fn history_survives_a_gateway_restart() {
    let mut gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    ready(&mut socket).await;
    let (conversation, _) = socket.say("a", "before the restart").await;
    drop(socket);

    gw.restart().await;

    // The session token and ticket still verify: the signing key lives in the database.
    let mut socket = visitor.connect(&gw, None).await;
    assert_eq!(
        ready(&mut socket).await.as_deref(),
        Some(conversation.as_str())
    );
    assert_eq!(
        messages(&mut socket, 1).await,
        vec![(1, "before the restart".into())]
    );
    assert_eq!(socket.say("b", "after").await, (conversation, 2));
}

#[tokio::test]
async fn limits_are_answered_with_error_frames_and_the_socket_stays_usable() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    ready(&mut socket).await;

    let cases = [
        (
            serde_json::to_string(&send("e1", "   ")).unwrap(),
            "message_empty",
        ),
        (
            serde_json::to_string(&send("e2", &"a".repeat(protocol::MAX_MESSAGE_CHARS + 1)))
                .unwrap(),
            "message_too_long",
        ),
        (
            format!(
                r#"{{"type":"send","client_id":"e3","text":"{}"}}"#,
                "a".repeat(protocol::MAX_FRAME_BYTES)
            ),
            "frame_too_large",
        ),
        ("{\"type\":\"dance\"}".to_owned(), "invalid_frame"),
    ];
    for (frame, code) in cases {
        socket.send_text(frame).await;
        match socket.recv::<VisitorServerFrame>().await {
            VisitorServerFrame::Error { code: got, .. } => assert_eq!(got, code),
            other => panic!("expected {code}, got {other:?}"),
        }
    }
    assert_eq!(socket.say("ok", "still works").await.1, 1);
}

#[tokio::test]
async fn typing_shows_both_ways_and_is_never_stored() {
    let gw = TestGateway::spawn().await;
    let token = agent_login(&gw).await;
    let mut agent = agent_socket(&gw, &token).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    ready(&mut widget).await;
    let (conversation, _) = widget.say("v1", "Hello").await;
    agent
        .send(&AgentClientFrame::Open {
            conversation_id: conversation.clone(),
            resume_after: 0,
        })
        .await;
    agent
        .recv_until(|f| matches!(f, AgentServerFrame::Message { .. }))
        .await;

    widget.send(&VisitorClientFrame::Typing).await;
    let typing = agent
        .recv_until(|f| matches!(f, AgentServerFrame::Typing { .. }))
        .await;
    assert_eq!(
        typing,
        AgentServerFrame::Typing {
            conversation_id: conversation.clone()
        }
    );
    agent
        .send(&AgentClientFrame::Typing {
            conversation_id: conversation.clone(),
        })
        .await;
    let typing = widget
        .recv_until(|f| matches!(f, VisitorServerFrame::Typing { .. }))
        .await;
    assert_eq!(
        typing,
        VisitorServerFrame::Typing {
            agent_name: gateway::demo::AGENT_NAME.into()
        }
    );
    assert_eq!(
        gw.stored(&conversation).await.len(),
        1,
        "typing stores nothing"
    );
}

#[tokio::test]
async fn what_an_agent_has_read_is_kept_for_the_next_console() {
    let gw = TestGateway::spawn().await;
    let token = agent_login(&gw).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    ready(&mut widget).await;
    let (conversation, _) = widget.say("v1", "one").await;
    widget.say("v2", "two").await;

    let mut console = agent_socket(&gw, &token).await;
    let read_of = |frame: AgentServerFrame| match frame {
        AgentServerFrame::Inbox { read, .. } => read,
        other => panic!("expected the inbox, got {other:?}"),
    };
    assert!(read_of(console.recv().await).is_empty(), "nothing read yet");
    for seq in [2, 1] {
        console
            .send(&AgentClientFrame::Read {
                conversation_id: conversation.clone(),
                seq,
            })
            .await;
    }
    // Frames are handled in order: a second console connecting after this one's frames
    // (sent before it closes) sees the furthest point, never moved back.
    drop(console);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut next = agent_socket(&gw, &token).await;
    assert_eq!(read_of(next.recv().await).get(&conversation), Some(&2));
}
