//! Queues for admins: `/v1/admin/queues`. Membership is set per agent (agent sync's `queues`);
//! a channel names its queue (`queue_id` in the channel settings).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{Problem, QueueInput, QueueView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::QueueRecord;

const MAX_NAME_CHARS: usize = 80;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(edit))
}

pub fn view(queue: &QueueRecord) -> QueueView {
    QueueView {
        id: queue.id.clone(),
        name: queue.name.clone(),
        auto_assign: queue.auto_assign,
    }
}

/// Queues.
#[utoipa::path(
    get,
    path = "/v1/admin/queues",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = Vec<QueueView>))
)]
async fn list(_: Admin, State(state): State<AppState>) -> Result<Json<Vec<QueueView>>> {
    Ok(Json(state.store.queues().await?.iter().map(view).collect()))
}

fn apply(mut queue: QueueRecord, input: &QueueInput) -> Result<QueueRecord> {
    if let Some(name) = input.name.as_deref().map(str::trim) {
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::field(
                "name",
                Problem::Characters {
                    min: 1,
                    max: MAX_NAME_CHARS as u64,
                },
            ));
        }
        queue.name = name.to_owned();
    }
    if let Some(auto_assign) = input.auto_assign {
        queue.auto_assign = auto_assign;
    }
    Ok(queue)
}

async fn save(state: &AppState, queue: QueueRecord) -> Result<QueueView> {
    if !state.store.save_queue(&queue, now_ms()).await? {
        return Err(Error::field("name", Problem::Taken));
    }
    // Switching auto-assignment on lets what waits through at once.
    crate::routing::spawn_route_queue(state, &queue.id);
    Ok(view(&queue))
}

/// Create a queue.
#[utoipa::path(
    post,
    path = "/v1/admin/queues",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = QueueInput,
    responses((status = 201, description = "Created.", body = QueueView))
)]
async fn create(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<QueueInput>,
) -> Result<(StatusCode, Json<QueueView>)> {
    if input.name.is_none() {
        return Err(Error::field("name", Problem::Required));
    }
    let fresh = QueueRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: String::new(),
        auto_assign: true,
    };
    let queue = apply(fresh, &input)?;
    Ok((StatusCode::CREATED, Json(save(&state, queue).await?)))
}

/// Edit a queue.
#[utoipa::path(
    patch,
    path = "/v1/admin/queues/{id}",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = QueueInput,
    responses((status = 200, description = "Done.", body = QueueView))
)]
async fn edit(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<QueueInput>,
) -> Result<Json<QueueView>> {
    let queue = state.store.queue(&id).await?.ok_or(Error::NotFound)?;
    Ok(Json(save(&state, apply(queue, &input)?).await?))
}
