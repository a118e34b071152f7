//! Who is on a page of a channel now: a row per browser, refreshed by each of its page's calls
//! (the bootstrap, then a recheck every `visitor_heartbeat_secs` while the page is visible) and
//! swept once the calls stop. No socket: the page stays socket-free until the chat opens.
//!
//! A page's call is not answered after a commit of its own: the views are kept in memory (the
//! latest per browser) and written together every second ([`Store::flush_page_views`]). Written
//! one by one, 10,000 pages opening at once queued their writes before the chat sessions' in
//! the store's writer, and sockets opened 40 % slower.

use futures_util::future::BoxFuture;
use protocol::LiveVisitor;
use std::collections::HashMap;
use std::sync::Mutex;

use super::group_commit::{Write, Written};
use super::tx::{Columns, Tx};
use super::{col_i64, col_opt_i64, col_opt_str, col_str, Store};
use crate::error::Result;

/// One call from a page: who, where, since when, and who the site says they are.
#[derive(Debug, Clone)]
pub struct LivePageView {
    pub channel_id: String,
    pub visitor_id: String,
    pub page_url: Option<String>,
    pub viewed_at_ms: i64,
    pub visit: u32,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub now_ms: i64,
}

/// Which live visitors a list shows.
#[derive(Debug, Clone, Default)]
pub struct LiveFilter {
    /// One channel's; None: every channel's.
    pub channel_id: Option<String>,
    /// A scoped login's one channel, by key.
    pub channel_key: Option<String>,
    /// Visitors whose page called after this instant are on the site.
    pub seen_after_ms: i64,
    /// The previous page's last row: `(viewed_at, visitor_id)`.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// The page views not written yet, the latest per browser; bounded, presence being best
/// effort (beyond the bound new browsers wait for the next flush's room).
#[derive(Default)]
pub(super) struct PendingViews(Mutex<HashMap<(String, String), LivePageView>>);

/// The most page views held between two flushes.
const MAX_PENDING: usize = 100_000;
/// Page views per write.
const FLUSH_CHUNK: usize = 128;

/// Page views written in one transaction.
struct LivePageViews(Vec<LivePageView>);

impl Write for LivePageViews {
    type Output = usize;

    fn apply<'t, 'c: 't>(&'t self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Result<Written<usize>>> {
        Box::pin(async move {
            for view in &self.0 {
                tx.execute(
                    "INSERT INTO live_visitors (channel_id, visitor_id, page_url, viewed_at, visit, \
                     seen_at, external_id, name, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (channel_id, visitor_id) DO UPDATE SET page_url = excluded.page_url, \
                     viewed_at = excluded.viewed_at, visit = excluded.visit, seen_at = excluded.seen_at, \
                     external_id = excluded.external_id, name = excluded.name, email = excluded.email",
                    &[
                        (&view.channel_id).into(),
                        (&view.visitor_id).into(),
                        view.page_url.as_deref().into(),
                        view.viewed_at_ms.into(),
                        i64::from(view.visit).into(),
                        view.now_ms.into(),
                        view.external_id.as_deref().into(),
                        view.name.as_deref().into(),
                        view.email.as_deref().into(),
                    ],
                )
                .await?;
            }
            Ok(Written {
                value: self.0.len(),
                enqueued: false,
            })
        })
    }
}

/// The verified contact's visitor id when the site identified them, else the browser's: whose
/// conversations are theirs.
const CHATTER: &str =
    "COALESCE((SELECT p.visitor_id FROM contacts p WHERE p.channel_id = lv.channel_id \
     AND p.external_id = lv.external_id AND p.verified_at IS NOT NULL), lv.visitor_id)";

impl Store {
    /// Records the page's call, written with the others at the next flush.
    pub fn record_page_view(&self, view: LivePageView) {
        let mut pending = self
            .page_views
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (view.channel_id.clone(), view.visitor_id.clone());
        if pending.len() < MAX_PENDING || pending.contains_key(&key) {
            pending.insert(key, view);
        }
    }

    /// Drops the visitor's page view not yet written (an erasure).
    pub(super) fn forget_page_view(&self, channel_id: &str, visitor_id: &str) {
        self.page_views
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(channel_id.to_owned(), visitor_id.to_owned()));
    }

    /// Writes the page views recorded since the last flush, in one transaction; how many.
    pub async fn flush_page_views(&self) -> Result<usize> {
        let views: Vec<LivePageView> = std::mem::take(
            &mut *self
                .page_views
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_values()
        .collect();
        let mut written = 0;
        // In writes no bigger than a batch of appends, so messages never wait behind them.
        for chunk in views.chunks(FLUSH_CHUNK) {
            written += self.write(LivePageViews(chunk.to_vec())).await?;
        }
        Ok(written)
    }

    /// Whether an agent started a conversation that this browser's page should open; said
    /// once (a page that opened the chat, and whose visitor then closed it, is not opened again
    /// at its next call), and only the invitation read (not one made since) is spent.
    pub async fn take_invitation(&self, channel_id: &str, visitor_id: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT invited_at FROM live_visitors WHERE channel_id = $1 AND visitor_id = $2",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(at) = row
            .map(|r| col_opt_i64(&r, "invited_at"))
            .transpose()?
            .flatten()
        else {
            return Ok(false);
        };
        let spent = sqlx::query(
            "UPDATE live_visitors SET invited_at = NULL \
             WHERE channel_id = $1 AND visitor_id = $2 AND invited_at = $3",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(spent.rows_affected() == 1)
    }

    /// The chat opened: the invitation is delivered. Read first: almost no session has one,
    /// and an UPDATE takes SQLite's write lock even when it changes nothing.
    pub async fn clear_invitation(&self, channel_id: &str, visitor_id: &str) -> Result<()> {
        let pending = sqlx::query(
            "SELECT 1 AS one FROM live_visitors \
             WHERE channel_id = $1 AND visitor_id = $2 AND invited_at IS NOT NULL",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .fetch_optional(&self.pool)
        .await?;
        if pending.is_none() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE live_visitors SET invited_at = NULL \
             WHERE channel_id = $1 AND visitor_id = $2 AND invited_at IS NOT NULL",
        )
        .bind(channel_id)
        .bind(visitor_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One visitor on the site now, if they are.
    pub async fn live_visitor(
        &self,
        channel_id: &str,
        visitor_id: &str,
        seen_after_ms: i64,
    ) -> Result<Option<LiveVisitor>> {
        let filter = LiveFilter {
            channel_id: Some(channel_id.to_owned()),
            seen_after_ms,
            limit: 1,
            ..LiveFilter::default()
        };
        let sql = format!("{} AND lv.visitor_id = $7 {}", live_select(), LIVE_ORDER);
        let row = bind_filter(sqlx::query(&sql), &filter)
            .bind(visitor_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(live_from_row).transpose()
    }

    /// Visitors on the site now, the most recent page views first, after the cursor.
    pub async fn live_visitors(&self, filter: &LiveFilter) -> Result<Vec<(i64, LiveVisitor)>> {
        let sql = format!("{} {}", live_select(), LIVE_ORDER);
        let rows = bind_filter(sqlx::query(&sql), filter)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((col_i64(row, "viewed_at")?, live_from_row(row)?)))
            .collect()
    }

    /// Forgets pages that stopped calling before `before_ms`; how many.
    pub async fn sweep_live_visitors(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM live_visitors WHERE seen_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

const LIVE_ORDER: &str = "ORDER BY lv.viewed_at DESC, lv.visitor_id LIMIT $5";

fn live_select() -> String {
    format!(
        "SELECT lv.channel_id, ch.name AS channel_name, ch.receptive, lv.visitor_id, lv.page_url, \
         lv.viewed_at, lv.visit, lv.seen_at, lv.external_id, lv.name, lv.email, \
         (SELECT c.id FROM conversations c WHERE c.channel_id = lv.channel_id \
          AND c.visitor_id = {CHATTER} AND c.status <> 'closed') AS conversation_id \
         FROM live_visitors lv JOIN channels ch ON ch.id = lv.channel_id \
         WHERE lv.seen_at > $1 AND ($2 = '' OR lv.channel_id = $2) \
         AND ($3 = '' OR ch.channel_key = $3) \
         AND (lv.viewed_at < $4 OR (lv.viewed_at = $4 AND lv.visitor_id > $6))"
    )
}

fn bind_filter<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    filter: &LiveFilter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let (after_at, after_id) = filter.after.clone().unwrap_or((i64::MAX, String::new()));
    query
        .bind(filter.seen_after_ms)
        .bind(filter.channel_id.clone().unwrap_or_default())
        .bind(filter.channel_key.clone().unwrap_or_default())
        .bind(after_at)
        .bind(filter.limit)
        .bind(after_id)
}

fn live_from_row(row: &impl Columns) -> Result<LiveVisitor> {
    Ok(LiveVisitor {
        channel_id: col_str(row, "channel_id")?,
        channel_name: col_str(row, "channel_name")?,
        visitor_id: col_str(row, "visitor_id")?,
        page_url: col_opt_str(row, "page_url")?,
        viewed_at_ms: col_i64(row, "viewed_at")?,
        visit: u32::try_from(col_i64(row, "visit")?).unwrap_or(u32::MAX),
        seen_at_ms: col_i64(row, "seen_at")?,
        external_id: col_opt_str(row, "external_id")?,
        name: col_opt_str(row, "name")?,
        email: col_opt_str(row, "email")?,
        conversation_id: col_opt_str(row, "conversation_id")?,
        startable: col_i64(row, "receptive")? == 0,
    })
}
