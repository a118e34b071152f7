//! Agents managed by admins, and synced from another system (`PUT /v1/admin/agents/external/{id}`):
//! an upsert by that system's id, so syncing the same agent twice leaves one agent.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{AgentPresence, AgentView, Problem, SyncAgent};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{hash_password, DEFAULT_CAPACITY};
use crate::auth::Admin;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::AgentRecord;
use crate::tokens::random_token;

const MAX_NAME_CHARS: usize = 120;
const MAX_EXTERNAL_ID_CHARS: usize = 200;
const MAX_CAPACITY: u32 = 100;
const MIN_PASSWORD_CHARS: usize = 8;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(upsert))
}

pub fn view(agent: &AgentRecord, queues: Vec<String>) -> AgentView {
    AgentView {
        queues,
        id: agent.id.clone(),
        external_id: agent.external_id.clone(),
        email: agent.email.clone(),
        name: agent.name.clone(),
        role: agent.role,
        capacity: u32::try_from(agent.capacity).unwrap_or(0),
        presence: agent.presence,
        active: agent.active,
    }
}

/// Every agent with queues, presence and capacity.
#[utoipa::path(
    get,
    path = "/v1/admin/agents",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = Vec<AgentView>))
)]
async fn list(_: Admin, State(state): State<AppState>) -> Result<Json<Vec<AgentView>>> {
    let mut views = Vec::new();
    for agent in state.store.agents().await? {
        let queues = state.store.agent_queue_ids(&agent.id).await?;
        views.push(view(&agent, queues));
    }
    Ok(Json(views))
}

/// The queues to put the agent in, checked to exist; None: leave them as they are.
async fn wanted_queues(state: &AppState, input: &SyncAgent) -> Result<Option<Vec<String>>> {
    let Some(wanted) = &input.queues else {
        return Ok(None);
    };
    let existing = state.store.existing_queue_ids(wanted).await?;
    let problems: BTreeMap<String, Problem> = wanted
        .iter()
        .enumerate()
        .filter_map(|(i, queue)| {
            let problem = if wanted[..i].contains(queue) {
                Problem::Twice
            } else if !existing.contains(queue) {
                Problem::NoSuchQueue
            } else {
                return None;
            };
            Some((format!("queues[{i}]"), problem))
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    Ok(Some(wanted.clone()))
}

/// Applies the queue choice and answers with the agent as it now is.
async fn synced(
    state: &AppState,
    agent: &AgentRecord,
    queues: Option<Vec<String>>,
) -> Result<AgentView> {
    if let Some(queues) = queues {
        state.store.set_agent_queues(&agent.id, &queues).await?;
    }
    let queues = state.store.agent_queue_ids(&agent.id).await?;
    // More capacity or new queues can let waiting conversations through.
    crate::routing::spawn_route_agent_queues(state, &agent.id);
    Ok(view(agent, queues))
}

/// The hash [`apply`] stores, computed off the async workers: of the new password (if it is
/// long enough to be accepted), or of a random one for a new agent given none.
async fn password_hash(
    state: &AppState,
    input: &SyncAgent,
    creating: bool,
) -> Result<Option<String>> {
    let password = match input.password.as_deref() {
        Some(password) if password.chars().count() >= MIN_PASSWORD_CHARS => password.to_owned(),
        None if creating => random_token(32),
        _ => return Ok(None),
    };
    Ok(Some(
        super::argon2_work(state, move || hash_password(&password)).await??,
    ))
}

/// The agent after applying `input` (with `password_hash` from [`password_hash`]): every bad
/// field is named, and nothing changes on any.
pub fn apply(
    existing: Option<AgentRecord>,
    external_id: &str,
    input: &SyncAgent,
    password_hash: Option<String>,
) -> Result<AgentRecord> {
    let mut problems = BTreeMap::new();
    let creating = existing.is_none();
    let mut agent = existing.unwrap_or_else(|| AgentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        email: String::new(),
        name: String::new(),
        password_hash: String::new(),
        role: protocol::Role::Agent,
        presence: AgentPresence::Online,
        capacity: DEFAULT_CAPACITY,
        external_id: Some(external_id.to_owned()),
        active: true,
    });
    if external_id.is_empty() || external_id.chars().count() > MAX_EXTERNAL_ID_CHARS {
        problems.insert(
            "external_id".into(),
            Problem::Characters {
                min: 1,
                max: MAX_EXTERNAL_ID_CHARS as u64,
            },
        );
    }
    match input.email.as_deref().map(str::trim) {
        Some(email)
            if email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(user, host)| !user.is_empty() && host.contains('.')) =>
        {
            agent.email = email.to_lowercase();
        }
        Some(_) => {
            problems.insert("email".into(), Problem::Email);
        }
        None if creating => {
            problems.insert("email".into(), Problem::Required);
        }
        None => {}
    }
    match input.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() && name.chars().count() <= MAX_NAME_CHARS => {
            agent.name = name.to_owned()
        }
        Some(_) => {
            problems.insert(
                "name".into(),
                Problem::Characters {
                    min: 1,
                    max: MAX_NAME_CHARS as u64,
                },
            );
        }
        None if creating => {
            problems.insert("name".into(), Problem::Required);
        }
        None => {}
    }
    match input.role.as_deref().map(str::parse) {
        Some(Ok(role)) => agent.role = role,
        Some(Err(problem)) => {
            problems.insert("role".into(), problem.into());
        }
        None => {}
    }
    match input.capacity {
        Some(n) if (1..=MAX_CAPACITY).contains(&n) => agent.capacity = i64::from(n),
        Some(_) => {
            problems.insert(
                "capacity".into(),
                Problem::Number {
                    min: "1".into(),
                    max: MAX_CAPACITY.to_string(),
                },
            );
        }
        None => {}
    }
    match (input.password.as_deref(), password_hash) {
        // No password for a new agent: one nobody knows, so it logs in only by a join link.
        (_, Some(hash)) => agent.password_hash = hash,
        (Some(_), None) => {
            problems.insert(
                "password".into(),
                Problem::AtLeastCharacters {
                    min: MIN_PASSWORD_CHARS as u64,
                },
            );
        }
        (None, None) => {}
    }
    if let Some(active) = input.active {
        agent.active = active;
    }
    if problems.is_empty() {
        Ok(agent)
    } else {
        Err(Error::Validation(problems))
    }
}

fn email_taken() -> Error {
    Error::field("email", Problem::Taken)
}

/// Create or update an agent by another system's id.
///
/// Fields left out are kept; `201` when the agent was created.
#[utoipa::path(
    put,
    path = "/v1/admin/agents/external/{external_id}",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = SyncAgent,
    responses((status = 200, description = "Updated.", body = AgentView), (status = 201, description = "Created.", body = AgentView))
)]
async fn upsert(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(external_id): Path<String>,
    ApiJson(input): ApiJson<SyncAgent>,
) -> Result<(StatusCode, Json<AgentView>)> {
    let queues = wanted_queues(&state, &input).await?;
    // Two syncs of a new agent at once: the loser's insert hits the unique external id, and its
    // second round finds the winner's row and updates it.
    for _ in 0..2 {
        let existing = state.store.agent_by_external_id(&external_id).await?;
        let creating = existing.is_none();
        let previous_hash = existing.as_ref().map(|a| a.password_hash.clone());
        let before = match &existing {
            Some(agent) => Some(view(agent, state.store.agent_queue_ids(&agent.id).await?)),
            None => None,
        };
        let hash = password_hash(&state, &input, creating).await?;
        let agent = apply(existing, &external_id, &input, hash)?;
        // A new password or a deactivation ends every login the agent has.
        let end_logins = !agent.active || previous_hash.as_ref() != Some(&agent.password_hash);
        if creating {
            if state.store.insert_agent(&agent, now_ms()).await? {
                let after = synced(&state, &agent, queues).await?;
                audited(&state, &admin, None, &after, true).await?;
                return Ok((StatusCode::CREATED, Json(after)));
            }
            if state
                .store
                .agent_by_external_id(&external_id)
                .await?
                .is_none()
            {
                return Err(email_taken());
            }
        } else if state.store.update_agent(&agent, end_logins).await? {
            let after = synced(&state, &agent, queues).await?;
            let new_password = previous_hash.as_ref() != Some(&agent.password_hash);
            audited(&state, &admin, before.as_ref(), &after, new_password).await?;
            return Ok((StatusCode::OK, Json(after)));
        } else {
            return Err(email_taken());
        }
    }
    Err(Error::Internal("agent sync did not settle".into()))
}

/// Records the sync in the audit log: each field that changed, and that the password did (not
/// what it is).
async fn audited(
    state: &AppState,
    admin: &AgentRecord,
    before: Option<&AgentView>,
    after: &AgentView,
    new_password: bool,
) -> Result<()> {
    let before = before.map(crate::audit::json).transpose()?;
    let mut changes =
        crate::audit::changes(&before.unwrap_or_default(), &crate::audit::json(after)?);
    if new_password {
        let redacted = protocol::Change::redacted();
        changes.insert("password".into(), redacted);
    }
    let actor = crate::audit::by_agent(admin);
    let action = protocol::AuditAction::AgentSynced;
    crate::audit::record(state, &actor, action, None, Some(&after.id), changes).await
}
