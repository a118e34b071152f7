//! The History page in headless Chromium: every conversation listed, a Russian word found with
//! the line it matched marked, a row opened in the inbox; then the contact of a closed
//! conversation erased from beside it, after a confirmation. Checked by axe-core, light and
//! dark, with screenshots in `target/screenshots`.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::browser::{by_testid, Browser, WAIT};
use tests::client::{agent_login, call, visitor_writes};
use tests::DemoStack;

#[tokio::test]
async fn history_finds_a_word_opens_the_conversation_and_erases_its_contact() {
    let demo = DemoStack::start().await;
    let gw = &demo.gateway;
    let admin = agent_login(gw).await;
    let channel = gw.demo_channel().await;
    let russian = visitor_writes(gw, &demo.site, "Здравствуйте! Где мой заказ номер 42?").await;
    visitor_writes(gw, &demo.site, "Olá, preciso de ajuda com a instalação").await;
    visitor_writes(gw, &demo.site, "Halo, pesanan saya belum sampai").await;
    let close = format!("/v1/channels/{}/conversations/{russian}/close", channel.id);
    let closed = call(gw, &channel.secret, Method::POST, &close, Some(json!({}))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);

    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    // Dark first: the light run ends by erasing.
    for dark in [true, false] {
        let agent = Browser::launch().await;
        if dark {
            agent.prefer_color_scheme("dark").await;
        }
        agent.log_into_console(&gw.url("/console/")).await;
        agent.click_on("nav-history").await;
        agent
            .wait_for(
                "every conversation",
                "return document.querySelectorAll('[data-testid=history-row]').length === 3;",
                WAIT,
            )
            .await;
        let search = agent
            .wait_for_element("the search", &by_testid("history-search"), WAIT)
            .await;
        agent.type_into(&search, "заказ\n").await;
        let found = agent
            .wait_for(
                "the Russian conversation alone, its word marked",
                "const rows = document.querySelectorAll('[data-testid=history-row]'); \
                 const marks = [...document.querySelectorAll('[data-testid=history-match] mark')]; \
                 return rows.length === 1 && marks.length ? { \
                   marks: marks.map(m => m.textContent), \
                   line: document.querySelector('[data-testid=history-match]').textContent, \
                   transcript: document.querySelector('[data-testid=transcript-html]').getAttribute('href') } : null;",
                WAIT,
            )
            .await;
        assert_eq!(found["marks"], json!(["заказ"]), "{found}");
        assert_eq!(found["line"], "Здравствуйте! Где мой заказ номер 42?");
        assert_eq!(
            found["transcript"],
            format!("/v1/conversations/{russian}/transcript?format=html")
        );
        agent
            .screenshot(&shots.join(if dark {
                "history-dark.png"
            } else {
                "history.png"
            }))
            .await;
        if let Some(violations) = agent.accessibility_violations("html").await {
            assert_eq!(violations, json!([]), "dark: {dark}");
        }
        if dark {
            agent.quit().await;
            continue;
        }

        // Opened in the inbox, with its contact beside it; an admin erases the contact.
        agent.click_on("history-open").await;
        agent
            .wait_for(
                "the conversation on screen",
                "return [...document.querySelectorAll('.msg')].some(m => m.textContent.includes('Где мой заказ'));",
                WAIT,
            )
            .await;
        let transcript = agent
            .eval(
                "return document.querySelector('[data-testid=details-transcript-text]')?.getAttribute('href') ?? null;",
                json!([]),
            )
            .await;
        assert_eq!(
            transcript,
            format!("/v1/conversations/{russian}/transcript")
        );
        agent.click_on("contact-erase").await;
        let warning = agent
            .wait_for(
                "the warning",
                "return document.querySelector('[data-testid=erase-warning]')?.textContent ?? null;",
                WAIT,
            )
            .await;
        assert!(warning.as_str().unwrap().contains("for good"), "{warning}");
        agent.click_on("contact-erase-confirm").await;
        agent
            .wait_for(
                "the contact and its conversation gone from the screen",
                "return !document.querySelector('[data-testid=contact-name]') \
                    && ![...document.querySelectorAll('.msg')].some(m => m.textContent.includes('Где мой заказ'));",
                WAIT,
            )
            .await;
        agent.quit().await;
    }
    let gone = call(
        gw,
        &admin,
        Method::GET,
        &format!("/v1/conversations?q={}", "%D0%B7%D0%B0%D0%BA%D0%B0%D0%B7"),
        None,
    )
    .await;
    assert_eq!(gone.body["conversations"], json!([]), "{}", gone.body);
    let rest = call(gw, &admin, Method::GET, "/v1/conversations", None).await;
    assert_eq!(rest.body["conversations"].as_array().unwrap().len(), 2);
}
