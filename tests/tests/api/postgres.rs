//! The same gateway on PostgreSQL, the store for several gateways behind a load balancer: every
//! kind of SQL the gateway runs (migrations, the visibility count, routing's compare-and-set,
//! reopening, contacts, join links, the all-or-none channel delete) on a scratch database.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, agent_present, bootstrap, call, login, visitor_writes, Visitor};
use tests::postgres::ScratchDatabase;
use tests::{TestGateway, SITE_ORIGIN};

#[tokio::test]
async fn the_whole_flow_runs_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let mut gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.reopen_window_secs = 3600;
    })
    .await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;

    // Visibility: presence counted by the store.
    let rules = json!({"agents_online": {"enabled": true}});
    let path = format!("/v1/channels/{}/rules", channel.id);
    assert_eq!(
        call(&gw, &channel.secret, Method::PUT, &path, Some(rules))
            .await
            .status,
        StatusCode::OK
    );
    let body = json!({"email": "ann@example.test", "name": "Ann", "password": "a long password", "capacity": 2});
    let synced = call(
        &gw,
        &admin,
        Method::PUT,
        "/v1/admin/agents/external/ann",
        Some(body),
    )
    .await;
    assert_eq!(synced.status, StatusCode::CREATED, "{}", synced.body);
    let ann_id = synced.body["id"].as_str().unwrap().to_owned();
    let ann = login(&gw, "ann@example.test", "a long password").await;
    let _console = agent_present(&gw, &ann).await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(page.visibility, protocol::Visibility::Visible);

    // Routing assigns; the capacity guard holds.
    let first = visitor_writes(&gw, SITE_ORIGIN, "one").await;
    let second = visitor_writes(&gw, SITE_ORIGIN, "two").await;
    let third = visitor_writes(&gw, SITE_ORIGIN, "three").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let held = [&first, &second, &third].len();
        let mut assigned = 0;
        for id in [&first, &second, &third] {
            if gw.conversation(id).await.assigned_agent_id.as_deref() == Some(ann_id.as_str()) {
                assigned += 1;
            }
        }
        if assigned == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{assigned} of {held} assigned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        gw.conversation(&third).await.assigned_agent_id,
        None,
        "capacity 2"
    );

    // Close, and the visitor writes again: reopened, contact kept and labelled.
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut widget = visitor.connect(&gw, None).await;
    let (conversation_id, _) = widget.say("m1", "message 1").await;
    call(
        &gw,
        &admin,
        Method::POST,
        &format!("/v1/conversations/{conversation_id}/close"),
        None,
    )
    .await;
    let (again, _) = widget.say("m2", "message 2").await;
    assert_eq!(again, conversation_id, "reopened");
    let contact = gw.conversation(&again).await.contact_id.unwrap();
    let labelled = call(
        &gw,
        &channel.secret,
        Method::PUT,
        &format!("/v1/contacts/{contact}/labels/vip"),
        None,
    )
    .await;
    assert_eq!(labelled.body["labels"], json!(["vip"]), "{}", labelled.body);

    // A join link, used once.
    let link = call(
        &gw,
        &admin,
        Method::POST,
        &format!("/v1/conversations/{again}/agent-link"),
        Some(json!({"agent_id": ann_id})),
    )
    .await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = link.body["url"].as_str().unwrap();
    assert_eq!(
        no_redirects.post(url).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        no_redirects.post(url).send().await.unwrap().status(),
        StatusCode::GONE
    );

    // Migrations run once; history survives a restart.
    gw.restart().await;
    assert_eq!(gw.stored(&again).await.len(), 2);

    // All or none: refused while conversations are open, then everything goes.
    let delete = json!({"ids": [channel.id]});
    call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels/delete",
        Some(delete.clone()),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "channel_in_use");
    for id in [&first, &second, &third, &again] {
        call(
            &gw,
            &admin,
            Method::POST,
            &format!("/v1/conversations/{id}/close"),
            None,
        )
        .await;
    }
    let deleted = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels/delete",
        Some(delete),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    gw.state.store.close().await;
    db.drop().await;
}

/// The outbox, the delivery worker's queries and the REST API's filters on PostgreSQL.
#[tokio::test]
async fn webhooks_and_the_rest_api_run_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.webhooks_allow_private = true;
        c.webhook_retry_base_ms = 50;
    })
    .await;
    let channel = gw.demo_channel().await;
    let receiver = tests::receiver::Receiver::start().await;
    let endpoint = crate::deliveries::register(&gw, &receiver, json!({})).await;
    receiver.fail_next([tests::receiver::Failure::Status(500)]);
    gw.edit_demo_channel(|c| c.inactivity_timeout_secs = 1)
        .await;

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, _) = socket.say("m1", "Hello").await;
    socket.say("m2", "Still there?").await;
    socket
        .recv_until(|f: &protocol::VisitorServerFrame| {
            matches!(f, protocol::VisitorServerFrame::SessionEnded { .. })
        })
        .await;
    let base = format!("/v1/channels/{}/conversations", channel.id);
    let open = call(
        &gw,
        &channel.secret,
        Method::GET,
        &format!("{base}?status=waiting&limit=1"),
        None,
    )
    .await;
    assert_eq!(open.body["conversations"][0]["id"], conversation.as_str());
    let next = open.body["next_cursor"].as_str().unwrap();
    let rest = call(
        &gw,
        &channel.secret,
        Method::GET,
        &format!("{base}?cursor={next}"),
        None,
    )
    .await;
    assert_eq!(rest.body["conversations"], json!([]));
    let closed = call(
        &gw,
        &channel.secret,
        Method::POST,
        &format!("{base}/{conversation}/close"),
        None,
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);

    let accepted = receiver
        .wait_for(5, std::time::Duration::from_secs(20))
        .await;
    let types: Vec<&str> = accepted.iter().map(|d| d.event_type()).collect();
    assert_eq!(
        types,
        [
            "conversation.created",
            "message.created",
            "message.created",
            "visitor.session_ended",
            "conversation.closed"
        ]
    );
    assert_eq!(receiver.forged(), 0);
    let log = crate::deliveries::delivered_log(&gw, &endpoint).await;
    assert_eq!(log.len(), 5);
    let replay = format!(
        "/v1/channels/{}/webhooks/{endpoint}/deliveries/{}/replay",
        channel.id,
        log[0]["id"].as_str().unwrap()
    );
    assert_eq!(
        call(&gw, &channel.secret, Method::POST, &replay, None)
            .await
            .status,
        StatusCode::OK
    );
    receiver
        .wait_for(6, std::time::Duration::from_secs(20))
        .await;
}

#[tokio::test]
async fn files_are_attached_and_read_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    let (url, files_url) = (
        db.url.clone(),
        url::Url::from_directory_path(files.path())
            .unwrap()
            .to_string(),
    );
    let gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.files_url = Some(files_url);
    })
    .await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let pdf = b"%PDF-1.4\non postgres\n%%EOF\n".to_vec();
    let upload = || {
        reqwest::Client::new()
            .post(gw.url("/v1/visitor/files"))
            .query(&[("name", "a.pdf"), ("key", "k1")])
            .header("origin", SITE_ORIGIN)
            .bearer_auth(&visitor.session.session_token)
            .body(pdf.clone())
            .send()
    };
    let file: protocol::Attachment = upload().await.unwrap().json().await.unwrap();
    let again: protocol::Attachment = upload().await.unwrap().json().await.unwrap();
    assert_eq!(file.id, again.id, "a retried upload is the same file");
    let mut socket = visitor.connect(&gw, None).await;
    socket
        .send(&protocol::VisitorClientFrame::Send {
            client_id: "m1".into(),
            text: String::new(),
            attachments: vec![file.id.clone()],
        })
        .await;
    let ack = socket
        .recv_until(|f: &protocol::VisitorServerFrame| {
            matches!(f, protocol::VisitorServerFrame::Ack { .. })
        })
        .await;
    let protocol::VisitorServerFrame::Ack {
        conversation_id, ..
    } = ack
    else {
        unreachable!()
    };
    assert_eq!(
        gw.conversation(&conversation_id).await.last_text,
        "📎 a.pdf"
    );
    assert_eq!(
        gw.stored(&conversation_id).await[0].attachments,
        vec![file.clone()]
    );
    let agent = agent_login(&gw).await;
    let served = reqwest::Client::new()
        .get(gw.url(&format!("/v1/agent/files/{}", file.id)))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), pdf.as_slice());
}
