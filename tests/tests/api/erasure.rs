//! A contact erased on request, on SQLite and on PostgreSQL: nothing in any table names them
//! afterwards (every column of every table is searched for their ids, address and words), their
//! file's bytes are gone, receivers hear `contact.erased`; another visitor keeps everything.
//! Before, the export holds all of it. Who may do either.

use protocol::{VisitorClientFrame, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};
use std::time::Duration;
use tests::client::{agent_login, call, Visitor};
use tests::postgres::ScratchDatabase;
use tests::receiver::Receiver;
use tests::{TestGateway, SITE_ORIGIN};

use crate::deliveries::register;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Every column of every table of the gateway's database, but the full-text index's own.
async fn columns(db: &AnyPool, sqlite: bool) -> Vec<(String, String)> {
    let sql = if sqlite {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE 'message_search%'"
    } else {
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c \
         FROM information_schema.columns WHERE table_schema = current_schema()"
    };
    sqlx::query(sql)
        .fetch_all(db)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get::<String, _>("t"), row.get::<String, _>("c")))
        .filter(|(t, _)| t != "_sqlx_migrations")
        .collect()
}

/// Where `needle` appears: `table.column` for each column holding it.
async fn naming(db: &AnyPool, columns: &[(String, String)], needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column) in columns {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
        );
        let n: i64 = sqlx::query(&sql)
            .bind(format!("%{needle}%"))
            .fetch_one(db)
            .await
            .unwrap()
            .get("n");
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

fn blob_files(files: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, into);
            } else {
                into.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&files.join("blobs"), &mut found);
    found
}

async fn a_contact_is_exported_then_erased_leaving_no_trace(
    gw: TestGateway,
    files: &std::path::Path,
) {
    let channel = gw.demo_channel().await;
    let admin = agent_login(&gw).await;
    let receiver = Receiver::start().await;
    register(&gw, &receiver, json!({})).await;

    // Ada: a message with a file, an answer, a label, an address, a rating.
    let ada = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let upload = ada
        .upload(&gw, "wombat-invoice.pdf", "u1", PDF.to_vec())
        .await;
    assert_eq!(upload.status(), StatusCode::CREATED);
    let file: Value = upload.json().await.unwrap();
    let mut socket = ada.connect(&gw, None).await;
    socket
        .send(&VisitorClientFrame::Send {
            client_id: "a1".into(),
            text: "Wombatfood order for my farm".into(),
            attachments: vec![file["id"].as_str().unwrap().to_owned()],
        })
        .await;
    let VisitorServerFrame::Ack {
        conversation_id: id,
        ..
    } = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await
    else {
        unreachable!()
    };
    drop(socket);
    tests::client::agent_answers(&gw, &[("r1", "Your Wombatfood ships today")]).await;
    let contact = gw.conversation(&id).await.contact_id.unwrap();
    let contact_path = format!("/v1/contacts/{contact}");
    let named = call(
        &gw,
        &channel.secret,
        Method::PUT,
        &contact_path,
        Some(json!({"email": "ada.wombat@example.com", "first_name": "Ada"})),
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    call(
        &gw,
        &channel.secret,
        Method::PUT,
        &format!("{contact_path}/labels/farmer"),
        None,
    )
    .await;
    // Bob, another visitor, keeps everything.
    let bob =
        tests::client::visitor_writes(&gw, SITE_ORIGIN, "Bob asks about Wombatfood too").await;
    assert_eq!(blob_files(files).len(), 1);

    // Erasing waits for the chat to close.
    let erase = |token: String| {
        let url = gw.url(&contact_path);
        async move {
            tests::client::answer(
                reqwest::Client::new()
                    .delete(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    erase(channel.secret.clone())
        .await
        .assert_error(StatusCode::CONFLICT, "contact_in_conversation");
    let close = format!("/v1/channels/{}/conversations/{id}/close", channel.id);
    call(&gw, &channel.secret, Method::POST, &close, Some(json!({}))).await;
    let rated = reqwest::Client::new()
        .post(gw.url(&format!("/v1/visitor/conversations/{id}/rating")))
        .header("origin", SITE_ORIGIN)
        .bearer_auth(&ada.session.session_token)
        .json(&json!({"score": 5, "comment": "Wombat-grade service"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), StatusCode::NO_CONTENT);

    // The export holds it all.
    let export = call(
        &gw,
        &admin,
        Method::GET,
        &format!("{contact_path}/export"),
        None,
    )
    .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let body = &export.body;
    assert_eq!(body["contact"]["email"], "ada.wombat@example.com");
    assert_eq!(body["contact"]["labels"], json!(["farmer"]));
    let conversation = &body["conversations"][0];
    assert_eq!(body["conversations"].as_array().unwrap().len(), 1);
    let texts: Vec<&str> = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Wombatfood order for my farm",
            "Your Wombatfood ships today"
        ]
    );
    assert_eq!(
        conversation["messages"][0]["attachments"][0]["name"],
        "wombat-invoice.pdf"
    );
    assert_eq!(
        conversation["conversation"]["rating"]["comment"],
        "Wombat-grade service"
    );
    assert_eq!(conversation["events"][0]["kind"], "closed");
    assert_eq!(conversation["statistics"]["visitor_messages"], 1);

    // Who may: the channel's secret or an admin; not a plain agent, nobody without a login.
    let agent = crate::hostile::plain_agent(&gw, &admin).await;
    erase(agent.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let export_as_agent = call(
        &gw,
        &agent,
        Method::GET,
        &format!("{contact_path}/export"),
        None,
    )
    .await;
    assert_eq!(export_as_agent.status, StatusCode::FORBIDDEN);
    let anonymous = reqwest::Client::new()
        .delete(gw.url(&contact_path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Erased: every table searched for every trace of Ada.
    let db = {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&gw.database_url()).await.unwrap()
    };
    let sqlite = gw.database_url().starts_with("sqlite:");
    let columns = columns(&db, sqlite).await;
    assert!(columns.len() > 100, "{columns:?}");
    let needles = [
        id.clone(),
        contact.clone(),
        ada.session.visitor_id.clone(),
        "ada.wombat@example.com".to_owned(),
        "Wombatfood order".to_owned(),
        "Wombat-grade".to_owned(),
        "wombat-invoice".to_owned(),
    ];
    assert!(
        !naming(&db, &columns, &needles[0]).await.is_empty(),
        "the search finds what is there"
    );
    // Ada's page view is written (a flush racing the erasure would write it after).
    gw.state.store.flush_page_views().await.unwrap();
    let erased = erase(channel.secret.clone()).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert_eq!(erased.body["conversation_ids"], json!([id]));
    for needle in &needles[3..] {
        assert_eq!(
            naming(&db, &columns, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    // Its ids remain only in the `contact.erased` event that tells receivers to forget them.
    for needle in &needles[..3] {
        assert_eq!(
            naming(&db, &columns, needle).await,
            ["outbox_events.payload"],
            "{needle}"
        );
    }
    let events: Vec<String> =
        sqlx::query("SELECT event_type FROM outbox_events WHERE payload LIKE $1")
            .bind(format!("%{contact}%"))
            .fetch_all(&db)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get("event_type"))
            .collect();
    assert_eq!(events, ["contact.erased"]);
    if sqlite {
        // The index is written behind the appends; a search first indexes what is stored.
        let searched = call(
            &gw,
            &admin,
            Method::GET,
            "/v1/conversations?q=wombatfood",
            None,
        )
        .await;
        assert_eq!(searched.status, StatusCode::OK, "{}", searched.body);
        let indexed: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM message_search WHERE message_search MATCH 'wombatfood'",
        )
        .fetch_one(&db)
        .await
        .unwrap()
        .get("n");
        assert_eq!(
            indexed, 1,
            "Bob's message alone is left in the search index"
        );
    }
    assert!(blob_files(files).is_empty(), "the file's bytes are gone");
    let delivered = receiver
        .wait_for_event("contact.erased", Duration::from_secs(20))
        .await;
    assert_eq!(
        delivered.payload["data"]["erased"]["contact_id"],
        contact.as_str()
    );

    // Bob is untouched; Ada is gone.
    assert_eq!(gw.stored(&bob).await.len(), 1);
    let history = call(
        &gw,
        &admin,
        Method::GET,
        "/v1/conversations?q=wombatfood",
        None,
    )
    .await;
    assert_eq!(history.body["conversations"].as_array().unwrap().len(), 1);
    erase(admin)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    db.close().await;
}

#[tokio::test]
async fn erasure_on_sqlite() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let files = gw.files_dir();
    a_contact_is_exported_then_erased_leaving_no_trace(gw, &files).await;
}

#[tokio::test]
async fn erasure_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let files = tempfile::tempdir().unwrap();
    let files_url = url::Url::from_directory_path(files.path())
        .unwrap()
        .to_string();
    let gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.files_url = Some(files_url);
        c.webhooks_allow_private = true;
    })
    .await;
    a_contact_is_exported_then_erased_leaving_no_trace(gw, files.path()).await;
}
