//! The audit log (`GET /v1/admin/audit`, admins only): each admin action, and each action of
//! a program with a channel's secret, recorded with who, when and what changed, field by field,
//! once the change is stored and before it is answered. Secrets are never written: that a
//! secret changed is, its values are not. An erased contact is not named (the log would
//! otherwise keep what the erasure removed).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use protocol::{
    ActorKind, AuditAction, AuditActor, AuditEntry, AuditPage, Change, ChannelView, Problem,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::error::{Error, Result};
use crate::pagination;
use crate::state::AppState;
use crate::store::{AgentRecord, AuditFilter, ChannelRecord};

/// Fields whose values are secrets, wherever they are (`secret`, `captcha.secret`, …).
const SECRET_FIELDS: [&str; 3] = ["secret", "identity_secret", "password"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Who acted.
pub fn by_agent(agent: &AgentRecord) -> AuditActor {
    AuditActor {
        kind: ActorKind::Agent,
        id: agent.id.clone(),
        name: agent.name.clone(),
    }
}

/// An admin's login, or else the channel's secret.
pub fn by_admin_or_secret(admin: Option<&AgentRecord>, channel: &ChannelRecord) -> AuditActor {
    admin.map(by_agent).unwrap_or_else(|| AuditActor {
        kind: ActorKind::ChannelSecret,
        id: channel.id.clone(),
        name: format!("{} (channel secret)", channel.name),
    })
}

/// Leaves of a JSON value by dotted path; lists are leaves.
fn flatten(prefix: &str, value: &Value, into: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                flatten(&path, field, into);
            }
        }
        other => {
            into.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn said(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Each field that differs between `before` and `after` (either may be `null`: created,
/// deleted), secrets redacted.
pub fn changes(before: &Value, after: &Value) -> BTreeMap<String, Change> {
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    flatten("", before, &mut old);
    flatten("", after, &mut new);
    let fields: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    fields
        .into_iter()
        .filter(|field| !field.is_empty())
        .filter_map(|field| {
            let (was, is) = (old.get(field), new.get(field));
            if was == is {
                return None;
            }
            let secret = field
                .rsplit('.')
                .next()
                .is_some_and(|last| SECRET_FIELDS.contains(&last));
            Some((
                field.clone(),
                if secret {
                    Change::redacted()
                } else {
                    Change {
                        before: was.and_then(said),
                        after: is.and_then(said),
                        redacted: false,
                    }
                },
            ))
        })
        .collect()
}

/// Records one entry.
pub async fn record(
    state: &AppState,
    actor: &AuditActor,
    action: AuditAction,
    channel_id: Option<&str>,
    target: Option<&str>,
    changes: BTreeMap<String, Change>,
) -> Result<()> {
    state
        .store
        .record_audit(&AuditEntry {
            // Time-ordered, so entries written in the same millisecond (one edit's captcha,
            // retention and the rest) are read back in the order they were made.
            id: uuid::Uuid::now_v7().to_string(),
            at_ms: crate::now_ms(),
            actor: actor.clone(),
            action,
            channel_id: channel_id.map(str::to_owned),
            target: target.map(str::to_owned),
            changes,
        })
        .await
}

/// What an edit of a channel changed, as entries: its captcha and its retention apart, the
/// rest as one edit. The snippet and chat page follow the key, and the state the switches.
pub async fn channel_edited(
    state: &AppState,
    actor: &AuditActor,
    before: &ChannelView,
    after: &ChannelView,
) -> Result<()> {
    let all = changes(&json(before)?, &json(after)?);
    let mut split: BTreeMap<AuditAction, BTreeMap<String, Change>> = BTreeMap::new();
    for (field, change) in all {
        let action = match field.as_str() {
            "snippet" | "chat_url" | "state" | "error" => continue,
            "retention_days" => AuditAction::RetentionChanged,
            f if f == "captcha" || f.starts_with("captcha.") => AuditAction::CaptchaChanged,
            _ => AuditAction::ChannelEdited,
        };
        split.entry(action).or_default().insert(field, change);
    }
    for (action, changes) in split {
        record(state, actor, action, Some(&after.id), None, changes).await?;
    }
    Ok(())
}

/// A value as JSON, for [`changes`].
pub fn json(value: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    channel_id: Option<String>,
    /// One of the actions (`channel_edited`, `secret_rotated`, …).
    action: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entries per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

/// Read the audit log, newest first.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "Admin",
    security(("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    params(AuditQuery),
    responses((status = 200, description = "Done.", body = AuditPage))
)]
async fn list(
    _: Admin,
    State(state): State<AppState>,
    query: std::result::Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>> {
    let Query(query) = query?;
    let action = query
        .action
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(str::parse::<AuditAction>)
        .transpose()
        .map_err(|e| Error::field("action", Problem::from(e)))?;
    let filter = AuditFilter {
        channel_id: query.channel_id.filter(|c| !c.is_empty()),
        action,
        before: pagination::after(query.cursor.as_deref())?,
        limit: pagination::limit(query.limit)?,
    };
    let rows = state.store.audit_entries(&filter).await?;
    let next_cursor = pagination::next(&rows, filter.limit, |e| &e.id);
    Ok(Json(AuditPage {
        entries: rows.into_iter().map(|(_, entry)| entry).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_are_by_field_and_secrets_are_only_said_to_have_changed() {
        let before = json!({"name": "Shop", "secret": "s1", "online": true,
            "captcha": {"provider": "turnstile", "secret": "c1"}, "allowed_origins": ["https://a"]});
        let after = json!({"name": "Shop", "secret": "s2", "online": false,
            "captcha": {"provider": "turnstile", "secret": "c2"}, "allowed_origins": ["https://a", "https://b"]});
        let found = changes(&before, &after);
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            ["allowed_origins", "captcha.secret", "online", "secret"]
        );
        assert_eq!(
            found["online"],
            Change {
                before: Some("true".into()),
                after: Some("false".into()),
                redacted: false
            }
        );
        assert_eq!(
            found["allowed_origins"].after.as_deref(),
            Some(r#"["https://a","https://b"]"#)
        );
        for secret in ["secret", "captcha.secret"] {
            assert_eq!(found[secret], Change::redacted());
        }
        let written = serde_json::to_string(&found).unwrap();
        assert!(
            !written.contains("s2") && !written.contains("c2"),
            "{written}"
        );
        // Created: every field, its value after.
        let created = changes(&Value::Null, &json!({"name": "Shop", "secret": "s3"}));
        assert_eq!(created["name"].after.as_deref(), Some("Shop"));
        assert!(created["secret"].redacted);
    }
}
