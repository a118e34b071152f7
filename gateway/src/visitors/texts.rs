//! `GET /v1/widget/{channel_key}/texts`: what the panel says, in the page's language. Fetched
//! when the panel opens, so a page downloads one language's texts, not six.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use protocol::{Locale, WidgetTexts};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::bootstrap::visited_channel;
use crate::error::Result;
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(widget_texts))
}

/// The most languages of a request considered.
const MAX_WANTED: usize = 10;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TextsQuery {
    /// The languages wanted, the most wanted first, comma-separated BCP 47 tags (the panel
    /// sends `LiveChat.setLocale`'s, the page's `<html lang>`, the snippet's `data-locale`, then
    /// the browser's); the first spoken is chosen, by tag and then by language; English when none
    /// is.
    locale: Option<String>,
}

/// The panel's texts in the first language wanted that it speaks, with the channel's own.
#[utoipa::path(
    get,
    path = "/v1/widget/{channel_key}/texts",
    tag = "Widget",
    params(TextsQuery),
    responses((status = 200, description = "Done.", body = WidgetTexts))
)]
async fn widget_texts(
    State(state): State<AppState>,
    Path(channel_key): Path<String>,
    query: Result<Query<TextsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    let Query(query) = query?;
    let channel = visited_channel(&state, &channel_key, &headers).await?;
    let wanted = query.locale.unwrap_or_default();
    let locale = Locale::choose(wanted.split(',').take(MAX_WANTED)).unwrap_or(Locale::En);
    // An admin's change reaches open pages within minutes; the panel asks once per page.
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(crate::texts::for_channel(&channel.texts, locale)),
    ))
}
