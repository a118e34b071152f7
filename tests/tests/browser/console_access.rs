//! The console in the agent's language (its own words, the gateway's refusals and field
//! problems), and axe-core on its pages as an agent and an admin go
//! through them (login, the inbox with a waiting conversation, that conversation open, the
//! Channels page with a channel open, the rules of when the widget shows), in light and dark
//! mode and in Arabic, right to left: no violation allowed.

use serde_json::{json, Value};
use tests::browser::{by_testid, Browser, WAIT};
use tests::client::visitor_writes;
use tests::DemoStack;

/// A console in `locale` (the agent's choice, as the language switch keeps it), at its login.
async fn console_in(demo: &DemoStack, locale: &str, dark: bool) -> Browser {
    let agent = Browser::launch().await;
    if dark {
        agent.prefer_color_scheme("dark").await;
    }
    agent.goto(&demo.gateway.url("/console/")).await;
    agent
        .eval(
            "localStorage.setItem('livechat:console-locale', arguments[0]);",
            json!([locale]),
        )
        .await;
    agent.refresh().await;
    agent
        .wait_for_element("the login form", &by_testid("email"), WAIT)
        .await;
    agent
}

/// axe-core's findings on each page, by name; None without axe-core.
async fn console_violations(demo: &DemoStack, locale: &str, dark: bool) -> Option<Value> {
    let agent = console_in(demo, locale, dark).await;
    let console = demo.gateway.url("/console/");
    let login = agent.accessibility_violations("html").await?;
    agent.log_into_console(&console).await;
    agent
        .wait_for_element("the conversation listed", &by_testid("conversation"), WAIT)
        .await;
    let inbox = agent.accessibility_violations("html").await?;
    agent.click_on("conversation").await;
    agent
        .wait_for_element("the visitor's message", &by_testid("thread-message"), WAIT)
        .await;
    let conversation = agent.accessibility_violations("html").await?;
    agent.click_on("nav-channels").await;
    agent.click_on("channel-open").await;
    agent
        .wait_for_element("the appearance", &by_testid("appearance-preview"), WAIT)
        .await;
    let channels = agent.accessibility_violations("html").await?;
    agent.click_on("open-rules").await;
    agent
        .wait_for_element("the rules' preview", &by_testid("preview-verdict"), WAIT)
        .await;
    let rules = agent.accessibility_violations("html").await?;
    Some(json!({
        "login": login, "inbox": inbox, "conversation": conversation,
        "channels": channels, "rules": rules
    }))
}

#[tokio::test]
async fn axe_finds_nothing_wrong_with_the_console_light_or_dark() {
    let demo = DemoStack::start().await;
    visitor_writes(&demo.gateway, &demo.site, "Do you ship to Norway?").await;
    let clean = json!({
        "login": [], "inbox": [], "conversation": [], "channels": [], "rules": []
    });
    for (locale, dark) in [("en", false), ("en", true), ("ar", false)] {
        let Some(found) = console_violations(&demo, locale, dark).await else {
            return;
        };
        assert_eq!(found, clean, "{locale}, dark: {dark}");
    }
}

#[tokio::test]
async fn the_console_speaks_russian_and_arabic_right_to_left() {
    let demo = DemoStack::start().await;
    visitor_writes(&demo.gateway, &demo.site, "Do you ship to Norway?").await;
    let russian = console_in(&demo, "ru", false).await;
    let login = russian
        .eval(
            "return [document.documentElement.lang, document.querySelector('[data-testid=login]').textContent, document.title];",
            json!([]),
        )
        .await;
    assert_eq!(login, json!(["ru", "Войти", "Онлайн-чат — консоль агента"]));
    // The gateway's refusal, by its code, in Russian.
    for (field, text) in [("email", gateway::demo::AGENT_EMAIL), ("password", "wrong")] {
        let input = russian
            .wait_for_element(field, &by_testid(field), WAIT)
            .await;
        russian.type_into(&input, text).await;
    }
    russian.click_on("login").await;
    let refused = russian
        .wait_for(
            "the refusal",
            "return document.querySelector('[data-testid=login-error]')?.textContent;",
            WAIT,
        )
        .await;
    assert_eq!(refused, json!("Неверный email или пароль."));
    russian
        .log_into_console(&demo.gateway.url("/console/"))
        .await;
    let tab = russian
        .wait_for(
            "the waiting tab in Russian",
            "return document.querySelector('[data-testid=tab-waiting]')?.textContent;",
            WAIT,
        )
        .await;
    assert!(tab.as_str().unwrap().starts_with("Ожидают"), "{tab}");
    // An admin's field problems, which the gateway names by code and facts, in Russian too:
    // a number with Russian grouping.
    russian.click_on("nav-channels").await;
    russian.click_on("channel-open").await;
    russian.retype("edit-name", " ").await;
    russian.retype("edit-timeout", "0").await;
    russian.click_on("save-channel").await;
    let problems = russian
        .wait_for(
            "the field problems",
            "const said = id => document.querySelector(`[data-testid=${id}]`)?.textContent.replace(/\\s/g, ' ');              const name = said('error-name'), timeout = said('error-inactivity_timeout_secs');              return name && timeout && [name, timeout];",
            WAIT,
        )
        .await;
    assert_eq!(
        problems,
        json!(["не может быть пустым", "целое число секунд от 1 до 604 800"])
    );

    let arabic = console_in(&demo, "ar", false).await;
    arabic
        .log_into_console(&demo.gateway.url("/console/"))
        .await;
    arabic
        .wait_for_element("the conversation listed", &by_testid("conversation"), WAIT)
        .await;
    // Right to left: the inbox column on the right of the window, the details on the left.
    let layout = arabic
        .eval(
            "const inbox = document.querySelector('.inbox-column').getBoundingClientRect(),                    details = document.querySelector('[data-testid=visitor-details]').getBoundingClientRect();              return [document.documentElement.dir, getComputedStyle(document.body).direction,                      inbox.right === innerWidth || Math.abs(inbox.right - innerWidth) < 2, details.left < 2,                      document.querySelector('[data-testid=nav-inbox]').textContent];",
            json!([]),
        )
        .await;
    assert_eq!(layout, json!(["rtl", "rtl", true, true, "البريد الوارد"]));
}
