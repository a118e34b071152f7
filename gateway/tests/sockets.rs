//! Both sockets driven as functions: their per-frame and per-event steps called directly, and
//! their loops run over in-memory channels in place of a websocket, on a real store (a
//! temporary SQLite file with the demo channel and agent).

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use gateway::agents::socket::AgentSocket;
use gateway::auth::AuthAgent;
use gateway::auth::SessionClaims;
use gateway::hub::HubEvent;
use gateway::socket::{Incoming, Step};
use gateway::state::AppState;
use gateway::store::ChannelRecord;
use gateway::telemetry::SocketKind;
use gateway::visitors::socket::VisitorSocket;
use protocol::{codes, AgentClientFrame, AgentServerFrame, VisitorClientFrame, VisitorServerFrame};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

mod common;
use common::demo_state;

const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn claims(channel: &ChannelRecord, visitor_id: &str) -> SessionClaims {
    SessionClaims {
        session_id: format!("session-of-{visitor_id}"),
        channel_id: channel.id.clone(),
        visitor_id: visitor_id.into(),
        origin: None,
        page_url: Some("https://shop.example/pricing".into()),
        visit: Some(1),
        user_agent: None,
        offline: false,
        greeting: None,
        expires_at_ms: i64::MAX,
    }
}

async fn demo_agent(state: &AppState, scope: Option<&str>) -> AuthAgent {
    AuthAgent {
        agent: state
            .store
            .agent_by_email(gateway::demo::AGENT_EMAIL)
            .await
            .unwrap()
            .expect("demo agent"),
        token: "not-a-real-login".into(),
        scope: scope.map(str::to_owned),
    }
}

/// The client end of an in-memory socket.
struct Client {
    to_socket: Option<mpsc::Sender<Result<Message, axum::Error>>>,
    from_socket: mpsc::Receiver<Message>,
}

type SocketOut = std::pin::Pin<Box<dyn Sink<Message, Error = ()> + Send>>;

/// A client and the socket's two halves, as `ws.split()` gives them in production.
fn pipe() -> (
    Client,
    SocketOut,
    impl Stream<Item = Result<Message, axum::Error>> + Unpin,
) {
    let (to_socket, socket_in) = mpsc::channel(16);
    let (socket_out, from_socket) = mpsc::channel::<Message>(64);
    let out: SocketOut = Box::pin(futures_util::sink::unfold(
        socket_out,
        |tx, message: Message| async move { tx.send(message).await.map(|()| tx).map_err(|_| ()) },
    ));
    let client = Client {
        to_socket: Some(to_socket),
        from_socket,
    };
    (client, out, ReceiverStream::new(socket_in))
}

impl Client {
    async fn send(&self, text: &str) {
        let message = Message::Text(text.to_owned().into());
        self.to_socket
            .as_ref()
            .expect("open")
            .send(Ok(message))
            .await
            .expect("socket reads");
    }

    async fn send_frame(&self, frame: &impl serde::Serialize) {
        self.send(&serde_json::to_string(frame).unwrap()).await;
    }

    /// The next frame the socket writes, as `T`.
    async fn next<T: DeserializeOwned>(&mut self) -> T {
        let message = tokio::time::timeout(Duration::from_secs(10), self.from_socket.recv())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is still writing");
        match message {
            Message::Text(text) => serde_json::from_str(text.as_str()).expect("a frame"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Frames until one matches, skipping the others (live copies of messages, say).
    async fn until<T: DeserializeOwned + std::fmt::Debug>(
        &mut self,
        wanted: impl Fn(&T) -> bool,
    ) -> T {
        for _ in 0..20 {
            let frame: T = self.next().await;
            if wanted(&frame) {
                return frame;
            }
        }
        panic!("no matching frame in 20");
    }
}

#[test]
fn a_visitor_socket_passes_agents_typing_and_status_and_resyncs_after_a_lag() {
    let typing = |agent_name: Option<&str>| {
        VisitorSocket::on_hub_event(Ok(HubEvent::Typing {
            conversation_id: "c".into(),
            agent_name: agent_name.map(str::to_owned),
        }))
    };
    assert_eq!(
        typing(Some("Dana")),
        Step::Reply(VisitorServerFrame::Typing {
            agent_name: "Dana".into()
        })
    );
    assert_eq!(typing(None), Step::Nothing, "the visitor's own typing");
    assert_eq!(
        VisitorSocket::on_hub_event(Err(RecvError::Lagged(3))),
        Step::Resync
    );
    assert_eq!(
        VisitorSocket::on_hub_event(Ok(HubEvent::Resync)),
        Step::Resync
    );
    assert_eq!(
        VisitorSocket::on_hub_event(Err(RecvError::Closed)),
        Step::Close
    );
}

#[test]
fn an_agent_socket_shows_the_visitor_typing_only() {
    let typing = |agent_name: Option<&str>| {
        AgentSocket::on_conversation_event(Ok(HubEvent::Typing {
            conversation_id: "c".into(),
            agent_name: agent_name.map(str::to_owned),
        }))
    };
    assert_eq!(
        typing(None),
        Step::Reply(AgentServerFrame::Typing {
            conversation_id: "c".into()
        })
    );
    assert_eq!(typing(Some("Dana")), Step::Nothing, "an agent's own typing");
    assert_eq!(
        AgentSocket::on_conversation_event(Err(RecvError::Lagged(1))),
        Step::Resync
    );
}

/// A visitor's socket on the demo channel, admitted, with nothing to resume.
fn visitor_socket(state: &AppState, channel: &ChannelRecord, visitor_id: &str) -> VisitorSocket {
    let admission = state.sockets.admit(SocketKind::Visitor).unwrap();
    VisitorSocket::new(
        state.clone(),
        channel,
        claims(channel, visitor_id),
        IP,
        None,
        admission,
    )
}

#[tokio::test]
async fn a_visitor_message_is_acked_once_per_client_id_and_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (state, channel) = demo_state(&dir).await;
    let mut socket = visitor_socket(&state, &channel, "v1");
    let send = |client_id: &str| {
        Incoming::Frame(VisitorClientFrame::Send {
            client_id: client_id.into(),
            text: "Do you ship to Norway?".into(),
            attachments: Vec::new(),
        })
    };
    let Step::Reply(VisitorServerFrame::Ack {
        seq,
        conversation_id,
        ..
    }) = socket.on_client_frame(send("c1")).await
    else {
        panic!("a committed message is acked");
    };
    assert_eq!(seq, 1);
    let again = socket.on_client_frame(send("c1")).await;
    assert_eq!(
        again,
        Step::Reply(VisitorServerFrame::Ack {
            client_id: "c1".into(),
            conversation_id: conversation_id.clone(),
            seq: 1
        }),
        "a resend is acked with the stored seq"
    );
    let stored = state
        .store
        .messages_after(&conversation_id, 0, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "stored once");

    let refused = socket
        .on_client_frame(gateway::socket::decode("{\"type\":\"shout\"}"))
        .await;
    let Step::Reply(VisitorServerFrame::Error {
        code, client_id, ..
    }) = refused
    else {
        panic!("an unreadable frame is refused, not ignored: {refused:?}");
    };
    assert_eq!((code.as_str(), client_id), (codes::INVALID_FRAME, None));
    assert_eq!(socket.on_client_frame(Incoming::Closed).await, Step::Close);
}

#[tokio::test]
async fn a_scoped_login_cannot_follow_another_channels_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let (state, channel) = demo_state(&dir).await;
    let mut visitor = visitor_socket(&state, &channel, "v2");
    let Step::Reply(VisitorServerFrame::Ack {
        conversation_id, ..
    }) = visitor
        .on_client_frame(Incoming::Frame(VisitorClientFrame::Send {
            client_id: "c1".into(),
            text: "hello".into(),
            attachments: Vec::new(),
        }))
        .await
    else {
        panic!("acked");
    };
    let open = || {
        Incoming::Frame(AgentClientFrame::Open {
            conversation_id: conversation_id.clone(),
            resume_after: 0,
        })
    };
    let mut elsewhere = AgentSocket::new(state.clone(), demo_agent(&state, Some("other")).await);
    let refused = elsewhere.on_client_frame(open()).await.unwrap();
    assert!(
        matches!(&refused, Step::Reply(AgentServerFrame::Error { code, .. }) if code == codes::CONVERSATION_NOT_FOUND),
        "{refused:?}"
    );
    let mut full = AgentSocket::new(state.clone(), demo_agent(&state, None).await);
    assert_eq!(
        full.on_client_frame(open()).await.unwrap(),
        Step::CatchUp(conversation_id.clone())
    );
}

#[tokio::test]
async fn both_loops_run_over_any_sink_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (state, channel) = demo_state(&dir).await;

    let (mut widget, out, incoming) = pipe();
    let visitor = visitor_socket(&state, &channel, "v3");
    let visitor_task = tokio::spawn(Box::new(visitor).run(out, incoming));
    let ready: VisitorServerFrame = widget.next().await;
    assert_eq!(
        ready,
        VisitorServerFrame::Ready {
            conversation_id: None,
            status: None,
            rated: false,
            cobrowse: None,
        }
    );
    widget
        .send_frame(&VisitorClientFrame::Send {
            client_id: "w1".into(),
            text: "Is anyone there?".into(),
            attachments: Vec::new(),
        })
        .await;
    let ack = widget
        .until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;
    let VisitorServerFrame::Ack {
        conversation_id, ..
    } = ack
    else {
        unreachable!()
    };

    let (mut console, out, incoming) = pipe();
    let agent_task = tokio::spawn(
        AgentSocket::new(state.clone(), demo_agent(&state, None).await).run(
            out,
            incoming,
            state.sockets.admit(SocketKind::Visitor).unwrap(),
        ),
    );
    let AgentServerFrame::Inbox { conversations, .. } = console.next().await else {
        panic!("the inbox comes first");
    };
    let listed: Vec<&str> = conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(listed, [conversation_id.as_str()]);
    console
        .send_frame(&AgentClientFrame::Open {
            conversation_id: conversation_id.clone(),
            resume_after: 0,
        })
        .await;
    let AgentServerFrame::Message { message } = console
        .until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Message { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(
        (message.seq, message.text.as_str()),
        (1, "Is anyone there?")
    );
    console
        .send_frame(&AgentClientFrame::Send {
            conversation_id: conversation_id.clone(),
            client_id: "a1".into(),
            text: "Yes, how can I help?".into(),
            attachments: Vec::new(),
        })
        .await;
    let ack = console
        .until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(ack, AgentServerFrame::Ack { seq: 2, .. }),
        "{ack:?}"
    );
    let VisitorServerFrame::Message { message } = widget
        .until(|f: &VisitorServerFrame| {
            matches!(f, VisitorServerFrame::Message { message } if message.seq == 2)
        })
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.text, "Yes, how can I help?");

    // Closing the client's end ends each loop by itself.
    widget.to_socket.take();
    console.to_socket.take();
    for task in [visitor_task, agent_task] {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the loop ends when its client goes")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn a_stopping_gateway_closes_every_socket_as_going_away_and_admits_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let (state, channel) = demo_state(&dir).await;
    let (mut widget, out, incoming) = pipe();
    let visitor = visitor_socket(&state, &channel, "v4");
    let visitor_task = tokio::spawn(Box::new(visitor).run(out, incoming));
    let _: VisitorServerFrame = widget.next().await;
    let (mut console, out, incoming) = pipe();
    let agent = AgentSocket::new(state.clone(), demo_agent(&state, None).await);
    let agent_task = tokio::spawn(agent.run(
        out,
        incoming,
        state.sockets.admit(SocketKind::Agent).unwrap(),
    ));
    let _: AgentServerFrame = console.next().await;

    state.sockets.close_all();
    for client in [&mut widget, &mut console] {
        let close = tokio::time::timeout(Duration::from_secs(10), client.from_socket.recv())
            .await
            .expect("closed within 10 s");
        let Some(Message::Close(Some(frame))) = close else {
            panic!("expected a close frame, got {close:?}");
        };
        assert_eq!((frame.code, frame.reason.as_str()), (1001, "going away"));
    }
    for task in [visitor_task, agent_task] {
        task.await.unwrap().unwrap();
    }
    assert!(matches!(
        state.sockets.admit(SocketKind::Visitor),
        Err(gateway::error::Error::OverCapacity)
    ));
}
