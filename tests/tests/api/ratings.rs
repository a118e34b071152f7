//! Ratings: the visitor rates a closed conversation on the channel's scale; the rating is kept
//! once however often it is sent, changes when the visitor changes it, reaches webhooks as
//! `conversation.rated`, shows on the conversation and counts in reports. Who may rate what.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tests::client::{agent_login, answer, call, patch_demo_channel, Answer, Visitor};
use tests::receiver::Receiver;
use tests::{TestGateway, SITE_ORIGIN};

use crate::deliveries::register;

async fn rate(gw: &TestGateway, visitor: &Visitor, origin: &str, id: &str, body: Value) -> Answer {
    let request = reqwest::Client::new()
        .post(gw.url(&format!("/v1/visitor/conversations/{id}/rating")))
        .header("origin", origin)
        .bearer_auth(&visitor.session.session_token)
        .json(&body);
    answer(request.send().await.expect("rate")).await
}

#[tokio::test]
async fn a_visitor_rates_a_closed_conversation_once_and_webhooks_and_reports_see_it() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let channel = gw.demo_channel().await;
    let receiver = Receiver::start().await;
    register(&gw, &receiver, json!({"events": ["conversation.rated"]})).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    assert_eq!(
        visitor.session.rating,
        Some(protocol::RatingScale::Stars),
        "a new channel asks for stars"
    );
    let mut socket = visitor.connect(&gw, None).await;
    let (id, _) = socket.say("c1", "Where is my parcel?").await;
    let good = json!({"score": 4, "comment": "Quick and kind"});

    rate(&gw, &visitor, SITE_ORIGIN, &id, good.clone())
        .await
        .assert_error(StatusCode::CONFLICT, "conversation_not_closed");
    let close = format!("/v1/channels/{}/conversations/{id}/close", channel.id);
    let closed = call(&gw, &channel.secret, Method::POST, &close, Some(json!({}))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);

    // Nobody else rates it: no session, another visitor, another page's origin.
    let anonymous = reqwest::Client::new()
        .post(gw.url(&format!("/v1/visitor/conversations/{id}/rating")))
        .header("origin", SITE_ORIGIN)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let stranger = Visitor::arrive(&gw, SITE_ORIGIN).await;
    rate(&gw, &stranger, SITE_ORIGIN, &id, good.clone())
        .await
        .assert_error(StatusCode::NOT_FOUND, "conversation_not_found");
    rate(&gw, &visitor, "https://evil.test", &id, good.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "origin_not_allowed");
    // Off the scale, or too long a comment: said by field, nothing kept.
    let off_scale = rate(&gw, &visitor, SITE_ORIGIN, &id, json!({"score": 6})).await;
    off_scale.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        off_scale.body["error"]["problems"]["score"]["code"],
        "one_of"
    );
    let essay = json!({"score": 5, "comment": "x".repeat(1001)});
    let long = rate(&gw, &visitor, SITE_ORIGIN, &id, essay).await;
    assert_eq!(
        long.body["error"]["problems"]["comment"]["code"],
        "at_most_characters"
    );
    assert!(gw.conversation(&id).await.rating.is_none());

    // Sent twice (a retry), then changed: two events, the last rating kept.
    for _ in 0..2 {
        let kept = rate(&gw, &visitor, SITE_ORIGIN, &id, good.clone()).await;
        assert_eq!(kept.status, StatusCode::NO_CONTENT, "{}", kept.body);
    }
    let rating = gw.conversation(&id).await.rating.expect("rated");
    assert_eq!(
        (rating.score, rating.comment.as_deref()),
        (4, Some("Quick and kind"))
    );
    let first = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(first[0].event_type(), "conversation.rated");
    assert_eq!(
        first[0].payload["data"]["conversation"]["rating"]["score"],
        4
    );
    let better = rate(&gw, &visitor, SITE_ORIGIN, &id, json!({"score": 5})).await;
    assert_eq!(better.status, StatusCode::NO_CONTENT, "{}", better.body);
    let both = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        both[1].payload["data"]["conversation"]["rating"]["score"],
        5
    );
    assert!(both[1].payload["data"]["conversation"]["rating"]["comment"].is_null());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.accepted().len(), 2, "the retry announced nothing");

    // The REST API and the report see it.
    let read = call(
        &gw,
        &channel.secret,
        Method::GET,
        &format!("/v1/channels/{}/conversations/{id}", channel.id),
        None,
    )
    .await;
    assert_eq!(read.body["conversation"]["rating"]["score"], 5);
    assert_eq!(read.body["conversation"]["rating"]["scale"], "stars");
    let admin = agent_login(&gw).await;
    let report = call(&gw, &admin, Method::GET, "/v1/reports", None).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(
        report.body["ratings"],
        json!({"rated": 1, "satisfied": 1, "score_sum": 5})
    );
    let days = report.body["days"].as_array().unwrap();
    assert_eq!(
        days.iter()
            .map(|d| d["ratings"]["rated"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );

    // Thumbs take 1 or 5; a channel that does not ask refuses, and its sessions do not offer.
    let thumbs = patch_demo_channel(&gw, &admin, json!({"rating_scale": "thumbs"})).await;
    assert_eq!(thumbs.status, StatusCode::OK, "{}", thumbs.body);
    let three = rate(&gw, &visitor, SITE_ORIGIN, &id, json!({"score": 3})).await;
    assert_eq!(
        three.body["error"]["problems"]["score"]["allowed"],
        json!(["1", "5"])
    );
    let down = rate(&gw, &visitor, SITE_ORIGIN, &id, json!({"score": 1})).await;
    assert_eq!(down.status, StatusCode::NO_CONTENT, "{}", down.body);
    assert_eq!(
        gw.conversation(&id)
            .await
            .rating
            .map(|r| (r.score, r.scale)),
        Some((1, protocol::RatingScale::Thumbs))
    );
    let off = patch_demo_channel(&gw, &admin, json!({"rating_scale": "off"})).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    rate(&gw, &visitor, SITE_ORIGIN, &id, good)
        .await
        .assert_error(StatusCode::CONFLICT, "ratings_off");
    assert_eq!(Visitor::arrive(&gw, SITE_ORIGIN).await.session.rating, None);
    let bad = patch_demo_channel(&gw, &admin, json!({"rating_scale": "emoji"})).await;
    assert_eq!(
        bad.body["error"]["problems"]["rating_scale"]["code"],
        "one_of"
    );
}
