//! Business hours: is the channel open at an instant, and when does that next change.
//!
//! Hours are wall-clock times in the schedule's IANA zone, so "09:00–17:00" means nine to five
//! local time on both sides of a DST change. On the night the clocks go forward, wall-clock times
//! inside the gap never happen; on the night they go back, times inside the fold happen twice and
//! are open both times if the schedule covers them.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use protocol::{BusinessHours, Interval, Problem};
use std::collections::BTreeMap;

const DAY_SECS: u32 = 24 * 3600;
/// How far ahead `next_change` looks; a schedule closed for longer reports no change.
const HORIZON_DAYS: i32 = 21;
const MAX_INTERVALS_PER_DAY: usize = 12;
const MAX_EXCEPTIONS: usize = 400;

/// One open interval of a day, in seconds after local midnight. `to <= from` runs past midnight
/// into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opening {
    from: u32,
    to: u32,
}

impl Opening {
    fn crosses_midnight(self) -> bool {
        self.to <= self.from
    }
}

/// A checked schedule, ready to be asked.
#[derive(Debug, Clone)]
pub struct Schedule {
    zone: TimeZone,
    /// Monday first.
    weekly: [Vec<Opening>; 7],
    exceptions: BTreeMap<Date, Vec<Opening>>,
}

/// Field path → what is wrong with it, as `validation_failed` reports it.
pub type FieldErrors = BTreeMap<String, Problem>;

fn parse_time(text: &str, end_of_day_allowed: bool) -> Option<u32> {
    if end_of_day_allowed && text == "24:00" {
        return Some(DAY_SECS);
    }
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 3600 + m * 60)
}

fn parse_intervals(intervals: &[Interval], path: &str, errors: &mut FieldErrors) -> Vec<Opening> {
    if intervals.len() > MAX_INTERVALS_PER_DAY {
        errors.insert(
            path.to_owned(),
            Problem::TooMany {
                max: MAX_INTERVALS_PER_DAY as u64,
            },
        );
    }
    let mut openings = Vec::new();
    for (i, interval) in intervals.iter().enumerate() {
        let from = parse_time(&interval.from, false);
        let to = parse_time(&interval.to, true);
        for (end, parsed) in [("from", from), ("to", to)] {
            if parsed.is_none() {
                errors.insert(format!("{path}[{i}].{end}"), Problem::TimeOfDay);
            }
        }
        if let (Some(from), Some(to)) = (from, to) {
            openings.push(Opening { from, to });
        }
    }
    openings
}

impl Schedule {
    /// Checks every field (field paths start with `prefix`) and builds the schedule.
    pub fn parse(hours: &BusinessHours, prefix: &str) -> Result<Schedule, FieldErrors> {
        let mut errors = FieldErrors::new();
        let zone = TimeZone::get(&hours.time_zone).map_err(|_| {
            errors.insert(format!("{prefix}.time_zone"), Problem::TimeZone);
        });
        let weekly = hours.weekly.days().map(|(day, intervals)| {
            parse_intervals(intervals, &format!("{prefix}.weekly.{day}"), &mut errors)
        });
        if hours.exceptions.len() > MAX_EXCEPTIONS {
            errors.insert(
                format!("{prefix}.exceptions"),
                Problem::TooMany {
                    max: MAX_EXCEPTIONS as u64,
                },
            );
        }
        let mut exceptions = BTreeMap::new();
        for (i, exception) in hours.exceptions.iter().enumerate() {
            let path = format!("{prefix}.exceptions[{i}]");
            let openings = parse_intervals(&exception.hours, &format!("{path}.hours"), &mut errors);
            match exception.date.parse::<Date>() {
                Ok(date) if exceptions.insert(date, openings).is_some() => {
                    errors.insert(format!("{path}.date"), Problem::Twice);
                }
                Ok(_) => {}
                Err(_) => {
                    errors.insert(format!("{path}.date"), Problem::Date);
                }
            }
        }
        match zone {
            Ok(zone) if errors.is_empty() => Ok(Schedule {
                zone,
                weekly,
                exceptions,
            }),
            _ => Err(errors),
        }
    }

    fn openings_on(&self, date: Date) -> &[Opening] {
        self.exceptions.get(&date).unwrap_or_else(|| {
            &self.weekly[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
        })
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = self.zone.to_datetime(at);
        let secs =
            u32::try_from(local.time().duration_since(Time::midnight()).as_secs()).unwrap_or(0);
        let today = self
            .openings_on(local.date())
            .iter()
            .any(|o| o.from <= secs && (o.crosses_midnight() || secs < o.to));
        let from_yesterday = local.date().yesterday().is_ok_and(|yesterday| {
            self.openings_on(yesterday)
                .iter()
                .any(|o| o.crosses_midnight() && secs < o.to)
        });
        today || from_yesterday
    }

    /// The first instant after `at` when `is_open` changes, within three weeks.
    ///
    /// The state can only change at a wall-clock boundary of an interval (which maps to one
    /// instant, two in a fold, or falls in a gap) or at a DST transition (when a boundary sits in
    /// the gap, the change happens at the transition). So those instants are the candidates.
    pub fn next_change(&self, at: Timestamp) -> Option<Timestamp> {
        let open_now = self.is_open(at);
        let start = self.zone.to_datetime(at).date();
        let mut candidates: Vec<Timestamp> = Vec::new();
        for offset in -1..=HORIZON_DAYS {
            let Ok(date) = start.checked_add(jiff::Span::new().days(offset)) else {
                continue;
            };
            for opening in self.openings_on(date) {
                let end_day = u32::from(opening.crosses_midnight() || opening.to == DAY_SECS);
                for (day, secs) in [(0, opening.from), (end_day, opening.to % DAY_SECS)] {
                    let Ok(date) = date.checked_add(jiff::Span::new().days(day)) else {
                        continue;
                    };
                    let wall = date.to_datetime(seconds_to_time(secs));
                    candidates.extend(self.instants_of(wall));
                }
            }
        }
        let horizon = at
            .checked_add(jiff::SignedDuration::from_hours(
                24 * i64::from(HORIZON_DAYS),
            ))
            .ok()?;
        candidates.extend(
            self.zone
                .following(at)
                .map(|t| t.timestamp())
                .take_while(|t| *t <= horizon),
        );
        candidates.sort();
        candidates
            .into_iter()
            .filter(|c| *c > at && *c <= horizon)
            .find(|c| self.is_open(*c) != open_now)
    }

    /// Both instants a wall-clock time can stand for (they differ only in a fold).
    fn instants_of(&self, wall: DateTime) -> impl Iterator<Item = Timestamp> {
        let ambiguous = self.zone.to_ambiguous_timestamp(wall);
        [ambiguous.earlier(), ambiguous.later()]
            .into_iter()
            .filter_map(Result::ok)
    }
}

fn seconds_to_time(secs: u32) -> Time {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    Time::new(
        i8::try_from(h).unwrap_or(0),
        i8::try_from(m).unwrap_or(0),
        0,
        0,
    )
    .unwrap_or(Time::midnight())
}

/// The zone names the console offers.
pub fn time_zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .collect();
    names.sort();
    names
}
