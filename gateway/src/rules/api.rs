//! The rules over HTTP, for marketers' console page and for programs holding the channel secret:
//! read and replace the rules, set the override, and preview the decision.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{PreviewRequest, VisibilityOverride, VisibilityReport, VisibilityRules};

use super::{decide, validate, validate_override, Facts, PageView};
use crate::auth::AuthAgent;
use crate::auth::ChannelAccess;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/channels/{id}/rules",
            get(read_rules).put(replace_rules),
        )
        .route(
            "/v1/channels/{id}/visibility",
            get(read_visibility).put(set_override),
        )
        .route("/v1/channels/{id}/visibility/preview", post(preview))
        .route("/v1/time-zones", get(time_zones))
}

async fn read_rules(access: ChannelAccess) -> Json<VisibilityRules> {
    Json(access.channel.rules)
}

async fn replace_rules(
    State(state): State<AppState>,
    access: ChannelAccess,
    ApiJson(rules): ApiJson<VisibilityRules>,
) -> Result<Json<VisibilityRules>> {
    validate(&rules)?;
    if !state
        .store
        .set_channel_rules(&access.channel.id, &rules)
        .await?
    {
        return Err(Error::NotFound);
    }
    Ok(Json(rules))
}

/// The decision now for `request`'s visitor (by default, a first visit that just began, on an
/// unknown page) under `rules`.
async fn report(
    state: &AppState,
    channel: &ChannelRecord,
    rules: &VisibilityRules,
    request: &PreviewRequest,
) -> Result<VisibilityReport> {
    let now_ms = now_ms();
    let facts = Facts {
        now_ms,
        agents: crate::presence::agent_counts(state, &channel.queue_id, now_ms).await?,
        page_view: PageView {
            visit: request.visit.unwrap_or(1).max(1),
            viewed_at_ms: now_ms - i64::from(request.seconds_on_page) * 1000,
            page_url: request.page_url.as_deref(),
        },
        presence_poll_ms: state.config.visibility_poll_secs.saturating_mul(1000),
    };
    Ok(decide(channel.online, rules, channel.visibility_override, &facts).report())
}

async fn read_visibility(
    State(state): State<AppState>,
    access: ChannelAccess,
) -> Result<Json<VisibilityReport>> {
    let channel = &access.channel;
    let report = report(&state, channel, &channel.rules, &PreviewRequest::default()).await?;
    Ok(Json(report))
}

async fn set_override(
    State(state): State<AppState>,
    access: ChannelAccess,
    ApiJson(set): ApiJson<VisibilityOverride>,
) -> Result<Json<VisibilityReport>> {
    validate_override(&set, now_ms())?;
    let mut channel = access.channel;
    if !state.store.set_channel_override(&channel.id, set).await? {
        return Err(Error::NotFound);
    }
    channel.visibility_override = set;
    let report = report(&state, &channel, &channel.rules, &PreviewRequest::default()).await?;
    Ok(Json(report))
}

async fn preview(
    State(state): State<AppState>,
    access: ChannelAccess,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<VisibilityReport>> {
    let channel = &access.channel;
    let rules = request.rules.as_ref().unwrap_or(&channel.rules);
    validate(rules)?;
    Ok(Json(report(&state, channel, rules, &request).await?))
}

/// The IANA zones the gateway knows, for the console's zone picker.
async fn time_zones(_: AuthAgent) -> Json<Vec<String>> {
    Json(super::schedule::time_zone_names())
}
