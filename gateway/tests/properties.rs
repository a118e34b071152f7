//! Property tests of what parses untrusted input: the socket frame decoder and the visibility
//! rules (business-hours schedule). Each starts from the corpus in `tests/corpus/` and mutates
//! it, or generates input from scratch; CI runs a bounded number of cases (`PROPTEST_CASES`,
//! 256 by default), and proptest keeps any failure it finds in `proptest-regressions/`.

use gateway::error::Error;
use gateway::rules::schedule::Schedule;
use gateway::socket::{decode, Incoming};
use jiff::Timestamp;
use proptest::prelude::*;
use protocol::{
    codes, AgentClientFrame, BusinessHours, DateException, Interval, VisibilityRules,
    VisitorClientFrame, WeeklyHours, MAX_FRAME_BYTES,
};
use std::path::PathBuf;

fn corpus(kind: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "the {kind} corpus is empty");
    entries
}

/// A corpus entry with bytes replaced, inserted or cut at random places (kept valid UTF-8, as a
/// text frame is).
fn mutated(kind: &'static str) -> impl Strategy<Value = String> {
    let entries = corpus(kind);
    (
        0..entries.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0..3u8), 0..8),
    )
        .prop_map(move |(pick, edits)| {
            let mut chars: Vec<char> = entries[pick].chars().collect();
            for (at, c, how) in edits {
                let len = chars.len().max(1);
                let i = at.index(len).min(chars.len());
                match how {
                    0 if i < chars.len() => chars[i] = c,
                    1 => chars.insert(i, c),
                    _ if i < chars.len() => {
                        chars.remove(i);
                    }
                    _ => {}
                }
            }
            chars.into_iter().collect()
        })
}

/// Whatever the text, the decoder answers a frame or a refusal with a stable code; it never
/// panics, and nothing oversize or carrying NUL gets through.
fn decodes_or_refuses<T: serde::de::DeserializeOwned>(text: &str) {
    match decode::<T>(text) {
        Incoming::Frame(_) => {
            assert!(text.len() <= MAX_FRAME_BYTES);
            assert!(!text.contains("\\u0000"));
        }
        Incoming::Refused(code, message) => {
            assert!(
                [codes::INVALID_FRAME, codes::FRAME_TOO_LARGE].contains(&code),
                "{code}"
            );
            assert!(!message.is_empty());
        }
        Incoming::Ignored | Incoming::Closed => panic!("a decoder never says that"),
    }
}

fn visitor_frame() -> impl Strategy<Value = VisitorClientFrame> {
    prop_oneof![
        Just(VisitorClientFrame::Typing),
        (
            ".{0,80}",
            ".{0,400}",
            prop::collection::vec(".{0,40}", 0..3)
        )
            .prop_map(|(client_id, text, attachments)| VisitorClientFrame::Send {
                client_id,
                text,
                attachments
            }),
    ]
}

fn agent_frame() -> impl Strategy<Value = AgentClientFrame> {
    prop_oneof![
        (".{0,40}", any::<i64>()).prop_map(|(conversation_id, resume_after)| {
            AgentClientFrame::Open {
                conversation_id,
                resume_after,
            }
        }),
        (
            ".{0,40}",
            ".{0,40}",
            ".{0,400}",
            prop::collection::vec(".{0,40}", 0..3)
        )
            .prop_map(|(conversation_id, client_id, text, attachments)| {
                AgentClientFrame::Send {
                    conversation_id,
                    client_id,
                    text,
                    attachments,
                }
            }),
        ".{0,40}".prop_map(|conversation_id| AgentClientFrame::Typing { conversation_id }),
        (".{0,40}", any::<i64>()).prop_map(|(conversation_id, seq)| AgentClientFrame::Read {
            conversation_id,
            seq
        }),
    ]
}

/// A time of day as marketers might type it: mostly plausible, sometimes not.
fn time_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..26u32, 0..62u32).prop_map(|(h, m)| format!("{h:02}:{m:02}")),
        "[0-9:]{0,6}",
        ".{0,8}",
    ]
}

fn intervals() -> impl Strategy<Value = Vec<Interval>> {
    prop::collection::vec(
        (time_text(), time_text()).prop_map(|(from, to)| Interval { from, to }),
        0..4,
    )
}

fn business_hours() -> impl Strategy<Value = BusinessHours> {
    let zone = prop_oneof![
        Just("UTC".to_owned()),
        Just("Europe/Berlin".to_owned()),
        Just("America/New_York".to_owned()),
        Just("Australia/Lord_Howe".to_owned()),
        Just("Pacific/Chatham".to_owned()),
        ".{0,20}",
    ];
    let date = prop_oneof![
        (2020..2040i32, 1..13u32, 1..32u32).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        ".{0,12}",
    ];
    let exceptions = prop::collection::vec(
        (date, intervals()).prop_map(|(date, hours)| DateException { date, hours }),
        0..4,
    );
    let weekly = prop::collection::vec(intervals(), 7).prop_map(|mut days| WeeklyHours {
        sun: days.pop().unwrap_or_default(),
        sat: days.pop().unwrap_or_default(),
        fri: days.pop().unwrap_or_default(),
        thu: days.pop().unwrap_or_default(),
        wed: days.pop().unwrap_or_default(),
        tue: days.pop().unwrap_or_default(),
        mon: days.pop().unwrap_or_default(),
    });
    (zone, weekly, exceptions).prop_map(|(time_zone, weekly, exceptions)| BusinessHours {
        enabled: true,
        time_zone,
        weekly,
        exceptions,
    })
}

/// A schedule either parses or names its bad fields under the prefix; a parsed one answers
/// `is_open` anywhere in time, and `next_change` is later and really changes the answer.
fn schedule_holds(hours: &BusinessHours, at_secs: i64) {
    match Schedule::parse(hours, "business_hours") {
        Ok(schedule) => {
            let at = Timestamp::from_second(at_secs).unwrap();
            let open = schedule.is_open(at);
            if let Some(change) = schedule.next_change(at) {
                assert!(change > at);
                assert_ne!(schedule.is_open(change), open, "{change} changes nothing");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(
                errors.keys().all(|k| k.starts_with("business_hours.")),
                "{errors:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_frames_decode_or_are_refused(text in mutated("frames")) {
        decodes_or_refuses::<VisitorClientFrame>(&text);
        decodes_or_refuses::<AgentClientFrame>(&text);
    }

    #[test]
    fn arbitrary_text_decodes_or_is_refused(text in ".{0,300}") {
        decodes_or_refuses::<VisitorClientFrame>(&text);
        decodes_or_refuses::<AgentClientFrame>(&text);
    }

    #[test]
    fn oversize_frames_are_refused_whatever_they_hold(pad in 1..2000usize) {
        let text = format!("{{\"type\":\"typing\",\"x\":\"{}\"}}", "y".repeat(MAX_FRAME_BYTES + pad));
        prop_assert!(matches!(decode::<VisitorClientFrame>(&text), Incoming::Refused(codes::FRAME_TOO_LARGE, _)));
    }

    #[test]
    fn every_frame_a_client_can_send_decodes_to_itself(
        visitor in visitor_frame(),
        agent in agent_frame(),
    ) {
        let text = serde_json::to_string(&visitor).unwrap();
        match decode::<VisitorClientFrame>(&text) {
            Incoming::Frame(back) => prop_assert_eq!(back, visitor),
            Incoming::Refused(code, _) => prop_assert!(text.contains("\\u0000"), "{}", code),
            _ => unreachable!(),
        }
        let text = serde_json::to_string(&agent).unwrap();
        match decode::<AgentClientFrame>(&text) {
            Incoming::Frame(back) => prop_assert_eq!(back, agent),
            Incoming::Refused(code, _) => prop_assert!(text.contains("\\u0000"), "{}", code),
            _ => unreachable!(),
        }
    }

    #[test]
    fn generated_schedules_parse_or_name_their_fields(
        hours in business_hours(),
        at in 0i64..4_102_444_800,
    ) {
        schedule_holds(&hours, at);
    }

    #[test]
    fn mutated_rules_validate_or_are_refused_field_by_field(
        text in mutated("rules"),
        at in 0i64..4_102_444_800,
    ) {
        if let Ok(rules) = serde_json::from_str::<VisibilityRules>(&text) {
            match gateway::rules::validate(&rules) {
                Ok(()) => schedule_holds(&rules.business_hours, at),
                Err(Error::Validation(fields)) => prop_assert!(!fields.is_empty()),
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }
}
