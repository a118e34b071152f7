//! The host page in charge: visitors the site identifies with a signed token (matched across
//! devices, their anonymous history merged), identity required, the page's unverified
//! attributes, who is on the site now, conversations the agents' side starts (refused on
//! receptive channels), and the proactive greeting.

use protocol::{ChatMessage, SessionCreated, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::client::{
    agent_login, bootstrap, call, get, identity_token, page_view, patch_demo_channel, post,
    recheck, visitors_now, Answer, Socket, Visitor,
};
use tests::postgres::ScratchDatabase;
use tests::{TestGateway, SITE_ORIGIN};

use crate::hostile::{fingerprint, other_channel, plain_agent};

async fn demo_secret(gw: &TestGateway) -> String {
    gw.demo_channel()
        .await
        .identity_secret
        .expect("a new channel has an identity secret")
}

/// `POST /v1/sessions` with the page view's ticket and these extra fields.
async fn session_with(gw: &TestGateway, ticket: &str, extra: Value) -> Answer {
    let mut body = json!({"channel_key": "demo", "visit_ticket": ticket,
                          "page_url": format!("{SITE_ORIGIN}/pricing")});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    post(&gw.url("/v1/sessions"), Some(SITE_ORIGIN), &body).await
}

fn created(answer: Answer) -> SessionCreated {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    serde_json::from_value(answer.body).unwrap()
}

async fn socket_of(gw: &TestGateway, session: &SessionCreated) -> Socket {
    let url = gw.ws_url(&format!("/v1/visitor/ws?token={}", session.session_token));
    Socket::connect(&url, Some(SITE_ORIGIN), None)
        .await
        .unwrap()
}

/// The next message frame the socket shows.
async fn next_message(socket: &mut Socket) -> ChatMessage {
    match socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Message { .. }))
        .await
    {
        VisitorServerFrame::Message { message } => message,
        _ => unreachable!(),
    }
}

async fn contact_of(gw: &TestGateway, token: &str, conversation_id: &str) -> Value {
    let conversation = gw.conversation(conversation_id).await;
    let id = conversation.contact_id.expect("a contact");
    let read = call(gw, token, Method::GET, &format!("/v1/contacts/{id}"), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    read.body
}

#[tokio::test]
async fn an_identified_visitor_takes_their_history_along_and_to_another_device() {
    identified_history(&TestGateway::spawn().await).await;
}

/// Identities, presence and agent-started conversations on the store for several gateways.
#[tokio::test]
async fn the_host_page_runs_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.visitor_heartbeat_secs = 1;
    })
    .await;
    identified_history(&gw).await;
    agent_starts_with_a_live_visitor(&gw).await;
}

async fn identified_history(gw: &TestGateway) {
    let admin = agent_login(gw).await;
    let secret = demo_secret(gw).await;

    // Anonymous first: a conversation on this browser.
    let first = bootstrap(gw, SITE_ORIGIN, None).await;
    let anonymous = created(session_with(gw, &first.visit_ticket, json!({})).await);
    let mut socket = socket_of(gw, &anonymous).await;
    let (conversation, _) = socket.say("a1", "Is the blue one in stock?").await;
    socket.close().await;

    // The visitor logs in on the site; the next page view identifies them.
    let later = bootstrap(gw, SITE_ORIGIN, Some(&first.visit_ticket)).await;
    let token = identity_token(&secret, "demo", "user-42", 300);
    let person = created(
        session_with(
            gw,
            &later.visit_ticket,
            json!({"identity_token": token, "attributes": {"plan": "pro", "email": "spoof@evil.test"}}),
        )
        .await,
    );
    assert_ne!(
        person.visitor_id, anonymous.visitor_id,
        "a verified person has a visitor id of their own, never the browser's"
    );
    assert_eq!(
        gw.conversation(&conversation).await.visitor_id,
        person.visitor_id,
        "the browser's anonymous conversation is the person's now"
    );
    let contact = contact_of(gw, &admin, &conversation).await;
    assert_eq!(contact["external_id"], "user-42");
    assert!(contact["verified_at_ms"].is_i64(), "{contact}");
    assert_eq!(contact["name"], "Ada Lovelace");
    assert_eq!(
        contact["email"], "ada@example.com",
        "the page's attributes never overwrite what the site vouched for"
    );
    assert_eq!(
        contact["attributes"],
        json!({"plan": "pro", "email": "spoof@evil.test"})
    );

    // Another device, the same person: the same history.
    let phone = bootstrap(gw, SITE_ORIGIN, None).await;
    let token = identity_token(&secret, "demo", "user-42", 300);
    let on_phone =
        created(session_with(gw, &phone.visit_ticket, json!({"identity_token": token})).await);
    assert_eq!(on_phone.visitor_id, person.visitor_id);
    let mut socket = socket_of(gw, &on_phone).await;
    let replayed = next_message(&mut socket).await;
    assert_eq!(
        (replayed.conversation_id.as_str(), replayed.text.as_str()),
        (conversation.as_str(), "Is the blue one in stock?")
    );

    // The first browser anonymous again (logged out, reset): none of the person's history.
    let logged_out = created(
        session_with(
            gw,
            &bootstrap(gw, SITE_ORIGIN, None).await.visit_ticket,
            json!({}),
        )
        .await,
    );
    let mut socket = socket_of(gw, &logged_out).await;
    while let Some(frame) = socket.try_recv(std::time::Duration::from_millis(500)).await {
        assert_ne!(
            frame["type"], "message",
            "an anonymous browser reads nothing of an identified person: {frame}"
        );
    }
}

#[tokio::test]
async fn forged_expired_and_foreign_identity_tokens_are_refused_and_write_nothing() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let secret = demo_secret(&gw).await;
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let (_, other_key, _, _) = other_channel(&gw, &admin).await;
    let before = fingerprint(&gw).await;
    for (case, token) in [
        (
            "forged",
            identity_token("guessed-secret", "demo", "user-42", 300),
        ),
        ("expired", identity_token(&secret, "demo", "user-42", -600)),
        (
            "too long-lived",
            identity_token(&secret, "demo", "user-42", 3600),
        ),
        (
            "another channel's",
            identity_token(&secret, &other_key, "user-42", 300),
        ),
        ("not a token", "a.b.c".to_owned()),
    ] {
        let refused = session_with(&gw, &ticket, json!({"identity_token": token})).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::UNAUTHORIZED, "invalid_identity"),
            "{case}: {}",
            refused.body
        );
        assert_eq!(fingerprint(&gw).await, before, "{case}: nothing written");
    }
    // Nothing was spent either: the ticket still opens a chat.
    created(session_with(&gw, &ticket, json!({})).await);

    // The rotated secret signs; the old one no longer does.
    let channel = gw.demo_channel().await;
    let rotate = format!("/v1/admin/channels/{}/rotate-identity-secret", channel.id);
    let plain = plain_agent(&gw, &admin).await;
    call(&gw, &plain, Method::POST, &rotate, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let rotated = call(&gw, &admin, Method::POST, &rotate, None).await;
    let new_secret = rotated.body["identity_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(
        rotated.body["secret"].as_str(),
        Some(channel.secret.as_str()),
        "the channel secret is another key"
    );
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let old = identity_token(&secret, "demo", "user-42", 300);
    session_with(&gw, &ticket, json!({"identity_token": old}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_identity");
    let new = identity_token(&new_secret, "demo", "user-42", 300);
    created(session_with(&gw, &ticket, json!({"identity_token": new})).await);
}

#[tokio::test]
async fn a_channel_requiring_identity_shows_and_opens_only_for_identified_visitors() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let bad = patch_demo_channel(&gw, &admin, json!({"identity": "always"})).await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let set = patch_demo_channel(&gw, &admin, json!({"identity": "required"})).await;
    assert_eq!(set.body["identity"], "required", "{}", set.body);

    let anonymous = bootstrap(&gw, SITE_ORIGIN, None).await;
    assert_eq!(
        serde_json::to_value(&anonymous.visibility).unwrap(),
        json!({"state": "hidden", "reason": "identity_required"})
    );
    let before = fingerprint(&gw).await;
    session_with(&gw, &anonymous.visit_ticket, json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "identity_required");
    assert_eq!(fingerprint(&gw).await, before);

    let token = identity_token(&demo_secret(&gw).await, "demo", "user-7", 300);
    let page = format!("{SITE_ORIGIN}/pricing");
    let path = format!(
        "/v1/widget/demo?page={}&identity={token}",
        url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>()
    );
    let identified = get(&gw.url(&path), Some(SITE_ORIGIN)).await;
    assert_eq!(
        identified.body["visibility"]["state"], "visible",
        "{}",
        identified.body
    );
    let ticket = identified.body["visit_ticket"].as_str().unwrap();
    created(session_with(&gw, ticket, json!({"identity_token": token})).await);
}

#[tokio::test]
async fn the_page_s_attributes_are_bounded() {
    let gw = TestGateway::spawn().await;
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let before = fingerprint(&gw).await;
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for attributes in [
        Value::Object(many),
        json!({"note": "x".repeat(201)}),
        json!({"": "empty name"}),
        json!({"nested": {"no": "objects"}}),
    ] {
        let refused = session_with(&gw, &ticket, json!({ "attributes": attributes })).await;
        assert!(
            refused.status == StatusCode::UNPROCESSABLE_ENTITY
                || refused.status == StatusCode::BAD_REQUEST,
            "{attributes}: {} {}",
            refused.status,
            refused.body
        );
        assert_eq!(fingerprint(&gw).await, before);
    }
}

#[tokio::test]
async fn agents_see_who_is_on_the_site_now_and_nobody_else_does() {
    let gw = TestGateway::spawn_with(|c| c.visitor_heartbeat_secs = 1).await;
    let admin = agent_login(&gw).await;
    let plain = plain_agent(&gw, &admin).await;
    let (_, _, other_secret, _) = other_channel(&gw, &admin).await;
    let channel = gw.demo_channel().await;
    let anonymous = page_view(&gw, SITE_ORIGIN, None, &format!("{SITE_ORIGIN}/pricing")).await;
    assert_eq!(
        anonymous.recheck_after_ms,
        Some(1000),
        "a shown widget calls back each heartbeat"
    );
    let token = identity_token(&demo_secret(&gw).await, "demo", "user-9", 300);
    let identified = get(
        &gw.url(&format!("/v1/widget/demo?page=%2Fdocs&identity={token}")),
        Some(SITE_ORIGIN),
    )
    .await;
    assert_eq!(identified.status, StatusCode::OK);

    let visitors = visitors_now(&gw, &plain, 2).await;
    let on_demo: Vec<&Value> = visitors
        .iter()
        .filter(|v| v["channel_id"] == channel.id.as_str())
        .collect();
    assert_eq!(on_demo.len(), 2, "{visitors:?}");
    let named = on_demo
        .iter()
        .find(|v| v["external_id"] == "user-9")
        .unwrap();
    assert_eq!(
        (&named["name"], &named["email"], &named["page_url"]),
        (
            &json!("Ada Lovelace"),
            &json!("ada@example.com"),
            &json!("/docs")
        )
    );
    let other = on_demo.iter().find(|v| v["external_id"].is_null()).unwrap();
    assert_eq!(other["page_url"], format!("{SITE_ORIGIN}/pricing"));
    assert_eq!(
        (other["visit"].as_u64(), other["startable"].as_bool()),
        (Some(1), Some(true))
    );

    // Paged for busy sites.
    let first = call(&gw, &admin, Method::GET, "/v1/visitors?limit=1", None).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = call(
        &gw,
        &admin,
        Method::GET,
        &format!("/v1/visitors?limit=1&cursor={cursor}"),
        None,
    )
    .await;
    assert_ne!(
        first.body["visitors"][0]["visitor_id"],
        second.body["visitors"][0]["visitor_id"]
    );

    // Who may not look.
    get(&gw.url("/v1/visitors"), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let by_channel = format!("/v1/channels/{}/visitors", channel.id);
    call(&gw, &other_secret, Method::GET, &by_channel, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let with_secret = call(&gw, &channel.secret, Method::GET, &by_channel, None).await;
    assert_eq!(with_secret.body["visitors"].as_array().unwrap().len(), 2);

    // A page that stops calling is gone after two heartbeats.
    tokio::time::sleep(std::time::Duration::from_millis(7_500)).await;
    let later = call(&gw, &channel.secret, Method::GET, &by_channel, None).await;
    assert_eq!(later.body["visitors"], json!([]), "{}", later.body);
}

#[tokio::test]
async fn an_agent_starts_a_conversation_with_a_visitor_on_the_site_and_their_page_opens_it() {
    agent_starts_with_a_live_visitor(
        &TestGateway::spawn_with(|c| c.visitor_heartbeat_secs = 1).await,
    )
    .await;
}

async fn agent_starts_with_a_live_visitor(gw: &TestGateway) {
    let admin = agent_login(gw).await;
    let plain = plain_agent(gw, &admin).await;
    let channel = gw.demo_channel().await;
    let page = bootstrap(gw, SITE_ORIGIN, None).await;
    let browser =
        gateway::visitors::tickets::verify_visit_ticket(&gw.state, &page.visit_ticket, &channel.id)
            .unwrap()
            .visitor_id;
    // Listed once the page view is recorded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !visitors_now(gw, &admin, 0)
        .await
        .iter()
        .any(|v| v["visitor_id"] == browser.as_str())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the page view was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let start = format!("/v1/channels/{}/conversations", channel.id);
    let body = json!({"visitor_id": browser, "client_id": "hello-1",
                      "text": "Hi! Can I help you choose a plan?"});

    // Nobody without a credential or with another channel's.
    let (_, _, other_secret, _) = other_channel(gw, &admin).await;
    let before = fingerprint(gw).await;
    post(&gw.url(&start), None, &body)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    call(gw, &other_secret, Method::POST, &start, Some(body.clone()))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(fingerprint(gw).await, before);

    let started = call(gw, &plain, Method::POST, &start, Some(body.clone())).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(started.body["conversation"]["status"], "open");
    assert_eq!(started.body["message"]["author"]["name"], "Plain");
    let conversation = started.body["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = call(gw, &plain, Method::POST, &start, Some(body.clone())).await;
    assert_eq!(again.status, StatusCode::OK, "a retry starts nothing more");
    assert_eq!(again.body["message"]["seq"], started.body["message"]["seq"]);

    // The page's next call opens the chat; the session clears the invitation.
    let next = recheck(
        gw,
        SITE_ORIGIN,
        &page.visit_ticket,
        &format!("{SITE_ORIGIN}/pricing"),
    )
    .await;
    assert_eq!(next.body["invited"], true, "{}", next.body);
    let told_once = recheck(
        gw,
        SITE_ORIGIN,
        &page.visit_ticket,
        &format!("{SITE_ORIGIN}/pricing"),
    )
    .await;
    assert!(
        told_once.body.get("invited").is_none(),
        "a visitor who closes the opened chat is not invited again: {}",
        told_once.body
    );
    let ticket = next.body["visit_ticket"].as_str().unwrap();
    let session = created(session_with(gw, ticket, json!({})).await);
    let mut socket = socket_of(gw, &session).await;
    let first = next_message(&mut socket).await;
    assert_eq!(
        (first.conversation_id.as_str(), first.text.as_str()),
        (conversation.as_str(), "Hi! Can I help you choose a plan?")
    );
    let after = recheck(
        gw,
        SITE_ORIGIN,
        &page.visit_ticket,
        &format!("{SITE_ORIGIN}/pricing"),
    )
    .await;
    assert!(after.body.get("invited").is_none(), "{}", after.body);
    let listed = call(gw, &admin, Method::GET, "/v1/visitors", None).await;
    let listed = listed.body["visitors"].as_array().unwrap().clone();
    let row = listed
        .iter()
        .find(|v| v["visitor_id"] == browser.as_str())
        .unwrap();
    assert_eq!(row["conversation_id"], conversation.as_str());

    // Gone from the site: nobody to start with.
    let gone = json!({"visitor_id": "no-such-visitor", "client_id": "x", "text": "Hello?"});
    call(gw, &admin, Method::POST, &start, Some(gone))
        .await
        .assert_error(StatusCode::NOT_FOUND, "visitor_gone");
}

#[tokio::test]
async fn a_receptive_channel_refuses_agent_started_conversations_and_writes_nothing() {
    let gw = TestGateway::spawn_with(|c| c.visitor_heartbeat_secs = 1).await;
    let admin = agent_login(&gw).await;
    gw.edit_demo_channel(|c| c.receptive = true).await;
    let channel = gw.demo_channel().await;
    let page = bootstrap(&gw, SITE_ORIGIN, None).await;
    let listed = visitors_now(&gw, &admin, 1).await;
    let visitor = &listed[0];
    assert_eq!(visitor["startable"], false);
    let conversation = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = conversation.connect(&gw, None).await;
    let (existing, _) = socket.say("v1", "hello").await;
    let contact = contact_of(&gw, &admin, &existing).await;
    assert_eq!(contact["startable"], false);

    let start = format!("/v1/channels/{}/conversations", channel.id);
    let before = fingerprint(&gw).await;
    for body in [
        json!({"visitor_id": visitor["visitor_id"], "client_id": "r1", "text": "Hello!"}),
        json!({"contact_id": contact["id"], "client_id": "r2", "text": "Hello!"}),
    ] {
        call(&gw, &admin, Method::POST, &start, Some(body.clone()))
            .await
            .assert_error(StatusCode::CONFLICT, "channel_receptive");
        let mut with_secret = body.clone();
        with_secret["from"] = json!({"bot": "Helper"});
        call(
            &gw,
            &channel.secret,
            Method::POST,
            &start,
            Some(with_secret),
        )
        .await
        .assert_error(StatusCode::CONFLICT, "channel_receptive");
    }
    assert_eq!(fingerprint(&gw).await, before);
    let next = recheck(
        &gw,
        SITE_ORIGIN,
        &page.visit_ticket,
        &format!("{SITE_ORIGIN}/pricing"),
    )
    .await;
    assert!(
        next.body.get("invited").is_none(),
        "the visitor sees nothing"
    );
}

#[tokio::test]
async fn the_desk_and_the_bot_start_conversations_with_known_contacts() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let (earlier, _) = socket.say("v1", "Can you call me back tomorrow?").await;
    socket.close().await;
    call(
        &gw,
        &channel.secret,
        Method::POST,
        &format!("/v1/channels/{}/conversations/{earlier}/close", channel.id),
        None,
    )
    .await;
    let contact = contact_of(&gw, &admin, &earlier).await;
    let start = format!("/v1/channels/{}/conversations", channel.id);

    let anonymous_sender = json!({"contact_id": contact["id"], "client_id": "d1", "text": "Hi"});
    call(
        &gw,
        &channel.secret,
        Method::POST,
        &start,
        Some(anonymous_sender),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let both = json!({"contact_id": contact["id"], "visitor_id": "v", "client_id": "d1",
                      "text": "Hi", "from": {"desk": "Grace"}});
    call(&gw, &channel.secret, Method::POST, &start, Some(both))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let started = call(
        &gw,
        &channel.secret,
        Method::POST,
        &start,
        Some(json!({"contact_id": contact["id"], "client_id": "d1",
                    "text": "We tried to call you: when suits you?", "from": {"desk": "Grace"}})),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(
        started.body["message"]["author"],
        json!({"kind": "desk", "name": "Grace"})
    );
    assert_eq!(started.body["conversation"]["handler"], "desk");
    let new_id = started.body["conversation"]["id"].as_str().unwrap();
    assert_ne!(new_id, earlier, "a new conversation");

    // Delivered when the visitor next opens the chat.
    let back = Visitor::arrive_with_ticket(&gw, SITE_ORIGIN, Some(&visitor.ticket)).await;
    let mut socket = back.connect(&gw, None).await;
    let shown = next_message(&mut socket).await;
    assert_eq!(shown.text, "We tried to call you: when suits you?");

    // Another channel's contact reads as missing; its own channel's bot writes into the
    // conversation the contact has in progress.
    let (other_id, _, other_secret, other_conversation) = other_channel(&gw, &admin).await;
    let other_contact = contact_of(&gw, &admin, &other_conversation).await;
    let foreign = json!({"contact_id": other_contact["id"], "client_id": "f1", "text": "Hi",
                         "from": {"bot": "Helper"}});
    call(
        &gw,
        &channel.secret,
        Method::POST,
        &start,
        Some(foreign.clone()),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    let bot = call(
        &gw,
        &other_secret,
        Method::POST,
        &format!("/v1/channels/{other_id}/conversations"),
        Some(foreign),
    )
    .await;
    assert_eq!(bot.status, StatusCode::CREATED, "{}", bot.body);
    assert_eq!(bot.body["conversation"]["id"], other_conversation.as_str());
    assert_eq!(
        bot.body["message"]["author"],
        json!({"kind": "bot", "name": "Helper"})
    );
}

#[tokio::test]
async fn the_proactive_greeting_shows_on_its_pages_and_starts_the_conversation_it_opens() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let bad = patch_demo_channel(
        &gw,
        &admin,
        json!({"proactive": {"text": "", "pages": ["/a b"]}}),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        bad.body["error"]["fields"]["proactive.text"].is_string(),
        "{}",
        bad.body
    );
    let greeting = json!({"proactive": {"text": "Questions about plans?", "after_secs": 0,
                                        "pages": ["/pricing*"]}});
    let set = patch_demo_channel(&gw, &admin, greeting).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let before = fingerprint(&gw).await;
    let elsewhere = page_view(&gw, SITE_ORIGIN, None, &format!("{SITE_ORIGIN}/about")).await;
    assert_eq!(elsewhere.proactive, None);
    let pricing = page_view(&gw, SITE_ORIGIN, None, &format!("{SITE_ORIGIN}/pricing")).await;
    assert_eq!(pricing.proactive.as_deref(), Some("Questions about plans?"));
    assert_eq!(
        fingerprint(&gw).await,
        before,
        "the greeting stores nothing by itself"
    );
    let session = created(session_with(&gw, &pricing.visit_ticket, json!({"greeted": true})).await);
    let mut socket = socket_of(&gw, &session).await;
    let (conversation, seq) = socket.say("v1", "Yes: is there a team plan?").await;
    assert_eq!(seq, 2);
    let stored = gw.stored(&conversation).await;
    assert_eq!(
        stored
            .iter()
            .map(|m| (m.author.kind().as_str(), m.text.as_str()))
            .collect::<Vec<_>>(),
        [
            ("system", "Questions about plans?"),
            ("visitor", "Yes: is there a team plan?")
        ]
    );
}
