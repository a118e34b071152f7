//! The channel's gate as a visitor meets it in the browser.

use std::time::Duration;
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::provider::Provider;
use tests::DemoStack;

#[tokio::test]
async fn a_captcha_protected_channel_asks_the_visitor_first_and_then_opens_the_chat() {
    let provider = Provider::start().await;
    let (verify_url, script_url) = (provider.verify_url(), provider.script_url());
    let demo = DemoStack::start_with(move |c| {
        c.captcha_verify_url = Some(verify_url);
        c.captcha_script_url = Some(script_url);
    })
    .await;
    demo.gateway
        .edit_demo_channel(|c| {
            c.captcha = Some(gateway::store::CaptchaSettings {
                provider: protocol::CaptchaProvider::Turnstile,
                site_key: "demo-site-key".into(),
                secret: "the-channel-secret".into(),
                min_score: None,
            })
        })
        .await;

    let browser = Browser::launch().await;
    browser.open_chat(&format!("{}/", demo.site)).await;
    let status = format!(
        "const s = {}; return s && s.dataset.state;",
        widget_query("[data-testid=status]")
    );
    assert_eq!(
        browser.wait_for("the captcha prompt", &status, WAIT).await,
        "captcha"
    );
    // Nobody asked the provider yet: the chat waits for the person.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(provider.requests().is_empty());

    browser
        .click(
            &browser
                .wait_for_element(
                    "the challenge",
                    &in_widget("[data-testid=captcha-solve]"),
                    WAIT,
                )
                .await,
        )
        .await;
    browser
        .wait_for(
            "the chat online",
            &format!(
                "const s = {}; return s && s.dataset.state === 'online';",
                widget_query("[data-testid=status]")
            ),
            WAIT,
        )
        .await;
    let checked = provider
        .requests()
        .pop()
        .expect("the gateway verified the token");
    assert_eq!(checked["secret"], "the-channel-secret");
    assert_eq!(checked["response"], "solved-in-browser:demo-site-key");

    let composer = browser
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    browser
        .type_into(&composer, "Hello after the captcha\n")
        .await;
    browser
        .wait_for(
            "the ack",
            &format!(
                "const m = {}; return m && m.dataset.state === 'sent';",
                widget_query("[data-testid=message]")
            ),
            WAIT,
        )
        .await;
    browser.quit().await;
}
