//! `GET /v1/reports`: what the period's conversations came to (see [`crate::statistics`] for
//! each figure), in the viewer's time zone. Admins read anyone's figures; an agent, their own.
//! The store counts (`store::reports`); [`assemble`] puts the counts into days and hours.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use protocol::{Bucket, DayCount, Distribution, Problem, RatingCounts, Report, ReportRow};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthAgent;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{Grouping, ReportFilter, RowSums, Store, Timed};

const DAY_MS: i64 = 24 * 3600 * 1000;
const QUARTER_MS: i64 = 900_000;
/// A report covers at most a year and a day (a leap year's days in any time zone).
const MAX_PERIOD_MS: i64 = 367 * DAY_MS;
const DEFAULT_PERIOD_MS: i64 = 30 * DAY_MS;
/// The buckets of the waits' and first responses' charts: under 15 s, 30 s, 1, 2, 5, 10 and
/// 30 minutes, and the rest.
pub const TIME_BOUNDS_MS: [i64; 7] = [15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The period's start, ms since the epoch (default: 30 days before its end).
    from_ms: Option<i64>,
    /// The period's end, excluded (default: now).
    to_ms: Option<i64>,
    /// An IANA time zone for the days and hours (default: UTC).
    time_zone: Option<String>,
    channel_id: Option<String>,
    queue_id: Option<String>,
    /// An admin may name any agent; an agent reads only their own figures.
    agent_id: Option<String>,
}

/// Read the figures of a period's conversations.
///
/// Conversations created in the period and closed: each one's figures are recorded when it
/// closes. Days and hours are in `time_zone`.
#[utoipa::path(
    get,
    path = "/v1/reports",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    params(ReportQuery),
    responses((status = 200, description = "Done.", body = Report))
)]
async fn read(
    State(state): State<AppState>,
    auth: AuthAgent,
    query: std::result::Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Report>> {
    let Query(query) = query?;
    let agent_id = auth.report_agent(query.agent_id)?;
    let to_ms = query.to_ms.unwrap_or_else(crate::now_ms);
    let from_ms = query.from_ms.unwrap_or(to_ms - DEFAULT_PERIOD_MS);
    if from_ms >= to_ms || to_ms - from_ms > MAX_PERIOD_MS {
        return Err(Error::field(
            "from_ms",
            Problem::Number {
                min: (to_ms - MAX_PERIOD_MS).to_string(),
                max: (to_ms - 1).to_string(),
            },
        ));
    }
    let filter = ReportFilter {
        from_ms,
        to_ms,
        channel_id: query.channel_id,
        queue_id: query.queue_id,
        agent_id,
    };
    let time_zone = query.time_zone.unwrap_or_else(|| "UTC".to_owned());
    Ok(Json(report(&state.store, &filter, time_zone).await?))
}

/// The report of the conversations `filter` names, days and hours in `time_zone` (IANA).
pub async fn report(store: &Store, filter: &ReportFilter, time_zone: String) -> Result<Report> {
    let zone =
        TimeZone::get(&time_zone).map_err(|_| Error::field("time_zone", Problem::TimeZone))?;
    let totals = store.report_outcomes(filter).await?;
    let quarters = store.report_quarters(filter).await?;
    let wait = distribution(store, filter, Timed::Wait).await?;
    let first_response = distribution(store, filter, Timed::FirstResponse).await?;
    let agents = store.report_rows(filter, Grouping::Agents).await?;
    let queues = store.report_rows(filter, Grouping::Queues).await?;
    let (days, week_hours) = calendar(&zone, filter.from_ms, filter.to_ms, &quarters);
    let mut ratings = RatingCounts::default();
    for day in &days {
        ratings.add(day.ratings);
    }
    Ok(Report {
        from_ms: filter.from_ms,
        to_ms: filter.to_ms,
        time_zone,
        totals,
        ratings,
        days,
        week_hours,
        wait,
        first_response,
        agents: table(agents),
        queues: table(queues),
    })
}

async fn distribution(store: &Store, filter: &ReportFilter, timed: Timed) -> Result<Distribution> {
    let counts = store.report_buckets(filter, timed, &TIME_BOUNDS_MS).await?;
    let count: i64 = counts.iter().sum();
    let median_ms = percentile(store, filter, timed, count, 50).await?;
    let p90_ms = percentile(store, filter, timed, count, 90).await?;
    Ok(Distribution {
        count,
        median_ms,
        p90_ms,
        buckets: counts
            .into_iter()
            .enumerate()
            .map(|(i, count)| Bucket {
                below_ms: TIME_BOUNDS_MS.get(i).copied(),
                count,
            })
            .collect(),
    })
}

async fn percentile(
    store: &Store,
    filter: &ReportFilter,
    timed: Timed,
    count: i64,
    percent: i64,
) -> Result<Option<i64>> {
    match nearest_rank(count, percent) {
        Some(rank) => store.report_ranked(filter, timed, rank).await,
        None => Ok(None),
    }
}

/// The 0-based rank of the `percent`th percentile of `count` values (nearest rank); None of
/// none.
pub fn nearest_rank(count: i64, percent: i64) -> Option<i64> {
    (count > 0).then(|| ((count * percent + 99) / 100).max(1) - 1)
}

/// Each day of the period with its conversations, and the conversations by weekday (Monday
/// first) and hour, in `zone`, from the counts by quarter hour.
pub fn calendar(
    zone: &TimeZone,
    from_ms: i64,
    to_ms: i64,
    quarters: &[(i64, i64, RatingCounts)],
) -> (Vec<DayCount>, Vec<Vec<i64>>) {
    let local = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .ok()
            .map(|at| at.to_zoned(zone.clone()))
    };
    let mut days: BTreeMap<jiff::civil::Date, (i64, RatingCounts)> = BTreeMap::new();
    if let (Some(first), Some(last)) = (local(from_ms), local(to_ms - 1)) {
        let mut day = first.date();
        while day <= last.date() {
            days.insert(day, Default::default());
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    let mut week_hours = vec![vec![0; 24]; 7];
    for &(quarter, n, ratings) in quarters {
        let Some(at) = local(quarter * QUARTER_MS) else {
            continue;
        };
        let day = days.entry(at.date()).or_default();
        day.0 += n;
        day.1.add(ratings);
        let weekday = usize::from(at.weekday().to_monday_zero_offset().unsigned_abs());
        week_hours[weekday][usize::from(at.hour().unsigned_abs())] += n;
    }
    let days = days
        .into_iter()
        .map(|(day, (conversations, ratings))| DayCount {
            day: day.to_string(),
            conversations,
            ratings,
        })
        .collect();
    (days, week_hours)
}

/// The rows, with their averages, most conversations first.
fn table(rows: BTreeMap<String, RowSums>) -> Vec<ReportRow> {
    let average = |sum: i64, n: i64| (n > 0).then(|| sum / n);
    let mut table: Vec<ReportRow> = rows
        .into_iter()
        .map(|(id, sums)| ReportRow {
            id,
            name: sums.name,
            average_first_response_ms: average(sums.first_response_sum_ms, sums.first_responses),
            average_handle_ms: average(sums.handle_sum_ms, sums.handled),
            counts: sums.counts,
            ratings: sums.ratings,
        })
        .collect();
    table.sort_by(|a, b| {
        b.counts
            .conversations
            .cmp(&a.counts.conversations)
            .then_with(|| a.name.cmp(&b.name))
    });
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_rank_of_a_percentile() {
        assert_eq!(nearest_rank(0, 50), None);
        assert_eq!(nearest_rank(1, 90), Some(0));
        assert_eq!(nearest_rank(10, 50), Some(4));
        assert_eq!(nearest_rank(10, 90), Some(8));
        assert_eq!(nearest_rank(11, 50), Some(5));
    }

    #[test]
    fn quarters_fall_on_the_viewers_days_and_hours() {
        let zone = TimeZone::get("Asia/Kathmandu").unwrap(); // +05:45
                                                             // 2026-03-02 (a Monday) 18:15 UTC is 00:00 on Tuesday the 3rd in Kathmandu.
        let at = Timestamp::from_second(1_772_475_300)
            .unwrap()
            .as_millisecond();
        let rated = RatingCounts {
            rated: 1,
            satisfied: 1,
            score_sum: 5,
        };
        let quarters = [
            (at / QUARTER_MS, 3, rated),
            (at / QUARTER_MS - 1, 2, RatingCounts::default()),
        ];
        let (days, week) = calendar(&zone, at - DAY_MS, at + DAY_MS, &quarters);
        let said: Vec<(&str, i64)> = days
            .iter()
            .map(|d| (d.day.as_str(), d.conversations))
            .collect();
        // The period, a day either side of Tuesday's midnight there, is Monday and Tuesday.
        assert_eq!(said, [("2026-03-02", 2), ("2026-03-03", 3)]);
        assert_eq!((week[1][0], week[0][23]), (3, 2));
        assert_eq!((days[0].ratings.rated, days[1].ratings), (0, rated));
        assert_eq!(week.iter().flatten().sum::<i64>(), 5);
    }
}
