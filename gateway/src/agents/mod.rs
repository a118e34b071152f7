//! Agents: password login (argon2), the login token (HttpOnly cookie for the console, bearer
//! token for programs), logout, profile and presence. The agent socket `WS /v1/agent/ws` that
//! feeds the console inbox is in [`socket`]; [`join`] logs an agent in from a desk's link and
//! [`sync`] provisions agents from an identity system; [`team`] lists colleagues and queues.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{AgentPresence, AgentProfile, LoginRequest, LoginResponse, Role, SetPresence};

use std::net::{IpAddr, SocketAddr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, AuthAgent, LOGIN_COOKIE};
use crate::error::{ApiJson, Error, Result};
use crate::state::AppState;
use crate::store::AgentRecord;
use crate::tokens::{random_token, sha256_hex};
use crate::{now_ms, peer};

pub mod join;
pub mod socket;
pub mod sync;
pub mod team;

/// Conversations an agent holds at once unless set otherwise.
pub const DEFAULT_CAPACITY: i64 = 5;

/// A hash no password matches in practice, verified when the email is unknown.
static UNKNOWN_AGENT_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    hash_password(&random_token(32)).expect("argon2 hashes a random password")
});

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(set_presence))
        .routes(routes!(socket::agent_ws))
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

/// The agent as their console sees them, with the queues they work.
async fn profile(state: &AppState, agent: &AgentRecord) -> Result<AgentProfile> {
    Ok(AgentProfile {
        id: agent.id.clone(),
        name: agent.name.clone(),
        email: agent.email.clone(),
        role: agent.role,
        presence: agent.presence,
        capacity: u32::try_from(agent.capacity).unwrap_or(0),
        queues: state.store.agent_queue_ids(&agent.id).await?,
    })
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
    limits
        .check(&[
            (&limits.logins_per_ip, &peer::limit_key(client)),
            (&limits.logins_per_account, email),
        ])
        .await?;
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

// A foreign page may not log the browser in either (to an account of its choosing).
/// Log in with email and password: a bearer token and a cookie.
#[utoipa::path(
    post,
    path = "/v1/agent/login",
    tag = "Agents",
    request_body = LoginRequest,
    responses((status = 200, description = "Done.", body = LoginResponse))
)]
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
        agent: profile(&state, &agent).await?,
    });
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

/// End this login.
#[utoipa::path(
    post,
    path = "/v1/agent/logout",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 204, description = "Done."))
)]
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

/// The logged-in agent.
///
/// With the role the login acts with (an agent's, for a join link's login).
#[utoipa::path(
    get,
    path = "/v1/agent/me",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = AgentProfile))
)]
async fn me(State(state): State<AppState>, auth: AuthAgent) -> Result<Json<AgentProfile>> {
    Ok(Json(AgentProfile {
        role: auth.role(),
        ..profile(&state, &auth.agent).await?
    }))
}

/// Set online, away or offline.
///
/// It counts while a console of the agent's is connected.
#[utoipa::path(
    put,
    path = "/v1/agent/presence",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    request_body = SetPresence,
    responses((status = 200, description = "Done.", body = AgentProfile))
)]
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
    Ok(Json(profile(&state, &agent).await?))
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
