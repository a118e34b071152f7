//! Visitors the site identified. A verified contact is found by its external id from any device
//! and has a visitor id of its own (never a browser's): conversations are keyed by visitor id,
//! so the person's history follows them to any browser they identify in, and a browser that is
//! no longer identified (after `LiveChat.reset()`, or a page that stopped calling `identify`)
//! reads none of it.
//!
//! What the browser did anonymously before it identified (its conversations, its pre-chat
//! answers, its labels) is merged into the person in the same transaction, once: the browser's
//! anonymous contact is gone afterwards. A browser whose contact is someone else's verified one
//! merges nothing (two people sharing a computer).

use futures_util::future::BoxFuture;
use std::collections::BTreeMap;

use super::group_commit::{Write, Written};
use super::statistics;
use super::tx::Tx;
use super::{col_opt_i64, col_opt_str, col_str, is_unique_violation, Store};
use crate::error::{Error, Result};

/// The person an identity token names: its `sub` and the fields it vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Identifying a browser: the person, and the browser's anonymous visitor id.
struct Identify {
    channel_id: String,
    browser_visitor_id: String,
    person: Identified,
    now_ms: i64,
}

impl Write for Identify {
    type Output = String;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<String>>> {
        Box::pin(async move {
            Ok(Written {
                value: self.identify(tx).await?,
                enqueued: false,
            })
        })
    }
}

impl Identify {
    /// The person's visitor id, their contact created or updated, the browser's anonymous
    /// history merged into it.
    async fn identify(&self, tx: &mut Tx<'_>) -> Result<String> {
        let channel_id = self.channel_id.as_str();
        let person = &self.person;
        let found = tx
            .fetch_optional(
                "SELECT id, visitor_id FROM contacts \
                 WHERE channel_id = $1 AND external_id = $2 AND verified_at IS NOT NULL",
                &[channel_id.into(), (&person.external_id).into()],
            )
            .await?;
        let (person_id, person_visitor) = match found {
            Some(row) => (col_str(&row, "id")?, col_str(&row, "visitor_id")?),
            None => {
                let (id, visitor) = (new_id(), new_id());
                tx.execute(
                    "INSERT INTO contacts (id, channel_id, visitor_id, external_id, created_at, \
                     updated_at, verified_at) VALUES ($1, $2, $3, $4, $5, $5, $5)",
                    &[
                        (&id).into(),
                        channel_id.into(),
                        (&visitor).into(),
                        (&person.external_id).into(),
                        self.now_ms.into(),
                    ],
                )
                .await?;
                (id, visitor)
            }
        };
        // The token's name and email are the site's word: they replace what was there.
        tx.execute(
            "UPDATE contacts SET name = COALESCE($1, name), email = COALESCE($2, email), \
             verified_at = $3, updated_at = $3 WHERE id = $4",
            &[
                person.name.as_deref().into(),
                person.email.as_deref().into(),
                self.now_ms.into(),
                (&person_id).into(),
            ],
        )
        .await?;
        self.merge_browser(tx, &person_id, &person_visitor).await?;
        Ok(person_visitor)
    }

    /// Moves the browser's anonymous conversations and contact into the person.
    async fn merge_browser(
        &self,
        tx: &mut Tx<'_>,
        person_id: &str,
        person_visitor: &str,
    ) -> Result<()> {
        let (channel_id, browser) = (self.channel_id.as_str(), self.browser_visitor_id.as_str());
        let browser_contact = tx
            .fetch_optional(
                "SELECT id, verified_at FROM contacts WHERE channel_id = $1 AND visitor_id = $2",
                &[channel_id.into(), browser.into()],
            )
            .await?;
        if let Some(row) = &browser_contact {
            if col_opt_i64(row, "verified_at")?.is_some() {
                return Ok(());
            }
        }
        if browser == person_visitor {
            return Ok(());
        }
        // One conversation in progress per visitor: the person's own stays, the browser's is
        // closed (its messages are kept, in the person's history), with its statistics.
        let superseded = tx
            .fetch_all(
                "SELECT id FROM conversations WHERE channel_id = $1 AND visitor_id = $2 \
                 AND status <> 'closed' AND EXISTS (SELECT 1 FROM conversations o \
                     WHERE o.channel_id = $1 AND o.visitor_id = $3 AND o.status <> 'closed')",
                &[channel_id.into(), browser.into(), person_visitor.into()],
            )
            .await?;
        for row in &superseded {
            let id = col_str(row, "id")?;
            tx.execute(
                "UPDATE conversations SET status = 'closed', closed_at = $2 WHERE id = $1",
                &[(&id).into(), self.now_ms.into()],
            )
            .await?;
            statistics::record_in(tx, &id, self.now_ms).await?;
        }
        tx.execute(
            "UPDATE conversations SET visitor_id = $3, contact_id = $4 \
             WHERE channel_id = $1 AND visitor_id = $2",
            &[
                channel_id.into(),
                browser.into(),
                person_visitor.into(),
                person_id.into(),
            ],
        )
        .await?;
        let Some(row) = browser_contact else {
            return Ok(());
        };
        let anonymous_id = col_str(&row, "id")?;
        // What the visitor told the pre-chat form fills what the person's contact lacks; the
        // site's verified name and email stay.
        tx.execute(
            "UPDATE contacts SET \
             name = COALESCE(name, (SELECT a.name FROM contacts a WHERE a.id = $2)), \
             email = COALESCE(email, (SELECT a.email FROM contacts a WHERE a.id = $2)), \
             phone = COALESCE(phone, (SELECT a.phone FROM contacts a WHERE a.id = $2)), \
             consent_version = COALESCE(consent_version, \
                 (SELECT a.consent_version FROM contacts a WHERE a.id = $2)), \
             consent_at = COALESCE(consent_at, (SELECT a.consent_at FROM contacts a WHERE a.id = $2)), \
             topic_queue_id = COALESCE(topic_queue_id, \
                 (SELECT a.topic_queue_id FROM contacts a WHERE a.id = $2)), \
             prechat_at = COALESCE(prechat_at, (SELECT a.prechat_at FROM contacts a WHERE a.id = $2)), \
             attributes = COALESCE(attributes, (SELECT a.attributes FROM contacts a WHERE a.id = $2)) \
             WHERE id = $1",
            &[person_id.into(), (&anonymous_id).into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO contact_labels (contact_id, label) \
             SELECT $1, label FROM contact_labels WHERE contact_id = $2 \
             ON CONFLICT (contact_id, label) DO NOTHING",
            &[person_id.into(), (&anonymous_id).into()],
        )
        .await?;
        tx.execute(
            "DELETE FROM contact_labels WHERE contact_id = $1",
            &[(&anonymous_id).into()],
        )
        .await?;
        tx.execute(
            "DELETE FROM contacts WHERE id = $1",
            &[(&anonymous_id).into()],
        )
        .await?;
        Ok(())
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The most attributes a contact keeps from the host page, and their sizes.
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 40;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 200;

impl Store {
    /// The visitor id of the person `person` names on the channel (their contact created or
    /// updated), with the browser's anonymous history merged into it.
    pub async fn identify(
        &self,
        channel_id: &str,
        browser_visitor_id: &str,
        person: &Identified,
        now_ms: i64,
    ) -> Result<String> {
        let identify = || Identify {
            channel_id: channel_id.to_owned(),
            browser_visitor_id: browser_visitor_id.to_owned(),
            person: person.clone(),
            now_ms,
        };
        match self.write(identify()).await {
            // The same person identified on two devices at once (PostgreSQL): the other one
            // created the contact; this one now finds it.
            Err(Error::Database(e)) if is_unique_violation(&e) => self.write(identify()).await,
            outcome => outcome,
        }
    }

    /// Adds the host page's attributes to the visitor's contact (created if need be), over the
    /// ones it said before; kept apart from the verified fields, which they never change.
    pub async fn set_attributes(
        &self,
        channel_id: &str,
        visitor_id: &str,
        attributes: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT attributes FROM contacts WHERE channel_id = $1 AND visitor_id = $2",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut merged: BTreeMap<String, String> = match &row {
            Some(row) => parse_attributes(col_opt_str(row, "attributes")?.as_deref())?,
            None => BTreeMap::new(),
        };
        merged.extend(attributes.clone());
        // Over the limit, keys this call did not name make room: the page said these last.
        while merged.len() > MAX_ATTRIBUTES {
            let Some(dropped) = merged
                .keys()
                .find(|k| !attributes.contains_key(*k))
                .cloned()
            else {
                break;
            };
            merged.remove(&dropped);
        }
        let json = serde_json::to_string(&merged).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO contacts (id, channel_id, visitor_id, created_at, updated_at, attributes) \
             VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (channel_id, visitor_id) \
             DO UPDATE SET attributes = $5, updated_at = $4",
        )
        .bind(new_id())
        .bind(channel_id)
        .bind(visitor_id)
        .bind(now_ms)
        .bind(json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A contact's attributes column.
pub(super) fn parse_attributes(json: Option<&str>) -> Result<BTreeMap<String, String>> {
    json.map(serde_json::from_str)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| Error::Internal(format!("corrupt attributes: {e}")))
}
