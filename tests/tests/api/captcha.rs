//! Captcha at session creation, against a local HTTP server that speaks the providers'
//! documented siteverify protocol (form POST of secret, response, remoteip; JSON answer). The
//! gateway's production code path is the one exercised; only the URL points here.

use protocol::CaptchaProvider;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tests::client::{bootstrap, open_session};
use tests::provider::Provider;
use tests::{TestGateway, SITE_ORIGIN};

/// A demo gateway whose channel requires `provider`, verified against the local server.
async fn gateway_with_captcha(
    verify_url: &str,
    provider: CaptchaProvider,
    min_score: Option<f64>,
) -> TestGateway {
    gateway_with_secret(verify_url, provider, min_score, "the-channel-secret").await
}

async fn gateway_with_secret(
    verify_url: &str,
    provider: CaptchaProvider,
    min_score: Option<f64>,
    secret: &str,
) -> TestGateway {
    let url = verify_url.to_owned();
    let gw = TestGateway::spawn_with(move |c| {
        c.captcha_verify_url = Some(url);
        c.captcha_timeout_ms = 500;
    })
    .await;
    let secret = secret.to_owned();
    gw.edit_demo_channel(|c| {
        c.captcha = Some(gateway::store::CaptchaSettings {
            provider,
            site_key: "site-key-public".into(),
            secret,
            min_score,
        })
    })
    .await;
    gw
}

async fn try_session(gw: &TestGateway, token: Option<&str>) -> (StatusCode, String) {
    let ticket = bootstrap(gw, SITE_ORIGIN, None).await.visit_ticket;
    let answer = open_session(gw, SITE_ORIGIN, &ticket, token).await;
    (answer.status, answer.code().to_owned())
}

#[tokio::test]
async fn the_widget_learns_the_challenge_and_a_solved_captcha_opens_the_chat() {
    let provider = Provider::start().await;
    let gw = gateway_with_captcha(&provider.verify_url(), CaptchaProvider::Turnstile, None).await;
    let challenge = bootstrap(&gw, SITE_ORIGIN, None)
        .await
        .captcha
        .expect("a challenge");
    assert_eq!(
        (challenge.provider, challenge.site_key.as_str()),
        (CaptchaProvider::Turnstile, "site-key-public")
    );

    assert_eq!(try_session(&gw, Some("solved")).await.0, StatusCode::OK);
    let sent = provider.requests().pop().expect("the provider was asked");
    assert_eq!(sent["secret"], "the-channel-secret");
    assert_eq!(sent["response"], "solved");
    assert_eq!(sent["remoteip"], "127.0.0.1");
}

#[tokio::test]
async fn missing_failed_and_foreign_captchas_are_refused_with_stable_codes() {
    let provider = Provider::start().await;
    let gw = gateway_with_captcha(&provider.verify_url(), CaptchaProvider::RecaptchaV2, None).await;
    assert_eq!(
        try_session(&gw, None).await,
        (StatusCode::BAD_REQUEST, "captcha_required".into())
    );
    assert_eq!(
        try_session(&gw, Some("")).await,
        (StatusCode::BAD_REQUEST, "captcha_required".into())
    );
    assert_eq!(
        try_session(&gw, Some("wrong")).await,
        (StatusCode::FORBIDDEN, "captcha_failed".into())
    );
    assert_eq!(
        try_session(&gw, Some("solved-elsewhere")).await,
        (StatusCode::FORBIDDEN, "captcha_failed".into())
    );
}

#[tokio::test]
async fn recaptcha_v3_scores_below_the_channel_threshold_are_refused() {
    let provider = Provider::start().await;
    let gw = gateway_with_captcha(
        &provider.verify_url(),
        CaptchaProvider::RecaptchaV3,
        Some(0.5),
    )
    .await;
    assert_eq!(try_session(&gw, Some("solved-v3")).await.0, StatusCode::OK);
    assert_eq!(
        try_session(&gw, Some("bot-v3")).await,
        (StatusCode::FORBIDDEN, "captcha_failed".into())
    );
}

#[tokio::test]
async fn a_provider_that_is_slow_broken_or_down_fails_closed() {
    let provider = Provider::start().await;
    let gw = gateway_with_captcha(&provider.verify_url(), CaptchaProvider::Hcaptcha, None).await;
    let unavailable = (
        StatusCode::SERVICE_UNAVAILABLE,
        "captcha_unavailable".to_owned(),
    );
    let started = std::time::Instant::now();
    assert_eq!(try_session(&gw, Some("slow")).await, unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout must cut a slow provider short"
    );
    assert_eq!(try_session(&gw, Some("broken")).await, unavailable);

    // Nothing listens on this port any more: connection refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/siteverify", listener.local_addr().unwrap())
    };
    let down = gateway_with_captcha(&closed, CaptchaProvider::Hcaptcha, None).await;
    assert_eq!(try_session(&down, Some("solved")).await, unavailable);
}

#[tokio::test]
async fn a_secret_the_provider_rejects_puts_the_channel_in_error_until_an_admin_fixes_it() {
    let provider = Provider::start().await;
    let gw = gateway_with_secret(
        &provider.verify_url(),
        CaptchaProvider::RecaptchaV2,
        None,
        "revoked-secret",
    )
    .await;
    assert_eq!(
        try_session(&gw, Some("solved")).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "captcha_unavailable".into()
        )
    );

    let admin = tests::client::agent_login(&gw).await;
    let list = tests::client::call(
        &gw,
        &admin,
        reqwest::Method::GET,
        "/v1/admin/channels",
        None,
    )
    .await;
    let demo = &list.body[0];
    assert_eq!(demo["state"], "error");
    assert!(demo["error"].as_str().unwrap().contains("secret"), "{demo}");

    let fix = json!({"captcha": {"provider": "recaptcha_v2", "site_key": "k", "secret": "the-channel-secret"}});
    let path = format!("/v1/admin/channels/{}", demo["id"].as_str().unwrap());
    let fixed = tests::client::call(&gw, &admin, reqwest::Method::PATCH, &path, Some(fix)).await;
    assert_eq!(fixed.body["state"], "online");
    assert_eq!(try_session(&gw, Some("solved")).await.0, StatusCode::OK);
}
