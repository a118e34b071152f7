//! Canned responses: team-wide snippets. Admins manage them (`PUT`/`DELETE
//! /v1/canned-responses/{shortcut}`); every agent reads them and inserts one by typing
//! `/shortcut` and Tab in a reply.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{CannedResponse, Problem, MAX_MESSAGE_CHARS};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::auth::AuthAgent;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;

const MAX_SHORTCUT_CHARS: usize = 32;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(save, remove))
}

/// Canned responses.
#[utoipa::path(
    get,
    path = "/v1/canned-responses",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = Vec<CannedResponse>))
)]
async fn list(_: AuthAgent, State(state): State<AppState>) -> Result<Json<Vec<CannedResponse>>> {
    let all = state.store.canned_responses().await?;
    Ok(Json(
        all.into_iter()
            .map(|(shortcut, text)| CannedResponse { shortcut, text })
            .collect(),
    ))
}

/// A shortcut is what follows the `/` an agent types: letters, digits, `-` and `_`.
fn check_shortcut(shortcut: &str) -> Result<()> {
    let fine = !shortcut.is_empty()
        && shortcut.chars().count() <= MAX_SHORTCUT_CHARS
        && shortcut
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(())
    } else {
        Err(Error::field(
            "shortcut",
            Problem::Shortcut {
                max: MAX_SHORTCUT_CHARS as u64,
            },
        ))
    }
}

/// Save a canned response.
///
/// The shortcut is 1 to 32 letters, digits, `-` or `_`: what an agent types after `/`.
#[utoipa::path(
    put,
    path = "/v1/canned-responses/{shortcut}",
    tag = "Agents",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = CannedResponse,
    responses((status = 200, description = "Done.", body = CannedResponse))
)]
async fn save(
    _: Admin,
    State(state): State<AppState>,
    Path(shortcut): Path<String>,
    ApiJson(input): ApiJson<CannedResponse>,
) -> Result<Json<CannedResponse>> {
    check_shortcut(&shortcut)?;
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::field(
            "text",
            Problem::Characters {
                min: 1,
                max: MAX_MESSAGE_CHARS as u64,
            },
        ));
    }
    state
        .store
        .save_canned_response(&shortcut, text, now_ms())
        .await?;
    Ok(Json(CannedResponse {
        shortcut,
        text: text.to_owned(),
    }))
}

/// Delete a canned response.
#[utoipa::path(
    delete,
    path = "/v1/canned-responses/{shortcut}",
    tag = "Agents",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 204, description = "Done."))
)]
async fn remove(
    _: Admin,
    State(state): State<AppState>,
    Path(shortcut): Path<String>,
) -> Result<StatusCode> {
    if state.store.delete_canned_response(&shortcut).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}
