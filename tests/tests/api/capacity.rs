//! The gateway's limits on sockets and its shutdown, as clients see them: beyond `max_sockets`
//! an upgrade is a 503 with `Retry-After` (and a place frees when a socket closes); a stopping
//! gateway closes every socket with 1001 "going away" and is done in moments, not when the last
//! visitor leaves.

use reqwest::StatusCode;
use std::time::Duration;
use tests::client::{agent_login, agent_socket, Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};
use tokio_tungstenite::tungstenite::Error as WsError;

#[tokio::test]
async fn beyond_the_cap_an_upgrade_is_refused_until_a_socket_closes() {
    let gw = TestGateway::spawn_with(|c| c.max_sockets = 2).await;
    let first = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut first_socket = first.connect(&gw, None).await;
    let token = agent_login(&gw).await;
    let _console = agent_socket(&gw, &token).await;

    let third = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let url = gw.ws_url(&format!(
        "/v1/visitor/ws?token={}",
        third.session.session_token
    ));
    let refused = Socket::connect(&url, Some(SITE_ORIGIN), None).await;
    let Err(WsError::Http(response)) = refused else {
        panic!("the third socket should be refused");
    };
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
    assert_eq!(body["error"]["code"], "over_capacity");

    // Authentication still comes first: a bad token is a 401, not a 503.
    let bad = Socket::connect(
        &gw.ws_url("/v1/visitor/ws?token=nope"),
        Some(SITE_ORIGIN),
        None,
    )
    .await;
    assert!(matches!(bad, Err(WsError::Http(r)) if r.status() == StatusCode::UNAUTHORIZED));

    first_socket.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match Socket::connect(&url, Some(SITE_ORIGIN), None).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("a place should free when a socket closes: {e}"),
        }
    }
}

#[tokio::test]
async fn a_stopping_gateway_tells_every_socket_it_is_going_away() {
    let mut gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut visitor_socket = visitor.connect(&gw, None).await;
    visitor_socket.say("m1", "Hello").await;
    let token = agent_login(&gw).await;
    let mut console = agent_socket(&gw, &token).await;

    let stopping = tokio::spawn(async move { gw.stop(Duration::from_secs(10)).await });
    for socket in [&mut visitor_socket, &mut console] {
        assert_eq!(socket.close_code(Duration::from_secs(10)).await, Some(1001));
    }
    assert!(
        stopping.await.unwrap(),
        "the gateway stops without waiting for its visitors to leave"
    );
}
