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
use crate::store::{LocalClock, ReportFilter, RowSums, Store, Timed};

const DAY_MS: i64 = 24 * 3600 * 1000;
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
    let clock = clock(&zone, filter.from_ms, filter.to_ms);
    let groups = store.report_groups(filter).await?;
    let by_day = store.report_days(filter, &clock).await?;
    let by_hour = store.report_week_hours(filter, &clock).await?;
    let wait = spread(&store.report_seconds(filter, Timed::Wait).await?);
    let first_response = spread(&store.report_seconds(filter, Timed::FirstResponse).await?);
    let (days, week_hours) = calendar(&zone, filter.from_ms, filter.to_ms, &by_day, &by_hour);
    let mut ratings = RatingCounts::default();
    for day in &days {
        ratings.add(day.ratings);
    }
    Ok(Report {
        from_ms: filter.from_ms,
        to_ms: filter.to_ms,
        time_zone,
        totals: groups.totals,
        ratings,
        days,
        week_hours,
        wait,
        first_response,
        agents: table(groups.agents),
        queues: table(groups.queues),
    })
}

/// The zone's offset at `from_ms` and each change of it before `to_ms`: what the store needs
/// to count by the viewer's days and hours.
pub fn clock(zone: &TimeZone, from_ms: i64, to_ms: i64) -> LocalClock {
    let offset_ms = |at: Timestamp| i64::from(zone.to_offset(at).seconds()) * 1000;
    let Ok(from) = Timestamp::from_millisecond(from_ms) else {
        return LocalClock::default();
    };
    LocalClock {
        offset_ms: offset_ms(from),
        changes: zone
            .following(from)
            .take_while(|change| change.timestamp().as_millisecond() < to_ms)
            .map(|change| {
                (
                    change.timestamp().as_millisecond(),
                    i64::from(change.offset().seconds()) * 1000,
                )
            })
            .collect(),
    }
}

/// A time's spread from how many had it in each whole second (in order): the count under each
/// of [`TIME_BOUNDS_MS`] (whole seconds, so exact), and the median and 90th percentile to the
/// second: the start of the second that holds the value of that rank.
pub fn spread(seconds: &[(i64, i64)]) -> Distribution {
    let count: i64 = seconds.iter().map(|&(_, n)| n).sum();
    let mut buckets: Vec<Bucket> = TIME_BOUNDS_MS
        .iter()
        .map(|&bound| Some(bound))
        .chain([None])
        .map(|below_ms| Bucket { below_ms, count: 0 })
        .collect();
    for &(second, n) in seconds {
        let at = TIME_BOUNDS_MS
            .iter()
            .position(|&bound| second * 1000 < bound)
            .unwrap_or(TIME_BOUNDS_MS.len());
        buckets[at].count += n;
    }
    let at_rank = |percent: i64| {
        let rank = nearest_rank(count, percent)?;
        let mut below = 0;
        seconds.iter().find_map(|&(second, n)| {
            below += n;
            (rank < below).then_some(second * 1000)
        })
    };
    Distribution {
        count,
        median_ms: at_rank(50),
        p90_ms: at_rank(90),
        buckets,
    }
}

/// The 0-based rank of the `percent`th percentile of `count` values (nearest rank); None of
/// none.
pub fn nearest_rank(count: i64, percent: i64) -> Option<i64> {
    (count > 0).then(|| ((count * percent + 99) / 100).max(1) - 1)
}

/// Each day of the period with its conversations and ratings, and the conversations by
/// weekday (Monday first) and hour, in `zone`, from the store's counts by local day (days
/// since 1970-01-01) and by hour of the local week (hour 0: Thursday's first).
pub fn calendar(
    zone: &TimeZone,
    from_ms: i64,
    to_ms: i64,
    by_day: &[(i64, i64, RatingCounts)],
    by_hour: &[(i64, i64)],
) -> (Vec<DayCount>, Vec<Vec<i64>>) {
    let local = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .ok()
            .map(|at| at.to_zoned(zone.clone()).date())
    };
    let mut days: BTreeMap<jiff::civil::Date, (i64, RatingCounts)> = BTreeMap::new();
    if let (Some(first), Some(last)) = (local(from_ms), local(to_ms - 1)) {
        let mut day = first;
        while day <= last {
            days.insert(day, Default::default());
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    let epoch = jiff::civil::date(1970, 1, 1);
    for &(day, n, ratings) in by_day {
        if let Ok(date) = epoch.checked_add(jiff::Span::new().days(day)) {
            let counted = days.entry(date).or_default();
            counted.0 += n;
            counted.1.add(ratings);
        }
    }
    let mut week_hours = vec![vec![0; 24]; 7];
    for &(hour, n) in by_hour {
        let (Ok(hour), true) = (usize::try_from(hour), (0..168).contains(&hour)) else {
            continue;
        };
        // Hour 0 is a Thursday's: Monday is 3 days after it.
        week_hours[(hour / 24 + 3) % 7][hour % 24] += n;
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
    fn a_spread_is_read_from_the_counts_by_second() {
        // Ten values: 0.5 s (twice), 3 s, 14 s, 15 s, 29 s, 61 s (three times), 2 h.
        let seconds = [
            (0, 2),
            (3, 1),
            (14, 1),
            (15, 1),
            (29, 1),
            (61, 3),
            (7200, 1),
        ];
        let spread = spread(&seconds);
        assert_eq!(spread.count, 10);
        // Ranks 4 and 8 (from 0): 15 s and 61 s.
        assert_eq!(
            (spread.median_ms, spread.p90_ms),
            (Some(15_000), Some(61_000))
        );
        let counts: Vec<i64> = spread.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, [4, 2, 0, 3, 0, 0, 0, 1]);
        assert_eq!(spread.buckets[7].below_ms, None);
        let none = super::spread(&[]);
        assert_eq!((none.count, none.median_ms, none.p90_ms), (0, None, None));
    }

    #[test]
    fn counts_fall_on_the_viewers_days_and_hours() {
        let zone = TimeZone::get("Asia/Kathmandu").unwrap(); // +05:45
                                                             // 2026-03-02 (a Monday) 18:15 UTC is 00:00 on Tuesday the 3rd in Kathmandu.
        let at = Timestamp::from_second(1_772_475_300)
            .unwrap()
            .as_millisecond();
        let clock = clock(&zone, at - DAY_MS, at + DAY_MS);
        assert_eq!(
            clock,
            LocalClock {
                offset_ms: (5 * 60 + 45) * 60_000,
                changes: vec![]
            }
        );
        let tuesday = (at + clock.offset_ms) / DAY_MS;
        let rated = RatingCounts {
            rated: 1,
            satisfied: 1,
            score_sum: 5,
        };
        let by_day = [
            (tuesday, 3, rated),
            (tuesday - 1, 2, RatingCounts::default()),
        ];
        // Tuesday 00:00 is hour 5 × 24 of the week counted from Thursday; Monday 23:00, 4 × 24 + 23.
        let by_hour = [(5 * 24, 3), (4 * 24 + 23, 2)];
        let (days, week) = calendar(&zone, at - DAY_MS, at + DAY_MS, &by_day, &by_hour);
        let said: Vec<(&str, i64)> = days
            .iter()
            .map(|d| (d.day.as_str(), d.conversations))
            .collect();
        // The period, a day either side of Tuesday's midnight there, is Monday and Tuesday.
        assert_eq!(said, [("2026-03-02", 2), ("2026-03-03", 3)]);
        assert_eq!((week[1][0], week[0][23]), (3, 2));
        assert_eq!(week.iter().flatten().sum::<i64>(), 5);
        assert_eq!((days[0].ratings.rated, days[1].ratings), (0, rated));
    }

    #[test]
    fn a_clock_changes_with_daylight_saving_time() {
        let zone = TimeZone::get("Europe/Lisbon").unwrap();
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let from = Timestamp::from_second(1_767_225_600)
            .unwrap()
            .as_millisecond(); // 1 January
        let clock = clock(&zone, from, from + 365 * DAY_MS);
        assert_eq!(clock.offset_ms, 0);
        let changes: Vec<i64> = clock.changes.iter().map(|&(_, offset)| offset).collect();
        assert_eq!(changes, [3_600_000, 0]);
        assert_eq!(clock.changes[0].0, 1_774_746_000_000);
    }
}
