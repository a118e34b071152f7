//! The rules over HTTP, for marketers' console page and for programs holding the channel secret:
//! read and replace the rules, set the override, and preview the decision.

use axum::extract::State;
use axum::Json;
use protocol::{PreviewRequest, VisibilityOverride, VisibilityReport, VisibilityRules};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{decide, validate, validate_override, Facts, PageView};
use crate::auth::AuthAgent;
use crate::auth::ChannelAccess;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_rules, replace_rules))
        .routes(routes!(read_visibility, set_override))
        .routes(routes!(preview))
        .routes(routes!(time_zones))
}

/// The channel's visibility rules.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/rules",
    tag = "Visibility",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = VisibilityRules))
)]
async fn read_rules(access: ChannelAccess) -> Json<VisibilityRules> {
    Json(access.channel.rules)
}

/// Replace the visibility rules (validated whole).
#[utoipa::path(
    put,
    path = "/v1/channels/{id}/rules",
    tag = "Visibility",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = VisibilityRules,
    responses((status = 200, description = "Done.", body = VisibilityRules))
)]
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

/// The override and the decision now, with reasons.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/visibility",
    tag = "Visibility",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = VisibilityReport))
)]
async fn read_visibility(
    State(state): State<AppState>,
    access: ChannelAccess,
) -> Result<Json<VisibilityReport>> {
    let channel = &access.channel;
    let report = report(&state, channel, &channel.rules, &PreviewRequest::default()).await?;
    Ok(Json(report))
}

/// Force the widget visible or hidden, optionally until a time.
#[utoipa::path(
    put,
    path = "/v1/channels/{id}/visibility",
    tag = "Visibility",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = VisibilityOverride,
    responses((status = 200, description = "Done.", body = VisibilityReport))
)]
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

/// Decide unsaved rules for a sample visitor.
///
/// By default a first visit that just began, on an unknown page.
#[utoipa::path(
    post,
    path = "/v1/channels/{id}/visibility/preview",
    tag = "Visibility",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = PreviewRequest,
    responses((status = 200, description = "Done.", body = VisibilityReport))
)]
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

/// Time zone names for business hours.
#[utoipa::path(
    get,
    path = "/v1/time-zones",
    tag = "Visibility",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = Vec<String>))
)]
async fn time_zones(_: AuthAgent) -> Json<Vec<String>> {
    Json(super::schedule::time_zone_names())
}
