//! The audit log: what admins (and programs with a channel's secret) changed, who, when, and
//! each field's value before and after, secrets never shown (`GET /v1/admin/audit`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::names::named;

named! {
    /// What was done.
    pub enum AuditAction {
        ChannelCreated = "channel_created",
        /// Any setting but the captcha and the retention, which have their own.
        ChannelEdited = "channel_edited",
        ChannelDeleted = "channel_deleted",
        SecretRotated = "secret_rotated",
        IdentitySecretRotated = "identity_secret_rotated",
        CaptchaChanged = "captcha_changed",
        RetentionChanged = "retention_changed",
        WebhookAdded = "webhook_added",
        WebhookRemoved = "webhook_removed",
        AgentSynced = "agent_synced",
        /// Whom is not said: the log would otherwise keep what the erasure removed.
        ContactErased = "contact_erased",
    }
}

named! {
    /// Who did it.
    pub enum ActorKind {
        /// An admin's login.
        Agent = "agent",
        /// A program with the channel's secret.
        ChannelSecret = "channel_secret",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    pub kind: ActorKind,
    /// The agent's id, or the channel's for its secret.
    pub id: String,
    pub name: String,
}

/// One field's change, its values as JSON text (a text as itself).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A secret: that it changed is said, never its values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

impl Change {
    /// A secret's change: that it changed, not from what to what.
    pub fn redacted() -> Self {
        Self {
            redacted: true,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: String,
    pub at_ms: i64,
    pub actor: AuditActor,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// What it was done to, when not the channel: a webhook endpoint, an agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// By field (`appearance.title`).
    #[serde(default)]
    pub changes: BTreeMap<String, Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}
