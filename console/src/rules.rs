//! The rules page of one channel, for marketers: switch rules on and off, edit business hours
//! with their time zone and exceptions, force the widget on or off, and a live preview of "would
//! the widget show now, and why not" computed by the gateway from the rules being edited.
//!
//! Hours are edited as text, "09:00-12:00, 13:00-17:00" per day (empty: closed), and sent as
//! typed: the gateway's validation names any bad interval, shown beside the rules.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{
    Combine, ErrorDetail, Finding, Interval, OverrideMode, PreviewRequest, Rule, RuleCheck,
    VisibilityOverride, VisibilityReport, VisibilityRules,
};
use serde_json::json;

use crate::api::call;

use crate::words::{count, fill, t};

/// Monday first, as the rules' `hours.days` are; each the key of its name.
pub const DAY_KEYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// How often the preview is refreshed while nothing is edited (agents come and go).
const PREVIEW_REFRESH_MS: u32 = 5000;

fn hours_to_text(intervals: &[Interval]) -> String {
    intervals
        .iter()
        .map(|i| format!("{}-{}", i.from, i.to))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text_to_hours(text: &str) -> Vec<Interval> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (from, to) = part.split_once(['-', '–']).unwrap_or((part, ""));
            Interval::new(from.trim(), to.trim())
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Editor {
    rules: RwSignal<VisibilityRules>,
    errors: RwSignal<Option<ErrorDetail>>,
    saved: RwSignal<bool>,
}

impl Editor {
    fn edit(self, change: impl FnOnce(&mut VisibilityRules)) {
        self.rules.update(change);
        self.saved.set(false);
    }

    /// The gateway's complaints about fields under `prefix`, as lines.
    fn problems(self, prefix: &'static str) -> impl IntoView {
        move || {
            self.errors
                .with(|e| {
                    e.iter()
                        .flat_map(|e| e.fields.iter())
                        .filter(|(field, _)| field.starts_with(prefix))
                        .map(|(field, problem)| format!("{field}: {problem}"))
                        .collect::<Vec<_>>()
                })
                .into_iter()
                .map(|line| view! { <p class="error" data-testid="rules-error">{line}</p> })
                .collect_view()
        }
    }
}

pub fn rules_page(
    channel_id: String,
    channel_name: String,
    back: impl Fn() + 'static,
) -> impl IntoView {
    let editor = Editor {
        rules: RwSignal::new(VisibilityRules::default()),
        errors: RwSignal::new(None),
        saved: RwSignal::new(true),
    };
    let loaded = RwSignal::new(false);
    let zones = RwSignal::new(Vec::<String>::new());
    let rules_path = format!("/v1/channels/{channel_id}/rules");
    let visibility_path = format!("/v1/channels/{channel_id}/visibility");
    {
        let rules_path = rules_path.clone();
        leptos::task::spawn_local(async move {
            match call::<VisibilityRules>(Request::get(&rules_path), None).await {
                Ok(rules) => {
                    editor.rules.set(rules);
                    loaded.set(true);
                }
                Err(e) => editor.errors.set(Some(e)),
            }
            if let Ok(list) = call::<Vec<String>>(Request::get("/v1/time-zones"), None).await {
                zones.set(list);
            }
        });
    }
    let save = move |_| {
        let path = rules_path.clone();
        let body = json!(editor.rules.get_untracked());
        leptos::task::spawn_local(async move {
            match call::<VisibilityRules>(Request::put(&path), Some(body)).await {
                Ok(_) => {
                    editor.errors.set(None);
                    editor.saved.set(true);
                }
                Err(e) => editor.errors.set(Some(e)),
            }
        });
    };
    view! {
        <section class="rules" data-testid="rules-page">
            <button type="button" class="link" on:click=move |_| back()>{t("back_to_channels")}</button>
            <h2>{t("rules_title")}" " {channel_name}</h2>
            <div class="rules-columns">
                <div class="rules-edit">
                    {move || loaded.get().then(|| view! {
                        {combine_choice(editor)}
                        {switch_rules(editor)}
                        {business_hours(editor, zones)}
                        {visitor_rules(editor)}
                    })}
                    <button type="button" data-testid="save-rules" on:click=save>{t("save_rules")}</button>
                    <span class="saved" data-testid="rules-saved">{move || if editor.saved.get() { t("saved") } else { t("not_saved") }}</span>
                    {move || editor.errors.get().map(|e| view! { <p class="error">{e.message}</p> })}
                </div>
                <div class="rules-side">
                    {preview(channel_id.clone(), editor)}
                    {override_form(visibility_path)}
                </div>
            </div>
        </section>
    }
}

fn combine_choice(editor: Editor) -> impl IntoView {
    let choice = move |value: Combine, label: String| {
        view! {
            <label class="check">
                <input type="radio" name="combine" prop:checked=move || editor.rules.with(|r| r.combine == value)
                    on:change=move |_| editor.edit(|r| r.combine = value) />
                " "{label}
            </label>
        }
    };
    view! {
        <fieldset>
            <legend>{t("show_when")}</legend>
            {choice(Combine::AllOf, t("combine_all"))}
            {choice(Combine::AnyOf, t("combine_any"))}
        </fieldset>
    }
}

/// A checkbox bound to one rule's `enabled` flag.
fn toggle(
    editor: Editor,
    testid: &'static str,
    label: String,
    get: fn(&VisibilityRules) -> bool,
    set: fn(&mut VisibilityRules, bool),
) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" data-testid=testid prop:checked=move || editor.rules.with(get)
                on:change=move |ev| { let on = event_target_checked(&ev); editor.edit(|r| set(r, on)); } />
            " "{label}
        </label>
    }
}

fn switch_rules(editor: Editor) -> impl IntoView {
    view! {
        <fieldset>
            <legend>{t("agents")}</legend>
            {toggle(editor, "rule-agents-online", t("rule_agents_online"),
                |r| r.agents_online.enabled, |r, on| r.agents_online.enabled = on)}
            {toggle(editor, "rule-agent-available", t("rule_agent_available"),
                |r| r.agent_available.enabled, |r, on| r.agent_available.enabled = on)}
        </fieldset>
    }
}

fn business_hours(editor: Editor, zones: RwSignal<Vec<String>>) -> impl IntoView {
    let day_row = move |index: usize| {
        let text = move || {
            editor
                .rules
                .with(|r| hours_to_text(r.business_hours.weekly.days()[index].1))
        };
        view! {
            <label class="day">{t(DAY_KEYS[index])}
                <input placeholder=t("closed") data-testid=format!("hours-{}", DAY_KEYS[index])
                    prop:value=text
                    on:change=move |ev| {
                        let hours = text_to_hours(&event_target_value(&ev));
                        editor.edit(|r| *r.business_hours.weekly.days_mut()[index] = hours);
                    } />
            </label>
        }
    };
    let exceptions = move || {
        let count = editor.rules.with(|r| r.business_hours.exceptions.len());
        (0..count)
            .map(|index| {
                let read = move |f: fn(&protocol::DateException) -> String| {
                    move || editor.rules.with(|r| r.business_hours.exceptions.get(index).map(f).unwrap_or_default())
                };
                view! {
                    <li>
                        <input type="date" prop:value=read(|e| e.date.clone())
                            on:change=move |ev| { let date = event_target_value(&ev); editor.edit(|r| r.business_hours.exceptions[index].date = date); } />
                        <input placeholder=t("closed_all_day") prop:value=read(|e| hours_to_text(&e.hours))
                            on:change=move |ev| { let hours = text_to_hours(&event_target_value(&ev)); editor.edit(|r| r.business_hours.exceptions[index].hours = hours); } />
                        <button type="button" class="link" on:click=move |_| editor.edit(|r| { r.business_hours.exceptions.remove(index); })>{t("remove")}</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset>
            <legend>{t("business_hours")}</legend>
            {toggle(editor, "rule-business-hours", t("rule_hours"),
                |r| r.business_hours.enabled, |r, on| r.business_hours.enabled = on)}
            <label>{t("time_zone")}
                <input list="time-zones" data-testid="time-zone"
                    prop:value=move || editor.rules.with(|r| r.business_hours.time_zone.clone())
                    on:change=move |ev| { let zone = event_target_value(&ev); editor.edit(|r| r.business_hours.time_zone = zone); } />
            </label>
            <datalist id="time-zones">
                {move || zones.get().into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
            </datalist>
            <p class="hint">{t("hours_hint")}</p>
            {(0..7).map(day_row).collect_view()}
            <h3>{t("exceptions")}</h3>
            <ul class="exceptions">{exceptions}</ul>
            <button type="button" class="link" data-testid="add-exception"
                on:click=move |_| editor.edit(|r| r.business_hours.exceptions.push(Default::default()))>{t("add_date")}</button>
            {editor.problems("business_hours")}
        </fieldset>
    }
}

fn number_input(
    editor: Editor,
    testid: &'static str,
    name: String,
    get: fn(&VisibilityRules) -> u32,
    set: fn(&mut VisibilityRules, u32),
) -> impl IntoView {
    view! {
        <input type="number" min="0" class="short" data-testid=testid aria-label=name
            prop:value=move || editor.rules.with(get).to_string()
            on:change=move |ev| {
                let n = event_target_value(&ev).trim().parse::<u32>().unwrap_or(0);
                editor.edit(|r| set(r, n));
            } />
    }
}

fn visitor_rules(editor: Editor) -> impl IntoView {
    let patterns = move || editor.rules.with(|r| r.page_url.patterns.join("\n"));
    view! {
        <fieldset>
            <legend>{t("the_visitor")}</legend>
            <div class="row">
                {toggle(editor, "rule-dwell", t("rule_dwell"),
                    |r| r.dwell_time.enabled, |r, on| r.dwell_time.enabled = on)}
                {number_input(editor, "dwell-seconds", t("dwell_seconds"), |r| r.dwell_time.seconds, |r, n| r.dwell_time.seconds = n)}" "{t("seconds_after")}
            </div>
            {editor.problems("dwell_time")}
            <div class="row">
                {toggle(editor, "rule-repeat", t("rule_repeat"),
                    |r| r.repeat_visit.enabled, |r, on| r.repeat_visit.enabled = on)}
                {number_input(editor, "repeat-min", t("visit_number"), |r| r.repeat_visit.min_visit, |r, n| r.repeat_visit.min_visit = n)}" "{t("or_later")}
            </div>
            <p class="hint">{t("repeat_hint")}</p>
            {editor.problems("repeat_visit")}
            {toggle(editor, "rule-page-url", t("rule_page_url"),
                |r| r.page_url.enabled, |r, on| r.page_url.enabled = on)}
            <textarea rows="3" data-testid="page-patterns" aria-label=t("page_patterns") prop:value=patterns
                on:change=move |ev| {
                    let list: Vec<String> = event_target_value(&ev).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
                    editor.edit(|r| r.page_url.patterns = list);
                }></textarea>
            {editor.problems("page_url")}
        </fieldset>
    }
}

/// "Would the widget show now, and why not": asked of the gateway whenever the rules or the
/// sample visitor change, and every few seconds for agents' presence and the clock.
fn preview(channel_id: String, editor: Editor) -> impl IntoView {
    let path = format!("/v1/channels/{channel_id}/visibility/preview");
    let page_url = RwSignal::new(String::new());
    let seconds = RwSignal::new(0u32);
    let visit = RwSignal::new(1u32);
    let report = RwSignal::new(None::<Result<VisibilityReport, ErrorDetail>>);
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        tick.track();
        let request = PreviewRequest {
            rules: Some(editor.rules.get()),
            page_url: Some(page_url.get()).filter(|u| !u.is_empty()),
            seconds_on_page: seconds.get(),
            visit: Some(visit.get()),
        };
        let path = path.clone();
        leptos::task::spawn_local(async move {
            let answer = call::<VisibilityReport>(Request::post(&path), Some(json!(request))).await;
            report.set(Some(answer));
        });
    });
    let interval = set_interval_with_handle(
        move || tick.update(|t| *t = t.wrapping_add(1)),
        std::time::Duration::from_millis(u64::from(PREVIEW_REFRESH_MS)),
    );
    on_cleanup(move || {
        if let Ok(handle) = interval {
            handle.clear();
        }
    });
    let result = move || {
        match report.get() {
        None => view! { <p>"…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" data-testid="preview-verdict">{fill("cannot_preview", &[("problem", &e.message)])}</p> }.into_any(),
        Some(Ok(report)) => {
            let verdict = if report.visible {
                t("preview_yes")
            } else {
                fill("preview_no", &[("reason", &reason_words(&report))])
            };
            let checks = report
                .checks
                .into_iter()
                .map(|c| {
                    let mark = if c.met { "✔" } else { "✖" };
                    view! { <li class:met=c.met data-testid="preview-check">{format!("{mark} {}", check_words(&c))}</li> }
                })
                .collect_view();
            view! {
                <p class="verdict" class:shows=report.visible data-testid="preview-verdict">{verdict}</p>
                <ul class="checks">{checks}</ul>
            }
            .into_any()
        }
    }
    };
    view! {
        <fieldset class="preview" data-testid="rules-preview">
            <legend>{t("preview_title")}</legend>
            <label>{t("preview_page")} <input placeholder="https://shop.example/pricing" data-testid="preview-url"
                on:change=move |ev| page_url.set(event_target_value(&ev)) /></label>
            <label>{t("preview_dwell")} <input type="number" min="0" class="short" data-testid="preview-seconds" prop:value=move || seconds.get().to_string()
                on:change=move |ev| seconds.set(event_target_value(&ev).parse().unwrap_or(0)) /></label>
            <label>{t("preview_visit")} <input type="number" min="1" class="short" data-testid="preview-visit" prop:value=move || visit.get().to_string()
                on:change=move |ev| visit.set(event_target_value(&ev).parse().unwrap_or(1)) /></label>
            {result}
        </fieldset>
    }
}

/// Forces the widget on or off, optionally until a local date and time.
fn override_form(path: String) -> impl IntoView {
    let mode = RwSignal::new(OverrideMode::Rules);
    let until = RwSignal::new(String::new());
    let status = RwSignal::new(None::<Result<VisibilityReport, ErrorDetail>>);
    {
        let path = path.clone();
        leptos::task::spawn_local(async move {
            if let Ok(report) = call::<VisibilityReport>(Request::get(&path), None).await {
                mode.set(report.r#override.mode);
                status.set(Some(Ok(report)));
            }
        });
    }
    let apply = move |_| {
        // datetime-local is local wall time; the browser turns it into an instant.
        let until_ms = Some(until.get_untracked())
            .filter(|text| !text.is_empty() && mode.get_untracked() != OverrideMode::Rules)
            .map(|text| js_sys::Date::new(&text.into()).get_time() as i64);
        let body = VisibilityOverride {
            mode: mode.get_untracked(),
            until_ms,
        };
        let path = path.clone();
        leptos::task::spawn_local(async move {
            status.set(Some(
                call::<VisibilityReport>(Request::put(&path), Some(json!(body))).await,
            ));
        });
    };
    let modes = [
        (OverrideMode::Rules, "rules", "override_rules"),
        (OverrideMode::Visible, "visible", "override_visible"),
        (OverrideMode::Hidden, "hidden", "override_hidden"),
    ];
    view! {
        <fieldset class="override">
            <legend>{t("override")}</legend>
            <select data-testid="override-mode" aria-label=t("override") on:change=move |ev| {
                let chosen = event_target_value(&ev);
                if let Some((m, _, _)) = modes.iter().find(|(_, value, _)| *value == chosen) { mode.set(*m); }
            }>
                {modes.iter().map(|(m, value, label)| {
                    let m = *m;
                    view! { <option value=*value selected=move || mode.get() == m>{t(label)}</option> }
                }).collect_view()}
            </select>
            <label>{t("override_until")} <input type="datetime-local" data-testid="override-until"
                on:change=move |ev| until.set(event_target_value(&ev)) /></label>
            <button type="button" data-testid="apply-override" on:click=apply>{t("apply")}</button>
            {move || status.get().map(|s| match s {
                Ok(report) => view! { <p data-testid="override-status">{
                    if report.visible { t("shows_now") } else { t("hidden_now") }
                }</p> }.into_any(),
                Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
            })}
        </fieldset>
    }
}

/// Why the widget would not show, as the agent reads it.
fn reason_words(report: &VisibilityReport) -> String {
    match report.reason_code.as_deref() {
        Some(protocol::codes::CHANNEL_OFFLINE) => t("reason_channel_offline"),
        Some(protocol::codes::WIDGET_HIDDEN) => t("reason_override"),
        code => report
            .checks
            .iter()
            .find(|c| Some(c.rule.code()) == code)
            .map(check_words)
            .unwrap_or_default(),
    }
}

/// A rule's check as the agent reads it: "Time on page: on the page 0 s of 30 s".
fn check_words(check: &RuleCheck) -> String {
    format!(
        "{}: {}",
        t(&format!("rule_label_{}", check.rule.as_str())),
        finding_words(check.rule, &check.finding)
    )
}

fn finding_words(rule: Rule, finding: &Finding) -> String {
    match finding {
        Finding::Agents { count: n } => {
            let key = if rule == Rule::AgentAvailable {
                "finding_agents_available"
            } else {
                "finding_agents_online"
            };
            count(key, *n)
        }
        Finding::Hours {
            open,
            next_change_ms,
            time_zone,
        } => {
            let zone = ("zone", time_zone.as_str());
            match next_change_ms {
                Some(ms) => {
                    let at = crate::time::weekday_and_time(*ms, time_zone);
                    let key = if *open {
                        "finding_open_until"
                    } else {
                        "finding_closed_until"
                    };
                    fill(key, &[("at", &at), zone])
                }
                None => {
                    let key = if *open {
                        "finding_open_long"
                    } else {
                        "finding_closed_long"
                    };
                    fill(key, &[zone])
                }
            }
        }
        Finding::InvalidSchedule => t("finding_invalid_schedule"),
        Finding::Dwell {
            on_page_secs,
            needed_secs,
        } => fill(
            "finding_dwell",
            &[
                ("on", &on_page_secs.to_string()),
                ("needed", &needed_secs.to_string()),
            ],
        ),
        Finding::Visit { visit, from_visit } => fill(
            "finding_visit",
            &[
                ("visit", &visit.to_string()),
                ("from", &from_visit.to_string()),
            ],
        ),
        Finding::PageMatches { pattern } => fill("finding_page_matches", &[("pattern", pattern)]),
        Finding::PageMatchesNone { url } => fill("finding_page_matches_none", &[("url", url)]),
        Finding::PageUnknown => t("finding_page_unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    // The test browser speaks English: the console's words are the English bundle's.
    #[wasm_bindgen_test]
    fn a_check_is_worded_from_its_finding_counting_in_the_languages_forms() {
        let check = |rule, finding| RuleCheck {
            rule,
            met: false,
            detail: String::new(),
            finding,
        };
        assert_eq!(
            check_words(&check(Rule::AgentsOnline, Finding::Agents { count: 1 })),
            "Any agent online: 1 agent online"
        );
        assert_eq!(
            check_words(&check(Rule::AgentAvailable, Finding::Agents { count: 3 })),
            "Any agent available: 3 agents available"
        );
        let dwell = Finding::Dwell {
            on_page_secs: 4,
            needed_secs: 30,
        };
        assert_eq!(
            check_words(&check(Rule::DwellTime, dwell)),
            "Time on page: on the page 4 s of 30 s"
        );
        // 2026-12-07 09:00 in Lisbon (UTC+0 in winter), a Monday.
        let hours = Finding::Hours {
            open: false,
            next_change_ms: Some(1_796_634_000_000),
            time_zone: "Europe/Lisbon".into(),
        };
        let said = finding_words(Rule::BusinessHours, &hours);
        assert!(
            said.starts_with("closed; opens Monday") && said.ends_with("09:00 (Europe/Lisbon)"),
            "{said}"
        );
    }

    #[wasm_bindgen_test]
    fn a_hidden_widget_is_explained_by_the_rule_the_gateway_named() {
        let report = VisibilityReport {
            visible: false,
            reason: Some("Repeat visit: visit 1 (shows from visit 2)".into()),
            reason_code: Some(Rule::RepeatVisit.code().into()),
            r#override: VisibilityOverride::default(),
            checks: vec![RuleCheck {
                rule: Rule::RepeatVisit,
                met: false,
                detail: String::new(),
                finding: Finding::Visit {
                    visit: 1,
                    from_visit: 2,
                },
            }],
        };
        assert_eq!(
            reason_words(&report),
            "Repeat visit: visit 1 (shows from visit 2)"
        );
        let offline = VisibilityReport {
            reason_code: Some(protocol::codes::CHANNEL_OFFLINE.into()),
            checks: vec![],
            ..report
        };
        assert_eq!(reason_words(&offline), "the channel is offline");
    }
}
