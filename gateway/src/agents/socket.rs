//! `WS /v1/agent/ws`: the agent's socket, which feeds the console. On connect it sends the first
//! page of the inbox and keeps it current; it follows the conversations the console opens (with
//! a catch-up from the seq the console holds); it takes replies (acked once committed), reads
//! and typing. Every conversation it touches is checked against the login's scope first.

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{Sink, Stream, StreamExt};
use protocol::{
    AgentClientFrame, AgentServerFrame, ChatMessage, ConversationSummary, InboxCursor, INBOX_PAGE,
};
use std::collections::BTreeMap;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::StreamMap;

use crate::auth::AuthAgent;
use crate::cobrowse;
use crate::connections::Admission;
use crate::conversations;
use crate::error::{Error, Result};
use crate::hub::{EventStream, HubEvent, MirrorSignal, Topic};
use crate::socket::{self, Delivered, Incoming, Step, TypingThrottle};
use crate::state::AppState;
use crate::store::{uploader_of_agent, NewMessage, ReplyAuthor};
use crate::telemetry::SocketKind;
use crate::{presence, routing};

// The origin check of a cookie login is in [`AuthAgent`]'s extraction (a socket upgrade needs
// the console's origin).
/// The console's WebSocket: inbox, messages, typing.
///
/// Frames are JSON: `AgentClientFrame` up, `AgentServerFrame` down.
#[utoipa::path(
    get,
    path = "/v1/agent/ws",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 101, description = "Switching to the WebSocket."))
)]
pub(super) async fn agent_ws(
    State(state): State<AppState>,
    auth: AuthAgent,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let admission = state.sockets.admit(SocketKind::Agent)?;
    Ok(socket::configure(upgrade).on_upgrade(move |ws| async move {
        let (out, incoming) = ws.split();
        // Boxed: see the visitor's socket.
        if let Err(e) = Box::pin(AgentSocket::new(state, auth).run(out, incoming, admission)).await
        {
            tracing::warn!(error = %e, "agent socket ended with an error");
        }
    }))
}

fn message_frame(message: ChatMessage) -> AgentServerFrame {
    AgentServerFrame::Message { message }
}

/// An error frame for a refused request; the socket carries on.
fn error_frame(e: &Error, client_id: Option<String>) -> AgentServerFrame {
    AgentServerFrame::Error {
        code: e.code().into(),
        message: e.reported().error.message,
        client_id,
    }
}

type Followed = StreamMap<String, EventStream>;

/// One console's socket between frames: the login, the conversations it follows and what it
/// has been sent of them.
pub struct AgentSocket {
    state: AppState,
    auth: AuthAgent,
    followed: Followed,
    /// The conversations whose co-browsing mirror this console watches.
    watched: Followed,
    delivered: Delivered,
    typing: TypingThrottle,
}

impl AgentSocket {
    pub fn new(state: AppState, auth: AuthAgent) -> Self {
        Self {
            state,
            auth,
            followed: StreamMap::new(),
            watched: StreamMap::new(),
            delivered: Delivered::default(),
            typing: TypingThrottle::default(),
        }
    }

    /// One page of the inbox for this login, below `before`, with the agent's reads of it and
    /// where the next page starts.
    async fn inbox_page(
        &self,
        before: Option<&InboxCursor>,
    ) -> Result<(
        Vec<ConversationSummary>,
        BTreeMap<String, i64>,
        Option<InboxCursor>,
    )> {
        let scope = self.auth.scope.as_deref();
        // One more than a page tells whether another page follows.
        let mut conversations = self
            .state
            .store
            .active_conversations(before, scope, INBOX_PAGE + 1)
            .await?;
        let older = (conversations.len() > INBOX_PAGE).then(|| {
            conversations.truncate(INBOX_PAGE);
            conversations.last().map(|last| InboxCursor {
                updated_at_ms: last.updated_at_ms,
                id: last.id.clone(),
            })
        });
        let mut read = self.state.store.reads(&self.auth.agent.id).await?;
        read.retain(|id, _| conversations.iter().any(|c| &c.id == id));
        Ok((conversations, read, older.flatten()))
    }

    /// The first page of the inbox: on connect, and after a lag or a resync.
    async fn inbox(&self) -> Result<AgentServerFrame> {
        let (conversations, read, older) = self.inbox_page(None).await?;
        Ok(AgentServerFrame::Inbox {
            conversations,
            read,
            older,
        })
    }

    /// What a frame from the console asks for. A conversation outside the login's scope is
    /// refused with an error frame and the socket carries on.
    pub async fn on_client_frame(
        &mut self,
        incoming: Incoming<AgentClientFrame>,
    ) -> Result<Step<AgentServerFrame>> {
        let state = &self.state;
        let frame = match incoming {
            Incoming::Frame(frame) => frame,
            Incoming::Refused(code, message) => {
                return Ok(Step::Reply(AgentServerFrame::Error {
                    code: code.into(),
                    message,
                    client_id: None,
                }))
            }
            Incoming::Ignored => return Ok(Step::Nothing),
            Incoming::Closed => return Ok(Step::Close),
        };
        Ok(match frame {
            AgentClientFrame::Open {
                conversation_id,
                resume_after,
            } => match self.auth.conversation(state, &conversation_id).await {
                Err(e) => Step::Reply(error_frame(&e, None)),
                Ok(_) => {
                    if !self.followed.contains_key(&conversation_id) {
                        let events = state
                            .hub
                            .subscribe(Topic::Conversation(conversation_id.clone()));
                        self.followed
                            .insert(conversation_id.clone(), events.into_stream());
                    }
                    self.delivered.follow(&conversation_id, resume_after.max(0));
                    Step::CatchUp(conversation_id)
                }
            },
            AgentClientFrame::Send {
                conversation_id,
                client_id,
                text,
                attachments,
            } => {
                let agent = ReplyAuthor::Agent(&self.auth.agent);
                let uploader = uploader_of_agent(&self.auth.agent.id);
                let message =
                    NewMessage::now(&client_id, &text).with_attachments(&uploader, &attachments);
                let posted = match self.auth.may_write(state, &conversation_id).await {
                    Ok(()) => {
                        conversations::post_reply(state, agent, &conversation_id, message).await
                    }
                    Err(e) => Err(e),
                };
                Step::Reply(match posted {
                    Ok(appended) => AgentServerFrame::Ack {
                        client_id,
                        conversation_id,
                        seq: appended.message.seq,
                    },
                    Err(e) => error_frame(&e, Some(client_id)),
                })
            }
            AgentClientFrame::Read {
                conversation_id,
                seq,
            } => match self.auth.conversation(state, &conversation_id).await {
                Ok(_) => {
                    state
                        .store
                        .mark_read(&self.auth.agent.id, &conversation_id, seq)
                        .await?;
                    Step::Nothing
                }
                Err(e) => Step::Reply(error_frame(&e, None)),
            },
            AgentClientFrame::InboxOlder { before } => {
                let (conversations, read, older) = self.inbox_page(Some(&before)).await?;
                Step::Reply(AgentServerFrame::InboxPage {
                    conversations,
                    read,
                    older,
                })
            }
            AgentClientFrame::Watch {
                conversation_id,
                on,
            } => match (on, self.auth.conversation(state, &conversation_id).await) {
                (false, _) => {
                    self.watched.remove(&conversation_id);
                    Step::Nothing
                }
                (true, Ok(_)) => {
                    if !self.watched.contains_key(&conversation_id) {
                        let mirror = state.hub.subscribe(Topic::Mirror(conversation_id.clone()));
                        self.watched
                            .insert(conversation_id.clone(), mirror.into_stream());
                    }
                    // A console that starts watching needs the whole page, not the next change.
                    self.signal(&conversation_id, MirrorSignal::Resync, true)
                        .await
                }
                (true, Err(e)) => Step::Reply(error_frame(&e, None)),
            },
            AgentClientFrame::CobrowsePoint {
                conversation_id,
                x,
                y,
            } => {
                self.signal(&conversation_id, MirrorSignal::Point { x, y }, false)
                    .await
            }
            AgentClientFrame::CobrowseAct {
                conversation_id,
                act,
            } => {
                self.signal(&conversation_id, MirrorSignal::Act(act), false)
                    .await
            }
            AgentClientFrame::CobrowseResync { conversation_id } => {
                self.signal(&conversation_id, MirrorSignal::Resync, false)
                    .await
            }
            AgentClientFrame::Typing { conversation_id } => {
                if !self
                    .typing
                    .allow(&conversation_id, std::time::Instant::now())
                {
                    return Ok(Step::Nothing);
                }
                match self.auth.conversation(state, &conversation_id).await {
                    Ok(conversation) => {
                        let agent = Some(&self.auth.agent);
                        conversations::typing(state, (&conversation).into(), agent);
                        Step::Nothing
                    }
                    Err(e) => Step::Reply(error_frame(&e, None)),
                }
            }
        })
    }

    /// Sends the module on the visitor's page a signal; a refusal is said (unless `quiet`:
    /// nothing may be running yet).
    async fn signal(
        &self,
        conversation_id: &str,
        signal: MirrorSignal,
        quiet: bool,
    ) -> Step<AgentServerFrame> {
        match cobrowse::signal(&self.state, &self.auth, conversation_id, signal).await {
            Ok(()) => Step::Nothing,
            Err(_) if quiet => Step::Nothing,
            Err(e) => Step::Reply(error_frame(&e, None)),
        }
    }

    /// What an event of a watched mirror means: a piece of the page, or, after a lag, a
    /// request for the page afresh (the pieces in between are lost).
    async fn on_mirror_event(
        &self,
        conversation_id: &str,
        event: std::result::Result<HubEvent, RecvError>,
    ) -> Step<AgentServerFrame> {
        match event {
            Ok(HubEvent::Mirror {
                conversation_id,
                session_id,
                data,
                more,
            }) => Step::Reply(AgentServerFrame::Mirror {
                conversation_id,
                session_id,
                data,
                more,
            }),
            Ok(HubEvent::GoingAway) => Step::GoingAway,
            Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => {
                self.signal(conversation_id, MirrorSignal::Resync, true)
                    .await
            }
            Ok(_) | Err(RecvError::Closed) => Step::Nothing,
        }
    }

    /// What an inbox event means for this console: a conversation of a channel it sees, or a
    /// fresh snapshot after a lag (the inbox is a snapshot, so nothing is replayed).
    pub async fn on_inbox_event(
        &self,
        event: std::result::Result<HubEvent, RecvError>,
    ) -> Result<Step<AgentServerFrame>> {
        Ok(match event {
            Ok(HubEvent::Conversation(conversation))
                if self.auth.sees_channel(&conversation.channel_key) =>
            {
                Step::Reply(AgentServerFrame::Conversation { conversation })
            }
            Ok(
                HubEvent::Conversation(_)
                | HubEvent::Message(_)
                | HubEvent::Typing { .. }
                | HubEvent::Cobrowse(_)
                | HubEvent::CobrowseInvite(_)
                | HubEvent::Mirror { .. }
                | HubEvent::ToMirror { .. },
            ) => Step::Nothing,
            Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => Step::Reply(self.inbox().await?),
            Ok(HubEvent::GoingAway) => Step::GoingAway,
            Err(RecvError::Closed) => Step::Close,
        })
    }

    /// What an event of a followed conversation means: its messages, and the visitor typing.
    pub fn on_conversation_event(
        event: std::result::Result<HubEvent, RecvError>,
    ) -> Step<AgentServerFrame> {
        match event {
            Ok(HubEvent::Message(message)) => Step::Deliver(message),
            Ok(HubEvent::Typing {
                conversation_id,
                agent_name: None,
            }) => Step::Reply(AgentServerFrame::Typing { conversation_id }),
            Ok(HubEvent::Cobrowse(session)) => Step::Reply(AgentServerFrame::Cobrowse { session }),
            Ok(
                HubEvent::Conversation(_)
                | HubEvent::Typing { .. }
                | HubEvent::CobrowseInvite(_)
                | HubEvent::Mirror { .. }
                | HubEvent::ToMirror { .. },
            ) => Step::Nothing,
            Ok(HubEvent::GoingAway) => Step::GoingAway,
            // A lag (the stream ends rather than yield a close).
            Ok(HubEvent::Resync) | Err(_) => Step::Resync,
        }
    }

    /// Makes the agent present (a full login only), sends the inbox, then serves frames and
    /// events until the socket closes.
    pub async fn run(
        mut self,
        mut out: impl Sink<Message> + Unpin,
        mut incoming: impl Stream<Item = std::result::Result<Message, axum::Error>> + Unpin,
        admission: Admission,
    ) -> Result<()> {
        let agent_id = self.auth.agent.id.clone();
        // A join link's console is for its one channel: it does not make the agent present, or
        // routing would hand it conversations of channels it cannot see.
        let _connected = match self.auth.scope {
            None => {
                let guard = Box::pin(presence::connect(&self.state, &agent_id)).await?;
                routing::spawn_route_agent_queues(&self.state, &agent_id);
                Some(guard)
            }
            Some(_) => None,
        };
        let mut inbox = self.state.hub.subscribe(Topic::Inbox);
        if admission.closing() {
            return Box::pin(socket::going_away(&mut out, &mut incoming)).await;
        }
        // What a step awaits is boxed for that step only, as in the visitor's loop: it would
        // otherwise be held in this loop's state for the socket's whole life.
        let first = Box::pin(self.inbox()).await?;
        if !socket::send(&mut out, &first).await {
            return Ok(());
        }
        loop {
            let step = tokio::select! {
                frame = socket::receive::<AgentClientFrame>(&mut incoming) => {
                    Box::pin(self.on_client_frame(frame)).await?
                }
                event = inbox.recv() => Box::pin(self.on_inbox_event(event)).await?,
                Some((_, event)) = self.followed.next(), if !self.followed.is_empty() => {
                    Self::on_conversation_event(event)
                }
                Some((id, event)) = self.watched.next(), if !self.watched.is_empty() => {
                    Box::pin(self.on_mirror_event(&id, event)).await
                }
            };
            let proceed = Box::pin(socket::perform(
                &mut out,
                &mut incoming,
                &self.state.store,
                &mut self.delivered,
                step,
                message_frame,
            ))
            .await?;
            if !proceed {
                return Ok(());
            }
        }
    }
}
