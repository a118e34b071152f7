//! What reports are made of, read from the conversations' statistics (`conversation_stats`,
//! see [`super::statistics`]) with SQL that runs alike on SQLite and PostgreSQL, each part one
//! scan of the period's rows (an index holds every column they read) with a small answer:
//! sums by agent, queue and outcome; counts by the viewer's day and by hour of their week
//! (their clock's offsets over the period written into the statement); and a time's counts by
//! whole second, from which the gateway reads buckets and percentiles.

use protocol::{Outcome, OutcomeCounts, RatingCounts, SATISFIED_SCORE};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::{col_i64, col_name, col_opt_i64, col_opt_str, Store};
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

/// The period's sums: in all, by agent and by queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportGroups {
    pub totals: OutcomeCounts,
    pub agents: BTreeMap<String, RowSums>,
    pub queues: BTreeMap<String, RowSums>,
}

/// The viewer's clock over a period: its offset from UTC (ms) at the start, and each change
/// of it `(at_ms, offset_ms)` within the period, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalClock {
    pub offset_ms: i64,
    pub changes: Vec<(i64, i64)>,
}

impl LocalClock {
    /// A conversation's creation on the viewer's clock, as SQL (ms since the local epoch). The
    /// numbers are the gateway's own, so they are written in.
    fn created_sql(&self) -> String {
        let mut offset = format!("{}", self.offset_ms);
        if !self.changes.is_empty() {
            let mut cases = String::from("CASE");
            let mut before = self.offset_ms;
            for &(at, after) in &self.changes {
                cases.push_str(&format!(" WHEN s.created_at < {at} THEN {before}"));
                before = after;
            }
            offset = format!("{cases} ELSE {before} END");
        }
        format!("(s.created_at + {offset})")
    }
}

impl RowSums {
    fn add(&mut self, name: String, other: &RowSums) {
        self.name = name;
        self.counts.merge(&other.counts);
        self.first_response_sum_ms += other.first_response_sum_ms;
        self.first_responses += other.first_responses;
        self.handle_sum_ms += other.handle_sum_ms;
        self.handled += other.handled;
        self.ratings.add(other.ratings);
    }
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
    /// The period's sums by agent, queue and outcome, added up in all, by agent and by queue:
    /// one scan, grouped before the names are looked up.
    pub async fn report_groups(&self, filter: &ReportFilter) -> Result<ReportGroups> {
        let (clause, _) = filter.clause();
        let sql = format!(
            "SELECT r.*, a.name AS agent_name, q.name AS queue_name FROM (SELECT s.agent_id, \
             s.queue_id, s.outcome, COUNT(*) AS n, \
             CAST(SUM(s.first_response_ms) AS BIGINT) AS first_sum, \
             COUNT(s.first_response_ms) AS firsts, \
             CAST(SUM(s.handle_ms) AS BIGINT) AS handle_sum, COUNT(s.handle_ms) AS handled, \
             {sums} FROM conversation_stats s WHERE {clause} \
             GROUP BY s.agent_id, s.queue_id, s.outcome) r \
             LEFT JOIN agents a ON a.id = r.agent_id LEFT JOIN queues q ON q.id = r.queue_id",
            sums = *RATING_SUMS
        );
        let mut groups = ReportGroups::default();
        for row in filter.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let outcome = col_name::<Outcome>(&row, "outcome")?;
            let n = col_i64(&row, "n")?;
            groups.totals.add(outcome, n);
            let sums = RowSums {
                name: String::new(),
                counts: {
                    let mut counts = OutcomeCounts::default();
                    counts.add(outcome, n);
                    counts
                },
                first_response_sum_ms: col_opt_i64(&row, "first_sum")?.unwrap_or_default(),
                first_responses: col_i64(&row, "firsts")?,
                handle_sum_ms: col_opt_i64(&row, "handle_sum")?.unwrap_or_default(),
                handled: col_i64(&row, "handled")?,
                ratings: rating_counts(&row)?,
            };
            for (id, name, table) in [
                ("agent_id", "agent_name", &mut groups.agents),
                ("queue_id", "queue_name", &mut groups.queues),
            ] {
                if let Some(id) = col_opt_str(&row, id)? {
                    let name = col_opt_str(&row, name)?.unwrap_or_else(|| id.clone());
                    table.entry(id).or_default().add(name, &sums);
                }
            }
        }
        Ok(groups)
    }

    /// The period's conversations by the viewer's day (days since 1970-01-01 on their clock),
    /// with how they were rated.
    pub async fn report_days(
        &self,
        filter: &ReportFilter,
        clock: &LocalClock,
    ) -> Result<Vec<(i64, i64, RatingCounts)>> {
        let (clause, _) = filter.clause();
        let sql = format!(
            "SELECT {local} / 86400000 AS day, COUNT(*) AS n, {sums} \
             FROM conversation_stats s WHERE {clause} GROUP BY {local} / 86400000",
            local = clock.created_sql(),
            sums = *RATING_SUMS
        );
        filter
            .bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    col_i64(row, "day")?,
                    col_i64(row, "n")?,
                    rating_counts(row)?,
                ))
            })
            .collect()
    }

    /// The period's conversations by hour of the viewer's week: `(hour, n)`, hour 0 being a
    /// Thursday's first (1970-01-01 was a Thursday), 167 a Wednesday's last.
    pub async fn report_week_hours(
        &self,
        filter: &ReportFilter,
        clock: &LocalClock,
    ) -> Result<Vec<(i64, i64)>> {
        let (clause, _) = filter.clause();
        let sql = format!(
            "SELECT {local} / 3600000 % 168 AS hour, COUNT(*) AS n \
             FROM conversation_stats s WHERE {clause} GROUP BY {local} / 3600000 % 168",
            local = clock.created_sql()
        );
        filter
            .bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((col_i64(row, "hour")?, col_i64(row, "n")?)))
            .collect()
    }

    /// How many conversations had `timed` in each whole second: `(second, n)` for the seconds
    /// some had, in order. Buckets and percentiles are read from it: one scan of the period
    /// instead of one per figure, and a few thousand rows however many conversations.
    pub async fn report_seconds(
        &self,
        filter: &ReportFilter,
        timed: Timed,
    ) -> Result<Vec<(i64, i64)>> {
        let (clause, _) = filter.clause();
        let column = timed.column();
        let sql = format!(
            "SELECT {column} / 1000 AS second, COUNT(*) AS n FROM conversation_stats s \
             WHERE {clause} AND {column} IS NOT NULL GROUP BY {column} / 1000 ORDER BY 1"
        );
        filter
            .bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((col_i64(row, "second")?, col_i64(row, "n")?)))
            .collect()
    }
}
