//! Visibility rules enforced by the gateway: presence, dwell time, repeat visits, page URLs,
//! the override, and visit tickets that cannot be forged or replayed.

use base64::Engine;
use protocol::{AgentClientFrame, AgentServerFrame, Visibility, VisibilityReport};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use tests::client::{
    agent_login, agent_socket, bootstrap, call, open_session, page_view, recheck, visitor_writes,
    Socket,
};
use tests::{TestGateway, SITE_ORIGIN};

fn hidden_by(visibility: &Visibility) -> &str {
    match visibility {
        Visibility::Visible => "",
        Visibility::Hidden { reason } => reason,
    }
}

/// Replaces the demo channel's rules through the REST API with the channel secret.
async fn set_rules(gw: &TestGateway, rules: serde_json::Value) {
    let channel = gw.demo_channel().await;
    let path = format!("/v1/channels/{}/rules", channel.id);
    let answer = call(gw, &channel.secret, Method::PUT, &path, Some(rules)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// The reason the widget is hidden for a new page view ("" when visible).
async fn decision(gw: &TestGateway) -> String {
    hidden_by(&bootstrap(gw, SITE_ORIGIN, None).await.visibility).to_owned()
}

/// Waits (bounded) until a new page view gets `expected`.
async fn decision_becomes(gw: &TestGateway, expected: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let got = decision(gw).await;
        if got == expected {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "still {got:?} after {within:?}, wanted {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A visitor writes; the agent answers, which assigns the conversation to the agent.
async fn agent_takes_a_conversation(gw: &TestGateway, agent: &mut Socket, n: usize) {
    let conversation_id = visitor_writes(gw, SITE_ORIGIN, "Hello?").await;
    agent
        .send(&AgentClientFrame::Send {
            conversation_id,
            client_id: format!("a{n}"),
            text: "Hi!".into(),
            attachments: Vec::new(),
        })
        .await;
    let acked = agent
        .recv_until(|f| {
            matches!(
                f,
                AgentServerFrame::Ack { .. } | AgentServerFrame::Error { .. }
            )
        })
        .await;
    assert!(matches!(acked, AgentServerFrame::Ack { .. }), "{acked:?}");
}

#[tokio::test]
async fn agents_coming_online_going_away_filling_up_and_leaving_change_the_decision() {
    let gw = TestGateway::spawn_with(|c| {
        c.presence_grace_secs = 2;
        c.visibility_poll_secs = 1;
    })
    .await;
    set_rules(
        &gw,
        json!({"agents_online": {"enabled": true}, "agent_available": {"enabled": true}}),
    )
    .await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(hidden_by(&page.visibility), "rule_agents_online");
    assert_eq!(
        page.recheck_after_ms,
        Some(1000),
        "presence is asked again at the poll interval"
    );
    open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "rule_agents_online");

    let token = agent_login(&gw).await;
    let mut agent = agent_socket(&gw, &token).await;
    decision_becomes(&gw, "", Duration::from_secs(2)).await;
    // The page view that was refused sees the change on its next recheck, and can then open.
    let again = recheck(&gw, SITE_ORIGIN, &page.visit_ticket, "").await;
    assert_eq!(
        again.body["visibility"]["state"], "visible",
        "{}",
        again.body
    );

    let set_presence = |presence: &'static str| {
        let (gw, token) = (&gw, &token);
        async move {
            let body = json!({ "presence": presence });
            call(gw, token, Method::PUT, "/v1/agent/presence", Some(body)).await
        }
    };
    // Offline by choice, though still connected: nobody online.
    set_presence("offline").await;
    assert_eq!(decision(&gw).await, "rule_agents_online");
    let set = set_presence("away").await;
    assert_eq!(set.body["presence"], "away");
    assert_eq!(decision(&gw).await, "rule_agent_available");
    set_rules(&gw, json!({"agents_online": {"enabled": true}})).await;
    assert_eq!(decision(&gw).await, "", "away agents still count as online");
    set_rules(
        &gw,
        json!({"agents_online": {"enabled": true}, "agent_available": {"enabled": true}}),
    )
    .await;
    set_presence("online").await;
    assert_eq!(decision(&gw).await, "");

    // Capacity: the demo agent holds five conversations at once.
    for n in 0..5 {
        assert_eq!(decision(&gw).await, "", "below capacity after {n}");
        agent_takes_a_conversation(&gw, &mut agent, n).await;
    }
    assert_eq!(decision(&gw).await, "rule_agent_available");
    set_rules(&gw, json!({"agents_online": {"enabled": true}})).await;

    // The last console closes: still online through the grace period, then offline.
    drop(agent);
    assert_eq!(decision(&gw).await, "", "a reload must not hide the widget");
    let took = decision_becomes(&gw, "rule_agents_online", Duration::from_secs(6)).await;
    assert!(
        took >= Duration::from_millis(800),
        "offline too soon: {took:?}"
    );
}

fn tamper(ticket: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, tag) = ticket.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
    edit(&mut claims);
    format!(
        "{}.{tag}",
        engine.encode(serde_json::to_vec(&claims).unwrap())
    )
}

#[tokio::test]
async fn forged_and_replayed_visit_tickets_are_refused() {
    let gw = TestGateway::spawn().await;
    set_rules(
        &gw,
        json!({"repeat_visit": {"enabled": true, "min_visit": 3}}),
    )
    .await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert!(page.remember_visits);
    // Claiming a later visit or an earlier page view breaks the signature.
    for forged in [
        tamper(&page.visit_ticket, |c| c["visit"] = json!(9)),
        tamper(&page.visit_ticket, |c| c["viewed_at_ms"] = json!(0)),
    ] {
        open_session(&gw, SITE_ORIGIN, &forged, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_visit_ticket");
        recheck(&gw, SITE_ORIGIN, &forged, "")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_visit_ticket");
        // A forged ticket kept in the browser only starts a new visitor at visit 1.
        let fresh = page_view(&gw, SITE_ORIGIN, Some(&forged), "").await;
        assert_eq!(hidden_by(&fresh.visibility), "rule_repeat_visit");
    }

    set_rules(&gw, json!({})).await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    let first = open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "visit_ticket_used");
    // The widget renews the page view's ticket to open a chat again; the visitor stays the same.
    let renewed = recheck(&gw, SITE_ORIGIN, &page.visit_ticket, "").await;
    let ticket = renewed.body["visit_ticket"].as_str().unwrap().to_owned();
    let second = open_session(&gw, SITE_ORIGIN, &ticket, None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["visitor_id"], first.body["visitor_id"]);
    open_session(&gw, SITE_ORIGIN, &ticket, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "visit_ticket_used");
}

#[tokio::test]
async fn dwell_time_and_repeat_visits_are_enforced_when_a_chat_opens() {
    let gw = TestGateway::spawn_with(|c| c.visit_gap_secs = 1).await;
    set_rules(&gw, json!({"dwell_time": {"enabled": true, "seconds": 2}})).await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(hidden_by(&page.visibility), "rule_dwell_time");
    assert!(!page.remember_visits, "no repeat rule: nothing to store");
    let wait = page.recheck_after_ms.expect("dwell has a recheck time");
    assert!((1500..=2000).contains(&wait), "{wait}");
    // Refused, but the ticket stays good for when the dwell time is reached.
    open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "rule_dwell_time");
    tokio::time::sleep(Duration::from_millis(wait + 100)).await;
    let later = recheck(&gw, SITE_ORIGIN, &page.visit_ticket, "").await;
    assert_eq!(later.body["visibility"]["state"], "visible");
    assert_eq!(
        later.body["recheck_after_ms"], 20_000,
        "settled: only the heartbeat that keeps the visitor listed as on the site"
    );
    let opened = open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);

    set_rules(
        &gw,
        json!({"repeat_visit": {"enabled": true, "min_visit": 2}}),
    )
    .await;
    let first = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert!(first.remember_visits);
    assert_eq!(hidden_by(&first.visibility), "rule_repeat_visit");
    assert_eq!(
        first.recheck_after_ms, None,
        "nothing changes on this page view"
    );
    open_session(&gw, SITE_ORIGIN, &first.visit_ticket, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "rule_repeat_visit");
    // Another page of the same visit is still visit 1.
    let same_visit = bootstrap(&gw, SITE_ORIGIN, Some(&first.visit_ticket)).await;
    assert_eq!(hidden_by(&same_visit.visibility), "rule_repeat_visit");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second_visit = bootstrap(&gw, SITE_ORIGIN, Some(&same_visit.visit_ticket)).await;
    assert_eq!(second_visit.visibility, Visibility::Visible);
    let opened = open_session(&gw, SITE_ORIGIN, &second_visit.visit_ticket, None).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
}

#[tokio::test]
async fn page_url_patterns_pick_the_pages_and_any_of_combines() {
    let gw = TestGateway::spawn().await;
    set_rules(
        &gw,
        json!({"page_url": {"enabled": true, "patterns": ["/pricing*", "*/help/*"]}}),
    )
    .await;
    let view = |page: &'static str| {
        let gw = &gw;
        async move {
            let url = format!("{SITE_ORIGIN}{page}");
            hidden_by(&page_view(gw, SITE_ORIGIN, None, &url).await.visibility).to_owned()
        }
    };
    assert_eq!(view("/pricing/teams").await, "");
    assert_eq!(view("/help/returns#top").await, "");
    assert_eq!(view("/about").await, "rule_page_url");
    // The session re-checks the page it is opened from.
    let about = page_view(&gw, SITE_ORIGIN, None, &format!("{SITE_ORIGIN}/about")).await;
    let request = json!({"channel_key": "demo", "visit_ticket": about.visit_ticket,
                         "page_url": format!("{SITE_ORIGIN}/about")});
    tests::client::post(&gw.url("/v1/sessions"), Some(SITE_ORIGIN), &request)
        .await
        .assert_error(StatusCode::FORBIDDEN, "rule_page_url");

    // Any-of: the about page shows once the visitor has stayed long enough.
    set_rules(
        &gw,
        json!({"combine": "any_of", "page_url": {"enabled": true, "patterns": ["/pricing*"]},
               "dwell_time": {"enabled": true, "seconds": 1}}),
    )
    .await;
    assert_eq!(view("/pricing").await, "");
    assert_eq!(view("/about").await, "rule_dwell_time");
}

#[tokio::test]
async fn the_override_needs_the_channel_secret_and_ends_when_told() {
    let gw = TestGateway::spawn().await;
    let channel = gw.demo_channel().await;
    let path = format!("/v1/channels/{}/visibility", channel.id);
    let hide = json!({"mode": "hidden"});
    let anonymous = reqwest::Client::new()
        .put(gw.url(&path))
        .json(&hide)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    call(
        &gw,
        "not-the-secret",
        Method::PUT,
        &path,
        Some(hide.clone()),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let other_channel = format!("/v1/channels/{}/visibility", "no-such-channel");
    call(
        &gw,
        &channel.secret,
        Method::PUT,
        &other_channel,
        Some(hide.clone()),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let set = call(&gw, &channel.secret, Method::PUT, &path, Some(hide)).await;
    let report: VisibilityReport = serde_json::from_value(set.body).unwrap();
    assert!(!report.visible);
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(hidden_by(&page.visibility), "widget_hidden");
    open_session(&gw, SITE_ORIGIN, &page.visit_ticket, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "widget_hidden");

    // Forced visible for a moment over a rule that hides, then the rule is back.
    set_rules(
        &gw,
        json!({"repeat_visit": {"enabled": true, "min_visit": 2}}),
    )
    .await;
    let until = gateway::now_ms() + 1500;
    let show = json!({"mode": "visible", "until_ms": until});
    let set = call(&gw, &channel.secret, Method::PUT, &path, Some(show)).await;
    assert_eq!(set.body["visible"], true, "{}", set.body);
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(page.visibility, Visibility::Visible);
    let recheck_ms = page
        .recheck_after_ms
        .expect("asks again when the override ends");
    assert!(recheck_ms <= 1500, "{recheck_ms}");
    tokio::time::sleep(Duration::from_millis(recheck_ms + 100)).await;
    assert_eq!(decision(&gw).await, "rule_repeat_visit");
    let read = call(&gw, &channel.secret, Method::GET, &path, None).await;
    assert_eq!(read.body["override"]["mode"], "rules", "{}", read.body);

    let past = json!({"mode": "hidden", "until_ms": 1});
    let refused = call(&gw, &channel.secret, Method::PUT, &path, Some(past)).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(refused.body["error"]["fields"]["until_ms"].is_string());
}

#[tokio::test]
async fn rules_are_validated_whole_and_previewed_before_saving() {
    let gw = TestGateway::spawn().await;
    let channel = gw.demo_channel().await;
    let admin = agent_login(&gw).await;
    let rules_path = format!("/v1/channels/{}/rules", channel.id);
    let bad = json!({
        "business_hours": {"enabled": true, "time_zone": "Europe/Atlantis",
                           "weekly": {"mon": [{"from": "9am", "to": "17:00"}]}},
        "repeat_visit": {"enabled": true, "min_visit": 0}
    });
    let refused = call(&gw, &admin, Method::PUT, &rules_path, Some(bad)).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields = refused.body["error"]["fields"].as_object().unwrap();
    for field in [
        "business_hours.time_zone",
        "business_hours.weekly.mon[0].from",
        "repeat_visit.min_visit",
    ] {
        assert!(fields.contains_key(field), "{field}: {fields:?}");
    }
    let saved = call(&gw, &admin, Method::GET, &rules_path, None).await;
    assert_eq!(
        saved.body["repeat_visit"]["enabled"], false,
        "nothing saved"
    );

    // A preview of unsaved rules for a visitor 5 s into a first visit.
    let preview_path = format!("/v1/channels/{}/visibility/preview", channel.id);
    let preview = |seconds: u32| {
        json!({"rules": {"dwell_time": {"enabled": true, "seconds": 10}},
               "seconds_on_page": seconds})
    };
    let early = call(&gw, &admin, Method::POST, &preview_path, Some(preview(5))).await;
    let early: VisibilityReport = serde_json::from_value(early.body).unwrap();
    assert!(!early.visible);
    assert_eq!(early.checks[0].detail, "on the page 5 s of 10 s");
    assert!(early.reason.unwrap().starts_with("Time on page"));
    let late = call(&gw, &admin, Method::POST, &preview_path, Some(preview(12))).await;
    assert_eq!(late.body["visible"], true);
    assert_eq!(decision(&gw).await, "", "a preview saves nothing");

    let zones = call(&gw, &admin, Method::GET, "/v1/time-zones", None).await;
    let zones = zones.body.as_array().unwrap();
    assert!(zones.iter().any(|z| z == "Europe/Paris") && zones.iter().any(|z| z == "UTC"));
}
