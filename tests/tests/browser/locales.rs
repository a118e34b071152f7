//! The widget in the page's language: Russian with its three plural forms, Arabic written right
//! to left (the panel mirrored, each message's direction its own, the launcher on the other
//! side of a right-to-left page), asserted on what the browser computes, not on pixels.

use serde_json::{json, Value};
use tests::browser::{by_testid, in_widget, widget_query, Browser, WAIT};
use tests::client::agent_answers;
use tests::DemoStack;

/// Loads the demo page, gives it `lang` (and `dir`), and opens the chat.
async fn open_in(visitor: &Browser, page: &str, lang: &str, dir: &str) {
    visitor.goto(page).await;
    let launcher = visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    visitor
        .eval(
            "document.documentElement.lang = arguments[0]; document.documentElement.dir = arguments[1];",
            json!([lang, dir]),
        )
        .await;
    visitor.click(&launcher).await;
    visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
}

async fn badge_title_once(visitor: &Browser, count: &str) -> Value {
    visitor
        .wait_for(
            &format!("the count at {count}"),
            &format!(
                "const b = {}; return b && b.textContent === '{count}' && b.title;",
                widget_query(".lc-launcher > b")
            ),
            WAIT,
        )
        .await
}

#[tokio::test]
async fn a_russian_page_gets_the_panel_in_russian_counting_in_its_three_forms() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    open_in(&visitor, &format!("{}/", demo.site), "ru", "ltr").await;
    let panel = visitor
        .eval(
            &format!(
                "const r = {}; return [r.lang, r.dir, r.querySelector('[data-testid=composer]').placeholder, \
                 r.querySelector('[data-testid=send]').textContent];",
                widget_query(".lc-root > div")
            ),
            json!([]),
        )
        .await;
    assert_eq!(
        panel,
        json!(["ru", "ltr", "Напишите сообщение…", "Отправить"])
    );
    visitor.write_in_panel("Есть ли он зелёного цвета?").await;
    let launcher = visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    visitor.click(&launcher).await;

    agent_answers(&demo.gateway, &[("r1", "Минуту.")]).await;
    assert_eq!(
        badge_title_once(&visitor, "1").await,
        json!("1 новое сообщение")
    );
    agent_answers(&demo.gateway, &[("r2", "Смотрю."), ("r3", "Да, есть.")]).await;
    assert_eq!(
        badge_title_once(&visitor, "3").await,
        json!("3 новых сообщения")
    );
    agent_answers(
        &demo.gateway,
        &[("r4", "Цвет хаки."), ("r5", "И оливковый.")],
    )
    .await;
    assert_eq!(
        badge_title_once(&visitor, "5").await,
        json!("5 новых сообщений")
    );
}

#[tokio::test]
async fn an_arabic_page_mirrors_the_panel_and_the_launcher_and_each_message_keeps_its_direction() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    open_in(&visitor, &format!("{}/", demo.site), "ar", "rtl").await;
    // The launcher moves to the left of a right-to-left page.
    let host = visitor
        .eval(
            "const host = document.querySelector('livechat-widget'); \
             return [getComputedStyle(host).left, host.getBoundingClientRect().left];",
            json!([]),
        )
        .await;
    assert_eq!(host, json!(["20px", 20]));
    let panel = visitor
        .eval(
            &format!(
                "const r = {}, head = r.querySelector('.lc-head'), close = r.querySelector('.lc-close'); \
                 return [r.dir, getComputedStyle(r.querySelector('.lc-panel')).direction, \
                 close.getBoundingClientRect().right - head.getBoundingClientRect().left < 60, \
                 r.querySelector('[data-testid=send]').textContent];",
                widget_query(".lc-root > div")
            ),
            json!([]),
        )
        .await;
    assert_eq!(
        panel,
        json!(["rtl", "rtl", true, "إرسال"]),
        "the close button at the header's left"
    );
    visitor
        .write_in_panel("مرحبا، هل الخيمة Ridgeline 2 متوفرة؟")
        .await;
    visitor.write_in_panel("Ridgeline 2: is it in stock?").await;
    let directions = visitor
        .eval(
            &format!(
                "return [...{}.querySelectorAll('[data-testid=message] .lc-text')].map(t => [t.dir, getComputedStyle(t).direction]);",
                widget_query(".lc-root > div")
            ),
            json!([]),
        )
        .await;
    assert_eq!(directions, json!([["auto", "rtl"], ["auto", "ltr"]]));
}

#[tokio::test]
async fn an_admin_words_the_russian_panel_on_the_channels_page() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;
    admin
        .wait_for_element("the texts", &by_testid("edit-texts-locale"), WAIT)
        .await;
    admin.change_value("edit-texts-locale", "ru").await;
    let send = admin
        .wait_for_element(
            "the Russian send button's text",
            "return [...document.querySelectorAll('[data-testid=\"edit-text-send\"]')].find(i => i.placeholder === 'Отправить');",
            WAIT,
        )
        .await;
    admin.type_into(&send, "Послать").await;
    admin.click_on("save-texts").await;
    for _ in 0..100 {
        let channel = demo.gateway.demo_channel().await;
        if !channel.texts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stored = demo.gateway.demo_channel().await.texts;
    assert_eq!(
        serde_json::to_value(&stored).unwrap(),
        json!({"ru": {"send": "Послать"}})
    );

    let visitor = Browser::launch().await;
    open_in(&visitor, &format!("{}/", demo.site), "ru", "ltr").await;
    let send = visitor
        .eval(
            &format!("return {}.textContent;", widget_query("[data-testid=send]")),
            json!([]),
        )
        .await;
    assert_eq!(send, json!("Послать"));
}
