//! What reports are made of, read from the conversations' statistics (`conversation_stats`,
//! see [`super::statistics`]) with SQL that runs alike on SQLite and PostgreSQL: counts by
//! outcome, by quarter of an hour (the gateway's `reports` puts those into the viewer's days and
//! hours: every time zone's offset is a whole number of quarter hours), by bucket of a time,
//! a time's value at a rank, and sums by agent or queue. Every query is bounded by the period,
//! which the index on `created_at` finds.

use protocol::{Outcome, OutcomeCounts, RatingCounts, SATISFIED_SCORE};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::{col_i64, col_name, col_opt_i64, col_str, Store};
use crate::error::Result;

/// Which conversations a report counts: created in `[from_ms, to_ms)`, and of the channel,
/// queue and agent when named.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub from_ms: i64,
    pub to_ms: i64,
    pub channel_id: Option<String>,
    pub queue_id: Option<String>,
    pub agent_id: Option<String>,
}

/// A time each closed conversation may have.
#[derive(Debug, Clone, Copy)]
pub enum Timed {
    Wait,
    FirstResponse,
}

impl Timed {
    fn column(self) -> &'static str {
        match self {
            Timed::Wait => "s.wait_ms",
            Timed::FirstResponse => "s.first_response_ms",
        }
    }
}

/// Whose rows a report's table has.
#[derive(Debug, Clone, Copy)]
pub enum Grouping {
    Agents,
    Queues,
}

/// One agent's or queue's sums, before averaging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSums {
    pub name: String,
    pub counts: OutcomeCounts,
    pub first_response_sum_ms: i64,
    pub first_responses: i64,
    pub handle_sum_ms: i64,
    pub handled: i64,
    pub ratings: RatingCounts,
}

/// The columns of [`RatingCounts`] over a group's rows (no rating counts nothing).
static RATING_SUMS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "COUNT(s.rating) AS rated, \
         CAST(SUM(CASE WHEN s.rating >= {SATISFIED_SCORE} THEN 1 ELSE 0 END) AS BIGINT) AS satisfied, \
         CAST(SUM(s.rating) AS BIGINT) AS score_sum"
    )
});

fn rating_counts(row: &sqlx::any::AnyRow) -> Result<RatingCounts> {
    Ok(RatingCounts {
        rated: col_i64(row, "rated")?,
        satisfied: col_opt_i64(row, "satisfied")?.unwrap_or_default(),
        score_sum: col_opt_i64(row, "score_sum")?.unwrap_or_default(),
    })
}

impl ReportFilter {
    /// The conditions, `$1` on; and the number of the next parameter.
    fn clause(&self) -> (String, usize) {
        let mut sql = "s.created_at >= $1 AND s.created_at < $2".to_owned();
        let mut next = 3;
        for (column, value) in self.named() {
            if value.is_some() {
                sql.push_str(&format!(" AND s.{column} = ${next}"));
                next += 1;
            }
        }
        (sql, next)
    }

    fn named(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("channel_id", self.channel_id.as_deref()),
            ("queue_id", self.queue_id.as_deref()),
            ("agent_id", self.agent_id.as_deref()),
        ]
    }

    /// Binds what [`Self::clause`] names, in its order.
    fn bind<'q>(
        &'q self,
        query: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        self.named()
            .into_iter()
            .filter_map(|(_, value)| value)
            .fold(query.bind(self.from_ms).bind(self.to_ms), |query, value| {
                query.bind(value)
            })
    }
}

impl Store {
    /// The period's conversations by outcome.
    pub async fn report_outcomes(&self, filter: &ReportFilter) -> Result<OutcomeCounts> {
        let (clause, _) = filter.clause();
        let sql = format!(
            "SELECT s.outcome, COUNT(*) AS n FROM conversation_stats s WHERE {clause} \
             GROUP BY s.outcome"
        );
        let mut counts = OutcomeCounts::default();
        for row in filter.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            counts.add(col_name::<Outcome>(&row, "outcome")?, col_i64(&row, "n")?);
        }
        Ok(counts)
    }

    /// The period's conversations by the quarter hour they were created in, and how they
    /// were rated: `(quarter, n, ratings)`, a quarter being milliseconds since the epoch /
    /// 900,000.
    pub async fn report_quarters(
        &self,
        filter: &ReportFilter,
    ) -> Result<Vec<(i64, i64, RatingCounts)>> {
        let (clause, _) = filter.clause();
        let sql = format!(
            "SELECT s.created_at / 900000 AS quarter, COUNT(*) AS n, {sums} \
             FROM conversation_stats s WHERE {clause} GROUP BY s.created_at / 900000",
            sums = *RATING_SUMS
        );
        filter
            .bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    col_i64(row, "quarter")?,
                    col_i64(row, "n")?,
                    rating_counts(row)?,
                ))
            })
            .collect()
    }

    /// How many conversations had `timed` under each of `bounds` (and at or over the one
    /// before), and over the last: `bounds.len() + 1` counts.
    pub async fn report_buckets(
        &self,
        filter: &ReportFilter,
        timed: Timed,
        bounds: &[i64],
    ) -> Result<Vec<i64>> {
        let (clause, _) = filter.clause();
        let column = timed.column();
        // The bounds are the gateway's constants, written into the statement as numbers.
        let cases: String = bounds
            .iter()
            .enumerate()
            .map(|(i, bound)| format!(" WHEN {column} < {bound} THEN {i}"))
            .collect();
        let sql = format!(
            "SELECT CASE{cases} ELSE {last} END AS bucket, COUNT(*) AS n \
             FROM conversation_stats s WHERE {clause} AND {column} IS NOT NULL GROUP BY 1",
            last = bounds.len()
        );
        let mut counts = vec![0; bounds.len() + 1];
        for row in filter.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let bucket = usize::try_from(col_i64(&row, "bucket")?).unwrap_or_default();
            if let Some(count) = counts.get_mut(bucket) {
                *count = col_i64(&row, "n")?;
            }
        }
        Ok(counts)
    }

    /// The `rank`-th smallest (from 0) `timed` of the period's conversations that have one.
    pub async fn report_ranked(
        &self,
        filter: &ReportFilter,
        timed: Timed,
        rank: i64,
    ) -> Result<Option<i64>> {
        let (clause, next) = filter.clause();
        let column = timed.column();
        let sql = format!(
            "SELECT {column} AS value FROM conversation_stats s \
             WHERE {clause} AND {column} IS NOT NULL ORDER BY {column} LIMIT 1 OFFSET ${next}"
        );
        let row = filter
            .bind(sqlx::query(&sql))
            .bind(rank)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| col_i64(&row, "value")).transpose()
    }

    /// Each agent's or queue's sums over the period, by id.
    pub async fn report_rows(
        &self,
        filter: &ReportFilter,
        grouping: Grouping,
    ) -> Result<BTreeMap<String, RowSums>> {
        let (clause, _) = filter.clause();
        let (key, join) = match grouping {
            Grouping::Agents => ("s.agent_id", "LEFT JOIN agents g ON g.id = s.agent_id"),
            Grouping::Queues => ("s.queue_id", "LEFT JOIN queues g ON g.id = s.queue_id"),
        };
        let sql = format!(
            "SELECT {key} AS id, COALESCE(g.name, {key}) AS name, s.outcome, COUNT(*) AS n, \
             CAST(SUM(s.first_response_ms) AS BIGINT) AS first_sum, \
             COUNT(s.first_response_ms) AS firsts, \
             CAST(SUM(s.handle_ms) AS BIGINT) AS handle_sum, COUNT(s.handle_ms) AS handled, \
             {sums} FROM conversation_stats s {join} WHERE {clause} AND {key} IS NOT NULL \
             GROUP BY {key}, g.name, s.outcome",
            sums = *RATING_SUMS
        );
        let mut rows: BTreeMap<String, RowSums> = BTreeMap::new();
        for row in filter.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let sums = rows.entry(col_str(&row, "id")?).or_default();
            sums.name = col_str(&row, "name")?;
            sums.counts
                .add(col_name::<Outcome>(&row, "outcome")?, col_i64(&row, "n")?);
            sums.first_response_sum_ms += col_opt_i64(&row, "first_sum")?.unwrap_or_default();
            sums.first_responses += col_i64(&row, "firsts")?;
            sums.handle_sum_ms += col_opt_i64(&row, "handle_sum")?.unwrap_or_default();
            sums.handled += col_i64(&row, "handled")?;
            sums.ratings.add(rating_counts(&row)?);
        }
        Ok(rows)
    }
}
