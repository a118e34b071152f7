//! `GET /v1/team`: any agent's view of the team, the active colleagues and every queue, which
//! is where a conversation can be transferred to.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use protocol::{Colleague, Team};

use crate::auth::AuthAgent;
use crate::error::Result;
use crate::queues;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/team", get(team))
}

/// Active agents and every queue: where an agent can transfer a conversation.
async fn team(_: AuthAgent, State(state): State<AppState>) -> Result<Json<Team>> {
    let agents = state
        .store
        .agents()
        .await?
        .into_iter()
        .filter(|a| a.active)
        .map(|a| Colleague {
            id: a.id,
            name: a.name,
            presence: a.presence,
        })
        .collect();
    let queues = state
        .store
        .queues()
        .await?
        .iter()
        .map(queues::view)
        .collect();
    Ok(Json(Team { agents, queues }))
}
