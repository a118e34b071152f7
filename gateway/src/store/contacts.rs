//! Contacts and their labels.

use protocol::WebhookContact;

use std::collections::BTreeMap;

use super::identities::parse_attributes;
use super::tx::Tx;
use super::{col_opt_i64, col_opt_str, col_str, is_unique_violation, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub consent_version: Option<String>,
    pub consent_at_ms: Option<i64>,
    /// When the site last vouched for this person (an identity token).
    pub verified_at_ms: Option<i64>,
    /// What the host page said of the visitor, unverified.
    pub attributes: BTreeMap<String, String>,
}

/// A visitor's answers to the pre-chat form, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrechatContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The queue of the topic picked.
    pub queue_id: Option<String>,
    /// The version of the consent text the visitor ticked.
    pub consent_version: Option<String>,
}

/// The contact, read in the caller's transaction (the outbox reads it with the event it writes).
pub(super) async fn contact_in(tx: &mut Tx<'_>, id: &str) -> Result<Option<ContactRecord>> {
    let row = tx
        .fetch_optional(
            "SELECT id, channel_id, visitor_id, external_id, email, first_name, last_name, name, \
             phone, consent_version, consent_at, verified_at, attributes FROM contacts WHERE id = $1",
            &[id.into()],
        )
        .await?;
    row.map(|row| {
        Ok(ContactRecord {
            id: col_str(&row, "id")?,
            channel_id: col_str(&row, "channel_id")?,
            visitor_id: col_str(&row, "visitor_id")?,
            external_id: col_opt_str(&row, "external_id")?,
            email: col_opt_str(&row, "email")?,
            first_name: col_opt_str(&row, "first_name")?,
            last_name: col_opt_str(&row, "last_name")?,
            name: col_opt_str(&row, "name")?,
            phone: col_opt_str(&row, "phone")?,
            consent_version: col_opt_str(&row, "consent_version")?,
            consent_at_ms: col_opt_i64(&row, "consent_at")?,
            verified_at_ms: col_opt_i64(&row, "verified_at")?,
            attributes: parse_attributes(col_opt_str(&row, "attributes")?.as_deref())?,
        })
    })
    .transpose()
}

impl From<ContactRecord> for WebhookContact {
    fn from(contact: ContactRecord) -> Self {
        WebhookContact {
            id: contact.id,
            external_id: contact.external_id,
            email: contact.email,
            first_name: contact.first_name,
            last_name: contact.last_name,
            name: contact.name,
            phone: contact.phone,
            consent_version: contact.consent_version,
            consent_at_ms: contact.consent_at_ms,
        }
    }
}

impl Store {
    pub async fn contact(&self, id: &str) -> Result<Option<ContactRecord>> {
        let mut conn = self.pool.acquire().await?;
        contact_in(&mut Tx::Sqlx(&mut conn), id).await
    }

    pub async fn save_contact(&self, contact: &ContactRecord, now_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE contacts SET external_id = $1, email = $2, first_name = $3, last_name = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(contact.external_id.as_deref())
        .bind(contact.email.as_deref())
        .bind(contact.first_name.as_deref())
        .bind(contact.last_name.as_deref())
        .bind(now_ms)
        .bind(&contact.id)
        .execute(&self.pool)
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => Error::field("external_id", protocol::Problem::Taken),
            false => e.into(),
        })?;
        Ok(())
    }

    /// Stores the visitor's pre-chat answers on their contact on the channel, creating it
    /// (before any conversation) if need be.
    pub async fn save_prechat(
        &self,
        channel_id: &str,
        visitor_id: &str,
        answers: &PrechatContact,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO contacts (id, channel_id, visitor_id, created_at, updated_at, name, email, \
             phone, topic_queue_id, consent_version, consent_at, prechat_at) \
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $4) \
             ON CONFLICT (channel_id, visitor_id) DO UPDATE SET updated_at = $4, \
             name = COALESCE($5, contacts.name), email = COALESCE($6, contacts.email), \
             phone = COALESCE($7, contacts.phone), topic_queue_id = $8, \
             consent_version = COALESCE($9, contacts.consent_version), \
             consent_at = COALESCE($10, contacts.consent_at), prechat_at = $4",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(channel_id)
        .bind(visitor_id)
        .bind(now_ms)
        .bind(answers.name.as_deref())
        .bind(answers.email.as_deref())
        .bind(answers.phone.as_deref())
        .bind(answers.queue_id.as_deref())
        .bind(answers.consent_version.as_deref())
        .bind(answers.consent_version.as_ref().map(|_| now_ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the visitor answered the channel's pre-chat form.
    pub async fn answered_prechat(&self, channel_id: &str, visitor_id: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT prechat_at FROM contacts WHERE channel_id = $1 AND visitor_id = $2",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => col_opt_i64(&row, "prechat_at")?.is_some(),
            None => false,
        })
    }

    pub async fn contact_labels(&self, contact_id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT label FROM contact_labels WHERE contact_id = $1 ORDER BY label")
                .bind(contact_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| col_str(r, "label")).collect()
    }

    /// Adds the label; adding it twice is no error.
    pub async fn add_contact_label(&self, contact_id: &str, label: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO contact_labels (contact_id, label) VALUES ($1, $2) \
             ON CONFLICT (contact_id, label) DO NOTHING",
        )
        .bind(contact_id)
        .bind(label)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_contact_label(&self, contact_id: &str, label: &str) -> Result<()> {
        sqlx::query("DELETE FROM contact_labels WHERE contact_id = $1 AND label = $2")
            .bind(contact_id)
            .bind(label)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
