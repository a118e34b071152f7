//! SQLite's search index, written behind the appends (migration 20 says why and what holds):
//! the messages past the mark are indexed a batch at a time, each batch a write of its own
//! through the group-commit writer, so it never waits on SQLite's lock nor makes an append
//! wait longer than one batch. PostgreSQL indexes on write; there is nothing to do.

use futures_util::future::BoxFuture;

use super::group_commit::{Write, Written};
use super::tx::Tx;
use super::{col_i64, col_opt_i64, Store};
use crate::error::Result;

/// Messages indexed per write: a few milliseconds of the writer's time at most.
const BATCH: i64 = 128;

/// Indexes up to [`BATCH`] messages past the mark; how many it indexed, and the mark after.
struct IndexBatch;

impl Write for IndexBatch {
    type Output = (i64, i64);

    fn apply<'t, 'c: 't>(
        &'t self,
        tx: &'t mut Tx<'c>,
    ) -> BoxFuture<'t, Result<Written<(i64, i64)>>> {
        Box::pin(async move {
            let mark = col_i64(
                &tx.fetch_one("SELECT indexed_rowid FROM search_progress", &[])
                    .await?,
                "indexed_rowid",
            )?;
            let upto = col_opt_i64(
                &tx.fetch_one(
                    "SELECT MAX(rowid) AS upto FROM \
                     (SELECT rowid FROM messages WHERE rowid > $1 ORDER BY rowid LIMIT $2)",
                    &[mark.into(), BATCH.into()],
                )
                .await?,
                "upto",
            )?;
            let Some(upto) = upto else {
                return Ok(Written {
                    value: (0, mark),
                    enqueued: false,
                });
            };
            let indexed = tx
                .execute(
                    "INSERT INTO message_search (rowid, body) \
                     SELECT rowid, body FROM messages WHERE rowid > $1 AND rowid <= $2",
                    &[mark.into(), upto.into()],
                )
                .await?;
            tx.execute(
                "UPDATE search_progress SET indexed_rowid = $1",
                &[upto.into()],
            )
            .await?;
            Ok(Written {
                value: (i64::try_from(indexed).unwrap_or(i64::MAX), upto),
                enqueued: false,
            })
        })
    }
}

impl Store {
    /// Indexes every message stored before this call (on SQLite); how many it indexed. A search
    /// calls it first, so it finds every message acknowledged before it.
    pub async fn index_messages(&self) -> Result<i64> {
        if !self.is_sqlite {
            return Ok(0);
        }
        // Bounded by what is stored now: appends that keep coming are the next call's. Read
        // outside the writer, so an idle gateway's ticks cost the writer nothing.
        let (newest, mark): (Option<i64>, i64) = sqlx::query_as(
            "SELECT (SELECT MAX(rowid) FROM messages), (SELECT indexed_rowid FROM search_progress)",
        )
        .fetch_one(&self.pool)
        .await?;
        if newest.is_none_or(|newest| newest <= mark) {
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let (indexed, mark) = self.write(IndexBatch).await?;
            total += indexed;
            if indexed < BATCH || newest.is_none_or(|newest| mark >= newest) {
                return Ok(total);
            }
        }
    }
}
