//! `GET /v1/team`: any agent's view of the team, the active colleagues and every queue, which
//! is where a conversation can be transferred to.

use axum::extract::State;
use axum::Json;
use protocol::{Colleague, Team};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthAgent;
use crate::error::Result;
use crate::queues;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(team))
}

/// Active agents and queues, for transfers.
#[utoipa::path(
    get,
    path = "/v1/team",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = Team))
)]
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
