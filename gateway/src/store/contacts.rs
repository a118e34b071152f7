//! Contacts and their labels.

use super::{col_opt_str, col_str, Store};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl Store {
    pub async fn contact(&self, id: &str) -> Result<Option<ContactRecord>> {
        let row = sqlx::query(
            "SELECT id, channel_id, visitor_id, external_id, email, first_name, last_name \
             FROM contacts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
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
            })
        })
        .transpose()
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
        .await?;
        Ok(())
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
