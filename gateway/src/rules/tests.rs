//! The rule engine at fixed instants. Time zones: Europe/Paris and America/New_York, whose
//! 2026 DST changes are Paris 29 March 01:00Z (+1 → +2) and 25 October 01:00Z (+2 → +1),
//! New York 8 March 07:00Z (−5 → −4) and 1 November 06:00Z (−4 → −5).

use super::schedule::Schedule;
use super::*;
use protocol::{BusinessHours, DateException, Interval, WeeklyHours};

fn at(utc: &str) -> Timestamp {
    utc.parse().expect("a UTC instant")
}

fn hours(zone: &str, weekly: WeeklyHours, exceptions: Vec<DateException>) -> BusinessHours {
    BusinessHours {
        enabled: true,
        time_zone: zone.into(),
        weekly,
        exceptions,
    }
}

fn every_day(intervals: &[(&str, &str)]) -> WeeklyHours {
    let day: Vec<Interval> = intervals.iter().map(|(f, t)| Interval::new(f, t)).collect();
    let mut weekly = WeeklyHours::default();
    for d in weekly.days_mut() {
        *d = day.clone();
    }
    weekly
}

fn weekdays_nine_to_five() -> WeeklyHours {
    BusinessHours::default().weekly
}

fn exception(date: &str, intervals: &[(&str, &str)]) -> DateException {
    DateException {
        date: date.into(),
        hours: intervals.iter().map(|(f, t)| Interval::new(f, t)).collect(),
    }
}

fn schedule(h: &BusinessHours) -> Schedule {
    Schedule::parse(h, "business_hours").expect("a valid schedule")
}

/// New York, Saturdays 22:00 to 02:00.
fn ny_saturday_nights() -> BusinessHours {
    let weekly = WeeklyHours {
        sat: vec![Interval::new("22:00", "02:00")],
        ..WeeklyHours::default()
    };
    hours("America/New_York", weekly, vec![])
}

/// Paris, Sundays 01:30 to 02:30: on 29 March 2026 the end falls in the DST gap.
fn paris_sunday_into_the_gap() -> BusinessHours {
    let weekly = WeeklyHours {
        sun: vec![Interval::new("01:30", "02:30")],
        ..WeeklyHours::default()
    };
    hours("Europe/Paris", weekly, vec![])
}

#[test]
fn business_hours_at_fixed_instants() {
    let paris_daily = hours("Europe/Paris", every_day(&[("09:00", "17:00")]), vec![]);
    let ny_nights = ny_saturday_nights();
    let paris_gap = paris_sunday_into_the_gap();
    let paris_holidays = hours(
        "Europe/Paris",
        weekdays_nine_to_five(),
        vec![
            exception("2026-12-24", &[("09:00", "12:00")]),
            exception("2026-12-25", &[]),
            exception("2026-12-31", &[("20:00", "02:00")]),
            exception("2027-01-01", &[]),
        ],
    );
    let ny_split_midnight = {
        let weekly = WeeklyHours {
            fri: vec![Interval::new("22:00", "24:00")],
            sat: vec![Interval::new("00:00", "02:00")],
            ..WeeklyHours::default()
        };
        hours("America/New_York", weekly, vec![])
    };
    let cases: &[(&str, &BusinessHours, &str, bool)] = &[
        // Paris, clocks forward on Sunday 29 March: nine to five local on both sides.
        (
            "paris sat 09:30 CET",
            &paris_daily,
            "2026-03-28T08:30:00Z",
            true,
        ),
        (
            "paris sat 16:30 CET",
            &paris_daily,
            "2026-03-28T15:30:00Z",
            true,
        ),
        (
            "paris sun 09:30 CEST",
            &paris_daily,
            "2026-03-29T07:30:00Z",
            true,
        ),
        (
            "paris sun 08:30 CEST",
            &paris_daily,
            "2026-03-29T06:30:00Z",
            false,
        ),
        (
            "paris sun 17:30 CEST",
            &paris_daily,
            "2026-03-29T15:30:00Z",
            false,
        ),
        // Paris, clocks back on Sunday 25 October.
        (
            "paris sat 09:30 CEST",
            &paris_daily,
            "2026-10-24T07:30:00Z",
            true,
        ),
        (
            "paris sun 08:30 CET",
            &paris_daily,
            "2026-10-25T07:30:00Z",
            false,
        ),
        (
            "paris sun 09:30 CET",
            &paris_daily,
            "2026-10-25T08:30:00Z",
            true,
        ),
        (
            "paris sun 16:59 CET",
            &paris_daily,
            "2026-10-25T15:59:00Z",
            true,
        ),
        (
            "paris sun 17:00 CET",
            &paris_daily,
            "2026-10-25T16:00:00Z",
            false,
        ),
        // New York, Saturday night across midnight, clocks back at 02:00 EDT on 1 November:
        // 01:00–02:00 happens twice and is open both times.
        (
            "ny sat 21:59 EDT",
            &ny_nights,
            "2026-11-01T01:59:00Z",
            false,
        ),
        ("ny sat 22:00 EDT", &ny_nights, "2026-11-01T02:00:00Z", true),
        ("ny sun 01:30 EDT", &ny_nights, "2026-11-01T05:30:00Z", true),
        ("ny sun 01:30 EST", &ny_nights, "2026-11-01T06:30:00Z", true),
        (
            "ny sun 02:00 EST",
            &ny_nights,
            "2026-11-01T07:00:00Z",
            false,
        ),
        // New York, clocks forward at 02:00 EST on 8 March: the night ends at the jump.
        ("ny sun 01:59 EST", &ny_nights, "2026-03-08T06:59:00Z", true),
        (
            "ny sun 03:00 EDT",
            &ny_nights,
            "2026-03-08T07:00:00Z",
            false,
        ),
        // An interval reaching into the gap closes at the transition.
        (
            "paris gap 01:45 CET",
            &paris_gap,
            "2026-03-29T00:45:00Z",
            true,
        ),
        (
            "paris gap 03:15 CEST",
            &paris_gap,
            "2026-03-29T01:15:00Z",
            false,
        ),
        // Exceptions: other hours, closed all day, a night that spills into a closed day.
        (
            "christmas eve 10:30",
            &paris_holidays,
            "2026-12-24T09:30:00Z",
            true,
        ),
        (
            "christmas eve 13:30",
            &paris_holidays,
            "2026-12-24T12:30:00Z",
            false,
        ),
        (
            "christmas 10:30",
            &paris_holidays,
            "2026-12-25T09:30:00Z",
            false,
        ),
        (
            "monday after 10:30",
            &paris_holidays,
            "2026-12-28T09:30:00Z",
            true,
        ),
        (
            "new year 01:30",
            &paris_holidays,
            "2027-01-01T00:30:00Z",
            true,
        ),
        (
            "new year 02:30",
            &paris_holidays,
            "2027-01-01T01:30:00Z",
            false,
        ),
        (
            "new year 10:30",
            &paris_holidays,
            "2027-01-01T09:30:00Z",
            false,
        ),
        // 24:00 and 00:00 join up.
        (
            "ny fri 23:59",
            &ny_split_midnight,
            "2026-11-28T04:59:00Z",
            true,
        ),
        (
            "ny sat 00:00",
            &ny_split_midnight,
            "2026-11-28T05:00:00Z",
            true,
        ),
        (
            "ny sat 02:00",
            &ny_split_midnight,
            "2026-11-28T07:00:00Z",
            false,
        ),
    ];
    for (name, h, instant, open) in cases {
        assert_eq!(schedule(h).is_open(at(instant)), *open, "{name}");
    }
}

#[test]
fn the_next_change_is_exact_across_dst() {
    let ny_nights = ny_saturday_nights();
    let paris_gap = paris_sunday_into_the_gap();
    let paris_holidays = hours(
        "Europe/Paris",
        weekdays_nine_to_five(),
        vec![exception("2026-12-25", &[])],
    );
    let cases: &[(&str, &BusinessHours, &str, Option<&str>)] = &[
        // Five real hours in the fold night, four in the gap night.
        (
            "ny closes after the fold",
            &ny_nights,
            "2026-11-01T03:00:00Z",
            Some("2026-11-01T07:00:00Z"),
        ),
        (
            "ny closes at the jump",
            &ny_nights,
            "2026-03-08T04:00:00Z",
            Some("2026-03-08T07:00:00Z"),
        ),
        (
            "ny opens saturday 22:00 EDT",
            &ny_nights,
            "2026-10-30T12:00:00Z",
            Some("2026-11-01T02:00:00Z"),
        ),
        (
            "paris closes at the transition",
            &paris_gap,
            "2026-03-29T00:45:00Z",
            Some("2026-03-29T01:00:00Z"),
        ),
        (
            "paris opens monday after christmas",
            &paris_holidays,
            "2026-12-24T17:30:00Z",
            Some("2026-12-28T08:00:00Z"),
        ),
    ];
    for (name, h, from, expected) in cases {
        assert_eq!(
            schedule(h).next_change(at(from)),
            expected.map(at),
            "{name}"
        );
    }
    let never = hours("UTC", WeeklyHours::default(), vec![]);
    assert_eq!(
        schedule(&never).next_change(at("2026-01-01T00:00:00Z")),
        None
    );
}

#[test]
fn bad_schedules_name_every_field() {
    let mut h = hours(
        "Mars/Olympus",
        every_day(&[("9:00", "17:00")]),
        vec![exception("2026-02-30", &[("10:00", "25:00")])],
    );
    h.weekly.sun = vec![Interval::new("10:00", "24:00")];
    let errors = Schedule::parse(&h, "business_hours").unwrap_err();
    for field in [
        "business_hours.time_zone",
        "business_hours.weekly.mon[0].from",
        "business_hours.exceptions[0].date",
        "business_hours.exceptions[0].hours[0].to",
    ] {
        assert!(errors.contains_key(field), "{field} missing in {errors:?}");
    }
    assert!(!errors.contains_key("business_hours.weekly.sun[0].to"));
}

const NOW: i64 = 1_800_000_000_000;
const POLL: u64 = 5_000;

struct Case {
    name: &'static str,
    rules: VisibilityRules,
    set_override: VisibilityOverride,
    online: bool,
    agents: AgentCounts,
    visit: u32,
    on_page_secs: i64,
    hidden: Option<Hidden>,
    recheck: Option<u64>,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            rules: VisibilityRules::default(),
            set_override: VisibilityOverride::default(),
            online: true,
            agents: AgentCounts::default(),
            visit: 1,
            on_page_secs: 0,
            hidden: None,
            recheck: None,
        }
    }
}

fn rules(edit: impl FnOnce(&mut VisibilityRules)) -> VisibilityRules {
    let mut rules = VisibilityRules::default();
    edit(&mut rules);
    rules
}

fn dwell(r: &mut VisibilityRules) {
    r.dwell_time = protocol::DwellTime {
        enabled: true,
        seconds: 10,
    };
}

fn repeat(r: &mut VisibilityRules) {
    r.repeat_visit = protocol::RepeatVisit {
        enabled: true,
        min_visit: 2,
    };
}

fn any_of(r: &mut VisibilityRules) {
    r.combine = Combine::AnyOf;
}

fn forced(mode: OverrideMode, until_ms: Option<i64>) -> VisibilityOverride {
    VisibilityOverride { mode, until_ms }
}

#[test]
fn decisions_at_fixed_instants() {
    let online = AgentCounts {
        online: 2,
        available: 0,
    };
    let cases = vec![
        Case {
            name: "no rule: visible for good",
            ..Case::default()
        },
        Case {
            name: "an offline channel hides whatever else holds",
            online: false,
            set_override: forced(OverrideMode::Visible, None),
            hidden: Some(Hidden::ChannelOffline),
            ..Case::default()
        },
        Case {
            name: "nobody online: ask again at the presence poll",
            rules: rules(|r| r.agents_online.enabled = true),
            hidden: Some(Hidden::Rule(Rule::AgentsOnline)),
            recheck: Some(POLL),
            ..Case::default()
        },
        Case {
            name: "online (away counts) but nobody available",
            rules: rules(|r| {
                r.agents_online.enabled = true;
                r.agent_available.enabled = true;
            }),
            agents: online,
            hidden: Some(Hidden::Rule(Rule::AgentAvailable)),
            recheck: Some(POLL),
            ..Case::default()
        },
        Case {
            name: "dwell not reached: show when it is",
            rules: rules(dwell),
            on_page_secs: 3,
            hidden: Some(Hidden::Rule(Rule::DwellTime)),
            recheck: Some(7_000),
            ..Case::default()
        },
        Case {
            name: "dwell reached: settled",
            rules: rules(dwell),
            on_page_secs: 10,
            ..Case::default()
        },
        Case {
            name: "first visit under a repeat rule: hidden for this page view",
            rules: rules(repeat),
            hidden: Some(Hidden::Rule(Rule::RepeatVisit)),
            ..Case::default()
        },
        Case {
            name: "all-of: a rule time cannot change settles it hidden",
            rules: rules(|r| {
                dwell(r);
                repeat(r);
            }),
            hidden: Some(Hidden::Rule(Rule::DwellTime)),
            ..Case::default()
        },
        Case {
            name: "any-of: one met rule that stays met settles it visible",
            rules: rules(|r| {
                dwell(r);
                repeat(r);
                any_of(r);
            }),
            visit: 2,
            ..Case::default()
        },
        Case {
            name: "any-of: nothing met yet, dwell will be",
            rules: rules(|r| {
                dwell(r);
                repeat(r);
                any_of(r);
            }),
            on_page_secs: 4,
            hidden: Some(Hidden::Rule(Rule::DwellTime)),
            recheck: Some(6_000),
            ..Case::default()
        },
        Case {
            name: "all-of with presence and dwell: the sooner recheck wins",
            rules: rules(|r| {
                dwell(r);
                r.agents_online.enabled = true;
            }),
            agents: online,
            on_page_secs: 9,
            hidden: Some(Hidden::Rule(Rule::DwellTime)),
            recheck: Some(1_000),
            ..Case::default()
        },
        Case {
            name: "override hidden without end",
            set_override: forced(OverrideMode::Hidden, None),
            hidden: Some(Hidden::Override),
            ..Case::default()
        },
        Case {
            name: "override visible for a minute beats the rules, then ask again",
            rules: rules(repeat),
            set_override: forced(OverrideMode::Visible, Some(NOW + 60_000)),
            recheck: Some(60_000),
            ..Case::default()
        },
        Case {
            name: "an expired override leaves the rules in charge",
            rules: rules(repeat),
            set_override: forced(OverrideMode::Visible, Some(NOW - 1)),
            hidden: Some(Hidden::Rule(Rule::RepeatVisit)),
            ..Case::default()
        },
    ];
    for case in cases {
        let facts = Facts {
            now_ms: NOW,
            agents: case.agents,
            page_view: PageView {
                visit: case.visit,
                viewed_at_ms: NOW - case.on_page_secs * 1000,
                page_url: Some("https://shop.example/pricing"),
            },
            presence_poll_ms: POLL,
        };
        let decision = decide(case.online, &case.rules, case.set_override, &facts);
        assert_eq!(decision.hidden, case.hidden, "{}: hidden", case.name);
        assert_eq!(
            decision.recheck_after_ms, case.recheck,
            "{}: recheck",
            case.name
        );
    }
}

#[test]
fn business_hours_feed_the_decision_and_its_recheck() {
    let rules =
        rules(|r| r.business_hours = hours("Europe/Paris", weekdays_nine_to_five(), vec![]));
    // Friday 27 November 2026, 17:30 in Paris: closed until Monday 09:00.
    let now = at("2026-11-27T16:30:00Z").as_millisecond();
    let facts = Facts {
        now_ms: now,
        agents: AgentCounts::default(),
        page_view: PageView {
            visit: 1,
            viewed_at_ms: now,
            page_url: None,
        },
        presence_poll_ms: POLL,
    };
    let decision = decide(true, &rules, VisibilityOverride::default(), &facts);
    assert_eq!(decision.hidden, Some(Hidden::Rule(Rule::BusinessHours)));
    let monday = at("2026-11-30T08:00:00Z").as_millisecond();
    assert_eq!(decision.recheck_after_ms, u64::try_from(monday - now).ok());
    let report = decision.report();
    assert!(
        report.checks[0]
            .detail
            .contains("opens Mon 2026-11-30 09:00"),
        "{}",
        report.checks[0].detail
    );
    assert!(matches!(
        decision.allow_session(),
        Err(Error::RuleNotMet {
            rule: Rule::BusinessHours,
            ..
        })
    ));
}

#[test]
fn validation_names_each_bad_field() {
    let mut bad = VisibilityRules::default();
    bad.repeat_visit.min_visit = 0;
    bad.dwell_time.seconds = MAX_DWELL_SECS + 1;
    bad.page_url = protocol::PageUrl {
        enabled: true,
        patterns: vec!["/ok*".into(), "".into(), "/a b".into()],
    };
    bad.business_hours.time_zone = "Nowhere/Special".into();
    let Err(Error::Validation(fields)) = validate(&bad) else {
        panic!("invalid rules accepted");
    };
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "business_hours.time_zone",
            "dwell_time.seconds",
            "page_url.patterns[1]",
            "page_url.patterns[2]",
            "repeat_visit.min_visit",
        ]
    );
    assert!(validate(&VisibilityRules::default()).is_ok());
    assert!(validate_override(&forced(OverrideMode::Hidden, Some(NOW - 1)), NOW).is_err());
    assert!(validate_override(&forced(OverrideMode::Rules, Some(NOW + 1)), NOW).is_err());
    assert!(validate_override(&forced(OverrideMode::Hidden, Some(NOW + 1)), NOW).is_ok());
}

#[test]
fn outside_hours_a_channel_taking_messages_says_when_someone_is_back() {
    let closed_friday_evening = |rules: VisibilityRules, when: WhenUnavailable| {
        let now = at("2026-11-27T16:30:00Z").as_millisecond();
        let facts = Facts {
            now_ms: now,
            agents: AgentCounts::default(),
            page_view: PageView {
                visit: 1,
                viewed_at_ms: now,
                page_url: Some("https://shop.example/pricing"),
            },
            presence_poll_ms: POLL,
        };
        let mut channel = ChannelRecord::new("Shop", 600);
        channel.rules = rules.clone();
        channel.when_unavailable = when;
        decide(true, &rules, VisibilityOverride::default(), &facts).leave_message(&channel, now)
    };
    let paris = |r: &mut VisibilityRules| {
        r.business_hours = hours("Europe/Paris", weekdays_nine_to_five(), vec![]);
    };
    assert_eq!(
        closed_friday_evening(rules(paris), WhenUnavailable::LeaveMessage),
        Some(LeaveMessage {
            // Monday 09:00 in Paris.
            back_at_ms: Some(at("2026-11-30T08:00:00Z").as_millisecond())
        })
    );
    assert_eq!(
        closed_friday_evening(rules(paris), WhenUnavailable::Hide),
        None
    );
    // Nobody online (no hours involved): a message, without a time.
    let presence = |r: &mut VisibilityRules| r.agents_online.enabled = true;
    assert_eq!(
        closed_friday_evening(rules(presence), WhenUnavailable::LeaveMessage),
        Some(LeaveMessage { back_at_ms: None })
    );
    // A page the marketer keeps the chat off stays without it, hours or not.
    let elsewhere = |r: &mut VisibilityRules| {
        paris(r);
        r.page_url.enabled = true;
        r.page_url.patterns = vec!["/help/*".into()];
    };
    assert_eq!(
        closed_friday_evening(rules(elsewhere), WhenUnavailable::LeaveMessage),
        None
    );
}
