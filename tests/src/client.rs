//! Clients that speak to the gateway as the widget and the console do: HTTP with an `Origin`
//! header, and JSON-framed WebSockets.

use futures_util::{SinkExt, StreamExt};
use protocol::{CreateSession, LoginRequest, LoginResponse, SessionCreated, WidgetBootstrap};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::TestGateway;

/// How long a test waits for a frame before failing.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// A client's WebSocket connection (plain TCP: 127.0.0.1 only).
pub type Connection = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Socket {
    inner: Connection,
}

impl Socket {
    /// Opens a socket with an optional `Origin` header and bearer token; the error is the
    /// handshake's (an HTTP refusal shows up as `Http(response)`).
    pub async fn connect(
        url: &str,
        origin: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request()?;
        if let Some(origin) = origin {
            request.headers_mut().insert(
                "origin",
                HeaderValue::from_str(origin).expect("origin header"),
            );
        }
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("auth header");
            request.headers_mut().insert("authorization", value);
        }
        // Without Nagle, as browsers open theirs.
        let (inner, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
        Ok(Self { inner })
    }

    /// The socket's two halves, for a load that writes on a schedule while it reads.
    pub fn split(
        self,
    ) -> (
        futures_util::stream::SplitSink<Connection, Message>,
        futures_util::stream::SplitStream<Connection>,
    ) {
        self.inner.split()
    }

    pub async fn send<T: Serialize>(&mut self, frame: &T) {
        self.send_text(serde_json::to_string(frame).expect("frame serializes"))
            .await;
    }

    /// Sends any websocket message: binary, or a raw frame the client library would not build.
    pub async fn send_message(&mut self, message: Message) {
        self.inner.send(message).await.expect("socket send");
    }

    pub async fn send_text(&mut self, text: String) {
        self.inner
            .send(Message::Text(text.into()))
            .await
            .expect("socket send");
    }

    /// The next JSON frame; fails the test after [`FRAME_TIMEOUT`] or if the socket closes.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> T {
        loop {
            let next = tokio::time::timeout(FRAME_TIMEOUT, self.inner.next())
                .await
                .expect("timed out waiting for a frame");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("unexpected frame {text}: {e}"))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// The next JSON frame within `wait`; None on a timeout, a close or anything not JSON (for
    /// load generators, which count failures instead of failing).
    pub async fn try_recv(&mut self, wait: Duration) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .ok()??
            {
                Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).ok(),
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                _ => return None,
            }
        }
    }

    /// Sends a visitor message and waits for its ack: the conversation it went to and its seq.
    pub async fn say(&mut self, client_id: &str, text: &str) -> (String, i64) {
        self.send(&protocol::VisitorClientFrame::Send {
            client_id: client_id.into(),
            text: text.into(),
            attachments: Vec::new(),
        })
        .await;
        let ack = self
            .recv_until(|f| matches!(f, protocol::VisitorServerFrame::Ack { .. }))
            .await;
        match ack {
            protocol::VisitorServerFrame::Ack {
                client_id: acked,
                conversation_id,
                seq,
            } => {
                assert_eq!(acked, client_id, "the ack names the message");
                (conversation_id, seq)
            }
            _ => unreachable!("recv_until returns an ack"),
        }
    }

    /// Frames until one satisfies `wanted`, which is returned.
    pub async fn recv_until<T: DeserializeOwned>(&mut self, wanted: impl Fn(&T) -> bool) -> T {
        loop {
            let frame = self.recv::<T>().await;
            if wanted(&frame) {
                return frame;
            }
        }
    }

    /// The visitor's socket: frames until the message with this client id, which is returned.
    pub async fn visitor_message(&mut self, client_id: &str) -> protocol::ChatMessage {
        let frame = self
            .recv_until(|f: &protocol::VisitorServerFrame| {
                matches!(f, protocol::VisitorServerFrame::Message { message } if message.client_id == client_id)
            })
            .await;
        match frame {
            protocol::VisitorServerFrame::Message { message } => message,
            _ => unreachable!("recv_until returns a message"),
        }
    }

    /// Whether the server closes the socket within `wait` (frames before the close are skipped).
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The code of the close frame the server sends within `wait` (frames before it are
    /// skipped); None if it closes without one, or not at all.
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code.into()),
                Err(_) | Ok(None | Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Closes the socket as a browser does when the page goes.
    pub async fn close(&mut self) {
        let _ = self.inner.close(None).await;
    }

    /// Whether no frame arrives within `wait`.
    pub async fn is_quiet(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.inner.next()).await.is_err()
    }
}

/// An HTTP answer reduced to what tests assert on.
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Answer {
    /// The stable error code of a JSON error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Fails the test unless this is the error `code` with `status`.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    Answer { status, body }
}

pub async fn get(url: &str, origin: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new().get(url);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    answer(request.send().await.expect("GET")).await
}

pub async fn post<T: Serialize>(url: &str, origin: Option<&str>, body: &T) -> Answer {
    let mut request = reqwest::Client::new().post(url).json(body);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    answer(request.send().await.expect("POST")).await
}

fn parse<T: DeserializeOwned>(answer: Answer) -> T {
    assert!(
        answer.status.is_success(),
        "{}: {}",
        answer.status,
        answer.body
    );
    serde_json::from_value(answer.body).expect("typed body")
}

/// `GET /v1/widget/demo` from a page of `origin`, with the ticket the browser kept, if any.
pub async fn bootstrap(
    gateway: &TestGateway,
    origin: &str,
    ticket: Option<&str>,
) -> WidgetBootstrap {
    page_view(gateway, origin, ticket, &format!("{origin}/pricing")).await
}

fn page_query(ticket: Option<&str>, page: &str) -> String {
    let mut query = format!("?page={}", urlencode(page));
    if let Some(ticket) = ticket {
        query.push_str(&format!("&ticket={ticket}"));
    }
    query
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The loader's bootstrap for a view of `page`.
pub async fn page_view(
    gateway: &TestGateway,
    origin: &str,
    ticket: Option<&str>,
    page: &str,
) -> WidgetBootstrap {
    let path = format!("/v1/widget/demo{}", page_query(ticket, page));
    parse(get(&gateway.url(&path), Some(origin)).await)
}

/// The loader asking again about the page view of `ticket`.
pub async fn recheck(gateway: &TestGateway, origin: &str, ticket: &str, page: &str) -> Answer {
    let path = format!(
        "/v1/widget/demo/visibility{}",
        page_query(Some(ticket), page)
    );
    get(&gateway.url(&path), Some(origin)).await
}

/// `POST /v1/sessions` for the demo channel, as the widget sends it when the visitor opens it.
pub async fn open_session(
    gateway: &TestGateway,
    origin: &str,
    ticket: &str,
    captcha_token: Option<&str>,
) -> Answer {
    let request = CreateSession {
        channel_key: "demo".into(),
        visit_ticket: ticket.to_owned(),
        page_url: Some(format!("{origin}/pricing")),
        captcha_token: captcha_token.map(str::to_owned),
        ..CreateSession::default()
    };
    post(&gateway.url("/v1/sessions"), Some(origin), &request).await
}

/// A visitor on a page of `origin`: it has loaded the widget and opened the chat.
pub struct Visitor {
    pub origin: String,
    pub ticket: String,
    pub session: SessionCreated,
}

impl Visitor {
    pub async fn arrive(gateway: &TestGateway, origin: &str) -> Self {
        Self::arrive_with_ticket(gateway, origin, None).await
    }

    /// A visitor whose browser kept `ticket` from an earlier page view.
    pub async fn arrive_with_ticket(
        gateway: &TestGateway,
        origin: &str,
        ticket: Option<&str>,
    ) -> Self {
        let bootstrap = bootstrap(gateway, origin, ticket).await;
        let session = parse(open_session(gateway, origin, &bootstrap.visit_ticket, None).await);
        Self {
            origin: origin.to_owned(),
            ticket: bootstrap.visit_ticket,
            session,
        }
    }

    /// Uploads `bytes` as the widget does, for this visitor's next message.
    pub async fn upload(
        &self,
        gateway: &TestGateway,
        name: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(gateway.url("/v1/visitor/files"))
            .query(&[("name", name), ("key", key)])
            .header("origin", &self.origin)
            .bearer_auth(&self.session.session_token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload")
    }

    /// Fetches a file of this visitor's conversation (or its thumbnail) as the widget does.
    pub async fn download(
        &self,
        gateway: &TestGateway,
        id: &str,
        thumbnail: bool,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .get(gateway.url(&format!("/v1/visitor/files/{id}")))
            .query(&[("thumbnail", thumbnail)])
            .header("origin", &self.origin)
            .bearer_auth(&self.session.session_token)
            .send()
            .await
            .expect("download")
    }

    /// Opens the visitor socket, resuming after `seq` of `conversation` if given.
    pub async fn connect(&self, gateway: &TestGateway, resume: Option<(&str, i64)>) -> Socket {
        let mut url = gateway.ws_url(&format!(
            "/v1/visitor/ws?token={}",
            self.session.session_token
        ));
        if let Some((conversation, seq)) = resume {
            url.push_str(&format!(
                "&conversation_id={conversation}&resume_after={seq}"
            ));
        }
        Socket::connect(&url, Some(&self.origin), None)
            .await
            .expect("visitor socket")
    }
}

/// A new visitor arrives on a page of `origin` and writes `text`: the conversation's id once
/// the gateway acknowledged the message (the visitor's socket is closed after).
pub async fn visitor_writes(gateway: &TestGateway, origin: &str, text: &str) -> String {
    let visitor = Visitor::arrive(gateway, origin).await;
    let mut socket = visitor.connect(gateway, None).await;
    socket.say("first", text).await.0
}

/// Calls an authenticated API with a bearer token, as programs and the console do.
pub async fn call(
    gateway: &TestGateway,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Answer {
    let mut request = reqwest::Client::new()
        .request(method, gateway.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("API call")).await
}

/// Logs the demo agent in and returns its bearer token.
pub async fn agent_login(gateway: &TestGateway) -> String {
    login(
        gateway,
        gateway::demo::AGENT_EMAIL,
        gateway::demo::AGENT_PASSWORD,
    )
    .await
}

/// Logs an agent in and returns its bearer token.
pub async fn login(gateway: &TestGateway, email: &str, password: &str) -> String {
    let request = LoginRequest {
        email: email.into(),
        password: password.into(),
    };
    let login: LoginResponse = parse(post(&gateway.url("/v1/agent/login"), None, &request).await);
    login.token
}

pub async fn agent_socket(gateway: &TestGateway, token: &str) -> Socket {
    Socket::connect(&gateway.ws_url("/v1/agent/ws"), None, Some(token))
        .await
        .expect("agent socket")
}

/// An agent's console once the gateway counts the agent present: it has sent the inbox, which
/// it does after recording the connection.
pub async fn agent_present(gateway: &TestGateway, token: &str) -> Socket {
    let mut socket = agent_socket(gateway, token).await;
    socket
        .recv_until(|f: &protocol::AgentServerFrame| {
            matches!(f, protocol::AgentServerFrame::Inbox { .. })
        })
        .await;
    socket
}

/// An identity token as a site's back end signs it for `LiveChat.identify` (HS256 with the
/// channel's identity secret), expiring `exp_in_secs` from now.
pub fn identity_token(secret: &str, channel_key: &str, sub: &str, exp_in_secs: i64) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let exp = gateway::now_ms() / 1000 + exp_in_secs;
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"sub": sub, "channel": channel_key, "exp": exp,
                            "name": "Ada Lovelace", "email": "ada@example.com"}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// The demo agent answers in the demo channel's newest conversation, each `(client_id, text)`
/// acknowledged by the channel REST API, as an agent's console would send them.
pub async fn agent_answers(gateway: &TestGateway, replies: &[(&str, &str)]) {
    let admin = agent_login(gateway).await;
    let channel = gateway.demo_channel().await;
    let listed = call(
        gateway,
        &admin,
        reqwest::Method::GET,
        &format!("/v1/channels/{}/conversations", channel.id),
        None,
    )
    .await;
    let conversation = listed.body["conversations"][0]["id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    let path = format!(
        "/v1/channels/{}/conversations/{conversation}/messages",
        channel.id
    );
    for (client_id, text) in replies {
        let body = serde_json::json!({"client_id": client_id, "text": text});
        let sent = call(gateway, &admin, reqwest::Method::POST, &path, Some(body)).await;
        assert!(sent.status.is_success(), "{}", sent.body);
    }
}

/// `PATCH /v1/admin/channels/{id}` of the demo channel with `body`, as `token`.
pub async fn patch_demo_channel(
    gateway: &TestGateway,
    token: &str,
    body: serde_json::Value,
) -> Answer {
    let channel = gateway.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", channel.id);
    call(gateway, token, reqwest::Method::PATCH, &path, Some(body)).await
}

/// `GET /v1/visitors` as `token` once it lists at least `at_least` visitors (a page's call is
/// recorded beside its answer, so a moment after it): the visitors.
pub async fn visitors_now(
    gateway: &TestGateway,
    token: &str,
    at_least: usize,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = call(gateway, token, reqwest::Method::GET, "/v1/visitors", None).await;
        assert!(page.status.is_success(), "{}", page.body);
        let visitors = page.body["visitors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if visitors.len() >= at_least {
            return visitors;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {at_least} visitors listed: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
