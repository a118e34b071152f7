//! The channel admin API, `/v1/admin/channels…`, for agents with the admin role: list and
//! search, create, read (with the secret), edit, rotate the secret, delete one or several.
//!
//! Input is checked field by field by [`apply`]: every problem is reported at once, by field
//! name, with `validation_failed`; nothing is saved unless all of it is valid.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use protocol::{
    Appearance, AuditAction, CaptchaProvider, CaptchaView, ChannelState, ChannelView,
    ChannelsDeleted, CobrowseSettings, DeleteChannels, FileKind, LauncherIcon, LauncherPosition,
    Prechat, Proactive, Problem, Theme, UploadPolicy, MAX_COBROWSE_SELECTORS,
    MAX_COBROWSE_SELECTOR_CHARS,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit;
use crate::auth::Admin;
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::{CaptchaSettings, ChannelRecord};
use crate::tokens::random_token;

/// Most channels one bulk delete may name.
const MAX_BULK: usize = 100;
const MAX_NAME_CHARS: usize = 100;
/// A week: longer "inactivity" is no timeout at all.
const MAX_TIMEOUT_SECS: i64 = 7 * 24 * 3600;
/// Closing sooner than this would close chats a visitor is still reading.
const MIN_IDLE_CLOSE_SECS: i64 = 300;
const MAX_IDLE_CLOSE_SECS: i64 = 90 * 24 * 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete_many))
        .routes(routes!(read, edit, delete_one))
        .routes(routes!(rotate_secret))
        .routes(routes!(rotate_identity_secret))
        .routes(routes!(widget_texts))
}

/// The widget's own texts in each language, which a channel's `texts` replace (for the
/// Channels page's editor).
#[utoipa::path(
    get,
    path = "/v1/admin/texts",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = Object))
)]
async fn widget_texts(_: Admin) -> Json<protocol::ChannelTexts> {
    Json(
        protocol::Locale::ALL
            .iter()
            .map(|locale| (*locale, crate::texts::bundle(*locale).clone()))
            .collect(),
    )
}

pub fn view(state: &AppState, channel: &ChannelRecord) -> ChannelView {
    let state_now = match (&channel.last_error, channel.online) {
        (_, false) => ChannelState::Offline,
        (Some(_), true) => ChannelState::Error,
        (None, true) => ChannelState::Online,
    };
    ChannelView {
        id: channel.id.clone(),
        key: channel.key.clone(),
        secret: channel.secret.clone(),
        name: channel.name.clone(),
        inactivity_timeout_secs: channel.inactivity_timeout_secs,
        idle_close_secs: channel.idle_close_secs,
        allowed_origins: channel.allowed_origins.clone(),
        online: channel.online,
        receptive: channel.receptive,
        queue_id: channel.queue_id.clone(),
        state: state_now,
        error: channel.last_error.clone(),
        captcha: channel.captcha.as_ref().map(|c| CaptchaView {
            provider: c.provider,
            site_key: c.site_key.clone(),
            min_score: c.min_score,
        }),
        appearance: channel.appearance.clone(),
        visitor_uploads: channel.visitor_uploads,
        uploads: channel.uploads.clone(),
        email_sender_name: channel.email_sender_name.clone(),
        missed_chat_secs: channel.missed_chat_secs,
        when_unavailable: channel.when_unavailable,
        prechat: channel.prechat.clone(),
        identity_secret: channel.identity_secret.clone(),
        identity: channel.identity,
        proactive: channel.proactive.clone(),
        rating_scale: channel.rating_scale,
        retention_days: channel.retention_days,
        texts: channel.texts.clone(),
        cobrowse: channel.cobrowse.clone(),
        snippet: format!(
            "<script async src=\"{}/embed.js\" data-channel=\"{}\"></script>",
            state.config.public_url(),
            channel.key
        ),
        chat_url: format!("{}/chat/{}", state.config.public_url(), channel.key),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only channels whose name contains this, in any case.
    #[serde(default)]
    q: String,
}

/// Channels.
#[utoipa::path(
    get,
    path = "/v1/admin/channels",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(ListQuery),
    responses((status = 200, description = "Done.", body = Vec<ChannelView>))
)]
async fn list(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<ChannelView>>> {
    let channels = state.store.channels(query.q.trim()).await?;
    Ok(Json(channels.iter().map(|c| view(&state, c)).collect()))
}

async fn by_id(state: &AppState, id: &str) -> Result<ChannelRecord> {
    state
        .store
        .channel_by_id(id)
        .await?
        .ok_or_else(|| Error::ChannelNotFound(id.to_owned()))
}

/// A channel, with its secret.
#[utoipa::path(
    get,
    path = "/v1/admin/channels/{id}",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ChannelView))
)]
async fn read(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChannelView>> {
    Ok(Json(view(&state, &by_id(&state, &id).await?)))
}

/// Create a channel.
///
/// The body holds the `ChannelView` fields to set (`name`, `allowed_origins`, `queue_id`, `appearance`, …); every problem is reported at once, by field, and nothing is saved unless all is valid.
#[utoipa::path(
    post,
    path = "/v1/admin/channels",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body(content = Object, description = "The fields to set."),
    responses((status = 201, description = "Created.", body = ChannelView))
)]
async fn create(
    Admin(admin): Admin,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    let channel = apply(new_channel(), &input, true)?;
    check_queue(&state, &channel).await?;
    state.store.save_channel(&channel, now_ms()).await?;
    let created = view(&state, &channel);
    let changes = audit::changes(&Value::Null, &audit::json(&created)?);
    let actor = audit::by_agent(&admin);
    audit::record(
        &state,
        &actor,
        AuditAction::ChannelCreated,
        Some(&channel.id),
        None,
        changes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Edit a channel.
///
/// The body holds the `ChannelView` fields to change; the others are kept.
#[utoipa::path(
    patch,
    path = "/v1/admin/channels/{id}",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body(content = Object, description = "The fields to change."),
    responses((status = 200, description = "Done.", body = ChannelView))
)]
async fn edit(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Map<String, Value>>,
) -> Result<Json<ChannelView>> {
    let before = by_id(&state, &id).await?;
    let mut channel = apply(before.clone(), &input, false)?;
    check_queue(&state, &channel).await?;
    // An edit is the admin's fix: the error is re-detected if it persists.
    channel.last_error = None;
    state.store.save_channel(&channel, now_ms()).await?;
    let after = view(&state, &channel);
    audit::channel_edited(
        &state,
        &audit::by_agent(&admin),
        &view(&state, &before),
        &after,
    )
    .await?;
    Ok(Json(after))
}

/// The channel's queue, and each pre-chat topic's, must exist: its conversations would
/// otherwise wait forever.
async fn check_queue(state: &AppState, channel: &ChannelRecord) -> Result<()> {
    if state.store.queue(&channel.queue_id).await?.is_none() {
        return Err(Error::field("queue_id", Problem::NoSuchQueue));
    }
    for (i, topic) in channel.prechat.topics.iter().enumerate() {
        if state.store.queue(&topic.queue_id).await?.is_none() {
            return Err(Error::field(
                &format!("prechat.topics[{i}].queue_id"),
                Problem::NoSuchQueue,
            ));
        }
    }
    Ok(())
}

/// Replace the channel's secret.
#[utoipa::path(
    post,
    path = "/v1/admin/channels/{id}/rotate-secret",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ChannelView))
)]
async fn rotate_secret(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChannelView>> {
    let mut channel = by_id(&state, &id).await?;
    channel.secret = random_token(32);
    state.store.save_channel(&channel, now_ms()).await?;
    rotated(
        &state,
        &admin,
        &channel,
        AuditAction::SecretRotated,
        "secret",
    )
    .await?;
    Ok(Json(view(&state, &channel)))
}

/// Records that one of the channel's secrets was replaced (not with what).
async fn rotated(
    state: &AppState,
    admin: &crate::store::AgentRecord,
    channel: &ChannelRecord,
    action: AuditAction,
    field: &str,
) -> Result<()> {
    let redacted = protocol::Change::redacted();
    let changes = [(field.to_owned(), redacted)].into();
    let actor = audit::by_agent(admin);
    audit::record(state, &actor, action, Some(&channel.id), None, changes).await
}

/// Replace (or create) the key the site signs identity tokens with.
///
/// Tokens signed with the old key are refused from now on: update the site's back end first.
#[utoipa::path(
    post,
    path = "/v1/admin/channels/{id}/rotate-identity-secret",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ChannelView))
)]
async fn rotate_identity_secret(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChannelView>> {
    let mut channel = by_id(&state, &id).await?;
    channel.identity_secret = Some(random_token(32));
    state.store.save_channel(&channel, now_ms()).await?;
    let action = AuditAction::IdentitySecretRotated;
    rotated(&state, &admin, &channel, action, "identity_secret").await?;
    Ok(Json(view(&state, &channel)))
}

/// Delete a channel.
#[utoipa::path(
    delete,
    path = "/v1/admin/channels/{id}",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 204, description = "Done."))
)]
async fn delete_one(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    delete(&state, &admin, vec![id]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete channels, all or none.
///
/// Unknown ids are a 404, channels in use a 409 naming them.
#[utoipa::path(
    post,
    path = "/v1/admin/channels/delete",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = DeleteChannels,
    responses((status = 200, description = "Done.", body = ChannelsDeleted))
)]
async fn delete_many(
    Admin(admin): Admin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DeleteChannels>,
) -> Result<Json<ChannelsDeleted>> {
    let mut ids = request.ids;
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(Error::BadRequest(format!(
            "name 1 to {MAX_BULK} channel ids"
        )));
    }
    delete(&state, &admin, ids.clone()).await?;
    Ok(Json(ChannelsDeleted { deleted: ids }))
}

/// All or nothing: unknown ids are a 404, channels in use a 409 naming them.
async fn delete(
    state: &AppState,
    admin: &crate::store::AgentRecord,
    ids: Vec<String>,
) -> Result<()> {
    let mut deleted = Vec::new();
    for id in &ids {
        deleted.push(view(state, &by_id(state, id).await?));
    }
    state
        .store
        .delete_channels(&ids)
        .await?
        .map_err(Error::ChannelInUse)?;
    let actor = audit::by_agent(admin);
    for channel in deleted {
        let changes = audit::changes(&audit::json(&channel)?, &Value::Null);
        let action = AuditAction::ChannelDeleted;
        audit::record(state, &actor, action, Some(&channel.id), None, changes).await?;
    }
    Ok(())
}

/// A channel being created: its name and timeout come from the admin's input.
fn new_channel() -> ChannelRecord {
    ChannelRecord::new("", 0)
}

/// Applies the fields present in `input` to `channel`. When `creating`, name and timeout are
/// required. Every problem is collected, by field name.
pub fn apply(
    mut channel: ChannelRecord,
    input: &Map<String, Value>,
    creating: bool,
) -> Result<ChannelRecord> {
    let mut problems = BTreeMap::new();
    for required in ["name", "inactivity_timeout_secs"] {
        if creating && !input.contains_key(required) {
            problems.insert(required.to_owned(), Problem::Required);
        }
    }
    for (field, value) in input {
        let outcome = match field.as_str() {
            "name" => text(value, 1, MAX_NAME_CHARS).map(|name| channel.name = name),
            "inactivity_timeout_secs" => seconds(value, 1..=MAX_TIMEOUT_SECS)
                .map(|secs| channel.inactivity_timeout_secs = secs),
            "idle_close_secs" => match value.as_i64() {
                Some(secs)
                    if secs == 0 || (MIN_IDLE_CLOSE_SECS..=MAX_IDLE_CLOSE_SECS).contains(&secs) =>
                {
                    Ok(secs)
                }
                _ => Err(Problem::SecondsOrNever {
                    min: MIN_IDLE_CLOSE_SECS as u64,
                    max: MAX_IDLE_CLOSE_SECS as u64,
                }),
            }
            .map(|secs| channel.idle_close_secs = secs),
            "allowed_origins" => {
                origins(value, &mut problems).map(|list| channel.allowed_origins = list)
            }
            "online" => flag(value).map(|on| channel.online = on),
            "receptive" => flag(value).map(|on| channel.receptive = on),
            "queue_id" => text(value, 1, 100).map(|queue| channel.queue_id = queue),
            "captcha" => {
                captcha(value, channel.captcha.as_ref(), &mut problems).map(|c| channel.captcha = c)
            }
            "appearance" => appearance(value, &channel.appearance, &mut problems)
                .map(|a| channel.appearance = a),
            "visitor_uploads" => flag(value).map(|on| channel.visitor_uploads = on),
            "uploads" => uploads(value, &mut problems).map(|policy| channel.uploads = policy),
            "email_sender_name" => match value {
                Value::Null => Ok(None),
                other => text(other, 1, MAX_NAME_CHARS).map(Some),
            }
            .map(|name| channel.email_sender_name = name),
            "prechat" => prechat(value, &mut problems).map(|form| channel.prechat = form),
            "when_unavailable" => name(value).map(|mode| channel.when_unavailable = mode),
            "missed_chat_secs" => {
                seconds(value, 0..=MAX_MISSED_CHAT_SECS).map(|secs| channel.missed_chat_secs = secs)
            }
            "identity" => name(value).map(|mode| channel.identity = mode),
            "rating_scale" => name(value).map(|scale| channel.rating_scale = scale),
            "retention_days" => value
                .as_i64()
                .filter(|days| (0..=MAX_RETENTION_DAYS).contains(days))
                .ok_or(Problem::Number {
                    min: "0".into(),
                    max: MAX_RETENTION_DAYS.to_string(),
                })
                .map(|days| channel.retention_days = days),
            "cobrowse" => cobrowse(value, &channel.cobrowse, &mut problems)
                .map(|settings| channel.cobrowse = settings),
            "proactive" => match value {
                Value::Null => Ok(None),
                other => proactive(other, &mut problems).map(Some),
            }
            .map(|greeting| channel.proactive = greeting),
            "texts" => match crate::texts::parse(value) {
                Ok(texts) => {
                    channel.texts = texts;
                    Ok(())
                }
                Err(refused) => {
                    problems.extend(
                        refused
                            .into_iter()
                            .map(|(at, problem)| (format!("texts.{at}"), problem)),
                    );
                    Ok(())
                }
            },
            _ => Err(Problem::UnknownSetting),
        };
        if let Err(problem) = outcome {
            problems.insert(field.clone(), problem);
        }
    }
    if problems.is_empty() {
        Ok(channel)
    } else {
        Err(Error::Validation(problems))
    }
}

/// The pre-chat form: known fields only, topics with distinct labels, a consent with its text
/// and version.
fn prechat(value: &Value, problems: &mut Problems) -> std::result::Result<Prechat, Problem> {
    let form: Prechat = serde_json::from_value(value.clone()).map_err(|_| Problem::Shape {
        shape: r#"{"name", "email", "phone": off|optional|required, "topics": [{"label", "queue_id"}], "consent": {"text", "version"} or null}"#.into(),
    })?;
    if form.topics.len() > MAX_TOPICS {
        problems.insert(
            "prechat.topics".into(),
            Problem::TooMany {
                max: MAX_TOPICS as u64,
            },
        );
    }
    let mut labels = std::collections::BTreeSet::new();
    for (i, topic) in form.topics.iter().enumerate() {
        let at = format!("prechat.topics[{i}].label");
        let problem = match text(&Value::from(topic.label.as_str()), 1, MAX_TOPIC_CHARS) {
            Ok(label) => (!labels.insert(label)).then_some(Problem::Twice),
            Err(problem) => Some(problem),
        };
        if let Some(problem) = problem {
            problems.insert(at, problem);
        }
    }
    if let Some(consent) = &form.consent {
        for (field, value, max) in [
            ("text", &consent.text, MAX_CONSENT_CHARS),
            ("version", &consent.version, MAX_CONSENT_VERSION_CHARS),
        ] {
            if let Err(problem) = text(&Value::from(value.as_str()), 1, max) {
                problems.insert(format!("prechat.consent.{field}"), problem);
            }
        }
    }
    Ok(form)
}

const MAX_TOPICS: usize = 20;
/// Ten years: longer is for ever (0).
const MAX_RETENTION_DAYS: i64 = 3650;
const MAX_TOPIC_CHARS: usize = 100;
const MAX_CONSENT_CHARS: usize = 1000;
const MAX_CONSENT_VERSION_CHARS: usize = 50;

/// Each field's problem, by where it is (`appearance.title`).
type Problems = BTreeMap<String, Problem>;

/// The proactive greeting; its fields' problems go into `problems` by name.
fn proactive(value: &Value, problems: &mut Problems) -> std::result::Result<Proactive, Problem> {
    let mut greeting: Proactive =
        serde_json::from_value(value.clone()).map_err(|_| Problem::Shape {
            shape: r#"{"text", "after_secs", "pages": [patterns]} or null"#.into(),
        })?;
    greeting.text = greeting.text.trim().to_owned();
    problems.extend(crate::rules::proactive::validate(&greeting));
    Ok(greeting)
}

/// The longest a visitor may be left waiting before the offer of replies by email: an hour.
const MAX_MISSED_CHAT_SECS: i64 = 3600;

/// The largest upload a channel may allow: what one request may stream into the gateway.
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
const MIN_UPLOAD_BYTES: u64 = 1024;

fn uploads(value: &Value, problems: &mut Problems) -> std::result::Result<UploadPolicy, Problem> {
    let policy: UploadPolicy =
        serde_json::from_value(value.clone()).map_err(|_| Problem::Shape {
            shape: format!(
                r#"{{"max_bytes": bytes, "kinds": [{}]}}"#,
                FileKind::ALL
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        })?;
    if !(MIN_UPLOAD_BYTES..=MAX_UPLOAD_BYTES).contains(&policy.max_bytes) {
        problems.insert(
            "uploads.max_bytes".into(),
            Problem::Bytes {
                min: MIN_UPLOAD_BYTES,
                max: MAX_UPLOAD_BYTES,
            },
        );
    }
    let mut kinds = policy.kinds;
    kinds.sort_by_key(|kind| kind.as_str());
    kinds.dedup();
    Ok(UploadPolicy {
        max_bytes: policy.max_bytes,
        kinds,
    })
}

fn text(value: &Value, min: usize, max: usize) -> std::result::Result<String, Problem> {
    let text = value.as_str().ok_or(Problem::NotText)?.trim();
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(if min > 0 && chars == 0 {
            Problem::Empty
        } else {
            Problem::Characters {
                min: min as u64,
                max: max as u64,
            }
        });
    }
    Ok(text.to_owned())
}

fn flag(value: &Value) -> std::result::Result<bool, Problem> {
    value.as_bool().ok_or(Problem::NotFlag)
}

fn seconds(
    value: &Value,
    range: std::ops::RangeInclusive<i64>,
) -> std::result::Result<i64, Problem> {
    value
        .as_i64()
        .filter(|secs| range.contains(secs))
        .ok_or(Problem::Seconds {
            min: *range.start() as u64,
            max: *range.end() as u64,
        })
}

/// Each entry must be an origin as browsers send it: `scheme://host[:port]`, nothing more.
/// Entries are stored in that exact form (lower case, no default port) so comparison is exact.
fn origins(value: &Value, problems: &mut Problems) -> std::result::Result<Vec<String>, Problem> {
    let list = value.as_array().ok_or(Problem::Shape {
        shape: "[origins]".into(),
    })?;
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        match entry
            .as_str()
            .ok_or(Problem::NotText)
            .and_then(normalize_origin)
        {
            Ok(origin) if !out.contains(&origin) => out.push(origin),
            Ok(_) => {}
            Err(problem) => {
                problems.insert(format!("allowed_origins[{i}]"), problem);
            }
        }
    }
    Ok(out)
}

pub fn normalize_origin(raw: &str) -> std::result::Result<String, Problem> {
    let (scheme, rest) = raw.trim().split_once("://").ok_or(Problem::Origin)?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', '*', ' ', '\\'])
    {
        return Err(Problem::Origin);
    }
    // The URL parser serialises the origin exactly as browsers send it: lower case, IDNA,
    // default port dropped, IPv6 in brackets.
    let parsed = url::Url::parse(raw.trim()).map_err(|_| Problem::Origin)?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        url::Origin::Opaque(_) => Err(Problem::Origin),
    }
}

/// `null` removes the captcha: the one way to. An object sets it; its secret may be left out
/// to keep the one saved (the console never shows it, so a change of score need not repeat it).
fn captcha(
    value: &Value,
    current: Option<&CaptchaSettings>,
    problems: &mut Problems,
) -> std::result::Result<Option<CaptchaSettings>, Problem> {
    if value.is_null() {
        return Ok(None);
    }
    let fields = value.as_object().ok_or(Problem::Shape {
        shape: r#"{"provider", "site_key", "secret", "min_score"} or null"#.into(),
    })?;
    let mut problem = |field: &str, problem: Problem| {
        problems.insert(format!("captcha.{field}"), problem);
    };
    let given = fields
        .get("secret")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim();
    let secret = match (given, current) {
        ("", Some(current)) => current.secret.clone(),
        ("", None) => {
            problem("secret", Problem::CaptchaSecret);
            String::new()
        }
        (given, _) => given.to_owned(),
    };
    let provider = match name::<CaptchaProvider>(fields.get("provider").unwrap_or(&Value::Null)) {
        Ok(provider) => Some(provider),
        Err(unknown) => {
            problem("provider", unknown);
            None
        }
    };
    let site_key = fields
        .get("site_key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if site_key.is_empty() {
        problem("site_key", Problem::Required);
    }
    let min_score = match fields.get("min_score") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(score)
                if (0.0..=1.0).contains(&score)
                    && provider == Some(CaptchaProvider::RecaptchaV3) =>
            {
                Some(score)
            }
            Some(_) if provider != Some(CaptchaProvider::RecaptchaV3) => {
                problem("min_score", Problem::ScoreNotApplicable);
                None
            }
            _ => {
                problem(
                    "min_score",
                    Problem::Number {
                        min: "0.0".into(),
                        max: "1.0".into(),
                    },
                );
                None
            }
        },
    };
    // Its own problem is already named; `captcha` itself is left out of the report.
    let Some(provider) = provider else {
        return Ok(current.cloned());
    };
    Ok(Some(CaptchaSettings {
        provider,
        site_key,
        secret,
        min_score,
    }))
}

fn appearance(
    value: &Value,
    current: &Appearance,
    problems: &mut Problems,
) -> std::result::Result<Appearance, Problem> {
    let mut out = current.clone();
    each_field(value, "appearance", problems, |field, v, _| {
        match field {
            "title" => text(v, 1, 60).map(|t| out.title = t),
            "greeting" => text(v, 0, 500).map(|t| out.greeting = t),
            // Written into the launcher's style as parsed, never as typed.
            "accent_color" => {
                text(v, 1, 40).and_then(|c| protocol::colour(&c).map(|_| out.accent_color = c))
            }
            "text_color" => {
                text(v, 1, 40).and_then(|c| protocol::colour(&c).map(|_| out.look.text_color = c))
            }
            "launcher_icon" => name(v).map(|icon| out.look.launcher_icon = icon),
            "launcher_label" => {
                one_line(v, 0, protocol::LABEL_CHARS).map(|label| out.look.launcher_label = label)
            }
            "offset_x" => pixels(v, protocol::OFFSETS).map(|px| out.look.offset_x = px),
            "offset_y" => pixels(v, protocol::OFFSETS).map(|px| out.look.offset_y = px),
            "panel_width" => pixels(v, protocol::PANEL_WIDTHS).map(|px| out.look.panel_width = px),
            "panel_height" => {
                pixels(v, protocol::PANEL_HEIGHTS).map(|px| out.look.panel_height = px)
            }
            "position" => name::<LauncherPosition>(v).map(|position| out.position = position),
            "sound" => flag(v).map(|on| out.sound = on),
            "theme" => name::<Theme>(v).map(|theme| out.theme = theme),
            _ => Err(Problem::UnknownSetting),
        }
    })?;
    // The pair as it will be, whichever of the two this edit changed (a colour that cannot be
    // read has its own problem above).
    if let Some(problem) = protocol::contrast_problem(&out.accent_color, &out.look.text_color) {
        problems.insert("appearance.text_color".into(), problem);
    }
    if out.look.launcher_icon == LauncherIcon::None && out.look.launcher_label.is_empty() {
        problems.insert("appearance.launcher_label".into(), Problem::LabelOrIcon);
    }
    Ok(out)
}

/// Co-browsing settings, the fields given over `current`. Selectors are only ever matched
/// (`Element.matches`, one at a time, a bad one skipped), never written into a stylesheet.
fn cobrowse(
    value: &Value,
    current: &CobrowseSettings,
    problems: &mut Problems,
) -> std::result::Result<CobrowseSettings, Problem> {
    let mut out = current.clone();
    each_field(
        value,
        "cobrowse",
        problems,
        |field, v, problems| match field {
            "enabled" => flag(v).map(|on| out.enabled = on),
            "control" => flag(v).map(|on| out.control = on),
            "mask" => selectors(v, "cobrowse.mask", problems).map(|list| out.mask = list),
            "block" => selectors(v, "cobrowse.block", problems).map(|list| out.block = list),
            _ => Err(Problem::UnknownSetting),
        },
    )?;
    Ok(out)
}

/// A list of CSS selectors, each one line of at most [`MAX_COBROWSE_SELECTOR_CHARS`].
fn selectors(
    value: &Value,
    at: &str,
    problems: &mut Problems,
) -> std::result::Result<Vec<String>, Problem> {
    let list = value.as_array().ok_or(Problem::Shape {
        shape: "[selectors]".into(),
    })?;
    if list.len() > MAX_COBROWSE_SELECTORS {
        return Err(Problem::TooMany {
            max: MAX_COBROWSE_SELECTORS as u64,
        });
    }
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        match one_line(entry, 1, MAX_COBROWSE_SELECTOR_CHARS) {
            Ok(selector) if !out.contains(&selector) => out.push(selector),
            Ok(_) => {}
            Err(problem) => {
                problems.insert(format!("{at}[{i}]"), problem);
            }
        }
    }
    Ok(out)
}

/// Each field of the object `value` given to `apply`; a field it refuses is a problem named
/// `prefix.field`.
fn each_field(
    value: &Value,
    prefix: &str,
    problems: &mut Problems,
    mut apply: impl FnMut(&str, &Value, &mut Problems) -> std::result::Result<(), Problem>,
) -> std::result::Result<(), Problem> {
    let fields = value.as_object().ok_or(Problem::Shape {
        shape: "{setting: value}".into(),
    })?;
    for (field, v) in fields {
        if let Err(problem) = apply(field, v, problems) {
            problems.insert(format!("{prefix}.{field}"), problem);
        }
    }
    Ok(())
}

/// Text of `min` to `max` characters on one line.
fn one_line(value: &Value, min: usize, max: usize) -> std::result::Result<String, Problem> {
    text(value, min, max).and_then(|line| {
        (!line.chars().any(char::is_control))
            .then_some(line)
            .ok_or(Problem::OneLine)
    })
}

fn name<T: std::str::FromStr<Err = protocol::names::UnknownName>>(
    value: &Value,
) -> std::result::Result<T, Problem> {
    Ok(value.as_str().unwrap_or_default().parse::<T>()?)
}

fn pixels(
    value: &Value,
    range: std::ops::RangeInclusive<u16>,
) -> std::result::Result<u16, Problem> {
    value
        .as_u64()
        .and_then(|px| u16::try_from(px).ok())
        .filter(|px| range.contains(px))
        .ok_or(Problem::Pixels {
            min: u64::from(*range.start()),
            max: u64::from(*range.end()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn problems(result: Result<ChannelRecord>) -> Problems {
        match result {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn creating_needs_only_a_name_and_a_timeout() {
        let channel = apply(
            new_channel(),
            &input(json!({"name": " Shop ", "inactivity_timeout_secs": 300})),
            true,
        )
        .unwrap();
        assert_eq!(
            (channel.name.as_str(), channel.inactivity_timeout_secs),
            ("Shop", 300)
        );
        assert!(channel.allowed_origins.is_empty() && channel.online && channel.captcha.is_none());
        let missing = problems(apply(new_channel(), &input(json!({})), true));
        assert_eq!(
            missing.keys().collect::<Vec<_>>(),
            vec!["inactivity_timeout_secs", "name"]
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once_by_name() {
        let bad = problems(apply(
            new_channel(),
            &input(json!({
                "name": "  ",
                "inactivity_timeout_secs": 1.5,
                "allowed_origins": ["https://ok.example", "https://shop.example/path", "ftp://x"],
                "online": "yes",
                "colour": "red",
                "appearance": {"accent_color": "red;} body{display:none"}
            })),
            true,
        ));
        for field in [
            "name",
            "inactivity_timeout_secs",
            "allowed_origins[1]",
            "allowed_origins[2]",
            "online",
            "colour",
            "appearance.accent_color",
        ] {
            assert!(bad.contains_key(field), "{field} missing from {bad:?}");
        }
        assert!(!bad.contains_key("allowed_origins[0]"));
        for secs in [0, -5, MAX_TIMEOUT_SECS + 1] {
            let bad = problems(apply(
                new_channel(),
                &input(json!({"name": "n", "inactivity_timeout_secs": secs})),
                true,
            ));
            assert!(bad.contains_key("inactivity_timeout_secs"), "{secs}");
        }
    }

    #[test]
    fn the_look_is_checked_for_bounds_and_readable_text() {
        let edit = |appearance: Value| {
            apply(
                new_channel(),
                &input(json!({"appearance": appearance})),
                false,
            )
        };
        let bad = problems(edit(json!({
            "text_color": "#ffffff80", "launcher_icon": "rocket", "launcher_label": "two\nlines",
            "offset_x": 201, "offset_y": -1, "panel_width": 299, "panel_height": "tall"
        })));
        for field in [
            "text_color",
            "launcher_icon",
            "launcher_label",
            "offset_x",
            "offset_y",
            "panel_width",
            "panel_height",
        ] {
            assert!(
                bad.contains_key(&format!("appearance.{field}")),
                "{field} missing from {bad:?}"
            );
        }
        // The default white text on a light accent: the pair is refused whichever side changed.
        let pale = problems(edit(json!({"accent_color": "#fde68a"})));
        assert!(
            matches!(&pale["appearance.text_color"], Problem::Contrast { min, .. } if min == "4.5"),
            "{pale:?}"
        );
        let no_icon = problems(edit(json!({"launcher_icon": "none"})));
        assert_eq!(no_icon["appearance.launcher_label"], Problem::LabelOrIcon);

        let good = edit(json!({
            "accent_color": "#fde68a", "text_color": "#1f2937", "launcher_icon": "none",
            "launcher_label": "Questions?", "offset_x": 0, "offset_y": 200,
            "panel_width": 640, "panel_height": 400
        }))
        .unwrap();
        let look = &good.appearance.look;
        assert_eq!(
            (
                look.offset_x,
                look.offset_y,
                look.panel_width,
                look.panel_height
            ),
            (0, 200, 640, 400)
        );
        assert_eq!(look.launcher_label, "Questions?");
    }

    #[test]
    fn origins_are_stored_as_browsers_send_them() {
        assert_eq!(
            normalize_origin("HTTPS://Shop.Example").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            normalize_origin("https://shop.example:443").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(normalize_origin("http://[::1]").unwrap(), "http://[::1]");
        assert_eq!(
            normalize_origin("http://[::1]:3000").unwrap(),
            "http://[::1]:3000"
        );
        assert_eq!(
            normalize_origin("https://Bücher.example").unwrap(),
            "https://xn--bcher-kva.example"
        );
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://*.example",
            "https://user@shop.example",
            "https://shop.example:99999",
            "javascript://x",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_captcha_needs_a_known_provider_and_site_key_and_only_null_removes_it() {
        let on = apply(new_channel(), &input(json!({"captcha": {"provider": "recaptcha_v3", "site_key": "k", "secret": "s", "min_score": 0.7}})), false).unwrap();
        assert_eq!(
            on.captcha.as_ref().map(|c| (c.provider, c.min_score)),
            Some((CaptchaProvider::RecaptchaV3, Some(0.7)))
        );
        // A new score without the secret keeps the secret, and the captcha.
        let rescored = apply(
            on,
            &input(json!({"captcha": {"provider": "recaptcha_v3", "site_key": "k", "secret": "", "min_score": 0.3}})),
            false,
        )
        .unwrap();
        assert_eq!(
            rescored
                .captcha
                .as_ref()
                .map(|c| (c.secret.as_str(), c.min_score)),
            Some(("s", Some(0.3)))
        );
        let off = apply(rescored, &input(json!({"captcha": null})), false).unwrap();
        assert!(off.captcha.is_none());
        let no_secret = problems(apply(
            new_channel(),
            &input(json!({"captcha": {"provider": "turnstile", "site_key": "k"}})),
            false,
        ));
        assert!(no_secret.contains_key("captcha.secret"), "{no_secret:?}");
        let bad = problems(apply(
            new_channel(),
            &input(json!({"captcha": {"provider": "nope", "secret": "s", "min_score": 2}})),
            false,
        ));
        assert!(
            bad.contains_key("captcha.provider") && bad.contains_key("captcha.site_key"),
            "{bad:?}"
        );
        let bad = problems(apply(
            new_channel(),
            &input(
                json!({"captcha": {"provider": "hcaptcha", "site_key": "k", "secret": "s", "min_score": 0.5}}),
            ),
            false,
        ));
        assert!(bad.contains_key("captcha.min_score"), "{bad:?}");
    }
}
