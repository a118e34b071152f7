//! Agents: password login (argon2), the login token (HttpOnly cookie for the console, bearer
//! token for programs), and the agent socket `WS /v1/agent/ws` that feeds the console inbox.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use protocol::{
    AgentClientFrame, AgentPresence, AgentProfile, AgentServerFrame, ConversationSummary,
    InboxCursor, LoginRequest, LoginResponse, Role, SetPresence, INBOX_PAGE,
};
use std::collections::BTreeMap;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::StreamMap;

use std::net::{IpAddr, SocketAddr};

use crate::auth::{self, AuthAgent, LOGIN_COOKIE};
use crate::conversations;
use crate::error::{ApiJson, Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::socket::{self, Delivered, Incoming};
use crate::state::AppState;
use crate::store::{AgentRecord, ReplyAuthor};
use crate::tokens::{random_token, sha256_hex};
use crate::{limits, now_ms, peer, presence, routing};

pub mod join;
pub mod sync;

/// Conversations an agent holds at once unless set otherwise.
pub const DEFAULT_CAPACITY: i64 = 5;

/// A hash no password matches in practice, verified when the email is unknown.
static UNKNOWN_AGENT_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    hash_password(&random_token(32)).expect("argon2 hashes a random password")
});

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agent/login", post(login))
        .route("/v1/agent/logout", post(logout))
        .route("/v1/agent/me", get(me))
        .route("/v1/agent/presence", put(set_presence))
        .route("/v1/agent/ws", get(agent_ws))
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates an agent (if the email is new) and returns it.
pub async fn ensure_agent(
    state: &AppState,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
) -> Result<AgentRecord> {
    if let Some(existing) = state.store.agent_by_email(email).await? {
        return Ok(existing);
    }
    let agent = AgentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.to_owned(),
        name: name.to_owned(),
        password_hash: {
            let password = password.to_owned();
            argon2_work(state, move || hash_password(&password)).await??
        },
        role,
        presence: AgentPresence::Online,
        capacity: DEFAULT_CAPACITY,
        external_id: None,
        active: true,
    };
    state.store.insert_agent(&agent, now_ms()).await?;
    state
        .store
        .agent_by_email(email)
        .await?
        .ok_or_else(|| Error::Internal("agent vanished after insert".into()))
}

fn profile(agent: &AgentRecord) -> AgentProfile {
    AgentProfile {
        id: agent.id.clone(),
        name: agent.name.clone(),
        email: agent.email.clone(),
        role: agent.role,
        presence: agent.presence,
        capacity: u32::try_from(agent.capacity).unwrap_or(0),
    }
}

/// Runs argon2 (tens of milliseconds of CPU) off the async workers, a few at a time: a burst
/// of logins queues here instead of stalling every socket.
pub async fn argon2_work<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let _permit = state
        .password_checks
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("password checks closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("password check failed: {e}")))
}

/// Checks the password and opens a login; the same answer, after the same argon2 work, for an
/// unknown email and a wrong password, so the endpoint does not reveal who has an account.
/// Attempts are limited per client address and per account, whatever the password.
pub async fn log_in(
    state: &AppState,
    client: IpAddr,
    email: &str,
    password: &str,
) -> Result<(String, AgentRecord)> {
    let limits = &state.limits;
    limits::check(&[
        (&limits.logins_per_ip, &peer::limit_key(client)),
        (&limits.logins_per_account, email),
    ])?;
    let agent = state.store.agent_by_email(email).await?;
    let hash = agent.as_ref().map(|a| a.password_hash.clone());
    let password = password.to_owned();
    let matches = argon2_work(state, move || {
        password_matches(&password, hash.as_deref().unwrap_or(&UNKNOWN_AGENT_HASH))
    })
    .await?;
    match agent {
        Some(agent) if matches && agent.active => {
            Ok((open_login(state, &agent, None).await?, agent))
        }
        _ => Err(Error::InvalidCredentials),
    }
}

/// A new login for the agent: its bearer token (only a hash is stored). `scope`: the one
/// channel (by id) it may act in, as a plain agent.
pub async fn open_login(
    state: &AppState,
    agent: &AgentRecord,
    scope: Option<&str>,
) -> Result<String> {
    let token = random_token(32);
    let expires = now_ms().saturating_add(crate::secs_to_ms(state.config.agent_login_ttl_secs));
    state
        .store
        .insert_agent_session(&sha256_hex(&token), &agent.id, scope, expires)
        .await?;
    Ok(token)
}

/// The console's login cookie for `token`.
pub fn login_cookie(state: &AppState, token: &str) -> Result<HeaderValue> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.agent_login_ttl_secs
    );
    HeaderValue::from_str(&cookie).map_err(|e| Error::Internal(e.to_string()))
}

/// A foreign page may not log the browser in either (to an account of its choosing).
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response> {
    auth::check_same_origin(&headers, &state.config)?;
    let email = request.email.trim().to_lowercase();
    let client = peer::client_ip(&state.config, peer.ip(), &headers);
    let (token, agent) = log_in(&state, client, &email, &request.password).await?;
    let cookie = login_cookie(&state, &token)?;
    let body = Json(LoginResponse {
        token,
        agent: profile(&agent),
    });
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

async fn logout(State(state): State<AppState>, auth: AuthAgent) -> Result<Response> {
    state
        .store
        .delete_agent_session(&sha256_hex(&auth.token))
        .await?;
    let expired = format!("{LOGIN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let expired = HeaderValue::from_str(&expired).map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        [(header::SET_COOKIE, expired)],
        axum::http::StatusCode::NO_CONTENT,
    )
        .into_response())
}

/// The login's profile, with the role it acts with (an agent's, for a join link's login).
async fn me(auth: AuthAgent) -> Json<AgentProfile> {
    Json(AgentProfile {
        role: auth.role(),
        ..profile(&auth.agent)
    })
}

/// The agent sets online, away or offline; it counts while a console of theirs is connected.
async fn set_presence(
    State(state): State<AppState>,
    auth: AuthAgent,
    ApiJson(request): ApiJson<SetPresence>,
) -> Result<Json<AgentProfile>> {
    state
        .store
        .set_agent_presence(&auth.agent.id, request.presence)
        .await?;
    if request.presence == AgentPresence::Online {
        crate::routing::spawn_route_agent_queues(&state, &auth.agent.id);
    }
    let agent = AgentRecord {
        presence: request.presence,
        ..auth.agent
    };
    Ok(Json(profile(&agent)))
}

/// The origin check of a cookie login is in [`AuthAgent`]'s extraction (a socket upgrade needs
/// the console's origin).
async fn agent_ws(
    State(state): State<AppState>,
    auth: AuthAgent,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    Ok(socket::configure(upgrade).on_upgrade(move |ws| async move {
        if let Err(e) = agent_socket(state, auth, ws).await {
            tracing::warn!(error = %e, "agent socket ended with an error");
        }
    }))
}

fn message_frame(message: protocol::ChatMessage) -> AgentServerFrame {
    AgentServerFrame::Message { message }
}

/// One page of the inbox for this login, below `before`, with the agent's reads of it and
/// where the next page starts.
async fn inbox_page(
    state: &AppState,
    auth: &AuthAgent,
    before: Option<&InboxCursor>,
) -> Result<(
    Vec<ConversationSummary>,
    BTreeMap<String, i64>,
    Option<InboxCursor>,
)> {
    let scope = auth.scope.as_deref();
    // One more than a page tells whether another page follows.
    let mut conversations = state
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
    let mut read = state.store.reads(&auth.agent.id).await?;
    read.retain(|id, _| conversations.iter().any(|c| &c.id == id));
    Ok((conversations, read, older.flatten()))
}

/// The first page of the inbox: on connect, and after a lag or a resync.
async fn send_inbox(state: &AppState, auth: &AuthAgent, ws: &mut WebSocket) -> Result<bool> {
    let (conversations, read, older) = inbox_page(state, auth, None).await?;
    Ok(socket::send(
        ws,
        &AgentServerFrame::Inbox {
            conversations,
            read,
            older,
        },
    )
    .await)
}

/// An error frame for a refused request; the socket carries on.
fn error_frame(e: &Error, client_id: Option<String>) -> AgentServerFrame {
    AgentServerFrame::Error {
        code: e.code().into(),
        message: e.reported().error.message,
        client_id,
    }
}

async fn agent_socket(state: AppState, auth: AuthAgent, mut ws: WebSocket) -> Result<()> {
    let agent = &auth.agent;
    // A join link's console is for its one channel: it does not make the agent present, or
    // routing would hand it conversations of channels it cannot see.
    let _connected = match auth.scope {
        None => {
            let guard = presence::connect(&state, &agent.id).await?;
            routing::spawn_route_agent_queues(&state, &agent.id);
            Some(guard)
        }
        Some(_) => None,
    };
    let mut inbox = state.hub.subscribe(Topic::Inbox);
    let mut followed: StreamMap<String, BoxStream<'static, Result<HubEvent, RecvError>>> =
        StreamMap::new();
    let mut delivered = Delivered::default();
    let mut typing = socket::TypingThrottle::default();
    if !send_inbox(&state, &auth, &mut ws).await? {
        return Ok(());
    }
    loop {
        let proceed = tokio::select! {
            incoming = socket::receive::<AgentClientFrame>(&mut ws) => match incoming {
                Incoming::Frame(AgentClientFrame::Open { conversation_id, resume_after }) => {
                    if let Err(e) = auth.conversation(&state, &conversation_id).await {
                        socket::send(&mut ws, &error_frame(&e, None)).await
                    } else {
                        if !followed.contains_key(&conversation_id) {
                            let rx = state.hub.subscribe(Topic::Conversation(conversation_id.clone()));
                            followed.insert(conversation_id.clone(), rx.into_stream());
                        }
                        delivered.follow(&conversation_id, resume_after.max(0));
                        socket::catch_up(&mut ws, &state.store, &mut delivered, &conversation_id, message_frame).await?
                    }
                }
                Incoming::Frame(AgentClientFrame::Send { conversation_id, client_id, text }) => {
                    let posted = match auth.may_write(&state, &conversation_id).await {
                        Ok(()) => conversations::post_reply(&state, ReplyAuthor::Agent(agent), &conversation_id, &client_id, &text).await,
                        Err(e) => Err(e),
                    };
                    let reply = match posted {
                        Ok(appended) => AgentServerFrame::Ack { client_id, conversation_id, seq: appended.message.seq },
                        Err(e) => error_frame(&e, Some(client_id)),
                    };
                    socket::send(&mut ws, &reply).await
                }
                Incoming::Frame(AgentClientFrame::Read { conversation_id, seq }) => {
                    match auth.conversation(&state, &conversation_id).await {
                        Ok(_) => {
                            state.store.mark_read(&agent.id, &conversation_id, seq).await?;
                            true
                        }
                        Err(e) => socket::send(&mut ws, &error_frame(&e, None)).await,
                    }
                }
                Incoming::Frame(AgentClientFrame::InboxOlder { before }) => {
                    let (conversations, read, older) = inbox_page(&state, &auth, Some(&before)).await?;
                    socket::send(&mut ws, &AgentServerFrame::InboxPage { conversations, read, older }).await
                }
                Incoming::Frame(AgentClientFrame::Typing { conversation_id }) if !typing.allow(&conversation_id, std::time::Instant::now()) => true,
                Incoming::Frame(AgentClientFrame::Typing { conversation_id }) => {
                    match auth.conversation(&state, &conversation_id).await {
                        Ok(conversation) => {
                            conversations::agent_typing(&state, agent, conversation);
                            true
                        }
                        Err(e) => socket::send(&mut ws, &error_frame(&e, None)).await,
                    }
                }
                Incoming::Refused(code, message) => {
                    socket::send(&mut ws, &AgentServerFrame::Error { code: code.into(), message, client_id: None }).await
                }
                Incoming::Ignored => true,
                Incoming::Closed => false,
            },
            event = inbox.recv() => match event {
                Ok(HubEvent::Conversation(conversation)) if auth.sees_channel(&conversation.channel_key) => {
                    socket::send(&mut ws, &AgentServerFrame::Conversation { conversation }).await
                }
                Ok(HubEvent::Conversation(_) | HubEvent::Message(_) | HubEvent::Typing { .. }) => true,
                // The inbox is a snapshot, so a lagging console simply gets a fresh one.
                Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => send_inbox(&state, &auth, &mut ws).await?,
                Err(RecvError::Closed) => false,
            },
            Some((_, event)) = followed.next(), if !followed.is_empty() => match event {
                Ok(HubEvent::Message(message)) => {
                    socket::deliver(&mut ws, &state.store, &mut delivered, message, message_frame).await?
                }
                Ok(HubEvent::Typing { conversation_id, agent_name: None }) => {
                    socket::send(&mut ws, &AgentServerFrame::Typing { conversation_id }).await
                }
                Ok(HubEvent::Conversation(_) | HubEvent::Typing { .. }) => true,
                // A lag (the stream ends rather than yield a close).
                Ok(HubEvent::Resync) | Err(_) => {
                    socket::recover_lag(&mut ws, &state.store, &mut delivered, message_frame).await?
                }
            },
        };
        if !proceed {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse", &hash));
        assert!(!password_matches("wrong horse", &hash));
        assert!(!password_matches("correct horse", "not a hash"));
    }
}
