//! Visibility rules: does the widget show on this page view, and may a conversation open.
//! The gateway is the authority; the loader only follows the decision.
//!
//! [`decide`] is a plain function of the channel's settings and the facts at one instant (agents'
//! presence, the clock, the page view from the signed visit ticket), so tests pin it at fixed
//! instants; [`decide_now`] gathers the facts from the store. The HTTP surface is in [`api`].

pub mod api;
pub mod pages;
pub mod proactive;
pub mod schedule;

use jiff::Timestamp;
use protocol::{
    Combine, Finding, LeaveMessage, OverrideMode, Problem, Rule, RuleCheck, Visibility,
    VisibilityOverride, VisibilityReport, VisibilityRules, WhenUnavailable,
};

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AgentCounts, ChannelRecord};
use schedule::{FieldErrors, Schedule};

/// Rechecks sooner than this are not worth a request.
const MIN_RECHECK_MS: u64 = 250;
const MAX_PATTERNS: usize = 50;
const MAX_PATTERN_LEN: usize = 500;
const MAX_DWELL_SECS: u32 = 24 * 3600;
const MAX_VISIT: u32 = 1000;

/// What the gateway knows of this page view: from its own signed visit ticket, never from
/// values the browser claims (the page URL aside, which only selects pages).
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    pub visit: u32,
    pub viewed_at_ms: i64,
    pub page_url: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub now_ms: i64,
    pub agents: AgentCounts,
    pub page_view: PageView<'a>,
    /// How often presence-dependent decisions are re-asked.
    pub presence_poll_ms: u64,
}

/// Why the widget is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    ChannelOffline,
    Override,
    Rule(Rule),
}

impl Hidden {
    /// The stable code, in the bootstrap's `reason` and in session refusals.
    pub fn code(self) -> &'static str {
        match self {
            Hidden::ChannelOffline => protocol::codes::CHANNEL_OFFLINE,
            Hidden::Override => protocol::codes::WIDGET_HIDDEN,
            Hidden::Rule(rule) => rule.code(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub hidden: Option<Hidden>,
    /// Every enabled rule, met or not, and what it found (worded only when someone reads it:
    /// this runs on every page view).
    pub checks: Vec<Check>,
    /// When the decision could change by itself (time, presence); None: not on this page view.
    pub recheck_after_ms: Option<u64>,
    /// The override as it stands now: an expired one reads as `rules`.
    pub in_force: VisibilityOverride,
}

impl Decision {
    pub fn visibility(&self) -> Visibility {
        match self.hidden {
            None => Visibility::Visible,
            Some(hidden) => Visibility::Hidden {
                reason: hidden.code().to_owned(),
            },
        }
    }

    pub fn report(&self) -> VisibilityReport {
        VisibilityReport {
            visible: self.hidden.is_none(),
            reason_code: self.hidden.map(|hidden| hidden.code().to_owned()),
            reason: self.hidden.map(|hidden| match hidden {
                Hidden::ChannelOffline => "the channel is offline".to_owned(),
                Hidden::Override => "hidden by an override".to_owned(),
                Hidden::Rule(rule) => self.explain(rule),
            }),
            r#override: self.in_force,
            checks: self
                .checks
                .iter()
                .map(|c| RuleCheck {
                    rule: c.rule,
                    met: c.met,
                    detail: describe(c.rule, &c.finding),
                    finding: c.finding.clone(),
                })
                .collect(),
        }
    }

    fn explain(&self, rule: Rule) -> String {
        let detail = self
            .checks
            .iter()
            .find(|c| c.rule == rule)
            .map(|c| describe(rule, &c.finding))
            .unwrap_or_default();
        format!("{}: {detail}", rule.label())
    }

    /// Nobody can chat now and the channel takes messages meanwhile: what the panel says. Only
    /// the rules of who is there and when (presence, business hours) turn into taking a
    /// message; a page where the marketer keeps the chat away (time on page, page URL, repeat
    /// visit) stays without it.
    pub fn leave_message(&self, channel: &ChannelRecord, now_ms: i64) -> Option<LeaveMessage> {
        if channel.when_unavailable != WhenUnavailable::LeaveMessage
            || !matches!(self.hidden, Some(Hidden::Rule(_)))
        {
            return None;
        }
        let failing: Vec<Rule> = self
            .checks
            .iter()
            .filter(|check| !check.met)
            .map(|check| check.rule)
            .collect();
        let nobody_there = |rule: &Rule| {
            matches!(
                rule,
                Rule::AgentsOnline | Rule::AgentAvailable | Rule::BusinessHours
            )
        };
        if !failing.iter().all(nobody_there) {
            return None;
        }
        let back_at_ms = if failing.contains(&Rule::BusinessHours) {
            let schedule = Schedule::parse(&channel.rules.business_hours, "business_hours").ok();
            let now = Timestamp::from_millisecond(now_ms).ok();
            schedule
                .zip(now)
                .and_then(|(schedule, now)| Some(schedule.next_change(now)?.as_millisecond()))
        } else {
            None
        };
        Some(LeaveMessage { back_at_ms })
    }

    /// A conversation may open only when the widget would show.
    pub fn allow_session(&self) -> Result<()> {
        match self.hidden {
            None => Ok(()),
            Some(Hidden::ChannelOffline) => Err(Error::ChannelOffline),
            Some(Hidden::Override) => Err(Error::WidgetHidden),
            Some(Hidden::Rule(rule)) => Err(Error::RuleNotMet {
                rule,
                detail: self.explain(rule),
            }),
        }
    }
}

/// One enabled rule, met or not, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub rule: Rule,
    pub met: bool,
    pub finding: Finding,
}

/// One rule's outcome; `recheck_ms` is when it could flip by itself (None: not on this page view).
struct Outcome {
    check: Check,
    recheck_ms: Option<u64>,
}

fn outcome(rule: Rule, met: bool, finding: Finding, recheck_ms: Option<u64>) -> Outcome {
    Outcome {
        check: Check { rule, met, finding },
        recheck_ms,
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The finding in English, for programs' logs and the API's readers.
fn describe(rule: Rule, finding: &Finding) -> String {
    match finding {
        Finding::Agents { count } => {
            let state = if rule == Rule::AgentAvailable {
                "available"
            } else {
                "online"
            };
            format!("{} {state}", plural(*count, "agent", "agents"))
        }
        Finding::Hours {
            open,
            next_change_ms,
            time_zone,
        } => {
            let state = if *open { "open" } else { "closed" };
            let verb = if *open { "closes" } else { "opens" };
            let next = next_change_ms.and_then(|ms| {
                let zone = jiff::tz::TimeZone::get(time_zone).ok()?;
                Some(Timestamp::from_millisecond(ms).ok()?.to_zoned(zone))
            });
            match next {
                Some(at) => format!(
                    "{state}; {verb} {} ({time_zone})",
                    at.strftime("%a %Y-%m-%d %H:%M")
                ),
                None => format!("{state} for at least three weeks ({time_zone})"),
            }
        }
        Finding::InvalidSchedule => "the schedule is invalid".to_owned(),
        Finding::Dwell {
            on_page_secs,
            needed_secs,
        } => format!("on the page {on_page_secs} s of {needed_secs} s"),
        Finding::Visit { visit, from_visit } => {
            format!("visit {visit} (shows from visit {from_visit})")
        }
        Finding::PageMatches { pattern } => format!("the page matches {pattern}"),
        Finding::PageMatchesNone { url } => format!("{url} matches no pattern"),
        Finding::PageUnknown => "the page URL is unknown".to_owned(),
    }
}

fn evaluate(rule: Rule, rules: &VisibilityRules, facts: &Facts) -> Outcome {
    let poll = Some(facts.presence_poll_ms);
    let view = facts.page_view;
    match rule {
        Rule::AgentsOnline | Rule::AgentAvailable => {
            let count = if rule == Rule::AgentsOnline {
                facts.agents.online
            } else {
                facts.agents.available
            };
            outcome(rule, count > 0, Finding::Agents { count }, poll)
        }
        Rule::BusinessHours => business_hours(rules, facts.now_ms),
        Rule::DwellTime => {
            let needed_ms = i64::from(rules.dwell_time.seconds) * 1000;
            let on_page_ms = (facts.now_ms - view.viewed_at_ms).max(0);
            let remaining = u64::try_from(needed_ms - on_page_ms)
                .ok()
                .filter(|r| *r > 0);
            let finding = Finding::Dwell {
                on_page_secs: on_page_ms / 1000,
                needed_secs: rules.dwell_time.seconds,
            };
            outcome(rule, remaining.is_none(), finding, remaining)
        }
        Rule::RepeatVisit => {
            let from_visit = rules.repeat_visit.min_visit;
            let finding = Finding::Visit {
                visit: view.visit,
                from_visit,
            };
            outcome(rule, view.visit >= from_visit, finding, None)
        }
        Rule::PageUrl => {
            let url = view.page_url.unwrap_or_default();
            let matched = rules
                .page_url
                .patterns
                .iter()
                .find(|p| pages::matches(p, url));
            let finding = match matched {
                Some(pattern) => Finding::PageMatches {
                    pattern: pattern.clone(),
                },
                None if url.is_empty() => Finding::PageUnknown,
                None => Finding::PageMatchesNone {
                    url: url.to_owned(),
                },
            };
            outcome(rule, matched.is_some(), finding, None)
        }
    }
}

fn business_hours(rules: &VisibilityRules, now_ms: i64) -> Outcome {
    let rule = Rule::BusinessHours;
    let hours = &rules.business_hours;
    let (Ok(schedule), Ok(now)) = (
        Schedule::parse(hours, "business_hours"),
        Timestamp::from_millisecond(now_ms),
    ) else {
        return outcome(rule, false, Finding::InvalidSchedule, None);
    };
    let open = schedule.is_open(now);
    let next = schedule.next_change(now);
    let finding = Finding::Hours {
        open,
        next_change_ms: next.map(|at| at.as_millisecond()),
        time_zone: hours.time_zone.clone(),
    };
    let recheck = next.and_then(|at| u64::try_from(at.as_millisecond() - now_ms).ok());
    outcome(rule, open, finding, recheck)
}

fn enabled(rules: &VisibilityRules, rule: Rule) -> bool {
    match rule {
        Rule::AgentsOnline => rules.agents_online.enabled,
        Rule::AgentAvailable => rules.agent_available.enabled,
        Rule::BusinessHours => rules.business_hours.enabled,
        Rule::DwellTime => rules.dwell_time.enabled,
        Rule::RepeatVisit => rules.repeat_visit.enabled,
        Rule::PageUrl => rules.page_url.enabled,
    }
}

/// The override as it stands at `now_ms`.
pub fn override_in_force(set: VisibilityOverride, now_ms: i64) -> VisibilityOverride {
    match set.until_ms {
        Some(until) if until <= now_ms => VisibilityOverride::default(),
        _ => set,
    }
}

/// The decision for one page view at one instant.
pub fn decide(
    online: bool,
    rules: &VisibilityRules,
    set_override: VisibilityOverride,
    facts: &Facts,
) -> Decision {
    let outcomes: Vec<Outcome> = Rule::ALL
        .iter()
        .copied()
        .filter(|rule| enabled(rules, *rule))
        .map(|rule| evaluate(rule, rules, facts))
        .collect();
    let first_unmet = outcomes.iter().find(|o| !o.check.met).map(|o| o.check.rule);
    let met = |o: &&Outcome| o.check.met;
    let by_rules = match rules.combine {
        Combine::AllOf => first_unmet,
        Combine::AnyOf if outcomes.iter().any(|o| o.check.met) => None,
        Combine::AnyOf => first_unmet,
    };
    // The decision can flip only if no rule settles it for the whole page view: under all-of an
    // unmet rule that time cannot change keeps it hidden; under any-of such a met rule keeps it
    // visible.
    let settled = match rules.combine {
        Combine::AllOf => outcomes
            .iter()
            .any(|o| !o.check.met && o.recheck_ms.is_none()),
        Combine::AnyOf => outcomes.iter().filter(met).any(|o| o.recheck_ms.is_none()),
    };
    let rules_recheck = if settled {
        None
    } else {
        outcomes.iter().filter_map(|o| o.recheck_ms).min()
    };
    let in_force = override_in_force(set_override, facts.now_ms);
    let until_ms = in_force
        .until_ms
        .and_then(|until| u64::try_from(until - facts.now_ms).ok());
    let (hidden, recheck) = match in_force.mode {
        _ if !online => (Some(Hidden::ChannelOffline), None),
        OverrideMode::Visible => (None, until_ms),
        OverrideMode::Hidden => (Some(Hidden::Override), until_ms),
        OverrideMode::Rules => (by_rules.map(Hidden::Rule), rules_recheck),
    };
    Decision {
        hidden,
        checks: outcomes.into_iter().map(|o| o.check).collect(),
        recheck_after_ms: recheck.map(|ms| ms.max(MIN_RECHECK_MS)),
        in_force,
    }
}

/// The decision for a page view now, with agents' presence read from the store.
pub async fn decide_now(
    state: &AppState,
    channel: &ChannelRecord,
    page_view: PageView<'_>,
) -> Result<Decision> {
    let now_ms = crate::now_ms();
    let agents = if channel.rules.agents_online.enabled || channel.rules.agent_available.enabled {
        crate::presence::agent_counts(state, &channel.queue_id, now_ms).await?
    } else {
        AgentCounts::default()
    };
    let facts = Facts {
        now_ms,
        agents,
        page_view,
        presence_poll_ms: state.config.visibility_poll_secs.saturating_mul(1000),
    };
    Ok(decide(
        channel.online,
        &channel.rules,
        channel.visibility_override,
        &facts,
    ))
}

/// Checks rules as an admin or the REST API sends them; every bad field is named.
pub fn validate(rules: &VisibilityRules) -> Result<()> {
    let mut errors = Schedule::parse(&rules.business_hours, "business_hours")
        .err()
        .unwrap_or_default();
    if rules.dwell_time.seconds > MAX_DWELL_SECS {
        errors.insert(
            "dwell_time.seconds".into(),
            Problem::Seconds {
                min: 0,
                max: u64::from(MAX_DWELL_SECS),
            },
        );
    }
    if !(1..=MAX_VISIT).contains(&rules.repeat_visit.min_visit) {
        errors.insert(
            "repeat_visit.min_visit".into(),
            Problem::Number {
                min: "1".into(),
                max: MAX_VISIT.to_string(),
            },
        );
    }
    check_patterns(&rules.page_url, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

fn check_patterns(page_url: &protocol::PageUrl, errors: &mut FieldErrors) {
    if page_url.enabled && page_url.patterns.is_empty() {
        errors.insert("page_url.patterns".into(), Problem::PatternsNeeded);
    }
    check_pattern_list("page_url.patterns", &page_url.patterns, errors);
}

/// Page URL patterns as `field` holds them: a bounded list of non-empty words.
fn check_pattern_list(field: &str, patterns: &[String], errors: &mut FieldErrors) {
    if patterns.len() > MAX_PATTERNS {
        errors.insert(
            field.into(),
            Problem::TooMany {
                max: MAX_PATTERNS as u64,
            },
        );
    }
    for (i, pattern) in patterns.iter().enumerate() {
        let trimmed = pattern.trim();
        let problem = if trimmed.is_empty() {
            Some(Problem::Empty)
        } else if pattern.len() > MAX_PATTERN_LEN {
            Some(Problem::AtMostCharacters {
                max: MAX_PATTERN_LEN as u64,
            })
        } else if trimmed != pattern || pattern.contains(char::is_whitespace) {
            Some(Problem::PatternSpaces)
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.insert(format!("{field}[{i}]"), problem);
        }
    }
}

/// Checks an override: `until_ms` must lie in the future.
pub fn validate_override(set: &VisibilityOverride, now_ms: i64) -> Result<()> {
    match set.until_ms {
        Some(until) if until <= now_ms => Err(Error::field("until_ms", Problem::Future)),
        Some(_) if set.mode == OverrideMode::Rules => {
            Err(Error::field("until_ms", Problem::OverrideEnd))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
