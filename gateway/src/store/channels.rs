//! Channel rows.

use protocol::{
    Appearance, CaptchaProvider, FileKind, IdentityMode, LauncherPosition, Prechat, Proactive,
    RatingScale, Refusal, UploadPolicy, VisibilityOverride, VisibilityRules, WhenUnavailable,
};
use sqlx::any::AnyRow;

use sqlx::Row;

use super::{col_i64, col_name, col_opt_name, col_opt_str, col_str, placeholders, Store};
use crate::error::{Error, Result};

/// A channel as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRecord {
    pub id: String,
    /// Public: it is in the snippet.
    pub key: String,
    pub name: String,
    /// Server-to-server credential; never sent to browsers.
    pub secret: String,
    pub inactivity_timeout_secs: i64,
    /// Its conversations close by themselves after this long without activity; 0: never.
    pub idle_close_secs: i64,
    /// Exact origins; empty means any origin.
    pub allowed_origins: Vec<String>,
    pub online: bool,
    /// Visitors may start conversations; agents may not start new ones on this channel.
    pub receptive: bool,
    pub appearance: Appearance,
    /// None: no captcha. The secret never leaves the gateway.
    pub captcha: Option<CaptchaSettings>,
    /// Why the channel does not work although online (e.g. a captcha secret the provider
    /// rejects); cleared when an admin edits the channel.
    pub last_error: Option<String>,
    /// Saved apart from the other fields ([`Store::set_channel_rules`]), so an edit of the
    /// channel and an edit of its rules never overwrite each other.
    pub rules: VisibilityRules,
    pub visibility_override: VisibilityOverride,
    /// Where its new conversations wait for an agent.
    pub queue_id: String,
    /// Whether visitors may attach files.
    pub visitor_uploads: bool,
    /// The largest file anyone sends in its conversations, and the kinds visitors may send.
    pub uploads: UploadPolicy,
    /// The name its emails come from; None: its title.
    pub email_sender_name: Option<String>,
    /// A visitor waiting this long without an answer is offered replies by email; 0: never.
    pub missed_chat_secs: i64,
    /// What a failing visibility rule does.
    pub when_unavailable: WhenUnavailable,
    /// The questions before the first message.
    pub prechat: Prechat,
    /// The key the site signs identity tokens with; never sent to browsers.
    pub identity_secret: Option<String>,
    pub identity: IdentityMode,
    pub proactive: Option<Proactive>,
    /// How its panel asks for a rating once a conversation closes.
    pub rating_scale: RatingScale,
    /// Its conversations closed this many days ago are deleted; 0: kept for ever.
    pub retention_days: i64,
    /// What its widget says instead of its own texts, by language.
    pub texts: protocol::ChannelTexts,
    /// Whether agents may see its visitors' pages, and what is never sent.
    pub cobrowse: protocol::CobrowseSettings,
}

impl ChannelRecord {
    /// A new channel with fresh credentials and the defaults a site owner starts from: online,
    /// any origin, no captcha, no visibility rule, the default queue.
    pub fn new(name: &str, inactivity_timeout_secs: i64) -> Self {
        ChannelRecord {
            id: uuid::Uuid::new_v4().to_string(),
            key: crate::tokens::random_token(12),
            name: name.to_owned(),
            secret: crate::tokens::random_token(32),
            inactivity_timeout_secs,
            idle_close_secs: 0,
            allowed_origins: Vec::new(),
            online: true,
            receptive: false,
            appearance: Appearance {
                title: "Chat with us".into(),
                greeting: "Hi! How can we help?".into(),
                accent_color: "#2563eb".into(),
                position: LauncherPosition::BottomRight,
                sound: false,
                theme: protocol::Theme::Auto,
                look: protocol::Look::default(),
            },
            captcha: None,
            last_error: None,
            rules: VisibilityRules::default(),
            visibility_override: VisibilityOverride::default(),
            queue_id: super::DEFAULT_QUEUE.into(),
            visitor_uploads: true,
            uploads: protocol::default_upload_policy(),
            email_sender_name: None,
            missed_chat_secs: 60,
            when_unavailable: WhenUnavailable::Hide,
            prechat: Prechat::default(),
            identity_secret: Some(crate::tokens::random_token(32)),
            identity: IdentityMode::Optional,
            proactive: None,
            rating_scale: RatingScale::default(),
            retention_days: 0,
            texts: protocol::ChannelTexts::new(),
            cobrowse: protocol::CobrowseSettings::default(),
        }
    }

    /// What the channel's visitors may attach; None when they may not.
    pub fn visitor_upload_policy(&self) -> Option<UploadPolicy> {
        self.visitor_uploads.then(|| self.uploads.clone())
    }
}

/// What a visitor's socket keeps of its channel for its whole life: where its messages are
/// stored and queued, and the key its events are published under. Not the whole record: that
/// is most of a kilobyte, and a gateway holds tens of thousands of idle sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    pub id: String,
    pub key: String,
    pub queue_id: String,
}

impl From<&ChannelRecord> for ChannelRef {
    fn from(channel: &ChannelRecord) -> Self {
        Self {
            id: channel.id.clone(),
            key: channel.key.clone(),
            queue_id: channel.queue_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaptchaSettings {
    pub provider: CaptchaProvider,
    pub site_key: String,
    pub secret: String,
    /// reCAPTCHA v3 only: scores below this are refused.
    pub min_score: Option<f64>,
}

const COLUMNS: &str = "id, channel_key, name, secret, inactivity_timeout_secs, allowed_origins, \
                       online, receptive, title, greeting, accent_color, position, captcha_provider, \
                       captcha_site_key, captcha_secret, captcha_min_score, last_error, \
                       visibility_rules, override_mode, override_until, queue_id, idle_close_secs, \
                       visitor_uploads, upload_max_bytes, upload_kinds, email_sender_name, \
                       missed_chat_secs, when_unavailable, prechat, visitor_sound, identity_secret, \
                       identity, proactive, texts, theme, look, rating_scale, retention_days, \
                       cobrowse";

fn from_row(row: &AnyRow) -> Result<ChannelRecord> {
    let origins = col_str(row, "allowed_origins")?;
    let allowed_origins = serde_json::from_str(&origins)
        .map_err(|e| Error::Internal(format!("corrupt allowed_origins: {e}")))?;
    let captcha = match (
        col_opt_name::<CaptchaProvider>(row, "captcha_provider")?,
        col_opt_str(row, "captcha_secret")?,
    ) {
        (Some(provider), Some(secret)) if !secret.is_empty() => Some(CaptchaSettings {
            provider,
            site_key: col_opt_str(row, "captcha_site_key")?.unwrap_or_default(),
            secret,
            min_score: row.try_get::<Option<f64>, _>("captcha_min_score")?,
        }),
        _ => None,
    };
    Ok(ChannelRecord {
        id: col_str(row, "id")?,
        key: col_str(row, "channel_key")?,
        name: col_str(row, "name")?,
        secret: col_str(row, "secret")?,
        inactivity_timeout_secs: col_i64(row, "inactivity_timeout_secs")?,
        idle_close_secs: col_i64(row, "idle_close_secs")?,
        allowed_origins,
        online: col_i64(row, "online")? != 0,
        receptive: col_i64(row, "receptive")? != 0,
        captcha,
        last_error: col_opt_str(row, "last_error")?,
        rules: serde_json::from_str(&col_str(row, "visibility_rules")?)
            .map_err(|e| Error::Internal(format!("corrupt visibility_rules: {e}")))?,
        queue_id: col_str(row, "queue_id")?,
        visitor_uploads: col_i64(row, "visitor_uploads")? != 0,
        uploads: UploadPolicy {
            max_bytes: u64::try_from(col_i64(row, "upload_max_bytes")?).unwrap_or(0),
            kinds: col_str(row, "upload_kinds")?
                .split(',')
                .filter(|kind| !kind.is_empty())
                .map(|kind| {
                    kind.parse::<FileKind>()
                        .map_err(|e| Error::Internal(format!("corrupt upload_kinds: {e}")))
                })
                .collect::<Result<_>>()?,
        },
        email_sender_name: col_opt_str(row, "email_sender_name")?,
        missed_chat_secs: col_i64(row, "missed_chat_secs")?,
        when_unavailable: col_name(row, "when_unavailable")?,
        prechat: serde_json::from_str(&col_str(row, "prechat")?)
            .map_err(|e| Error::Internal(format!("corrupt prechat: {e}")))?,
        identity_secret: col_opt_str(row, "identity_secret")?,
        identity: col_name(row, "identity")?,
        rating_scale: col_name(row, "rating_scale")?,
        retention_days: col_i64(row, "retention_days")?,
        proactive: col_opt_str(row, "proactive")?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| Error::Internal(format!("corrupt proactive: {e}")))?,
        texts: serde_json::from_str(&col_str(row, "texts")?)
            .map_err(|e| Error::Internal(format!("corrupt texts: {e}")))?,
        cobrowse: serde_json::from_str(&col_str(row, "cobrowse")?)
            .map_err(|e| Error::Internal(format!("corrupt cobrowse: {e}")))?,
        visibility_override: VisibilityOverride {
            mode: col_name(row, "override_mode")?,
            until_ms: row.try_get::<Option<i64>, _>("override_until")?,
        },
        appearance: Appearance {
            title: col_str(row, "title")?,
            greeting: col_str(row, "greeting")?,
            accent_color: col_str(row, "accent_color")?,
            position: col_name(row, "position")?,
            sound: col_i64(row, "visitor_sound")? != 0,
            theme: col_name(row, "theme")?,
            look: serde_json::from_str(&col_str(row, "look")?)
                .map_err(|e| Error::Internal(format!("corrupt look: {e}")))?,
        },
    })
}

impl Store {
    pub async fn channel_by_key(&self, key: &str) -> Result<Option<ChannelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE channel_key = $1");
        let row = sqlx::query(&sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn channel_by_id(&self, id: &str) -> Result<Option<ChannelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every channel whose name contains `search` (any case), by name.
    pub async fn channels(&self, search: &str) -> Result<Vec<ChannelRecord>> {
        let escaped = super::like_literal(&search.to_lowercase());
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE lower(name) LIKE $1 ESCAPE '\\' ORDER BY lower(name), id");
        let rows = sqlx::query(&sql)
            .bind(format!("%{escaped}%"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Creates the channel, or replaces every field of the channel with this id.
    pub async fn save_channel(&self, channel: &ChannelRecord, now_ms: i64) -> Result<()> {
        let origins = serde_json::to_string(&channel.allowed_origins)
            .map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO channels (id, channel_key, name, secret, inactivity_timeout_secs, \
             allowed_origins, online, title, greeting, accent_color, position, created_at, \
             receptive, captcha_provider, captcha_site_key, captcha_secret, captcha_min_score, last_error, \
             queue_id, idle_close_secs, visitor_uploads, upload_max_bytes, upload_kinds, email_sender_name, missed_chat_secs, \
             when_unavailable, prechat, visitor_sound, identity_secret, identity, proactive, texts, theme, look, rating_scale, retention_days, cobrowse) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37) \
             ON CONFLICT (id) DO UPDATE SET channel_key = excluded.channel_key, name = excluded.name, \
             secret = excluded.secret, inactivity_timeout_secs = excluded.inactivity_timeout_secs, \
             allowed_origins = excluded.allowed_origins, online = excluded.online, \
             title = excluded.title, greeting = excluded.greeting, \
             accent_color = excluded.accent_color, position = excluded.position, \
             receptive = excluded.receptive, captcha_provider = excluded.captcha_provider, \
             captcha_site_key = excluded.captcha_site_key, captcha_secret = excluded.captcha_secret, \
             captcha_min_score = excluded.captcha_min_score, last_error = excluded.last_error, \
             queue_id = excluded.queue_id, idle_close_secs = excluded.idle_close_secs, \
             visitor_uploads = excluded.visitor_uploads, upload_max_bytes = excluded.upload_max_bytes, \
             upload_kinds = excluded.upload_kinds, email_sender_name = excluded.email_sender_name, \
             missed_chat_secs = excluded.missed_chat_secs, \
             when_unavailable = excluded.when_unavailable, prechat = excluded.prechat, \
             visitor_sound = excluded.visitor_sound, identity_secret = excluded.identity_secret, \
             identity = excluded.identity, proactive = excluded.proactive, texts = excluded.texts, \
             theme = excluded.theme, look = excluded.look, rating_scale = excluded.rating_scale, \
             retention_days = excluded.retention_days, cobrowse = excluded.cobrowse",
        )
        .bind(&channel.id)
        .bind(&channel.key)
        .bind(&channel.name)
        .bind(&channel.secret)
        .bind(channel.inactivity_timeout_secs)
        .bind(origins)
        .bind(i64::from(channel.online))
        .bind(&channel.appearance.title)
        .bind(&channel.appearance.greeting)
        .bind(&channel.appearance.accent_color)
        .bind(channel.appearance.position.as_str())
        .bind(now_ms)
        .bind(i64::from(channel.receptive))
        .bind(channel.captcha.as_ref().map(|c| c.provider.as_str()))
        .bind(channel.captcha.as_ref().map(|c| c.site_key.clone()))
        .bind(channel.captcha.as_ref().map(|c| c.secret.clone()))
        .bind(channel.captcha.as_ref().and_then(|c| c.min_score))
        .bind(channel.last_error.as_deref())
        .bind(&channel.queue_id)
        .bind(channel.idle_close_secs)
        .bind(i64::from(channel.visitor_uploads))
        .bind(i64::try_from(channel.uploads.max_bytes).unwrap_or(i64::MAX))
        .bind(
            channel
                .uploads
                .kinds
                .iter()
                .map(|kind| kind.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
        .bind(channel.email_sender_name.as_deref())
        .bind(channel.missed_chat_secs)
        .bind(channel.when_unavailable.as_str())
        .bind(serde_json::to_string(&channel.prechat).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(i64::from(channel.appearance.sound))
        .bind(channel.identity_secret.as_deref())
        .bind(channel.identity.as_str())
        .bind(
            channel
                .proactive
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| Error::Internal(e.to_string()))?,
        )
        .bind(serde_json::to_string(&channel.texts).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(channel.appearance.theme.as_str())
        .bind(serde_json::to_string(&channel.appearance.look).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(channel.rating_scale.as_str())
        .bind(channel.retention_days)
        .bind(serde_json::to_string(&channel.cobrowse).map_err(|e| Error::Internal(e.to_string()))?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces the channel's rules; false if there is no such channel.
    pub async fn set_channel_rules(&self, id: &str, rules: &VisibilityRules) -> Result<bool> {
        let json = serde_json::to_string(rules).map_err(|e| Error::Internal(e.to_string()))?;
        let done = sqlx::query("UPDATE channels SET visibility_rules = $1 WHERE id = $2")
            .bind(json)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets the override; false if there is no such channel.
    pub async fn set_channel_override(&self, id: &str, set: VisibilityOverride) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE channels SET override_mode = $1, override_until = $2 WHERE id = $3",
        )
        .bind(set.mode.as_str())
        .bind(set.until_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_channel_error(&self, id: &str, error: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE channels SET last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the channels with their past conversations, all or none: if any of them has a
    /// conversation not closed, nothing is deleted and those channels are returned.
    pub async fn delete_channels(
        &self,
        ids: &[String],
    ) -> Result<std::result::Result<(), Vec<Refusal>>> {
        let list = placeholders(1, ids.len());
        let lock = format!("UPDATE channels SET online = online WHERE id IN ({list})");
        let busy = format!(
            "SELECT ch.id, ch.name FROM channels ch WHERE ch.id IN ({list}) AND EXISTS \
             (SELECT 1 FROM conversations c WHERE c.channel_id = ch.id AND c.status <> 'closed') ORDER BY ch.name"
        );
        let in_channels = format!("SELECT id FROM conversations WHERE channel_id IN ({list})");
        let deletes = [
            format!("DELETE FROM messages WHERE conversation_id IN ({in_channels})"),
            format!("DELETE FROM conversation_events WHERE conversation_id IN ({in_channels})"),
            format!("DELETE FROM emails WHERE channel_id IN ({list})"),
            format!("DELETE FROM agent_reads WHERE conversation_id IN ({in_channels})"),
            format!("DELETE FROM join_links WHERE conversation_id IN ({in_channels})"),
            format!("DELETE FROM cobrowse_sessions WHERE conversation_id IN ({in_channels})"),
            format!("DELETE FROM conversation_stats WHERE channel_id IN ({list})"),
            format!("DELETE FROM conversations WHERE channel_id IN ({list})"),
            format!(
                "DELETE FROM contact_labels WHERE contact_id IN \
                 (SELECT id FROM contacts WHERE channel_id IN ({list}))"
            ),
            format!("DELETE FROM contacts WHERE channel_id IN ({list})"),
            format!(
                "DELETE FROM outbox_deliveries WHERE event_id IN \
                 (SELECT id FROM outbox_events WHERE channel_id IN ({list}))"
            ),
            format!("DELETE FROM outbox_events WHERE channel_id IN ({list})"),
            format!("DELETE FROM webhook_endpoints WHERE channel_id IN ({list})"),
            format!("DELETE FROM channels WHERE id IN ({list})"),
        ];
        let mut tx = self.pool.begin().await?;
        // A write first: SQLite takes its write lock now (no read-to-write upgrade later) and
        // PostgreSQL locks these rows, so the check below stays true until the commit.
        bind_ids(&lock, ids).execute(&mut *tx).await?;
        let busy = bind_ids(&busy, ids).fetch_all(&mut *tx).await?;
        if !busy.is_empty() {
            return Ok(Err(busy
                .iter()
                .map(|row| {
                    Ok(Refusal {
                        id: col_str(row, "id")?,
                        name: col_str(row, "name")?,
                        reason: protocol::Problem::ConversationInProgress.to_string(),
                        problem: protocol::Problem::ConversationInProgress,
                    })
                })
                .collect::<Result<_>>()?));
        }
        for delete in &deletes {
            bind_ids(delete, ids).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// The query with every id bound in order (to `$1 … $n`).
fn bind_ids<'q>(
    sql: &'q str,
    ids: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    ids.iter()
        .fold(sqlx::query(sql), |query, id| query.bind(id.as_str()))
}
