//! The Reports page in headless Chromium: conversations answered and closed as an agent would,
//! and rated by their visitors, then the figures, the SVG charts and the table as an admin sees them (a screenshot is kept
//! in `target/screenshots` to look at), in light and in dark mode.

use reqwest::Method;
use serde_json::json;
use tests::browser::{Browser, WAIT};
use tests::client::{agent_login, call, Visitor};
use tests::DemoStack;

/// The page's figures once the report shows the three conversations.
const SHOWN: &str = "
    const totals = document.querySelector('[data-testid=report-totals] dd');
    if (!totals || totals.textContent !== '3') return null;
    const agents = [...document.querySelectorAll('[data-testid=report-agents] tbody tr')];
    const csv = document.querySelector('[data-testid=report-agents-csv]');
    return {
        days: document.querySelectorAll('[data-testid=chart-days] rect.bar').length,
        tallest: Math.max(...[...document.querySelectorAll('[data-testid=chart-days] rect.bar')]
            .map(bar => Number(bar.getAttribute('height')))),
        cells: document.querySelectorAll('[data-testid=chart-hours] rect.cell').length,
        wait_bars: document.querySelectorAll('[data-testid=chart-wait] rect.bar').length,
        wait: document.querySelector('[data-testid=chart-wait-figures]').textContent.startsWith('Median'),
        agents: agents.map(row => [...row.children].slice(0, 3).map(cell => cell.textContent)),
        csv: csv.href.startsWith('data:text/csv') && decodeURIComponent(csv.href).includes(arguments[0]),
        bar_fill: getComputedStyle(document.querySelector('[data-testid=chart-days] rect.bar')).fill,
        satisfaction: document.querySelector('[data-testid=satisfaction]').textContent,
        average: document.querySelector('[data-testid=average-rating]').textContent,
        rating_bars: [...document.querySelectorAll('[data-testid=chart-ratings] rect.bar')]
            .map(bar => Number(bar.getAttribute('height'))),
    };";

#[tokio::test]
async fn the_reports_page_charts_the_closed_conversations_light_and_dark() {
    let demo = DemoStack::start().await;
    let admin = agent_login(&demo.gateway).await;
    let channel = demo.gateway.demo_channel().await;
    for (i, score) in [5, 4, 2].into_iter().enumerate() {
        let visitor = Visitor::arrive(&demo.gateway, &demo.site).await;
        let mut socket = visitor.connect(&demo.gateway, None).await;
        let (id, _) = socket.say("q", &format!("Question {i}")).await;
        let base = format!("/v1/channels/{}/conversations/{id}", channel.id);
        let answer = json!({"client_id": format!("answer-{i}"), "text": "Here to help"});
        let answered = call(
            &demo.gateway,
            &admin,
            Method::POST,
            &format!("{base}/messages"),
            Some(answer),
        )
        .await;
        assert!(answered.status.is_success(), "{}", answered.body);
        let closed = call(
            &demo.gateway,
            &admin,
            Method::POST,
            &format!("{base}/close"),
            None,
        )
        .await;
        assert!(closed.status.is_success(), "{}", closed.body);
        let rated = reqwest::Client::new()
            .post(
                demo.gateway
                    .url(&format!("/v1/visitor/conversations/{id}/rating")),
            )
            .header("origin", &demo.site)
            .bearer_auth(&visitor.session.session_token)
            .json(&json!({"score": score}))
            .send()
            .await
            .unwrap();
        assert_eq!(rated.status(), reqwest::StatusCode::NO_CONTENT);
    }
    let mut fills = Vec::new();
    for dark in [false, true] {
        let agent = Browser::launch().await;
        if dark {
            agent.prefer_color_scheme("dark").await;
        }
        agent.log_into_console(&demo.gateway.url("/console/")).await;
        agent.click_on("nav-reports").await;
        let script = SHOWN.replace(
            "arguments[0]",
            &json!(gateway::demo::AGENT_NAME).to_string(),
        );
        let shown = agent
            .wait_for("the report of three conversations", &script, WAIT)
            .await;
        let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        agent
            .screenshot(&shots.join(if dark {
                "reports-dark.png"
            } else {
                "reports.png"
            }))
            .await;
        assert!(
            (30..=31).contains(&shown["days"].as_i64().unwrap()),
            "a bar for each of the last 30 days: {shown}"
        );
        assert!(shown["tallest"].as_f64().unwrap() > 0.0, "{shown}");
        assert_eq!(shown["cells"], json!(7 * 24), "{shown}");
        assert_eq!(shown["wait_bars"], json!(8), "{shown}");
        assert_eq!(shown["wait"], json!(true), "{shown}");
        assert_eq!(
            shown["agents"],
            json!([[gateway::demo::AGENT_NAME, "3", "3"]]),
            "{shown}"
        );
        assert_eq!(shown["csv"], json!(true), "{shown}");
        // Ratings 5, 4 and 2: two of three satisfied, 3.7 on average, one day's bar at 66 of 100.
        assert_eq!(shown["satisfaction"], "66 %", "{shown}");
        assert_eq!(shown["average"], "3.7", "{shown}");
        assert_eq!(
            shown["rating_bars"],
            json!([160.0 * 66.0 / 100.0]),
            "{shown}"
        );
        fills.push(shown["bar_fill"].clone());
        if let Some(violations) = agent.accessibility_violations("html").await {
            assert_eq!(violations, json!([]), "dark: {dark}");
        }
    }
    assert_ne!(fills[0], fills[1], "the bars take the dark scheme's colour");
}
