//! `WS /v1/visitor/ws`: the visitor's socket. Its messages are acked only once committed, its
//! catch-up after a reconnect resends what the widget has not seen, and the session ends on the
//! server after the channel's inactivity timeout.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use protocol::{EndReason, VisitorClientFrame, VisitorServerFrame};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::session::{verify_session_token, SessionClaims};
use crate::auth::request_origin;
use crate::error::{Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::socket::{self, Delivered, Incoming};
use crate::state::AppState;
use crate::store::ChannelRecord;
use crate::{channels, conversations, now_ms, peer};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/visitor/ws", get(visitor_ws))
}

#[derive(Debug, Deserialize)]
struct VisitorWsQuery {
    token: String,
    /// The conversation the client's `resume_after` refers to.
    conversation_id: Option<String>,
    #[serde(default)]
    resume_after: i64,
}

/// The upgrade re-checks the token and the `Origin` header: a socket is never opened for a
/// page the channel does not allow, whatever the browser's CORS handling did.
async fn visitor_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<VisitorWsQuery>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let Query(query) = query?;
    let origin = request_origin(&headers);
    let claims = verify_session_token(&state, &query.token, origin, now_ms())?;
    if state.store.session_ended(&claims.session_id).await? {
        return Err(Error::SessionEnded);
    }
    let channel = state
        .store
        .channel_by_id(&claims.channel_id)
        .await?
        .ok_or(Error::InvalidSessionToken)?;
    channels::check_origin(&channel, origin, &state.config.public_origin())?;
    let resume = query.conversation_id.map(|id| (id, query.resume_after));
    let client = peer::client_ip(&state.config, peer.ip(), &headers);
    Ok(socket::configure(upgrade).on_upgrade(move |ws| async move {
        if let Err(e) = visitor_socket(state, channel, claims, client, ws, resume).await {
            tracing::warn!(error = %e, "visitor socket ended with an error");
        }
    }))
}

fn message_frame(message: protocol::ChatMessage) -> VisitorServerFrame {
    VisitorServerFrame::Message { message }
}

async fn visitor_socket(
    state: AppState,
    channel: ChannelRecord,
    claims: SessionClaims,
    ip: IpAddr,
    mut ws: WebSocket,
    resume: Option<(String, i64)>,
) -> Result<()> {
    // Subscribe before reading the store, so nothing committed in between is missed.
    let mut events = state.hub.subscribe(Topic::Visitor {
        channel_key: channel.key.clone(),
        visitor_id: claims.visitor_id.clone(),
    });
    let mut delivered = Delivered::default();
    let latest = state
        .store
        .latest_conversation(&channel.id, &claims.visitor_id)
        .await?;
    let ready = VisitorServerFrame::Ready {
        conversation_id: latest.as_ref().map(|c| c.id.clone()),
        status: latest.as_ref().map(|c| c.status),
    };
    if !socket::send(&mut ws, &ready).await {
        return Ok(());
    }
    // Where the visitor's typing notices go: the conversation they write in.
    let mut current = latest.as_ref().map(|c| c.id.clone());
    if let Some(conversation) = latest {
        let after = match resume {
            Some((id, after)) if id == conversation.id => after,
            _ => 0,
        };
        delivered.follow(&conversation.id, after);
        if !socket::catch_up(
            &mut ws,
            &state.store,
            &mut delivered,
            &conversation.id,
            message_frame,
        )
        .await?
        {
            return Ok(());
        }
    }
    // The session ends, on the server, after the channel's timeout without a message or typing.
    let idle_limit = Duration::from_secs(
        u64::try_from(channel.inactivity_timeout_secs)
            .unwrap_or(1)
            .max(1),
    );
    let mut idle_deadline = Instant::now() + idle_limit;
    let mut typing = socket::TypingThrottle::default();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(idle_deadline) => {
                return end_session(&state, &claims, &mut ws, EndReason::Inactive, channel.inactivity_timeout_secs).await;
            }
            incoming = socket::receive::<VisitorClientFrame>(&mut ws) => match incoming {
                Incoming::Frame(VisitorClientFrame::Typing) => {
                    idle_deadline = Instant::now() + idle_limit;
                    let now = std::time::Instant::now();
                    if let Some(conversation_id) = current.as_ref().filter(|id| typing.allow(id, now)) {
                        state.hub.publish(
                            Topic::Conversation(conversation_id.clone()),
                            HubEvent::Typing { conversation_id: conversation_id.clone(), agent_name: None },
                        );
                    }
                }
                Incoming::Frame(VisitorClientFrame::Send { client_id, text }) => {
                    idle_deadline = Instant::now() + idle_limit;
                    let reply = match conversations::post_visitor_message(&state, &channel, claims.writer(ip), &client_id, &text).await {
                        Ok(appended) => {
                            current = Some(appended.message.conversation_id.clone());
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
                    };
                    if !socket::send(&mut ws, &reply).await {
                        return Ok(());
                    }
                }
                Incoming::Refused(code, message) => {
                    let frame = VisitorServerFrame::Error { code: code.into(), message, client_id: None };
                    if !socket::send(&mut ws, &frame).await {
                        return Ok(());
                    }
                }
                Incoming::Ignored => {}
                Incoming::Closed => return Ok(()),
            },
            event = events.recv() => match event {
                Ok(HubEvent::Message(message)) => {
                    if !socket::deliver(&mut ws, &state.store, &mut delivered, message, message_frame).await? {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Conversation(conversation)) => {
                    let frame = VisitorServerFrame::Status { conversation_id: conversation.id, status: conversation.status };
                    if !socket::send(&mut ws, &frame).await {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Typing { agent_name: Some(agent_name), .. }) => {
                    if !socket::send(&mut ws, &VisitorServerFrame::Typing { agent_name }).await {
                        return Ok(());
                    }
                }
                Ok(HubEvent::Typing { agent_name: None, .. }) => {}
                Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => {
                    if !socket::recover_lag(&mut ws, &state.store, &mut delivered, message_frame).await? {
                        return Ok(());
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// Records the end (so the token cannot reopen a socket), tells the widget why, and closes.
async fn end_session(
    state: &AppState,
    claims: &SessionClaims,
    ws: &mut WebSocket,
    reason: EndReason,
    after_secs: i64,
) -> Result<()> {
    let reason_name = match reason {
        EndReason::Inactive => "inactive",
    };
    let ended = protocol::EndedSession {
        session_id: claims.session_id.clone(),
        visitor_id: claims.visitor_id.clone(),
        reason: reason_name.to_owned(),
    };
    state
        .store
        .end_session(&ended, &claims.channel_id, now_ms())
        .await?;
    socket::send(ws, &VisitorServerFrame::SessionEnded { reason, after_secs }).await;
    let _ = ws.send(axum::extract::ws::Message::Close(None)).await;
    Ok(())
}
