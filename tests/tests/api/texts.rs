//! The widget's texts: one language per page, the first it wants that the widget speaks, with
//! what the channel says instead, which only its admins set.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, get, patch_demo_channel, Answer};
use tests::{TestGateway, SITE_ORIGIN};

use crate::hostile::plain_agent;

async fn texts(gw: &TestGateway, origin: &str, wanted: &str) -> Answer {
    get(
        &gw.url(&format!("/v1/widget/demo/texts?locale={wanted}")),
        Some(origin),
    )
    .await
}

#[tokio::test]
async fn a_page_gets_the_first_language_it_wants_that_the_widget_speaks() {
    let gw = TestGateway::spawn().await;
    let portuguese = texts(&gw, SITE_ORIGIN, "fr-CA,pt-PT,ru").await;
    assert_eq!(portuguese.status, StatusCode::OK, "{}", portuguese.body);
    assert_eq!(portuguese.body["locale"], "pt-BR");
    assert_eq!(portuguese.body["texts"]["send"], "Enviar");
    let russian = texts(&gw, SITE_ORIGIN, "ru").await;
    assert_eq!(
        russian.body["texts"]["unread"]["few"],
        "{n} новых сообщения"
    );
    assert_eq!(russian.body["right_to_left"], false);
    let arabic = texts(&gw, SITE_ORIGIN, "ar-EG").await;
    assert_eq!(
        (&arabic.body["locale"], &arabic.body["right_to_left"]),
        (&json!("ar"), &json!(true))
    );
    // Nothing spoken, or nothing asked: English.
    assert_eq!(texts(&gw, SITE_ORIGIN, "fr,de").await.body["locale"], "en");
    let none = get(&gw.url("/v1/widget/demo/texts"), Some(SITE_ORIGIN)).await;
    assert_eq!(none.body["texts"]["send"], "Send");
    // Like every widget call: from the channel's pages only, for a channel that exists.
    texts(&gw, "http://evil.test", "ru")
        .await
        .assert_error(StatusCode::FORBIDDEN, "origin_not_allowed");
    get(
        &gw.url("/v1/widget/nope/texts?locale=ru"),
        Some(SITE_ORIGIN),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "channel_not_found");
}

#[tokio::test]
async fn a_channel_s_admins_replace_texts_per_language_and_nobody_else_can() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let own = json!({"texts": {"ru": {"send": "Послать", "unread": {"few": "{n} непрочитанных"}}}});

    // Refused, by name, and nothing of it kept.
    let bad = patch_demo_channel(
        &gw,
        &admin,
        json!({"texts": {"ru": {"send": "Послать", "typing": "{who} печатает", "nope": "x"},
                         "fr": {"send": "Envoyer"}}}),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields = bad.body["error"]["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["texts.fr", "texts.ru.nope", "texts.ru.typing"],
        "{}",
        bad.body
    );
    assert_eq!(
        texts(&gw, SITE_ORIGIN, "ru").await.body["texts"]["send"],
        "Отправить"
    );

    // A plain agent, another channel's secret, no credential: refused.
    let agent = plain_agent(&gw, &admin).await;
    patch_demo_channel(&gw, &agent, own.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let channel = gw.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", channel.id);
    call(
        &gw,
        &channel.secret,
        Method::PATCH,
        &path,
        Some(own.clone()),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let set = patch_demo_channel(&gw, &admin, own).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["texts"]["ru"]["send"], "Послать");
    let russian = texts(&gw, SITE_ORIGIN, "ru").await.body;
    assert_eq!(russian["texts"]["send"], "Послать");
    assert_eq!(russian["texts"]["unread"]["few"], "{n} непрочитанных");
    assert_eq!(russian["texts"]["unread"]["many"], "{n} новых сообщений");
    // Other languages keep the widget's own.
    assert_eq!(
        texts(&gw, SITE_ORIGIN, "es").await.body["texts"]["send"],
        "Enviar"
    );

    // The editor's defaults: admins only.
    let defaults = call(&gw, &admin, Method::GET, "/v1/admin/texts", None).await;
    assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.body);
    assert_eq!(defaults.body["ru"]["send"], "Отправить");
    assert_eq!(defaults.body.as_object().unwrap().len(), 6);
    call(&gw, &agent, Method::GET, "/v1/admin/texts", None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    get(&gw.url("/v1/admin/texts"), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}
