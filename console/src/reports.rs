//! Reports: what a period's conversations came to (`GET /v1/reports`), as SVG charts drawn
//! here (no charting script), in the agent's time zone and colours (light or dark), with the
//! table per agent and per queue to download as CSV. An admin may pick a channel, and an agent
//! or queue from the tables; an agent sees their own figures.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{Distribution, ErrorDetail, RatingCounts, Report, ReportRow};

use crate::api::call;
use crate::rules::DAY_KEYS;
use crate::visitors::duration;
use crate::words::{fill, t};

const DAY_MS: f64 = 24.0 * 3600.0 * 1000.0;
/// The periods offered, in days.
const PERIODS: [u32; 3] = [7, 30, 90];

/// The browser's IANA time zone, which the days and hours are counted in.
fn time_zone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|zone| zone.as_string())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// What the report is of: the period's days, and one channel, queue or agent when chosen.
#[derive(Debug, Clone, PartialEq, Default)]
struct Choice {
    days: u32,
    channel_id: Option<String>,
    queue_id: Option<String>,
    agent_id: Option<String>,
}

impl Choice {
    fn url(&self) -> String {
        let to = js_sys::Date::now();
        let from = to - f64::from(self.days) * DAY_MS;
        let mut url = format!(
            "/v1/reports?from_ms={}&to_ms={}&time_zone={}",
            from as i64,
            to as i64,
            js_sys::encode_uri_component(&time_zone())
        );
        for (name, value) in [
            ("channel_id", &self.channel_id),
            ("queue_id", &self.queue_id),
            ("agent_id", &self.agent_id),
        ] {
            if let Some(value) = value {
                url.push_str(&format!("&{name}={}", js_sys::encode_uri_component(value)));
            }
        }
        url
    }
}

pub fn reports_page(is_admin: bool) -> impl IntoView {
    let choice = RwSignal::new(Choice {
        days: 30,
        ..Choice::default()
    });
    let report = RwSignal::new(None::<Result<Report, ErrorDetail>>);
    Effect::new(move |_| {
        let url = choice.with(Choice::url);
        leptos::task::spawn_local(async move {
            report.set(Some(call::<Report>(Request::get(&url), None).await));
        });
    });
    let channels = crate::api::channel_choices(is_admin);
    let pick_channel = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        choice.update(|c| c.channel_id = (!id.is_empty()).then_some(id));
    };
    view! {
        <section class="reports" data-testid="reports" aria-labelledby="reports-title">
            <h2 id="reports-title">{t("reports")}</h2>
            <div class="report-choice">
                <label>{t("report_period")} " "
                    <select data-testid="report-period" on:change=move |ev| {
                        if let Ok(days) = event_target_value(&ev).parse() { choice.update(|c| c.days = days) }
                    }>
                        {PERIODS.iter().map(|&days| view! {
                            <option value=days.to_string() selected=move || choice.with(|c| c.days == days)>
                                {fill("last_days", &[("n", &days.to_string())])}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                {is_admin.then(|| view! {
                    <label>{t("channel")} " "
                        <select data-testid="report-channel" on:change=pick_channel>
                            <option value="">{t("all_channels")}</option>
                            {move || channels.get().into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                        </select>
                    </label>
                })}
                {move || choice.with(|c| c.queue_id.is_some() || (is_admin && c.agent_id.is_some())).then(|| view! {
                    <button class="link" data-testid="report-all" on:click=move |_| choice.update(|c| { c.queue_id = None; c.agent_id = None; })>
                        {t("all_agents_and_queues")}
                    </button>
                })}
            </div>
            {move || match report.get() {
                None => view! { <p>{t("loading")}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
                Some(Ok(report)) => figures(report, choice, is_admin).into_any(),
            }}
        </section>
    }
}

/// The share of rated conversations whose visitor was satisfied, "–" of none.
fn satisfaction(ratings: &RatingCounts) -> String {
    match ratings.rated {
        0 => "–".to_owned(),
        rated => format!("{} %", ratings.satisfied * 100 / rated),
    }
}

fn figures(report: Report, choice: RwSignal<Choice>, is_admin: bool) -> impl IntoView {
    let totals = report.totals.clone();
    let rate = |n: i64| {
        if totals.conversations == 0 {
            "–".to_owned()
        } else {
            format!("{} %", n * 100 / totals.conversations)
        }
    };
    // Month and day (`12-07`): the year is the period's.
    let days: Vec<(String, i64)> = report
        .days
        .iter()
        .map(|d| (d.day.get(5..).unwrap_or(&d.day).to_owned(), d.conversations))
        .collect();
    // Each day's satisfied share; a day without ratings is a gap, not a zero.
    let satisfied: Vec<(String, Option<i64>)> = report
        .days
        .iter()
        .map(|d| {
            let share = (d.ratings.rated > 0).then(|| d.ratings.satisfied * 100 / d.ratings.rated);
            (d.day.get(5..).unwrap_or(&d.day).to_owned(), share)
        })
        .collect();
    let ratings = report.ratings;
    let average = (ratings.rated > 0)
        .then(|| format!("{:.1}", ratings.score_sum as f64 / ratings.rated as f64));
    view! {
        <dl class="report-totals" data-testid="report-totals">
            <div><dt>{t("conversations")}</dt><dd>{totals.conversations}</dd></div>
            <div><dt>{t("outcome_answered")}</dt><dd>{totals.answered}</dd></div>
            <div><dt>{t("missed_rate")}</dt><dd data-testid="missed-rate">{rate(totals.missed)}</dd></div>
            <div><dt>{t("abandoned_rate")}</dt><dd>{rate(totals.abandoned)}</dd></div>
            <div><dt>{t("outcome_bot")}</dt><dd>{totals.bot}</dd></div>
            <div><dt>{t("outcome_offline")}</dt><dd>{totals.offline}</dd></div>
            <div title=fill("ratings_count", &[("n", &ratings.rated.to_string())])>
                <dt>{t("satisfaction")}</dt><dd data-testid="satisfaction">{satisfaction(&ratings)}</dd>
            </div>
            <div><dt>{t("average_rating")}</dt><dd data-testid="average-rating">{average.unwrap_or_else(|| "–".into())}</dd></div>
        </dl>
        <div class="charts">
            <figure>
                <figcaption>{t("conversations_per_day")}</figcaption>
                {bars("chart-days", &days.iter().map(|(d, n)| (d.clone(), Some(*n))).collect::<Vec<_>>(), None)}
            </figure>
            <figure>
                <figcaption>{t("satisfied_per_day")}</figcaption>
                {bars("chart-ratings", &satisfied, Some(100))}
            </figure>
            <figure>
                <figcaption>{t("busiest_hours")}</figcaption>
                {heat_map(&report.week_hours)}
            </figure>
            {spread("chart-wait", t("wait_times"), &report.wait)}
            {spread("chart-first-response", t("first_response_times"), &report.first_response)}
        </div>
        {table("report-agents", t("agents"), report.agents, is_admin.then_some(choice), |c, id| c.agent_id = Some(id))}
        {table("report-queues", t("queues"), report.queues, Some(choice), |c, id| c.queue_id = Some(id))}
    }
}

/// A bar per value (none for a missing one), labelled below where there is room: an SVG that
/// scales to its box. Bars are drawn against `most`, or against the largest value.
fn bars(
    testid: &'static str,
    values: &[(String, Option<i64>)],
    most: Option<i64>,
) -> impl IntoView {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 160.0;
    let most = most
        .or_else(|| values.iter().filter_map(|(_, n)| *n).max())
        .unwrap_or(0)
        .max(1) as f64;
    let step = WIDTH / values.len().max(1) as f64;
    // A label every so many bars, so they never overlap.
    let every = (values.len() / 8).max(1);
    let summary = values
        .iter()
        .filter_map(|(label, n)| n.map(|n| format!("{label}: {n}")))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        // A margin either side for the first and last labels, which are centred on their bars.
        <svg class="chart" data-testid=testid viewBox=format!("-20 0 {} {}", WIDTH + 40.0, HEIGHT + 20.0) role="img" aria-label=summary>
            {values.iter().enumerate().map(|(i, (label, n))| {
                let x = i as f64 * step;
                let bar = n.map(|n| {
                    let height = HEIGHT * (n as f64) / most;
                    view! {
                        <rect class="bar" x=x + step * 0.1 y=HEIGHT - height width=step * 0.8 height=height>
                            <title>{format!("{label}: {n}")}</title>
                        </rect>
                    }
                });
                view! {
                    {bar}
                    {(i % every == 0).then(|| view! {
                        <text class="axis" x=x + step / 2.0 y=HEIGHT + 14.0 text-anchor="middle">{label.clone()}</text>
                    })}
                }
            }).collect_view()}
        </svg>
    }
}

/// Conversations by weekday (rows, Monday first) and hour (columns): the busier, the darker.
fn heat_map(week_hours: &[Vec<i64>]) -> impl IntoView {
    const CELL: f64 = 20.0;
    const LEFT: f64 = 90.0;
    let most = week_hours
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    view! {
        <svg class="chart heat" data-testid="chart-hours" viewBox=format!("0 0 {} {}", LEFT + 24.0 * CELL, 7.0 * CELL + 16.0) role="img" aria-label=t("busiest_hours")>
            {week_hours.iter().zip(DAY_KEYS).enumerate().map(|(row, (hours, day))| {
                let y = row as f64 * CELL;
                let day = t(day);
                view! {
                    <text class="axis" x=LEFT - 6.0 y=y + CELL * 0.7 text-anchor="end">{day.clone()}</text>
                    {hours.iter().enumerate().map(|(hour, n)| view! {
                        <rect class="cell" x=LEFT + hour as f64 * CELL y=y width=CELL - 2.0 height=CELL - 2.0
                            fill-opacity=format!("{:.2}", 0.08 + 0.92 * (*n as f64) / most)>
                            <title>{format!("{day} {hour:02}:00: {n}")}</title>
                        </rect>
                    }).collect_view()}
                }
            }).collect_view()}
            {(0..24).step_by(3).map(|hour| view! {
                <text class="axis" x=LEFT + hour as f64 * CELL + CELL / 2.0 y=7.0 * CELL + 12.0 text-anchor="middle">{format!("{hour:02}")}</text>
            }).collect_view()}
        </svg>
    }
}

/// A time's spread: its median and 90th percentile, and a bar per bucket.
fn spread(testid: &'static str, title: String, spread: &Distribution) -> impl IntoView {
    let said = |ms: Option<i64>| ms.map_or_else(|| "–".to_owned(), duration);
    let mut above = 0;
    let buckets: Vec<(String, Option<i64>)> = spread
        .buckets
        .iter()
        .map(|bucket| {
            let label = match bucket.below_ms {
                Some(below) => {
                    above = below;
                    format!("< {}", duration(below))
                }
                None => format!("≥ {}", duration(above)),
            };
            (label, Some(bucket.count))
        })
        .collect();
    view! {
        <figure>
            <figcaption>{title}</figcaption>
            <p class="spread" data-testid=format!("{testid}-figures")>
                {fill("median_and_p90", &[("median", &said(spread.median_ms)), ("p90", &said(spread.p90_ms))])}
            </p>
            {bars(testid, &buckets, None)}
        </figure>
    }
}

/// A table of rows, which (when `choose` is given) narrow the report to one of them; with a
/// CSV download of the same figures.
fn table(
    testid: &'static str,
    title: String,
    rows: Vec<ReportRow>,
    choose: Option<RwSignal<Choice>>,
    chosen: fn(&mut Choice, String),
) -> impl IntoView {
    let headers = [
        title.clone(),
        t("conversations"),
        t("outcome_answered"),
        t("outcome_missed"),
        t("outcome_abandoned"),
        t("average_first_response"),
        t("average_handle"),
        t("satisfaction"),
    ];
    let cells = |row: &ReportRow| {
        let said = |ms: Option<i64>| ms.map_or_else(String::new, duration);
        [
            row.counts.conversations.to_string(),
            row.counts.answered.to_string(),
            row.counts.missed.to_string(),
            row.counts.abandoned.to_string(),
            said(row.average_first_response_ms),
            said(row.average_handle_ms),
            satisfaction(&row.ratings),
        ]
    };
    let csv = std::iter::once(headers.to_vec())
        .chain(rows.iter().map(|row| {
            std::iter::once(row.name.clone())
                .chain(cells(row))
                .collect()
        }))
        .map(|line: Vec<String>| {
            line.iter()
                .map(|cell| format!("\"{}\"", cell.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let download = format!(
        "data:text/csv;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&csv))
    );
    view! {
        <section class="report-table">
            <table data-testid=testid>
                <caption>{title.clone()}</caption>
                <thead><tr>{headers.iter().map(|h| view! { <th scope="col">{h.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {rows.iter().map(|row| {
                        let id = row.id.clone();
                        let name = row.name.clone();
                        view! {
                            <tr>
                                <th scope="row">{match choose {
                                    Some(choice) => view! { <button class="link" on:click=move |_| choice.update(|c| chosen(c, id.clone()))>{name}</button> }.into_any(),
                                    None => name.into_any(),
                                }}</th>
                                {cells(row).into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <a class="link" data-testid=format!("{testid}-csv") href=download download=format!("{testid}.csv")>{t("download_csv")}</a>
        </section>
    }
}
