//! Canned responses: team-wide snippets. Admins manage them (`PUT`/`DELETE
//! /v1/canned-responses/{shortcut}`); every agent reads them and inserts one by typing
//! `/shortcut` and Tab in a reply.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use protocol::{CannedResponse, MAX_MESSAGE_CHARS};

use crate::auth::Admin;
use crate::auth::AuthAgent;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;

const MAX_SHORTCUT_CHARS: usize = 32;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/canned-responses", get(list))
        .route("/v1/canned-responses/{shortcut}", put(save).delete(remove))
}

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
            format!("1 to {MAX_SHORTCUT_CHARS} letters, digits, - or _"),
        ))
    }
}

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
            format!("1 to {MAX_MESSAGE_CHARS} characters"),
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
