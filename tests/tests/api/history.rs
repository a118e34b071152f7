//! The history of conversations and its search, on SQLite and on PostgreSQL: words of messages
//! in Russian, Portuguese and Indonesian are found as the start of words, a contact by a part of
//! its email; filters narrow, pages follow each other, and only agents may look.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::client::{agent_login, call, visitor_writes, Answer};
use tests::postgres::ScratchDatabase;
use tests::{TestGateway, SITE_ORIGIN};

async fn history(gw: &TestGateway, token: &str, query: &str) -> Answer {
    call(
        gw,
        token,
        Method::GET,
        &format!("/v1/conversations?{query}"),
        None,
    )
    .await
}

/// The ids found, newest first.
async fn found(gw: &TestGateway, token: &str, query: &str) -> Vec<String> {
    let page = history(gw, token, query).await;
    assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
    ids(&page.body)
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn q(words: &str) -> String {
    format!("q={}", urlencoding(words))
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn the_history_finds_words_in_any_language_and_contacts(gw: TestGateway) {
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let russian = visitor_writes(&gw, SITE_ORIGIN, "Добрый день! Где мой заказ номер 42?").await;
    let portuguese = visitor_writes(
        &gw,
        SITE_ORIGIN,
        "Olá, preciso de ajuda com a instalação do app",
    )
    .await;
    let indonesian = visitor_writes(&gw, SITE_ORIGIN, "Halo, pesanan saya belum sampai").await;
    let contact = gw.conversation(&indonesian).await.contact_id.unwrap();
    let named = call(
        &gw,
        &channel.secret,
        Method::PUT,
        &format!("/v1/contacts/{contact}"),
        Some(json!({"email": "budi.santoso@example.co.id", "first_name": "Budi"})),
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);

    // Everything, newest first.
    assert_eq!(
        found(&gw, &admin, "").await,
        [indonesian.as_str(), &portuguese, &russian]
    );
    // A word as the start of words, with the line it matched.
    let page = history(&gw, &admin, &q("заказ")).await;
    assert_eq!(ids(&page.body), [russian.as_str()]);
    let line = &page.body["conversations"][0]["matched"];
    assert_eq!(line["text"], "Добрый день! Где мой заказ номер 42?");
    assert_eq!(
        (line["seq"].as_i64(), line["author"].as_str()),
        (Some(1), Some("visitor"))
    );
    assert_eq!(found(&gw, &admin, &q("ЗАКАЗ 42")).await, [russian.as_str()]);
    assert_eq!(
        found(&gw, &admin, &q("instalação")).await,
        [portuguese.as_str()]
    );
    assert_eq!(
        found(&gw, &admin, &q("instal")).await,
        [portuguese.as_str()]
    );
    assert_eq!(
        found(&gw, &admin, &q("pesanan")).await,
        [indonesian.as_str()]
    );
    // Every word must be there.
    assert!(found(&gw, &admin, &q("pesanan заказ")).await.is_empty());
    assert!(found(&gw, &admin, &q("Lisboa")).await.is_empty());
    // A contact by a part of its address or name: no message line matched.
    let by_email = history(&gw, &admin, &q("santoso@example")).await;
    assert_eq!(ids(&by_email.body), [indonesian.as_str()]);
    assert!(by_email.body["conversations"][0]["matched"].is_null());
    assert_eq!(
        by_email.body["conversations"][0]["contact_email"],
        "budi.santoso@example.co.id"
    );
    assert_eq!(by_email.body["conversations"][0]["contact_name"], "Budi");
    // Punctuation is no query syntax.
    assert!(found(&gw, &admin, &q("\" * OR ( NEAR")).await.is_empty());

    // Filters: status, rating, label, period; pages with a cursor.
    let close = format!("/v1/channels/{}/conversations/{russian}/close", channel.id);
    let closed = call(&gw, &channel.secret, Method::POST, &close, Some(json!({}))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(
        found(&gw, &admin, "status=closed").await,
        [russian.as_str()]
    );
    assert_eq!(
        found(&gw, &admin, &format!("status=waiting&{}", q("заказ")))
            .await
            .len(),
        0
    );
    assert_eq!(found(&gw, &admin, "rating=none").await.len(), 3);
    assert!(found(&gw, &admin, "rating=5").await.is_empty());
    let labelled = call(
        &gw,
        &channel.secret,
        Method::PUT,
        &format!("/v1/contacts/{contact}/labels/vip"),
        None,
    )
    .await;
    assert_eq!(labelled.status, StatusCode::OK, "{}", labelled.body);
    assert_eq!(found(&gw, &admin, "label=vip").await, [indonesian.as_str()]);
    let future = gateway::now_ms() + 60_000;
    assert!(found(&gw, &admin, &format!("from_ms={future}"))
        .await
        .is_empty());
    assert_eq!(
        found(&gw, &admin, &format!("to_ms={future}")).await.len(),
        3
    );
    let first = history(&gw, &admin, "limit=2").await;
    assert_eq!(ids(&first.body), [indonesian.as_str(), &portuguese]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = history(&gw, &admin, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&rest.body), [russian.as_str()]);
    assert!(rest.body["next_cursor"].is_null());

    // Agents only; a bad filter is said by field.
    let anonymous = reqwest::Client::new()
        .get(gw.url("/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    history(&gw, &channel.secret, "")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let bad = history(&gw, &admin, "rating=7&status=lost").await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(bad.body["error"]["problems"]["rating"]["code"], "one_of");
}

#[tokio::test]
async fn the_history_on_sqlite() {
    let gw = TestGateway::spawn().await;
    the_history_finds_words_in_any_language_and_contacts(gw).await;
}

#[tokio::test]
async fn the_history_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let gw = TestGateway::spawn_with(move |c| c.database_url = url).await;
    the_history_finds_words_in_any_language_and_contacts(gw).await;
}

/// The rowid of a conversation's first message (SQLite).
async fn first_rowid(db: &sqlx::AnyPool, conversation: &str) -> i64 {
    sqlx::query_scalar("SELECT rowid FROM messages WHERE conversation_id = $1 AND seq = 1")
        .bind(conversation)
        .fetch_one(db)
        .await
        .unwrap()
}

/// SQLite indexes messages behind the appends, from a mark: erasing the newest messages lowers
/// it, so a message that reuses their rowid is still indexed, and the index stays the content's.
#[tokio::test]
async fn the_search_index_keeps_up_with_erasures_on_sqlite() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let first = visitor_writes(&gw, SITE_ORIGIN, "kumquat alpha").await;
    let erased = visitor_writes(&gw, SITE_ORIGIN, "kumquat beta").await;
    // Found at once: a search indexes what was acknowledged before it.
    assert_eq!(
        found(&gw, &admin, &q("kumquat")).await,
        [erased.as_str(), &first]
    );

    let db = {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&gw.database_url()).await.unwrap()
    };
    let erased_rowid = first_rowid(&db, &erased).await;
    let close = format!("/v1/channels/{}/conversations/{erased}/close", channel.id);
    call(&gw, &channel.secret, Method::POST, &close, Some(json!({}))).await;
    let contact = gw.conversation(&erased).await.contact_id.unwrap();
    let erase = call(
        &gw,
        &channel.secret,
        Method::DELETE,
        &format!("/v1/contacts/{contact}"),
        None,
    )
    .await;
    assert!(erase.status.is_success(), "{}", erase.body);
    assert!(found(&gw, &admin, &q("beta")).await.is_empty());

    let next = visitor_writes(&gw, SITE_ORIGIN, "kumquat gamma").await;
    assert_eq!(
        first_rowid(&db, &next).await,
        erased_rowid,
        "the rowid is reused"
    );
    assert_eq!(found(&gw, &admin, &q("gamma")).await, [next.as_str()]);
    assert_eq!(
        found(&gw, &admin, &q("kumquat")).await,
        [next.as_str(), &first]
    );
    // FTS5 compares its index with the messages themselves.
    sqlx::query("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
}

#[tokio::test]
async fn a_transcript_downloads_as_text_or_html_for_agents_and_its_channel() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let id = visitor_writes(
        &gw,
        SITE_ORIGIN,
        "<img src=x onerror=alert(1)> Where is it?",
    )
    .await;
    tests::client::agent_answers(&gw, &[("r1", "On its way, Ada.")]).await;
    let base = gw.url("");
    let download = |token: String, path: String| {
        let url = format!("{base}{path}");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let agent = crate::hostile::plain_agent(&gw, &admin).await;
    let text = download(agent.clone(), format!("/v1/conversations/{id}/transcript")).await;
    assert_eq!(text.status(), StatusCode::OK);
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        text.headers()["content-disposition"],
        format!("attachment; filename=\"conversation-{id}.txt\"").as_str()
    );
    let body = text.text().await.unwrap();
    assert!(
        body.contains("Visitor (") && body.contains("<img src=x onerror=alert(1)> Where is it?"),
        "{body}"
    );
    assert!(
        body.contains(&format!("{} (", gateway::demo::AGENT_NAME))
            && body.contains("On its way, Ada."),
        "{body}"
    );

    let path = format!(
        "/v1/channels/{}/conversations/{id}/transcript?format=html",
        channel.id
    );
    let html = download(channel.secret.clone(), path.clone()).await;
    assert_eq!(html.status(), StatusCode::OK);
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(html.headers()["content-security-policy"], "sandbox");
    let body = html.text().await.unwrap();
    assert!(
        body.contains("&lt;img src=x onerror=alert(1)&gt;") && !body.contains("<img"),
        "{body}"
    );

    // Nobody else: no credential, another channel's secret, a bad format.
    let anonymous = reqwest::Client::new()
        .get(gw.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let other = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "Other", "inactivity_timeout_secs": 600})),
    )
    .await;
    let other_secret = other.body["secret"].as_str().unwrap().to_owned();
    let other_path = format!(
        "/v1/channels/{}/conversations/{id}/transcript",
        other.body["id"].as_str().unwrap()
    );
    assert_eq!(
        download(other_secret.clone(), other_path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        download(other_secret, path).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let bad = download(
        admin,
        format!("/v1/conversations/{id}/transcript?format=pdf"),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
