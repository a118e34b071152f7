//! `WS /v1/visitor/ws`: the visitor's socket. Its messages are acked only once committed, its
//! catch-up after a reconnect resends what the widget has not seen, and the session ends on the
//! server after the channel's inactivity timeout.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use protocol::{
    Author, ChatMessage, EndReason, EndedSession, VisitorClientFrame, VisitorServerFrame,
};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::attachments::links;
use crate::auth::request_origin;
use crate::auth::{AuthVisitor, SessionClaims};
use crate::cobrowse::{self, MirrorBudget, VisitorAnswer};
use crate::connections::Admission;
use crate::conversations::TypingIn;
use crate::error::Result;
use crate::hub::{HubEvent, MirrorSignal, Topic};
use crate::socket::{self, Delivered, Incoming, Step, TypingThrottle};
use crate::state::AppState;
use crate::store::{uploader_of_visitor, ChannelRecord, ChannelRef, NewMessage};
use crate::telemetry::{self, SocketKind};
use crate::{conversations, email, now_ms, peer};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visitor_ws))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct VisitorWsQuery {
    /// The session token from `POST /v1/sessions`.
    token: String,
    /// The conversation the client's `resume_after` refers to.
    conversation_id: Option<String>,
    /// Replay the messages after this seq (default 0).
    #[serde(default)]
    resume_after: i64,
}

// The upgrade re-checks the token and the `Origin` header: a socket is never opened for a
// page the channel does not allow, whatever the browser's CORS handling did.
/// The visitor's WebSocket.
///
/// Frames are JSON: `VisitorClientFrame` up, `VisitorServerFrame` down. The token and the page's origin are checked again on the upgrade.
#[utoipa::path(
    get,
    path = "/v1/visitor/ws",
    tag = "Widget",
    params(VisitorWsQuery),
    responses((status = 101, description = "Switching to the WebSocket."))
)]
async fn visitor_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<VisitorWsQuery>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let Query(query) = query?;
    let origin = request_origin(&headers);
    let AuthVisitor { claims, channel } =
        AuthVisitor::of_token(&state, &query.token, origin).await?;
    let resume = query.conversation_id.map(|id| (id, query.resume_after));
    let client = peer::client_ip(&state.config, peer.ip(), &headers);
    let admission = state.sockets.admit(SocketKind::Visitor)?;
    // One box for everything the socket keeps, and its loop's future boxed too: what the
    // upgrade's task holds inline (the callback, then its future) it holds for the socket's
    // life, and the task's memory is rounded up to 128 bytes.
    let socket = Box::new(VisitorSocket::new(
        state, &channel, claims, client, resume, admission,
    ));
    Ok(socket::configure(upgrade).on_upgrade(move |ws| {
        let (out, incoming) = ws.split();
        Box::pin(socket.run(out, incoming)).map(|ended| {
            if let Err(e) = ended {
                tracing::warn!(error = %e, "visitor socket ended with an error");
            }
        })
    }))
}

/// A message as the widget gets it: each file with a signed, expiring link, which the panel
/// uses as it is (an `<img>` or a link cannot send the session's token, and fetching every file
/// into a `blob:` URL would cost the panel kilobytes). A replay after a reconnect brings fresh
/// links.
fn message_frame(state: &AppState, message: ChatMessage) -> VisitorServerFrame {
    VisitorServerFrame::Message {
        message: links::with_links(state, message, now_ms()),
    }
}

fn error_frame(e: &crate::error::Error) -> VisitorServerFrame {
    VisitorServerFrame::Error {
        code: e.code().into(),
        message: e.reported().error.message,
        client_id: None,
    }
}

/// One visitor's socket between frames: who they are, and where their typing goes.
pub struct VisitorSocket {
    state: AppState,
    channel: ChannelRef,
    /// The channel's: its session ends after this long without a frame.
    inactivity_timeout_secs: i64,
    claims: SessionClaims,
    ip: IpAddr,
    /// The conversation the visitor writes in: where their typing notices go.
    current: Option<String>,
    typing: TypingThrottle,
    delivered: Delivered,
    /// The conversation and seq the widget resumes after, until the catch-up used them.
    resume: Option<(String, i64)>,
    /// The socket's place under the gateway's cap, given back when it ends.
    admission: Admission,
    /// The co-browsing session whose page mirror this socket relays, while it runs (boxed: an
    /// idle socket holds one pointer of it).
    mirroring: Option<Box<Mirroring>>,
}

/// A running co-browsing session, as the visitor's socket relays its mirror.
struct Mirroring {
    session_id: String,
    conversation_id: String,
    budget: MirrorBudget,
}

/// What woke an idle socket's loop, handed whole to [`VisitorSocket::act`].
enum Woken {
    Idle,
    Frame(Incoming<VisitorClientFrame>),
    Event(Step<VisitorServerFrame>),
}

impl VisitorSocket {
    pub fn new(
        state: AppState,
        channel: &ChannelRecord,
        claims: SessionClaims,
        ip: IpAddr,
        resume: Option<(String, i64)>,
        admission: Admission,
    ) -> Self {
        Self {
            resume,
            admission,
            state,
            channel: channel.into(),
            inactivity_timeout_secs: channel.inactivity_timeout_secs,
            claims,
            ip,
            current: None,
            typing: TypingThrottle::default(),
            delivered: Delivered::default(),
            mirroring: None,
        }
    }

    async fn channel_record(&self) -> Result<ChannelRecord> {
        self.state
            .store
            .channel_by_key(&self.channel.key)
            .await?
            .ok_or_else(|| crate::error::Error::ChannelNotFound(self.channel.key.clone()))
    }

    /// The conversation the visitor writes in, as a summary: its co-browsing is theirs.
    async fn current_conversation(&self) -> Result<protocol::ConversationSummary> {
        let id = self
            .current
            .as_deref()
            .ok_or(crate::error::Error::CobrowseNotActive)?;
        self.state
            .store
            .conversation(id)
            .await?
            .filter(|c| c.visitor_id == self.claims.visitor_id && c.channel_key == self.channel.key)
            .ok_or(crate::error::Error::CobrowseNotActive)
    }

    /// The visitor's answer to a co-browsing request (or change to the session); the hub
    /// brings every tab of theirs, this one included, the session as it is now.
    async fn answer_cobrowse(
        &mut self,
        session_id: &str,
        answer: VisitorAnswer,
    ) -> Step<VisitorServerFrame> {
        let answered = match self.current_conversation().await {
            Ok(conversation) => {
                cobrowse::answer(&self.state, &conversation, session_id, answer).await
            }
            Err(e) => Err(e),
        };
        match answered {
            Ok(_) => Step::Nothing,
            Err(e) => Step::Reply(error_frame(&e)),
        }
    }

    /// Relays a piece of the page's mirror to the consoles watching, within the budget; a
    /// mirror beyond it ends the session.
    async fn relay_mirror(
        &mut self,
        session_id: String,
        data: String,
        more: bool,
    ) -> Step<VisitorServerFrame> {
        let Some(mirroring) = self
            .mirroring
            .as_mut()
            .filter(|m| m.session_id == session_id)
        else {
            return Step::Reply(error_frame(&crate::error::Error::CobrowseNotActive));
        };
        if !mirroring.budget.take(data.len(), std::time::Instant::now()) {
            self.mirroring = None;
            let stopped = self.answer_cobrowse(&session_id, VisitorAnswer::Stop).await;
            if stopped != Step::Nothing {
                return stopped;
            }
            return Step::Reply(error_frame(&crate::error::Error::MirrorTooFast {
                bytes_per_sec: protocol::MIRROR_BYTES_PER_SEC,
            }));
        }
        let conversation_id = mirroring.conversation_id.clone();
        self.state.hub.publish(
            Topic::Mirror(conversation_id.clone()),
            HubEvent::Mirror {
                conversation_id,
                session_id,
                data,
                more,
            },
        );
        Step::Nothing
    }

    /// What an event on the visitor's topic means for this socket.
    fn on_event(
        &mut self,
        event: std::result::Result<HubEvent, RecvError>,
    ) -> Step<VisitorServerFrame> {
        match event.as_ref().ok().and_then(|e| self.on_cobrowse_event(e)) {
            Some(step) => step,
            None => Self::on_hub_event(event),
        }
    }

    /// Keeps track of the co-browsing session of the visitor's conversation as the hub tells
    /// it; passes the agent's signals to the module while it runs.
    fn on_cobrowse_event(&mut self, event: &HubEvent) -> Option<Step<VisitorServerFrame>> {
        match event {
            HubEvent::CobrowseInvite(invite) => {
                self.follow_cobrowse(invite);
                Some(Step::Reply(VisitorServerFrame::Cobrowse {
                    invite: invite.clone(),
                }))
            }
            HubEvent::ToMirror {
                conversation_id,
                signal,
            } => {
                let running = self
                    .mirroring
                    .as_ref()
                    .is_some_and(|m| &m.conversation_id == conversation_id);
                Some(if running {
                    Step::Reply(match signal.clone() {
                        MirrorSignal::Point { x, y } => VisitorServerFrame::CobrowsePoint { x, y },
                        MirrorSignal::Act(act) => VisitorServerFrame::CobrowseAct { act },
                        MirrorSignal::Resync => VisitorServerFrame::CobrowseResync,
                    })
                } else {
                    Step::Nothing
                })
            }
            _ => None,
        }
    }

    fn follow_cobrowse(&mut self, invite: &protocol::CobrowseInvite) {
        let running = invite.state == protocol::CobrowseState::Active;
        match (&self.mirroring, &self.current) {
            (Some(m), _) if m.session_id == invite.session_id && running => {}
            (_, Some(conversation_id)) if running => {
                self.mirroring = Some(Box::new(Mirroring {
                    session_id: invite.session_id.clone(),
                    conversation_id: conversation_id.clone(),
                    budget: MirrorBudget::new(std::time::Instant::now()),
                }));
            }
            (Some(m), _) if m.session_id == invite.session_id => self.mirroring = None,
            _ => {}
        }
    }

    /// What a frame from the widget asks for: an ack or a refusal for a message, nothing for a
    /// typing notice (which goes to the agents).
    pub async fn on_client_frame(
        &mut self,
        incoming: Incoming<VisitorClientFrame>,
    ) -> Step<VisitorServerFrame> {
        match incoming {
            Incoming::Frame(VisitorClientFrame::Typing) => {
                if let Some(conversation_id) = self
                    .current
                    .as_deref()
                    .filter(|id| self.typing.allow(id, std::time::Instant::now()))
                {
                    conversations::typing(
                        &self.state,
                        TypingIn {
                            conversation_id,
                            channel_key: &self.channel.key,
                            visitor_id: &self.claims.visitor_id,
                        },
                        None,
                    );
                }
                Step::Nothing
            }
            Incoming::Frame(VisitorClientFrame::Send {
                client_id,
                text,
                attachments,
            }) => {
                let read = std::time::Instant::now();
                let uploader = uploader_of_visitor(&self.claims.visitor_id);
                let message =
                    NewMessage::now(&client_id, &text).with_attachments(&uploader, &attachments);
                let posted = conversations::post_visitor_message(
                    &self.state,
                    &self.channel,
                    self.claims.writer(self.ip),
                    message,
                )
                .await;
                Step::Reply(match posted {
                    Ok(appended) => {
                        // The ack goes out next; writing it is not the store's time.
                        telemetry::ack_latency(read.elapsed());
                        self.current = Some(appended.message.conversation_id.clone());
                        VisitorServerFrame::Ack {
                            client_id,
                            conversation_id: appended.message.conversation_id,
                            seq: appended.message.seq,
                        }
                    }
                    Err(e) => VisitorServerFrame::Error {
                        code: e.code().into(),
                        message: e.reported().error.message,
                        client_id: Some(client_id),
                    },
                })
            }
            Incoming::Frame(VisitorClientFrame::Email {
                address,
                transcript,
            }) => Step::Reply(
                match email::leave_address(
                    &self.state,
                    &self.channel,
                    &self.claims.visitor_id,
                    &address,
                    transcript,
                )
                .await
                {
                    Ok(address) => VisitorServerFrame::EmailSaved {
                        address,
                        transcript,
                    },
                    Err(e) => VisitorServerFrame::Error {
                        code: e.code().into(),
                        message: e.reported().error.message,
                        client_id: None,
                    },
                },
            ),
            Incoming::Frame(VisitorClientFrame::CobrowseAnswer { session_id, accept }) => {
                let answer = if accept {
                    VisitorAnswer::Accept
                } else {
                    VisitorAnswer::Decline
                };
                self.answer_cobrowse(&session_id, answer).await
            }
            Incoming::Frame(VisitorClientFrame::CobrowseControl {
                session_id,
                granted,
            }) => {
                self.answer_cobrowse(&session_id, VisitorAnswer::Grant(granted))
                    .await
            }
            Incoming::Frame(VisitorClientFrame::CobrowseStop { session_id }) => {
                self.answer_cobrowse(&session_id, VisitorAnswer::Stop).await
            }
            Incoming::Frame(VisitorClientFrame::Mirror {
                session_id,
                data,
                more,
            }) => self.relay_mirror(session_id, data, more).await,
            Incoming::Refused(code, message) => Step::Reply(VisitorServerFrame::Error {
                code: code.into(),
                message,
                client_id: None,
            }),
            Incoming::Ignored => Step::Nothing,
            Incoming::Closed => Step::Close,
        }
    }

    /// What an event on the visitor's topic means for their widget.
    pub fn on_hub_event(
        event: std::result::Result<HubEvent, RecvError>,
    ) -> Step<VisitorServerFrame> {
        match event {
            Ok(HubEvent::Message(message)) => Step::Deliver(message),
            Ok(HubEvent::Conversation(conversation)) => Step::Reply(VisitorServerFrame::Status {
                conversation_id: conversation.id,
                status: conversation.status,
            }),
            Ok(HubEvent::Typing {
                agent_name: Some(agent_name),
                ..
            }) => Step::Reply(VisitorServerFrame::Typing { agent_name }),
            // The visitor's own typing, seen by the agents; what the socket itself follows
            // of co-browsing ([`VisitorSocket::on_cobrowse_event`]).
            Ok(
                HubEvent::Typing {
                    agent_name: None, ..
                }
                | HubEvent::Cobrowse(_)
                | HubEvent::CobrowseInvite(_)
                | HubEvent::Mirror { .. }
                | HubEvent::ToMirror { .. },
            ) => Step::Nothing,
            Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => Step::Resync,
            Ok(HubEvent::GoingAway) => Step::GoingAway,
            Err(RecvError::Closed) => Step::Close,
        }
    }

    /// Says where the visitor stands, replays what they have not seen, then serves frames and
    /// events until the socket closes or the session idles out.
    ///
    /// This future is what an idle socket is made of, so it holds only the wait: an async block
    /// rather than an async fn (which would keep a second copy of every argument for the
    /// socket's life), and what a wake-up leads to is done in a future of its own
    /// ([`VisitorSocket::act`]), boxed while it runs.
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub fn run(
        mut self: Box<Self>,
        mut out: impl Sink<Message> + Unpin,
        mut incoming: impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin,
    ) -> impl std::future::Future<Output = Result<()>> {
        async move {
            // Subscribe before reading the store, so nothing committed in between is missed.
            let mut events = self.state.hub.subscribe(Topic::Visitor {
                channel_key: self.channel.key.clone(),
                visitor_id: self.claims.visitor_id.clone(),
            });
            if self.admission.closing() {
                return Box::pin(socket::going_away(&mut out, &mut incoming)).await;
            }
            if !Box::pin(self.start(&mut out, &mut incoming)).await? {
                return Ok(());
            }
            // The session ends, on the server, after the channel's timeout without a frame.
            let idle = tokio::time::sleep(self.idle_limit());
            tokio::pin!(idle);
            loop {
                let woken = tokio::select! {
                    () = &mut idle => Woken::Idle,
                    frame = socket::receive::<VisitorClientFrame>(&mut incoming) => Woken::Frame(frame),
                    event = events.recv() => Woken::Event(self.on_event(event)),
                };
                let acted = self.act(woken, &mut out, &mut incoming, idle.as_mut());
                if !Box::pin(acted).await? {
                    return Ok(());
                }
            }
        }
    }

    fn idle_limit(&self) -> Duration {
        Duration::from_secs(
            u64::try_from(self.inactivity_timeout_secs)
                .unwrap_or(1)
                .max(1),
        )
    }

    /// Acts on what woke the loop; false when the socket is done.
    async fn act(
        &mut self,
        woken: Woken,
        out: &mut (impl Sink<Message> + Unpin),
        incoming: &mut (impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin),
        idle: std::pin::Pin<&mut tokio::time::Sleep>,
    ) -> Result<bool> {
        let step = match woken {
            Woken::Idle => {
                self.end(out, EndReason::Inactive).await?;
                return Ok(false);
            }
            Woken::Frame(frame) => {
                if frame.is_activity() {
                    idle.reset(Instant::now() + self.idle_limit());
                }
                self.on_client_frame(frame).await
            }
            Woken::Event(step) => step,
        };
        self.perform(out, incoming, step).await
    }

    /// Says where the visitor stands and replays what they have not seen; false if the
    /// socket is gone.
    async fn start(
        &mut self,
        out: &mut (impl Sink<Message> + Unpin),
        incoming: &mut (impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin),
    ) -> Result<bool> {
        let latest = self
            .state
            .store
            .latest_conversation(&self.channel.id, &self.claims.visitor_id)
            .await?;
        let live = match &latest {
            Some(conversation) => {
                self.state
                    .store
                    .live_cobrowse(&conversation.id, now_ms())
                    .await?
            }
            None => None,
        };
        let cobrowse = match live {
            Some(session) => Some(cobrowse::invite(&session, &self.channel_record().await?)),
            None => None,
        };
        let ready = VisitorServerFrame::Ready {
            conversation_id: latest.as_ref().map(|c| c.id.clone()),
            status: latest.as_ref().map(|c| c.status),
            rated: latest.as_ref().is_some_and(|c| c.rating.is_some()),
            cobrowse: cobrowse.clone(),
        };
        if !socket::send(out, &ready).await {
            return Ok(false);
        }
        let Some(conversation) = latest else {
            return Ok(true);
        };
        let after = match self.resume.take() {
            Some((id, after)) if id == conversation.id => after,
            _ => 0,
        };
        self.delivered.follow(&conversation.id, after);
        self.current = Some(conversation.id.clone());
        if let Some(invite) = &cobrowse {
            self.follow_cobrowse(invite);
        }
        self.perform(out, incoming, Step::CatchUp(conversation.id))
            .await
    }

    async fn perform(
        &mut self,
        out: &mut (impl Sink<Message> + Unpin),
        incoming: &mut (impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin),
        step: Step<VisitorServerFrame>,
    ) -> Result<bool> {
        // Replies the visitor sees here need no email: what this step shows is noted, when
        // the gateway sends email and the step may show an agent's message.
        let watched = match (&self.state.mailer, &step) {
            (None, _) => None,
            (Some(_), Step::Deliver(message)) if message.author != Author::Visitor => {
                Some(message.conversation_id.clone())
            }
            (Some(_), Step::CatchUp(id)) => Some(id.clone()),
            (Some(_), Step::Resync) => self.current.clone(),
            _ => None,
        };
        let before = watched.as_deref().map(|id| self.delivered.last_of(id));
        let state = &self.state;
        let to_frame = |message| message_frame(state, message);
        let open = socket::perform(
            out,
            incoming,
            &state.store,
            &mut self.delivered,
            step,
            to_frame,
        )
        .await?;
        if let (Some(id), Some(before)) = (watched, before) {
            let shown = self.delivered.last_of(&id);
            if shown > before {
                state.store.replies_seen_live(&id, shown).await?;
            }
        }
        Ok(open)
    }

    /// Records the end (so the token cannot reopen a socket), tells the widget why, and closes.
    async fn end(&self, out: &mut (impl Sink<Message> + Unpin), reason: EndReason) -> Result<()> {
        let after_secs = self.inactivity_timeout_secs;
        let ended = EndedSession {
            session_id: self.claims.session_id.clone(),
            visitor_id: self.claims.visitor_id.clone(),
            reason,
        };
        self.state
            .store
            .end_session(&ended, &self.claims.channel_id, now_ms())
            .await?;
        socket::send(
            out,
            &VisitorServerFrame::SessionEnded { reason, after_secs },
        )
        .await;
        let _ = out.send(Message::Close(None)).await;
        Ok(())
    }
}
