//! The conversations REST API (cursor pagination, transcript by seq, answering, filters), and
//! the bridge to a bot and an external desk: a local fake bot answers first and hands over, a
//! local fake desk receives the conversation and answers through the inbound URL.

use futures_util::future::join_all;
use protocol::{Author, ChatMessage, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tests::client::{agent_login, call, visitor_writes, Socket, Visitor};
use tests::receiver::Receiver;
use tests::{TestGateway, SITE_ORIGIN};

use crate::deliveries::register;

const WAIT: Duration = Duration::from_secs(20);

async fn busy_gateway() -> TestGateway {
    TestGateway::spawn_with(|c| {
        c.webhooks_allow_private = true;
        c.sessions_per_ip_per_minute = 10_000;
        c.sessions_per_channel_per_minute = 10_000;
    })
    .await
}

#[tokio::test]
async fn paging_returns_every_conversation_exactly_once_while_new_ones_are_created() {
    let gw = busy_gateway().await;
    let channel = gw.demo_channel().await;
    let mut before = HashSet::new();
    for i in 0..23 {
        before.insert(visitor_writes(&gw, SITE_ORIGIN, &format!("hello {i}")).await);
    }

    let creating = async {
        let mut created = Vec::new();
        for i in 0..12 {
            created.push(visitor_writes(&gw, SITE_ORIGIN, &format!("late {i}")).await);
        }
        created
    };
    let paging = async {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/channels/{}/conversations?limit=4", channel.id);
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = call(&gw, &channel.secret, Method::GET, &path, None).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            for c in page.body["conversations"].as_array().unwrap() {
                seen.push(c["id"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return seen,
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    };
    let (created, seen) = tokio::join!(creating, paging);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no conversation twice: {seen:?}");
    for id in &before {
        assert!(unique.contains(id), "{id} existed before paging began");
    }
    let all: HashSet<&String> = before.iter().chain(&created).collect();
    assert!(unique.iter().all(|id| all.contains(id)));

    // Filters and their refusals.
    let list = |query: &str| {
        let path = format!("/v1/channels/{}/conversations?{query}", channel.id);
        let secret = channel.secret.clone();
        let gw = &gw;
        async move { call(gw, &secret, Method::GET, &path, None).await }
    };
    let waiting = list("status=waiting&limit=200").await;
    assert_eq!(waiting.body["conversations"].as_array().unwrap().len(), 35);
    assert!(waiting.body["next_cursor"].is_null());
    assert_eq!(list("status=closed").await.body["conversations"], json!([]));
    assert_eq!(
        list("queue_id=default&limit=1").await.body["conversations"][0]["queue_id"],
        "default"
    );
    let future = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    assert_eq!(
        list(&format!("updated_since={future}")).await.body["conversations"],
        json!([])
    );
    list("status=lost")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    list("cursor=garbage")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    list("limit=0")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let anonymous = reqwest::Client::new()
        .get(gw.url(&format!("/v1/channels/{}/conversations", channel.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_conversation_is_read_by_seq_answered_and_closed_through_the_api() {
    let gw = busy_gateway().await;
    let channel = gw.demo_channel().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let mut conversation = String::new();
    for i in 1..=5 {
        conversation = socket.say(&format!("m{i}"), &format!("line {i}")).await.0;
    }
    let base = format!("/v1/channels/{}/conversations/{conversation}", channel.id);
    let secret = &channel.secret;

    let first = call(&gw, secret, Method::GET, &format!("{base}?limit=2"), None).await;
    assert_eq!(first.body["conversation"]["id"], conversation.as_str());
    let texts = |v: &Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts(&first.body), ["line 1", "line 2"]);
    assert_eq!(first.body["next_after_seq"], 2);
    let rest = call(
        &gw,
        secret,
        Method::GET,
        &format!("{base}?after_seq=2"),
        None,
    )
    .await;
    assert_eq!(texts(&rest.body), ["line 3", "line 4", "line 5"]);
    assert!(rest.body["next_after_seq"].is_null());

    // Answering needs to say which agent with the secret; an admin answers as themselves.
    let answer = json!({"client_id": "api-1", "text": "From the help desk"});
    call(
        &gw,
        secret,
        Method::POST,
        &format!("{base}/messages"),
        Some(answer.clone()),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let admin = agent_login(&gw).await;
    let sent = call(
        &gw,
        &admin,
        Method::POST,
        &format!("{base}/messages"),
        Some(answer.clone()),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.body["seq"], 6);
    let again = call(
        &gw,
        &admin,
        Method::POST,
        &format!("{base}/messages"),
        Some(answer),
    )
    .await;
    assert_eq!(again.body["seq"], 6, "a retried call stores it once");
    let message = socket.visitor_message("api-1").await;
    assert!(matches!(message.author, Author::Agent { .. }));

    // Another channel's secret does not reach it; a plain agent is not an admin.
    let other = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "Other", "inactivity_timeout_secs": 300})),
    )
    .await;
    let other_secret = other.body["secret"].as_str().unwrap();
    let other_base = base.replace(&channel.id, other.body["id"].as_str().unwrap());
    call(&gw, other_secret, Method::GET, &other_base, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "conversation_not_found");

    let closed = call(&gw, secret, Method::POST, &format!("{base}/close"), None).await;
    assert_eq!(closed.body["status"], "closed");
    socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Status { .. }))
        .await;
    call(&gw, secret, Method::POST, &format!("{base}/close"), None)
        .await
        .assert_error(StatusCode::CONFLICT, "conversation_closed");
}

/// Every message the visitor's socket shows, until `n` arrived.
async fn visitor_sees(socket: &mut Socket, seen: &mut Vec<ChatMessage>, n: usize) {
    while seen.len() < n {
        if let VisitorServerFrame::Message { message } = socket.recv().await {
            if !seen.iter().any(|m| m.seq == message.seq) {
                seen.push(message);
            }
        }
    }
}

#[tokio::test]
async fn a_bot_answers_first_then_hands_over_to_the_external_desk() {
    let gw = busy_gateway().await;
    let channel = gw.demo_channel().await;
    let bot = Receiver::answering(|payload| {
        let text = payload["data"]["message"]["text"]
            .as_str()
            .unwrap_or_default();
        if text.contains("human") {
            json!({"replies": [
                {"type": "message", "text": "Connecting you to a person."},
                {"type": "switch", "note": "asked for a human"}
            ]})
        } else {
            json!({"replies": [{"type": "message", "text": format!("Bot here. You said: {text}")}]})
        }
    })
    .await;
    let desk = Receiver::start().await;
    register(&gw, &bot, json!({"kind": "bot", "name": "Robo"})).await;
    register(&gw, &desk, json!({"kind": "desk"})).await;
    let endpoints = call(
        &gw,
        &channel.secret,
        Method::GET,
        &format!("/v1/channels/{}/webhooks", channel.id),
        None,
    )
    .await;
    let kinds: Vec<&str> = endpoints
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bot", "desk"]);
    let second_bot = call(
        &gw,
        &channel.secret,
        Method::POST,
        &format!("/v1/channels/{}/webhooks", channel.id),
        Some(json!({"kind": "bot", "url": bot.url()})),
    )
    .await;
    assert!(second_bot.body["error"]["fields"]["kind"].is_string());

    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let mut seen = Vec::new();
    let (conversation, _) = socket.say("v1", "Where is my parcel?").await;
    assert_eq!(
        gw.conversation(&conversation).await.handler,
        protocol::Handler::Bot
    );
    visitor_sees(&mut socket, &mut seen, 2).await;
    socket.say("v2", "I want a human").await;
    visitor_sees(&mut socket, &mut seen, 4).await;

    // The desk gets the conversation with the bot's part of it, then the visitor's next words.
    let handed = desk.wait_for(1, WAIT).await;
    assert_eq!(handed[0].event_type(), "conversation.handed_over");
    let transcript: Vec<&str> = handed[0].payload["data"]["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        transcript,
        [
            "Where is my parcel?",
            "Bot here. You said: Where is my parcel?",
            "I want a human",
            "Connecting you to a person."
        ]
    );
    let summary = gw.conversation(&conversation).await;
    assert_eq!(
        (summary.handler, summary.status),
        (protocol::Handler::Desk, protocol::ConversationStatus::Open)
    );
    socket.say("v3", "Order 1234").await;
    visitor_sees(&mut socket, &mut seen, 5).await;
    let at_desk = desk.wait_for(2, WAIT).await;
    assert_eq!(at_desk[1].event_type(), "message.created");
    assert_eq!(at_desk[1].payload["data"]["message"]["text"], "Order 1234");

    // The desk's agent answers through the channel's inbound URL.
    let inbound = format!("/v1/channels/{}/inbound", channel.id);
    let reply = json!({"type": "message", "conversation_id": conversation, "client_id": "desk-1",
        "text": "Dana here, I am checking order 1234.", "author_name": "Dana"});
    let anonymous = reqwest::Client::new()
        .post(gw.url(&inbound))
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let answered = call(&gw, &channel.secret, Method::POST, &inbound, Some(reply)).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    visitor_sees(&mut socket, &mut seen, 6).await;

    let shown: Vec<(&str, &str)> = seen
        .iter()
        .map(|m| {
            let who = match &m.author {
                Author::Visitor => "visitor",
                Author::Bot { name } => {
                    assert_eq!(name, "Robo");
                    "bot"
                }
                Author::Desk { name } => {
                    assert_eq!(name, "Dana");
                    "desk"
                }
                other => panic!("{other:?}"),
            };
            (who, m.text.as_str())
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("visitor", "Where is my parcel?"),
            ("bot", "Bot here. You said: Where is my parcel?"),
            ("visitor", "I want a human"),
            ("bot", "Connecting you to a person."),
            ("visitor", "Order 1234"),
            ("desk", "Dana here, I am checking order 1234."),
        ]
    );
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "the visitor sees it in order");
    assert_eq!(gw.stored(&conversation).await, seen);
    // The bot saw only what it handled: the two messages before the hand-over.
    assert_eq!(bot.accepted().len(), 2);
    assert_eq!(bot.forged() + desk.forged(), 0);

    // The desk closes it; the bot's and a plain agent's conversations are not the desk's.
    let close = json!({"type": "close", "conversation_id": conversation});
    let closed = call(&gw, &channel.secret, Method::POST, &inbound, Some(close)).await;
    assert_eq!(closed.body["status"], "closed");
    let other = visitor_writes(&gw, SITE_ORIGIN, "Hi bot").await;
    let not_desk = json!({"type": "message", "conversation_id": other, "client_id": "d2",
        "text": "hello", "author_name": "Dana"});
    call(&gw, &channel.secret, Method::POST, &inbound, Some(not_desk))
        .await
        .assert_error(StatusCode::CONFLICT, "conversation_not_at_desk");
}

#[tokio::test]
async fn without_a_desk_the_bot_hands_over_to_the_agents_queue() {
    let gw = busy_gateway().await;
    let bot = Receiver::answering(|_| json!({"replies": [{"type": "switch"}]})).await;
    register(&gw, &bot, json!({"kind": "bot"})).await;
    let texts: Vec<String> = (0..3).map(|i| format!("Hello {i}")).collect();
    let conversations: Vec<String> = join_all(
        texts
            .iter()
            .map(|text| visitor_writes(&gw, SITE_ORIGIN, text)),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut handlers = HashMap::new();
    while tokio::time::Instant::now() < deadline {
        for id in &conversations {
            let c = gw.conversation(id).await;
            handlers.insert(id.clone(), (c.handler, c.status));
        }
        if handlers.values().all(|h| {
            *h == (
                protocol::Handler::Agents,
                protocol::ConversationStatus::Waiting,
            )
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not handed over to the queue: {handlers:?}");
}

#[tokio::test]
async fn deleting_the_bot_leaves_its_conversations_to_the_agents() {
    let gw = busy_gateway().await;
    let channel = gw.demo_channel().await;
    let bot = Receiver::start().await;
    let endpoint = register(&gw, &bot, json!({"kind": "bot"})).await;
    let conversation = visitor_writes(&gw, SITE_ORIGIN, "Hello?").await;
    bot.wait_for(1, WAIT).await;
    assert_eq!(
        gw.conversation(&conversation).await.handler,
        protocol::Handler::Bot
    );

    let deleted = call(
        &gw,
        &channel.secret,
        Method::DELETE,
        &format!("/v1/channels/{}/webhooks/{endpoint}", channel.id),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let now = gw.conversation(&conversation).await;
    assert_eq!(
        (now.handler, now.status),
        (
            protocol::Handler::Agents,
            protocol::ConversationStatus::Waiting
        )
    );
}

/// A webhook receiver that accepts connections and never answers, holding each until the
/// gateway's timeout.
async fn hanging_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_hanging_receiver_does_not_keep_another_channels_bot_from_answering() {
    let gw = busy_gateway().await;
    let admin = agent_login(&gw).await;
    // Another channel, any origin, whose webhook receiver hangs on every delivery.
    let created = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "Slow", "inactivity_timeout_secs": 600})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let (slow_id, slow_key, slow_secret) = (
        created.body["id"].as_str().unwrap().to_owned(),
        created.body["key"].as_str().unwrap().to_owned(),
        created.body["secret"].as_str().unwrap().to_owned(),
    );
    let (hanging_url, _hanging) = hanging_receiver().await;
    let hook = call(
        &gw,
        &slow_secret,
        Method::POST,
        &format!("/v1/channels/{slow_id}/webhooks"),
        Some(json!({"url": hanging_url, "events": []})),
    )
    .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    // Far more deliveries for it than the gateway has slots.
    for i in 0..20 {
        let boot = tests::client::get(&gw.url(&format!("/v1/widget/{slow_key}")), None).await;
        let session = tests::client::post(
            &gw.url("/v1/sessions"),
            None,
            &json!({"channel_key": slow_key, "visit_ticket": boot.body["visit_ticket"]}),
        )
        .await;
        let token = session.body["session_token"].as_str().unwrap();
        let url = gw.ws_url(&format!("/v1/visitor/ws?token={token}"));
        let mut socket = Socket::connect(&url, None, None).await.unwrap();
        socket.say(&format!("s{i}"), "anyone?").await;
    }
    // The demo channel's bot answers its visitor within a second all the same.
    let bot =
        Receiver::answering(|_| json!({"replies": [{"type": "message", "text": "Bot here."}]}))
            .await;
    register(&gw, &bot, json!({"kind": "bot", "name": "Robo"})).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.say("v1", "Hello?").await;
    let asked = std::time::Instant::now();
    let mut seen = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        visitor_sees(&mut socket, &mut seen, 2),
    )
    .await
    .expect("the bot answers");
    let waited = asked.elapsed();
    assert_eq!(seen[1].text, "Bot here.");
    assert!(
        waited < Duration::from_secs(1),
        "the bot answered after {waited:?}"
    );
}
