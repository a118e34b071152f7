//! The visitor's HTTP side: widget bootstrap, origins, visit tickets and session tokens.

use protocol::{Visibility, WidgetBootstrap};
use reqwest::StatusCode;
use tests::client::{get, open_session, post, Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn an_unknown_channel_is_a_404_with_a_stable_code() {
    let gw = TestGateway::spawn().await;
    let answer = get(&gw.url("/v1/widget/no-such-key"), Some(SITE_ORIGIN)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "channel_not_found");
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-key"));
}

#[tokio::test]
async fn the_bootstrap_decides_visibility_and_issues_a_visit_ticket() {
    let gw = TestGateway::spawn().await;
    let answer = get(&gw.url("/v1/widget/demo"), Some(SITE_ORIGIN)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let bootstrap: WidgetBootstrap = serde_json::from_value(answer.body).unwrap();
    assert_eq!(bootstrap.visibility, Visibility::Visible);
    assert_eq!(bootstrap.appearance.title, "Chat with us");
    assert!(bootstrap.visit_ticket.contains('.'));
}

#[tokio::test]
async fn a_page_on_another_origin_is_refused_everywhere() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let evil = "http://evil.test";

    let bootstrap = get(&gw.url("/v1/widget/demo"), Some(evil)).await;
    bootstrap.assert_error(StatusCode::FORBIDDEN, "origin_not_allowed");

    let session = open_session(&gw, evil, &visitor.ticket, None).await;
    session.assert_error(StatusCode::FORBIDDEN, "origin_not_allowed");

    // A token issued to the real site, replayed from another origin, does not open a socket.
    let url = gw.ws_url(&format!(
        "/v1/visitor/ws?token={}",
        visitor.session.session_token
    ));
    match Socket::connect(&url, Some(evil), None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "upgrade from a foreign origin must be refused, got {:?}",
            other.map(|_| ())
        ),
    }
}

#[tokio::test]
async fn cors_preflight_lets_the_widget_read_answers() {
    let gw = TestGateway::spawn().await;
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, gw.url("/v1/sessions"))
        .header("origin", SITE_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        SITE_ORIGIN
    );
}

#[tokio::test]
async fn a_returning_browser_keeps_its_visitor_id_and_a_forged_ticket_is_refused() {
    let gw = TestGateway::spawn().await;
    let first = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let again = Visitor::arrive_with_ticket(&gw, SITE_ORIGIN, Some(&first.ticket)).await;
    assert_eq!(again.session.visitor_id, first.session.visitor_id);

    let (payload, _) = first.ticket.split_once('.').unwrap();
    let forged = format!("{payload}.AAAA");
    let answer = open_session(&gw, SITE_ORIGIN, &forged, None).await;
    answer.assert_error(StatusCode::UNAUTHORIZED, "invalid_visit_ticket");
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let gw = TestGateway::spawn().await;
    let response = reqwest::Client::new()
        .post(gw.url("/v1/sessions"))
        .header("origin", SITE_ORIGIN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    let missing = get(&gw.url("/v1/nothing-here"), None).await;
    missing.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn expired_and_garbage_session_tokens_open_no_socket() {
    let gw = TestGateway::spawn_with(|c| c.session_ttl_secs = 0).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    for token in [visitor.session.session_token.as_str(), "garbage"] {
        let url = gw.ws_url(&format!("/v1/visitor/ws?token={token}"));
        match Socket::connect(&url, Some(SITE_ORIGIN), None).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn agent_endpoints_require_a_login() {
    let gw = TestGateway::spawn().await;
    let me = get(&gw.url("/v1/agent/me"), None).await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    match Socket::connect(&gw.ws_url("/v1/agent/ws"), None, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let wrong = protocol::LoginRequest {
        email: gateway::demo::AGENT_EMAIL.into(),
        password: "nope".into(),
    };
    let answer = post(&gw.url("/v1/agent/login"), None, &wrong).await;
    answer.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    // An unknown email gets the very same answer: the endpoint tells no one who has an account.
    let unknown = protocol::LoginRequest {
        email: "nobody@demo.test".into(),
        password: "nope".into(),
    };
    let answer_unknown = post(&gw.url("/v1/agent/login"), None, &unknown).await;
    assert_eq!(
        (answer_unknown.status, answer_unknown.body.clone()),
        (answer.status, answer.body.clone())
    );
}

#[tokio::test]
async fn each_channel_has_a_chat_page_on_the_gateway_whose_origin_it_accepts() {
    let gw = TestGateway::spawn().await;
    let page = reqwest::get(gw.url("/chat/demo")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<script async src="/embed.js" data-channel="demo"></script>"#),
        "{html}"
    );

    // The demo channel allows only the demo site, and the gateway's own page.
    let own_origin = gw.url("");
    let bootstrap = get(&gw.url("/v1/widget/demo"), Some(&own_origin)).await;
    assert_eq!(bootstrap.status, StatusCode::OK, "{}", bootstrap.body);
    let visitor = Visitor::arrive(&gw, &own_origin).await;
    assert!(!visitor.session.session_token.is_empty());
    // The page's own GETs carry no Origin (browsers leave it off same-origin GETs), only
    // Sec-Fetch-Site; that header saying anything else does not stand in for an origin.
    for (site, status) in [
        ("same-origin", StatusCode::OK),
        ("cross-site", StatusCode::FORBIDDEN),
        ("same-site", StatusCode::FORBIDDEN),
    ] {
        let answer = reqwest::Client::new()
            .get(gw.url("/v1/widget/demo"))
            .header("sec-fetch-site", site)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "Sec-Fetch-Site: {site}");
    }

    let unknown = get(&gw.url("/chat/no-such-channel"), None).await;
    unknown.assert_error(StatusCode::NOT_FOUND, "channel_not_found");
}
