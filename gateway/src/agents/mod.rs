//! Agents: password login (argon2), the login token (HttpOnly cookie for the console, bearer
//! token for programs), and the agent socket `WS /v1/agent/ws` that feeds the console inbox.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::StreamExt;
use protocol::{
    AgentClientFrame, AgentPresence, AgentProfile, AgentServerFrame, LoginRequest, LoginResponse,
    SetPresence,
};
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamMap;

use crate::app::AppState;
use crate::conversations;
use crate::error::{Error, Result};
use crate::hub::{HubEvent, Topic};
use crate::socket::{self, Delivered, Incoming};
use crate::store::{AgentRecord, ReplyAuthor};
use crate::tokens::{random_token, sha256_hex};
use crate::{channels, now_ms, presence};

pub mod join;
pub mod sync;

pub const LOGIN_COOKIE: &str = "livechat_agent";
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
    role: &str,
) -> Result<AgentRecord> {
    if let Some(existing) = state.store.agent_by_email(email).await? {
        return Ok(existing);
    }
    let agent = AgentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.to_owned(),
        name: name.to_owned(),
        password_hash: hash_password(password)?,
        role: role.to_owned(),
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
        role: agent.role.clone(),
        presence: agent.presence,
        capacity: u32::try_from(agent.capacity).unwrap_or(0),
    }
}

/// Checks the password and opens a login; the same answer for an unknown email and a wrong
/// password, so the endpoint does not reveal who has an account.
pub async fn log_in(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<(String, AgentRecord)> {
    let agent = state.store.agent_by_email(email).await?;
    // An unknown email costs the same argon2 work as a wrong password, so the answer's timing
    // does not reveal who has an account either.
    let hash = agent
        .as_ref()
        .map_or_else(|| UNKNOWN_AGENT_HASH.clone(), |a| a.password_hash.clone());
    let Some(agent) = agent.filter(|a| password_matches(password, &hash) && a.active) else {
        return Err(Error::InvalidCredentials);
    };
    Ok((open_login(state, &agent).await?, agent))
}

/// A new login for the agent: its bearer token (only a hash is stored).
pub async fn open_login(state: &AppState, agent: &AgentRecord) -> Result<String> {
    let token = random_token(32);
    let expires =
        now_ms() + i64::try_from(state.config.agent_login_ttl_secs * 1000).unwrap_or(i64::MAX);
    state
        .store
        .insert_agent_session(&sha256_hex(&token), &agent.id, expires)
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

async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response> {
    let Json(request) = body?;
    let email = request.email.trim().to_lowercase();
    let (token, agent) = log_in(&state, &email, &request.password).await?;
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

async fn me(auth: AuthAgent) -> Json<AgentProfile> {
    Json(profile(&auth.agent))
}

/// The agent sets online, away or offline; it counts while a console of theirs is connected.
async fn set_presence(
    State(state): State<AppState>,
    auth: AuthAgent,
    body: Result<Json<SetPresence>, JsonRejection>,
) -> Result<Json<AgentProfile>> {
    let Json(request) = body?;
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

/// An authenticated agent, from `Authorization: Bearer …` or the login cookie.
pub struct AuthAgent {
    pub agent: AgentRecord,
    token: String,
    /// Cookies ride along on cross-site requests; such requests get an origin check.
    by_cookie: bool,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for AuthAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let (token, by_cookie) = match bearer {
            Some(token) => (token.to_owned(), false),
            None => match cookie_value(&parts.headers, LOGIN_COOKIE) {
                Some(token) => (token.to_owned(), true),
                None => return Err(Error::Unauthorized),
            },
        };
        let agent = state
            .store
            .agent_by_session(&sha256_hex(&token), now_ms())
            .await?
            .ok_or(Error::Unauthorized)?;
        Ok(AuthAgent {
            agent,
            token,
            by_cookie,
        })
    }
}

/// A cookie-authenticated socket must come from the console's own origin: otherwise any site
/// the agent visits could open a socket with the agent's cookie (cross-site WebSocket hijacking).
fn check_same_origin(headers: &HeaderMap) -> Result<()> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (channels::request_origin(headers), host) {
        (None, _) => Ok(()),
        (Some(origin), Some(host))
            if origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host) =>
        {
            Ok(())
        }
        (Some(origin), _) => Err(Error::OriginNotAllowed(origin.to_owned())),
    }
}

async fn agent_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: AuthAgent,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    if auth.by_cookie {
        check_same_origin(&headers)?;
    }
    Ok(upgrade
        .max_message_size(socket::TRANSPORT_MAX_BYTES)
        .on_upgrade(move |ws| async move {
            if let Err(e) = agent_socket(state, auth.agent, ws).await {
                tracing::warn!(error = %e, "agent socket ended with an error");
            }
        }))
}

fn message_frame(message: protocol::ChatMessage) -> AgentServerFrame {
    AgentServerFrame::Message { message }
}

async fn send_inbox(state: &AppState, agent: &AgentRecord, ws: &mut WebSocket) -> Result<bool> {
    let conversations = state.store.active_conversations().await?;
    let read = state.store.reads(&agent.id).await?;
    Ok(socket::send(
        ws,
        &AgentServerFrame::Inbox {
            conversations,
            read,
        },
    )
    .await)
}

async fn agent_socket(state: AppState, agent: AgentRecord, mut ws: WebSocket) -> Result<()> {
    let _connected = presence::connect(&state, &agent.id).await?;
    let mut inbox = state.hub.subscribe(Topic::Inbox);
    let mut followed: StreamMap<String, BroadcastStream<HubEvent>> = StreamMap::new();
    let mut delivered = Delivered::default();
    if !send_inbox(&state, &agent, &mut ws).await? {
        return Ok(());
    }
    loop {
        let proceed = tokio::select! {
            incoming = socket::receive::<AgentClientFrame>(&mut ws) => match incoming {
                Incoming::Frame(AgentClientFrame::Open { conversation_id, resume_after }) => {
                    if state.store.conversation(&conversation_id).await?.is_none() {
                        let e = Error::ConversationNotFound;
                        socket::send(&mut ws, &AgentServerFrame::Error { code: e.code().into(), message: e.to_string(), client_id: None }).await
                    } else {
                        if !followed.contains_key(&conversation_id) {
                            let rx = state.hub.subscribe(Topic::Conversation(conversation_id.clone()));
                            followed.insert(conversation_id.clone(), BroadcastStream::new(rx));
                        }
                        delivered.follow(&conversation_id, resume_after.max(0));
                        socket::catch_up(&mut ws, &state.store, &mut delivered, &conversation_id, message_frame).await?
                    }
                }
                Incoming::Frame(AgentClientFrame::Send { conversation_id, client_id, text }) => {
                    let reply = match conversations::post_reply(&state, ReplyAuthor::Agent(&agent), &conversation_id, &client_id, &text).await {
                        Ok(appended) => AgentServerFrame::Ack { client_id, conversation_id, seq: appended.message.seq },
                        Err(e) => AgentServerFrame::Error { code: e.code().into(), message: e.body().error.message, client_id: Some(client_id) },
                    };
                    socket::send(&mut ws, &reply).await
                }
                Incoming::Frame(AgentClientFrame::Read { conversation_id, seq }) => {
                    state.store.mark_read(&agent.id, &conversation_id, seq).await?;
                    true
                }
                Incoming::Frame(AgentClientFrame::Typing { conversation_id }) => {
                    conversations::agent_typing(&state, &agent, &conversation_id).await?;
                    true
                }
                Incoming::Refused(code, message) => {
                    socket::send(&mut ws, &AgentServerFrame::Error { code: code.into(), message, client_id: None }).await
                }
                Incoming::Ignored => true,
                Incoming::Closed => false,
            },
            event = inbox.recv() => match event {
                Ok(HubEvent::Conversation(conversation)) => {
                    socket::send(&mut ws, &AgentServerFrame::Conversation { conversation }).await
                }
                Ok(HubEvent::Message(_) | HubEvent::Typing { .. }) => true,
                // The inbox is a snapshot, so a lagging console simply gets a fresh one.
                Err(RecvError::Lagged(_)) => send_inbox(&state, &agent, &mut ws).await?,
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
                Err(BroadcastStreamRecvError::Lagged(_)) => {
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

    #[test]
    fn the_login_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; livechat_agent=tok; b=2"),
        );
        assert_eq!(cookie_value(&headers, LOGIN_COOKIE), Some("tok"));
        assert_eq!(cookie_value(&headers, "missing"), None);
    }

    #[test]
    fn cookie_sockets_must_come_from_the_console_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(check_same_origin(&headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(check_same_origin(&headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(check_same_origin(&headers).is_err());
    }
}
