//! The hostile-input suite: what an attacker would try against a running gateway, over HTTP and
//! WebSocket. Every case asserts the status, the stable error code, and that the store holds
//! exactly what it held before (row counts, channel secrets, logins).

use futures_util::future::BoxFuture;
use gateway::auth::SessionClaims;
use gateway::visitors::tickets::{sign_visit_ticket, VisitTicket};
use protocol::{AgentClientFrame, AgentServerFrame, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use tests::client::{
    agent_login, agent_socket, bootstrap, call, get, login, post, visitor_writes, Answer, Socket,
    Visitor,
};
use tests::{TestGateway, SITE_ORIGIN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{self, Message};

const TABLES: &[&str] = &[
    "channels",
    "agents",
    "agent_sessions",
    "conversations",
    "messages",
    "contacts",
    "join_links",
    "webhook_endpoints",
    "outbox_events",
    "queues",
    "queue_members",
    "canned_responses",
    "used_visit_tickets",
    "ended_sessions",
    "agent_reads",
];

/// What the store holds, as far as a refused request could have changed it.
pub(crate) async fn fingerprint(gw: &TestGateway) -> BTreeMap<String, String> {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&gw.database_url())
        .await
        .expect("open the test database");
    let mut print = BTreeMap::new();
    for table in TABLES {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&mut db)
            .await
            .expect("count");
        print.insert(table.to_string(), row.get::<i64, _>("n").to_string());
    }
    for (name, sql) in [
        (
            "channel rows",
            "SELECT id || secret || name || online || allowed_origins AS v FROM channels ORDER BY id",
        ),
        ("logins", "SELECT token_hash AS v FROM agent_sessions ORDER BY token_hash"),
        ("statuses", "SELECT id || status AS v FROM conversations ORDER BY id"),
        (
            "owners",
            "SELECT id || visitor_id || COALESCE(contact_id, '') AS v FROM conversations ORDER BY id",
        ),
        (
            "contact rows",
            "SELECT id || visitor_id || COALESCE(external_id, '') \
             || COALESCE(CAST(verified_at AS TEXT), '') || COALESCE(attributes, '') AS v \
             FROM contacts ORDER BY id",
        ),
        (
            "invitations",
            "SELECT channel_id || visitor_id AS v FROM live_visitors \
             WHERE invited_at IS NOT NULL ORDER BY channel_id, visitor_id",
        ),
    ] {
        let rows = sqlx::query(sql).fetch_all(&mut db).await.expect(name);
        let values: Vec<String> = rows.iter().map(|r| r.get::<String, _>("v")).collect();
        print.insert(name.to_string(), values.join(","));
    }
    print
}

/// Runs hostile cases against one gateway, each checked against the store's fingerprint.
struct Suite<'a> {
    gw: &'a TestGateway,
    cases: usize,
}

impl<'a> Suite<'a> {
    fn new(gw: &'a TestGateway) -> Self {
        Self { gw, cases: 0 }
    }

    /// One HTTP case: `status` and `code` expected, nothing written.
    async fn http(
        &mut self,
        name: &str,
        status: StatusCode,
        code: &str,
        request: BoxFuture<'_, Answer>,
    ) {
        let before = fingerprint(self.gw).await;
        let answer = request.await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{name}: {}",
            answer.body
        );
        assert_eq!(
            fingerprint(self.gw).await,
            before,
            "{name} wrote to the store"
        );
        self.cases += 1;
    }

    /// One socket upgrade that must be refused with `status` and `code`, writing nothing.
    async fn refused_socket(
        &mut self,
        name: &str,
        url: &str,
        headers: &[(&str, &str)],
        status: StatusCode,
        code: &str,
    ) {
        let before = fingerprint(self.gw).await;
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(url)
            .expect("socket request");
        for (name, value) in headers {
            let name: tungstenite::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Err(tungstenite::Error::Http(response)) => {
                let body: Value = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                assert_eq!(
                    (response.status().as_u16(), body["error"]["code"].as_str()),
                    (status.as_u16(), Some(code)),
                    "{name}: {body}"
                );
            }
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name}: the socket opened"),
        }
        assert_eq!(
            fingerprint(self.gw).await,
            before,
            "{name} wrote to the store"
        );
        self.cases += 1;
    }

    /// One frame on an open socket: answered by an error frame with `code`, the socket stays
    /// usable, nothing written.
    async fn frame<F>(&mut self, name: &str, socket: &mut Socket, message: Message, code: &str)
    where
        F: serde::de::DeserializeOwned + ErrorFrame,
    {
        let before = fingerprint(self.gw).await;
        socket.send_message(message).await;
        let answer: F = socket.recv_until(|f: &F| f.error_code().is_some()).await;
        assert_eq!(answer.error_code().as_deref(), Some(code), "{name}");
        assert_eq!(
            fingerprint(self.gw).await,
            before,
            "{name} wrote to the store"
        );
        self.cases += 1;
    }
}

trait ErrorFrame {
    fn error_code(&self) -> Option<String>;
}

impl ErrorFrame for VisitorServerFrame {
    fn error_code(&self) -> Option<String> {
        match self {
            VisitorServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }
    }
}

impl ErrorFrame for AgentServerFrame {
    fn error_code(&self) -> Option<String> {
        match self {
            AgentServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }
    }
}

fn request(
    gw: &TestGateway,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> BoxFuture<'static, Answer> {
    let mut builder = reqwest::Client::new().request(method, gw.url(path));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    Box::pin(async move {
        let response = builder.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    })
}

/// A second channel (allowing `http://other.test`) with a visitor conversation in it: its id,
/// key, secret and the conversation's id.
pub(crate) async fn other_channel(
    gw: &TestGateway,
    admin: &str,
) -> (String, String, String, String) {
    let created = call(
        gw,
        admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "Other", "inactivity_timeout_secs": 600,
                    "allowed_origins": ["http://other.test"]})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let field = |name: &str| created.body[name].as_str().unwrap().to_owned();
    let (id, key, secret) = (field("id"), field("key"), field("secret"));
    let origin = Some("http://other.test");
    let boot = get(&gw.url(&format!("/v1/widget/{key}")), origin).await;
    let session = post(
        &gw.url("/v1/sessions"),
        origin,
        &json!({"channel_key": key, "visit_ticket": boot.body["visit_ticket"]}),
    )
    .await;
    let token = session.body["session_token"].as_str().unwrap();
    let mut socket = Socket::connect(
        &gw.ws_url(&format!("/v1/visitor/ws?token={token}")),
        origin,
        None,
    )
    .await
    .unwrap();
    let conversation = socket.say("o1", "hello from the other site").await.0;
    (id, key, secret, conversation)
}

/// A plain agent's bearer token.
pub(crate) async fn plain_agent(gw: &TestGateway, admin: &str) -> String {
    let synced = call(
        gw,
        admin,
        Method::PUT,
        "/v1/admin/agents/external/plain",
        Some(
            json!({"email": "plain@example.test", "name": "Plain", "password": "a long password"}),
        ),
    )
    .await;
    assert!(synced.status.is_success(), "{}", synced.body);
    login(gw, "plain@example.test", "a long password").await
}

/// The demo admin's login scoped to another channel: a join link that channel's secret mints on
/// its own conversation, used as a browser does.
pub(crate) async fn scoped_login(gw: &TestGateway, secret: &str, conversation: &str) -> String {
    let link = call(
        gw,
        secret,
        Method::POST,
        &format!("/v1/conversations/{conversation}/agent-link"),
        Some(json!({"email": gateway::demo::AGENT_EMAIL})),
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    join(link.body["url"].as_str().unwrap()).await
}

/// Uses a join link the way a browser does and returns the login it gives.
pub(crate) async fn join(url: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let joined = browser.post(url).send().await.unwrap();
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    let cookie = joined.headers()["set-cookie"].to_str().unwrap();
    cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("livechat_agent="))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_channel_secret_never_becomes_more_than_an_agent_of_its_channel() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let demo = gw.demo_channel().await;
    let demo_conversation = visitor_writes(&gw, SITE_ORIGIN, "hello").await;
    let (other_id, other_key, other_secret, other_conversation) = other_channel(&gw, &admin).await;
    let mut suite = Suite::new(&gw);

    // The other channel's secret mints a link for the demo admin, on its own conversation.
    let scoped = scoped_login(&gw, &other_secret, &other_conversation).await;
    let me = call(&gw, &scoped, Method::GET, "/v1/agent/me", None).await;
    assert_eq!(
        me.body["role"], "agent",
        "an admin's account, an agent's login"
    );
    let events = format!("/v1/conversations/{other_conversation}/events");
    assert_eq!(
        call(&gw, &scoped, Method::GET, &events, None).await.status,
        StatusCode::OK
    );

    let admin_only = [
        (Method::GET, "/v1/admin/channels".to_owned()),
        (Method::GET, format!("/v1/admin/channels/{}", demo.id)),
        (Method::GET, format!("/v1/admin/channels/{other_id}")),
        (
            Method::POST,
            format!("/v1/admin/channels/{other_id}/rotate-secret"),
        ),
        (Method::GET, "/v1/admin/agents".to_owned()),
        (Method::GET, "/v1/admin/queues".to_owned()),
        (Method::GET, format!("/v1/channels/{other_id}/webhooks")),
        (
            Method::GET,
            format!("/v1/channels/{other_id}/conversations"),
        ),
    ];
    for (method, path) in admin_only {
        let name = format!("scoped login: {method} {path}");
        let request = request(
            &gw,
            method,
            &path,
            &[("authorization", &format!("Bearer {scoped}"))],
            None,
        );
        suite
            .http(&name, StatusCode::FORBIDDEN, "forbidden", request)
            .await;
    }
    for action in ["close", "accept"] {
        let path = format!("/v1/conversations/{demo_conversation}/{action}");
        let bearer = format!("Bearer {scoped}");
        let request = request(
            &gw,
            Method::POST,
            &path,
            &[("authorization", &bearer)],
            None,
        );
        let name = format!("scoped login: {action} another channel's conversation");
        suite
            .http(
                &name,
                StatusCode::NOT_FOUND,
                "conversation_not_found",
                request,
            )
            .await;
    }
    // A secret mints links for its own channel's conversations only.
    let path = format!("/v1/conversations/{demo_conversation}/agent-link");
    let bearer = format!("Bearer {other_secret}");
    let body = json!({"email": gateway::demo::AGENT_EMAIL}).to_string();
    let request = request(
        &gw,
        Method::POST,
        &path,
        &[("authorization", &bearer)],
        Some(&body),
    );
    suite
        .http(
            "another channel's secret mints a link",
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            request,
        )
        .await;

    // Its console sees its channel only, and cannot open, read or write elsewhere.
    let mut console = agent_socket(&gw, &scoped).await;
    match console
        .recv_until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Inbox { .. }))
        .await
    {
        AgentServerFrame::Inbox { conversations, .. } => {
            let keys: Vec<&str> = conversations
                .iter()
                .map(|c| c.channel_key.as_str())
                .collect();
            assert_eq!(keys, [other_key.as_str()]);
        }
        _ => unreachable!(),
    }
    for (name, frame) in [
        (
            "open",
            AgentClientFrame::Open {
                conversation_id: demo_conversation.clone(),
                resume_after: 0,
            },
        ),
        (
            "read",
            AgentClientFrame::Read {
                conversation_id: demo_conversation.clone(),
                seq: 1,
            },
        ),
        (
            "send",
            AgentClientFrame::Send {
                conversation_id: demo_conversation.clone(),
                client_id: "x1".into(),
                text: "not yours".into(),
                attachments: Vec::new(),
            },
        ),
    ] {
        let message = Message::Text(serde_json::to_string(&frame).unwrap().into());
        suite
            .frame::<AgentServerFrame>(
                &format!("scoped socket: {name}"),
                &mut console,
                message,
                "conversation_not_found",
            )
            .await;
    }
    assert!(suite.cases >= 14);
}

#[tokio::test]
async fn foreign_null_look_alike_and_missing_origins_are_refused_on_every_visitor_endpoint() {
    let gw = TestGateway::spawn().await;
    let ticket = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut suite = Suite::new(&gw);
    let session = json!({"channel_key": "demo", "visit_ticket": ticket}).to_string();
    let origins: [Option<&str>; 6] = [
        Some("http://evil.example"),
        Some("null"),
        Some("http://site.test.evil.example"),
        Some("http://site.test:8080"),
        Some("https://site.test"),
        None,
    ];
    for origin in origins {
        let headers: Vec<(&str, &str)> = origin.iter().map(|o| ("origin", *o)).collect();
        let label = origin.unwrap_or("no origin");
        for (method, path, body) in [
            (Method::GET, "/v1/widget/demo".to_owned(), None),
            (
                Method::GET,
                format!("/v1/widget/demo/visibility?ticket={ticket}"),
                None,
            ),
            (
                Method::POST,
                "/v1/sessions".to_owned(),
                Some(session.as_str()),
            ),
        ] {
            let name = format!("{label}: {method} {path}");
            let request = request(&gw, method, &path, &headers, body);
            suite
                .http(&name, StatusCode::FORBIDDEN, "origin_not_allowed", request)
                .await;
        }
        let url = gw.ws_url(&format!(
            "/v1/visitor/ws?token={}",
            visitor.session.session_token
        ));
        suite
            .refused_socket(
                &format!("{label}: visitor socket"),
                &url,
                &headers,
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
            )
            .await;
    }
    assert_eq!(suite.cases, 24);
}

fn ticket(gw: &TestGateway, channel_id: &str, viewed_ago_ms: i64, issued_ago_ms: i64) -> String {
    let now = gateway::now_ms();
    sign_visit_ticket(
        &gw.state,
        &VisitTicket {
            id: format!("t{now}{viewed_ago_ms}{issued_ago_ms}"),
            channel_id: channel_id.to_owned(),
            visitor_id: "v-hostile".into(),
            visit: 1,
            viewed_at_ms: now - viewed_ago_ms,
            issued_at_ms: now - issued_ago_ms,
            first_seen_ms: now - viewed_ago_ms,
        },
    )
}

#[tokio::test]
async fn forged_replayed_expired_and_cross_channel_credentials_are_refused() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let (other_id, _, other_secret, _) = other_channel(&gw, &admin).await;
    let demo = gw.demo_channel().await;
    let good = bootstrap(&gw, SITE_ORIGIN, None).await.visit_ticket;
    let mut tampered = good.clone();
    let middle = tampered.len() / 2;
    let flipped = if &tampered[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(middle..=middle, flipped);
    let hour = 3_600_000;
    let stale = ticket(&gw, &demo.id, 2 * hour, 2 * hour);
    let long_ago = ticket(&gw, &demo.id, 13 * hour, 0);
    let foreign = ticket(&gw, &other_id, 0, 0);
    let used = {
        let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
        visitor.ticket
    };
    let mut suite = Suite::new(&gw);
    let origin = [("origin", SITE_ORIGIN)];
    for (name, ticket, status, code) in [
        (
            "forged ticket",
            "not-a-ticket".to_owned(),
            StatusCode::UNAUTHORIZED,
            "invalid_visit_ticket",
        ),
        (
            "tampered ticket",
            tampered.clone(),
            StatusCode::UNAUTHORIZED,
            "invalid_visit_ticket",
        ),
        (
            "another channel's ticket",
            foreign.clone(),
            StatusCode::UNAUTHORIZED,
            "invalid_visit_ticket",
        ),
        (
            "expired ticket",
            stale,
            StatusCode::UNAUTHORIZED,
            "visit_ticket_expired",
        ),
        (
            "replayed ticket",
            used,
            StatusCode::UNAUTHORIZED,
            "visit_ticket_used",
        ),
    ] {
        let body = json!({"channel_key": "demo", "visit_ticket": ticket}).to_string();
        let request = request(&gw, Method::POST, "/v1/sessions", &origin, Some(&body));
        suite.http(name, status, code, request).await;
    }
    for (name, ticket, code) in [
        ("renewing a forged ticket", tampered, "invalid_visit_ticket"),
        (
            "renewing another channel's ticket",
            foreign,
            "invalid_visit_ticket",
        ),
        (
            "renewing a page view of 13 hours ago",
            long_ago,
            "visit_ticket_expired",
        ),
    ] {
        let path = format!("/v1/widget/demo/visibility?ticket={ticket}");
        let request = request(&gw, Method::GET, &path, &origin, None);
        suite
            .http(name, StatusCode::UNAUTHORIZED, code, request)
            .await;
    }

    // Session tokens: forged, expired, from another origin.
    let expired = gw.state.signer.sign(
        "session-token",
        &SessionClaims {
            session_id: "s-expired".into(),
            channel_id: demo.id.clone(),
            visitor_id: "v".into(),
            origin: Some(SITE_ORIGIN.into()),
            page_url: None,
            visit: Some(1),
            user_agent: None,
            offline: false,
            greeting: None,
            expires_at_ms: gateway::now_ms() - 1,
        },
    );
    for (name, token, code) in [
        (
            "forged session token",
            "forged".to_owned(),
            "invalid_session_token",
        ),
        ("expired session token", expired, "session_expired"),
    ] {
        let url = gw.ws_url(&format!("/v1/visitor/ws?token={token}"));
        suite
            .refused_socket(
                name,
                &url,
                &[("origin", SITE_ORIGIN)],
                StatusCode::UNAUTHORIZED,
                code,
            )
            .await;
    }

    // Agent credentials: forged, logged out, a channel secret as a login.
    let logged_out = login(
        &gw,
        gateway::demo::AGENT_EMAIL,
        gateway::demo::AGENT_PASSWORD,
    )
    .await;
    let out = call(&gw, &logged_out, Method::POST, "/v1/agent/logout", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for (name, token) in [
        ("forged login", "forged-token".to_owned()),
        ("logged-out login", logged_out),
        ("a channel secret as a login", demo.secret.clone()),
    ] {
        let bearer = format!("Bearer {token}");
        let request = request(
            &gw,
            Method::GET,
            "/v1/agent/me",
            &[("authorization", &bearer)],
            None,
        );
        suite
            .http(name, StatusCode::UNAUTHORIZED, "unauthorized", request)
            .await;
    }
    // Another channel's secret on this channel's API.
    let bearer = format!("Bearer {other_secret}");
    for path in [
        format!("/v1/channels/{}/conversations", demo.id),
        format!("/v1/channels/{}/webhooks", demo.id),
        format!("/v1/channels/{}/rules", demo.id),
    ] {
        let request = request(&gw, Method::GET, &path, &[("authorization", &bearer)], None);
        suite
            .http(
                &format!("another channel's secret: {path}"),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                request,
            )
            .await;
    }
    // Join links that are not.
    let page = reqwest::Client::new()
        .post(gw.url("/join/not-a-link"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("join_link_unknown"));
    assert!(suite.cases >= 16);
}

#[tokio::test]
async fn every_route_refuses_the_wrong_caller() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let plain = plain_agent(&gw, &admin).await;
    let demo = gw.demo_channel().await;
    let conversation = visitor_writes(&gw, SITE_ORIGIN, "hello").await;
    let mut suite = Suite::new(&gw);
    let admin_routes = [
        (Method::GET, "/v1/admin/channels".to_owned(), None),
        (
            Method::POST,
            "/v1/admin/channels".to_owned(),
            Some(r#"{"name":"x","inactivity_timeout_secs":60}"#),
        ),
        (
            Method::POST,
            "/v1/admin/channels/delete".to_owned(),
            Some(r#"{"ids":[]}"#),
        ),
        (Method::GET, format!("/v1/admin/channels/{}", demo.id), None),
        (
            Method::PATCH,
            format!("/v1/admin/channels/{}", demo.id),
            Some(r#"{"name":"y"}"#),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/channels/{}", demo.id),
            None,
        ),
        (
            Method::POST,
            format!("/v1/admin/channels/{}/rotate-secret", demo.id),
            None,
        ),
        (Method::GET, "/v1/admin/agents".to_owned(), None),
        (
            Method::PUT,
            "/v1/admin/agents/external/x".to_owned(),
            Some(r#"{"email":"x@y.test","name":"X"}"#),
        ),
        (Method::GET, "/v1/admin/queues".to_owned(), None),
        (
            Method::POST,
            "/v1/admin/queues".to_owned(),
            Some(r#"{"name":"q"}"#),
        ),
        (
            Method::PUT,
            "/v1/canned-responses/hi".to_owned(),
            Some(r#"{"text":"x"}"#),
        ),
        (Method::DELETE, "/v1/canned-responses/hi".to_owned(), None),
    ];
    let channel_routes = [
        (
            Method::GET,
            format!("/v1/channels/{}/conversations", demo.id),
            None,
        ),
        (
            Method::GET,
            format!("/v1/channels/{}/webhooks", demo.id),
            None,
        ),
        (
            Method::POST,
            format!("/v1/channels/{}/webhooks", demo.id),
            Some(r#"{"url":"https://93.184.216.34/h","events":["message.created"]}"#),
        ),
        (Method::GET, format!("/v1/channels/{}/rules", demo.id), None),
        (
            Method::POST,
            format!("/v1/conversations/{conversation}/agent-link"),
            Some(r#"{"email":"demo@example.test"}"#),
        ),
    ];
    // Who calls, with which bearer token, and the refusal each must get.
    let callers = [
        ("nobody", None, StatusCode::UNAUTHORIZED, "unauthorized"),
        (
            "a plain agent",
            Some(plain.clone()),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "the channel secret",
            Some(demo.secret.clone()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    // The channel's own secret is welcome on its channel's routes: only the first two apply.
    for (routes, callers) in [
        (admin_routes.to_vec(), &callers[..]),
        (channel_routes.to_vec(), &callers[..2]),
    ] {
        for (method, path, body) in routes {
            for (who, token, status, code) in callers {
                let bearer = token.as_ref().map(|t| format!("Bearer {t}"));
                let headers: Vec<(&str, &str)> = bearer
                    .iter()
                    .map(|b| ("authorization", b.as_str()))
                    .collect();
                let request = request(&gw, method.clone(), &path, &headers, body);
                suite
                    .http(&format!("{who}: {method} {path}"), *status, code, request)
                    .await;
            }
        }
    }
    for (method, path) in [
        (Method::GET, "/v1/agent/me".to_owned()),
        (Method::PUT, "/v1/agent/presence".to_owned()),
        (
            Method::POST,
            format!("/v1/conversations/{conversation}/accept"),
        ),
        (
            Method::POST,
            format!("/v1/conversations/{conversation}/close"),
        ),
        (
            Method::GET,
            format!("/v1/conversations/{conversation}/events"),
        ),
        (Method::GET, "/v1/team".to_owned()),
        (Method::GET, "/v1/canned-responses".to_owned()),
    ] {
        let request = request(&gw, method.clone(), &path, &[], None);
        suite
            .http(
                &format!("nobody: {method} {path}"),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                request,
            )
            .await;
    }
    suite
        .refused_socket(
            "nobody: agent socket",
            &gw.ws_url("/v1/agent/ws"),
            &[],
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    assert_eq!(suite.cases, 57);
}

#[tokio::test]
async fn cookie_authenticated_writes_from_another_origin_are_refused() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let demo = gw.demo_channel().await;
    let conversation = visitor_writes(&gw, SITE_ORIGIN, "hello").await;
    let cookie = format!("livechat_agent={admin}");
    let sibling = format!("http://127.0.0.1:{}", gw.addr.port() + 1);
    let own = format!("http://{}", gw.addr);
    let mut suite = Suite::new(&gw);
    let writes = [
        (
            Method::POST,
            format!("/v1/admin/channels/{}/rotate-secret", demo.id),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/admin/channels/{}", demo.id),
            Some(r#"{"online":false}"#),
        ),
        (
            Method::POST,
            format!("/v1/conversations/{conversation}/close"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/conversations/{conversation}/accept"),
            None,
        ),
        (Method::POST, "/v1/agent/logout".to_owned(), None),
    ];
    for (method, path, body) in writes {
        for (from, headers) in [
            ("a foreign origin", vec![("origin", "http://evil.example")]),
            ("a sibling port", vec![("origin", sibling.as_str())]),
            ("null", vec![("origin", "null")]),
            ("a cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
            ("a sibling subdomain", vec![("sec-fetch-site", "same-site")]),
        ] {
            let mut headers = headers;
            headers.push(("cookie", cookie.as_str()));
            let request = request(&gw, method.clone(), &path, &headers, body);
            suite
                .http(
                    &format!("{from}: {method} {path}"),
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    request,
                )
                .await;
        }
    }
    suite
        .refused_socket(
            "a foreign page opens the agent socket",
            &gw.ws_url("/v1/agent/ws"),
            &[("origin", "http://evil.example"), ("cookie", &cookie)],
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
        )
        .await;
    let body =
        json!({"email": gateway::demo::AGENT_EMAIL, "password": gateway::demo::AGENT_PASSWORD})
            .to_string();
    let request = request(
        &gw,
        Method::POST,
        "/v1/agent/login",
        &[("origin", "http://evil.example")],
        Some(&body),
    );
    suite
        .http(
            "a foreign page logs the browser in",
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            request,
        )
        .await;
    // The console itself, and bearer programs, are unaffected.
    let from_console = request_ok(
        &gw,
        Method::POST,
        &format!("/v1/conversations/{conversation}/accept"),
        &[("origin", own.as_str()), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(from_console, StatusCode::OK);
    let bearer = format!("Bearer {admin}");
    let program = request_ok(
        &gw,
        Method::POST,
        &format!("/v1/admin/channels/{}/rotate-secret", demo.id),
        &[
            ("origin", "http://evil.example"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(
        program,
        StatusCode::OK,
        "a bearer token is not sent by browsers on their own"
    );
    assert!(suite.cases >= 27);
}

async fn request_ok(
    gw: &TestGateway,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> StatusCode {
    request(gw, method, path, headers, None).await.status
}

#[tokio::test]
async fn malformed_oversize_and_nested_bodies_are_refused() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let demo = gw.demo_channel().await;
    let mut suite = Suite::new(&gw);
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        "{{\"channel_key\":{}1{}}}",
        "{\"a\":".repeat(1000),
        "}".repeat(1000)
    );
    let huge = format!(
        "{{\"channel_key\":\"demo\",\"visit_ticket\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let origin = ("origin", SITE_ORIGIN);
    let bearer = format!("Bearer {admin}");
    let auth = ("authorization", bearer.as_str());
    for (name, path, headers, body) in [
        (
            "truncated JSON",
            "/v1/sessions",
            vec![origin],
            "{\"channel_key\":",
        ),
        ("not JSON", "/v1/sessions", vec![origin], "channel_key=demo"),
        (
            "deeply nested array",
            "/v1/sessions",
            vec![origin],
            nested.as_str(),
        ),
        (
            "deeply nested object",
            "/v1/sessions",
            vec![origin],
            deep_object.as_str(),
        ),
        ("oversize body", "/v1/sessions", vec![origin], huge.as_str()),
        (
            "wrong types",
            "/v1/sessions",
            vec![origin],
            r#"{"channel_key":7,"visit_ticket":[]}"#,
        ),
        ("login, nested", "/v1/agent/login", vec![], nested.as_str()),
        (
            "login, wrong types",
            "/v1/agent/login",
            vec![],
            r#"{"email":1,"password":null}"#,
        ),
        (
            "admin create, nested",
            "/v1/admin/channels",
            vec![auth],
            nested.as_str(),
        ),
    ] {
        let request = request(&gw, Method::POST, path, &headers, Some(body));
        suite
            .http(name, StatusCode::BAD_REQUEST, "bad_request", request)
            .await;
    }
    // NUL anywhere a value can come from: refused on every store alike.
    let channel_path = format!("/v1/admin/channels/{}", demo.id);
    for (name, method, path, body) in [
        (
            "NUL in a channel name",
            Method::PATCH,
            channel_path.as_str(),
            Some(r#"{"name":"a\u0000b"}"#),
        ),
        (
            "NUL in a login",
            Method::POST,
            "/v1/agent/login",
            Some(r#"{"email":"a\u0000@b.c","password":"x"}"#),
        ),
        ("NUL in a path", Method::GET, "/v1/contacts/a%00b", None),
        (
            "NUL in a query",
            Method::GET,
            "/v1/widget/demo?page=http://site.test/%00",
            None,
        ),
    ] {
        let request = request(&gw, method, path, &[auth, origin], body);
        suite
            .http(name, StatusCode::BAD_REQUEST, "bad_request", request)
            .await;
    }
    let path = format!("/v1/channels/{}/webhooks", demo.id);
    let request = request(&gw, Method::POST, &path, &[auth], Some(&nested));
    suite
        .http(
            "webhook create, nested",
            StatusCode::BAD_REQUEST,
            "bad_request",
            request,
        )
        .await;
    assert_eq!(suite.cases, 14);
}

#[tokio::test]
async fn webhook_targets_in_special_purpose_ranges_are_refused_without_naming_an_address() {
    let gw = TestGateway::spawn().await;
    let demo = gw.demo_channel().await;
    let mut suite = Suite::new(&gw);
    let path = format!("/v1/channels/{}/webhooks", demo.id);
    let bearer = format!("Bearer {}", demo.secret);
    for host in [
        "10.0.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "192.0.0.8",
        "198.18.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "[::1]",
        "[64:ff9b::a00:1]",
        "[2002:a00:1::1]",
        "[::10.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[fec0::1]",
        "[fd00::1]",
        "[ff02::1]",
        "localhost",
    ] {
        let body = json!({"url": format!("http://{host}/hook"), "events": ["message.created"]})
            .to_string();
        let before = fingerprint(&gw).await;
        let answer = request(
            &gw,
            Method::POST,
            &path,
            &[("authorization", &bearer)],
            Some(&body),
        )
        .await;
        answer.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let problem = answer.body["error"]["fields"]["url"]
            .as_str()
            .unwrap_or_default();
        assert!(
            problem.contains("not a public address"),
            "{host}: {problem}"
        );
        if host == "localhost" {
            assert!(
                !problem.contains("127.0.0.1") && !problem.contains("::1"),
                "{problem}"
            );
        }
        assert_eq!(fingerprint(&gw).await, before, "{host} wrote to the store");
        suite.cases += 1;
    }
    assert_eq!(suite.cases, 17);
}

#[tokio::test]
async fn hostile_socket_frames_get_an_error_frame_and_the_socket_carries_on() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let mut suite = Suite::new(&gw);
    let text = |s: String| Message::Text(s.into());
    let huge_client_id =
        json!({"type": "send", "client_id": "c".repeat(10_000), "text": "hi"}).to_string();
    for (name, message, code) in [
        (
            "oversize frame",
            text(format!(
                "{{\"type\":\"send\",\"client_id\":\"a\",\"text\":\"{}\"}}",
                "x".repeat(30_000)
            )),
            "frame_too_large",
        ),
        (
            "binary frame",
            Message::Binary(vec![0xff, 0xfe, 0x00].into()),
            "invalid_frame",
        ),
        (
            "unknown frame type",
            text(r#"{"type":"sudo"}"#.into()),
            "invalid_frame",
        ),
        ("not JSON", text("hello?".into()), "invalid_frame"),
        ("huge client id", text(huge_client_id), "bad_request"),
        (
            "empty text",
            text(r#"{"type":"send","client_id":"e","text":"   "}"#.into()),
            "message_empty",
        ),
        (
            "NUL in text",
            text(r#"{"type":"send","client_id":"n","text":"a\u0000b"}"#.into()),
            "invalid_frame",
        ),
    ] {
        suite
            .frame::<VisitorServerFrame>(name, &mut socket, message, code)
            .await;
    }
    // Still usable: a good message is acknowledged.
    let (conversation, _) = socket.say("after", "still here").await;

    let mut console = agent_socket(&gw, &admin).await;
    // The agent's arrival routes the waiting conversation to it: let that write land first.
    let settling = std::time::Instant::now();
    while gw
        .conversation(&conversation)
        .await
        .assigned_agent_id
        .is_none()
    {
        assert!(
            settling.elapsed() < std::time::Duration::from_secs(10),
            "routing settles"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for (name, message, code) in [
        (
            "agent: read of an unknown conversation",
            text(r#"{"type":"read","conversation_id":"nope","seq":3}"#.into()),
            "conversation_not_found",
        ),
        (
            "agent: typing in an unknown conversation",
            text(r#"{"type":"typing","conversation_id":"nope"}"#.into()),
            "conversation_not_found",
        ),
        (
            "agent: open an unknown conversation",
            text(r#"{"type":"open","conversation_id":"nope","resume_after":0}"#.into()),
            "conversation_not_found",
        ),
        (
            "agent: binary frame",
            Message::Binary(vec![1, 2, 3].into()),
            "invalid_frame",
        ),
    ] {
        suite
            .frame::<AgentServerFrame>(name, &mut console, message, code)
            .await;
    }

    // Text that is not UTF-8 breaks the protocol: the socket closes, nothing is written.
    let before = fingerprint(&gw).await;
    let raw = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    socket.send_message(Message::Frame(raw)).await;
    assert!(
        socket
            .closes_within(std::time::Duration::from_secs(5))
            .await
    );
    assert_eq!(fingerprint(&gw).await, before);
    assert_eq!(suite.cases, 11);
}

/// A GET sent byte for byte, so no client library normalises `..` away.
async fn raw_get(gw: &TestGateway, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        gw.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

#[tokio::test]
async fn static_routes_serve_nothing_outside_their_folders() {
    let dist = tempfile::tempdir().unwrap();
    let widget = dist.path().join("widget");
    std::fs::create_dir_all(&widget).unwrap();
    std::fs::write(widget.join("panel.js"), "panel").unwrap();
    std::fs::write(dist.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let widget_dir = widget.clone();
    let gw = TestGateway::spawn_with(move |c| c.widget_dir = widget_dir).await;
    assert_eq!(raw_get(&gw, "/widget/panel.js").await.0, 200);
    for path in [
        "/widget/../secret.txt",
        "/widget/..%2fsecret.txt",
        "/widget/%2e%2e/secret.txt",
        "/widget/%2e%2e%2fsecret.txt",
        "/widget/..\\secret.txt",
        "/widget//etc/passwd",
        "/widget/%00",
    ] {
        let (status, body) = raw_get(&gw, path).await;
        assert!(
            !body.contains("TOP-SECRET") && !body.contains("root:"),
            "{path} leaked: {body}"
        );
        assert!((400..500).contains(&status), "{path}: {status}");
    }
}
