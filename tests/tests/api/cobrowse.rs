//! Co-browsing through the gateway, as the panel, its module and the console use it: an agent
//! asks, nothing of the page passes until the visitor accepts, the mirror reaches the consoles
//! watching and no one else, within its budget; either side stops it; who may ask, watch and
//! fetch the page's files, and from where those files may come.

use axum::http::header;
use axum::response::IntoResponse;
use protocol::{
    AgentClientFrame, AgentServerFrame, CobrowseAct, CobrowseState, VisitorClientFrame,
    VisitorServerFrame,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tests::client::{agent_login, agent_present, call, patch_demo_channel, Socket, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

use crate::hostile::{other_channel, plain_agent, scoped_login};

const QUIET: Duration = Duration::from_millis(300);

async fn enable(gw: &TestGateway, admin: &str, settings: serde_json::Value) {
    let patched = patch_demo_channel(gw, admin, json!({ "cobrowse": settings })).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
}

/// A visitor in conversation on `origin`: their socket and the conversation's id.
async fn visitor_in_conversation(gw: &TestGateway, origin: &str) -> (Visitor, Socket, String) {
    let visitor = Visitor::arrive(gw, origin).await;
    let mut socket = visitor.connect(gw, None).await;
    let (conversation, _) = socket.say("m1", "Can you see my basket?").await;
    (visitor, socket, conversation)
}

fn ask_path(conversation: &str) -> String {
    format!("/v1/conversations/{conversation}/cobrowse")
}

/// The next co-browsing frame the visitor's panel gets: the invite as it stands.
async fn invite(socket: &mut Socket) -> protocol::CobrowseInvite {
    match socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Cobrowse { .. }))
        .await
    {
        VisitorServerFrame::Cobrowse { invite } => invite,
        _ => unreachable!(),
    }
}

/// The next session change the console gets.
async fn session(socket: &mut Socket) -> protocol::CobrowseSession {
    match socket
        .recv_until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Cobrowse { .. }))
        .await
    {
        AgentServerFrame::Cobrowse { session } => session,
        _ => unreachable!(),
    }
}

/// Every frame the console gets within `wait`, as JSON.
async fn frames_within(socket: &mut Socket, wait: Duration) -> Vec<serde_json::Value> {
    let mut frames = Vec::new();
    while let Some(frame) = socket.try_recv(wait).await {
        frames.push(frame);
    }
    frames
}

/// The code of the next error frame the socket gets (other frames skipped).
async fn next_refusal(socket: &mut Socket) -> String {
    loop {
        let frame: serde_json::Value = socket.recv().await;
        if frame["type"] == "error" {
            return frame["code"].as_str().unwrap().to_owned();
        }
    }
}

fn mirror(session_id: &str, data: &str) -> VisitorClientFrame {
    VisitorClientFrame::Mirror {
        session_id: session_id.into(),
        data: data.into(),
        more: false,
    }
}

#[tokio::test]
async fn the_page_passes_only_after_the_visitor_accepts_and_until_either_side_stops() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    enable(
        &gw,
        &admin,
        json!({"enabled": true, "control": false, "block": [".card-number"], "mask": ["#address"]}),
    )
    .await;
    let (visitor, mut page, conversation) = visitor_in_conversation(&gw, SITE_ORIGIN).await;
    let mut console = agent_present(&gw, &admin).await;
    console
        .send(&AgentClientFrame::Open {
            conversation_id: conversation.clone(),
            resume_after: 0,
        })
        .await;
    console
        .send(&AgentClientFrame::Watch {
            conversation_id: conversation.clone(),
            on: true,
        })
        .await;

    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    let first_id = asked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(asked.body["state"], "requested");
    let again = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    assert_eq!(again.status, StatusCode::OK, "asking twice is one request");
    assert_eq!(again.body["id"], first_id.as_str());
    let live = call(&gw, &admin, Method::GET, &ask_path(&conversation), None).await;
    assert_eq!(live.body["id"], first_id.as_str());

    let request = invite(&mut page).await;
    assert_eq!(request.session_id, first_id);
    assert_eq!(request.state, CobrowseState::Requested);
    assert_eq!(request.agent_name, gateway::demo::AGENT_NAME);
    assert_eq!(request.block, [".card-number"]);
    assert_eq!(request.mask, ["#address"]);
    assert!(!request.control_allowed);
    assert_eq!(session(&mut console).await.state, CobrowseState::Requested);

    // Nothing passes before an answer, nor after a refusal.
    page.send(&mirror(&first_id, r#"{"snap":"too early"}"#))
        .await;
    assert_eq!(next_refusal(&mut page).await, "cobrowse_not_active");
    page.send(&VisitorClientFrame::CobrowseAnswer {
        session_id: first_id.clone(),
        accept: false,
    })
    .await;
    assert_eq!(invite(&mut page).await.state, CobrowseState::Declined);
    assert_eq!(session(&mut console).await.state, CobrowseState::Declined);
    page.send(&mirror(&first_id, r#"{"snap":"declined"}"#))
        .await;
    assert_eq!(next_refusal(&mut page).await, "cobrowse_not_active");
    let seen = frames_within(&mut console, QUIET).await;
    assert!(
        !seen.iter().any(|f| f["type"] == "mirror"),
        "no page reached the console: {seen:?}"
    );
    let none = call(&gw, &admin, Method::GET, &ask_path(&conversation), None).await;
    none.assert_error(StatusCode::NOT_FOUND, "not_found");

    // Asked again, accepted: the mirror reaches the console watching.
    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    assert_eq!(asked.status, StatusCode::CREATED);
    let id = asked.body["id"].as_str().unwrap().to_owned();
    assert_ne!(id, first_id);
    assert_eq!(invite(&mut page).await.state, CobrowseState::Requested);
    assert_eq!(session(&mut console).await.state, CobrowseState::Requested);
    page.send(&VisitorClientFrame::CobrowseAnswer {
        session_id: id.clone(),
        accept: true,
    })
    .await;
    assert_eq!(invite(&mut page).await.state, CobrowseState::Active);
    assert_eq!(session(&mut console).await.state, CobrowseState::Active);
    page.send(&VisitorClientFrame::Mirror {
        session_id: id.clone(),
        data: r#"{"snap":"the page, first half"#.into(),
        more: true,
    })
    .await;
    page.send(&mirror(&id, r#", second half"}"#)).await;
    let pieces: Vec<(String, bool)> = {
        let mut pieces = Vec::new();
        while pieces.len() < 2 {
            if let AgentServerFrame::Mirror {
                conversation_id,
                session_id,
                data,
                more,
            } = console.recv().await
            {
                assert_eq!(
                    (conversation_id.as_str(), session_id.as_str()),
                    (conversation.as_str(), id.as_str())
                );
                pieces.push((data, more));
            }
        }
        pieces
    };
    assert_eq!(
        pieces,
        [
            (r#"{"snap":"the page, first half"#.to_owned(), true),
            (r#", second half"}"#.to_owned(), false)
        ]
    );

    // The agent points; acting needs control, which this channel does not allow.
    console
        .send(&AgentClientFrame::CobrowsePoint {
            conversation_id: conversation.clone(),
            x: 120,
            y: 640,
        })
        .await;
    let pointed: VisitorServerFrame = page
        .recv_until(|f| matches!(f, VisitorServerFrame::CobrowsePoint { .. }))
        .await;
    assert_eq!(
        pointed,
        VisitorServerFrame::CobrowsePoint { x: 120, y: 640 }
    );
    console
        .send(&AgentClientFrame::CobrowseAct {
            conversation_id: conversation.clone(),
            act: CobrowseAct::Click { node: 3 },
        })
        .await;
    assert_eq!(next_refusal(&mut console).await, "cobrowse_no_control");
    page.send(&VisitorClientFrame::CobrowseControl {
        session_id: id.clone(),
        granted: true,
    })
    .await;
    assert_eq!(next_refusal(&mut page).await, "cobrowse_no_control");

    // A second console that starts watching has the module send the whole page again.
    let mut second = agent_present(&gw, &admin).await;
    second
        .send(&AgentClientFrame::Watch {
            conversation_id: conversation.clone(),
            on: true,
        })
        .await;
    let resync: VisitorServerFrame = page
        .recv_until(|f| matches!(f, VisitorServerFrame::CobrowseResync))
        .await;
    assert_eq!(resync, VisitorServerFrame::CobrowseResync);

    // The next page of the site resumes the session.
    let mut next_page = visitor.connect(&gw, None).await;
    match next_page.recv::<VisitorServerFrame>().await {
        VisitorServerFrame::Ready {
            cobrowse: Some(invite),
            ..
        } => {
            assert_eq!(
                (invite.session_id.as_str(), invite.state),
                (id.as_str(), CobrowseState::Active)
            );
        }
        other => panic!("{other:?}"),
    }
    page.close().await;
    next_page
        .send(&mirror(&id, r#"{"snap":"next page"}"#))
        .await;
    let relayed = console
        .recv_until(|f: &AgentServerFrame| matches!(f, AgentServerFrame::Mirror { .. }))
        .await;
    assert!(matches!(relayed, AgentServerFrame::Mirror { data, .. } if data.contains("next page")));

    // The visitor stops: both sides hear it, and nothing passes any more.
    next_page
        .send(&VisitorClientFrame::CobrowseStop {
            session_id: id.clone(),
        })
        .await;
    assert_eq!(invite(&mut next_page).await.state, CobrowseState::Ended);
    assert_eq!(session(&mut console).await.state, CobrowseState::Ended);
    next_page.send(&mirror(&id, r#"{"snap":"after"}"#)).await;
    assert_eq!(next_refusal(&mut next_page).await, "cobrowse_not_active");
    assert!(!frames_within(&mut console, QUIET)
        .await
        .iter()
        .any(|f| f["type"] == "mirror"));

    // The agent stops one; closing the conversation stops another.
    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    assert_eq!(invite(&mut next_page).await.state, CobrowseState::Requested);
    let stopped = call(&gw, &admin, Method::DELETE, &ask_path(&conversation), None).await;
    assert_eq!(stopped.status, StatusCode::NO_CONTENT);
    let ended = invite(&mut next_page).await;
    assert_eq!(
        (ended.session_id.as_str(), ended.state),
        (asked.body["id"].as_str().unwrap(), CobrowseState::Ended)
    );
    call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    assert_eq!(invite(&mut next_page).await.state, CobrowseState::Requested);
    let close = format!("/v1/conversations/{conversation}/close");
    let closed = call(&gw, &admin, Method::POST, &close, None).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(invite(&mut next_page).await.state, CobrowseState::Ended);
    call(&gw, &admin, Method::POST, &ask_path(&conversation), None)
        .await
        .assert_error(StatusCode::CONFLICT, "conversation_closed");
}

#[tokio::test]
async fn a_control_the_visitor_grants_lets_the_agent_act_within_bounds() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    enable(&gw, &admin, json!({"enabled": true, "control": true})).await;
    let (_visitor, mut page, conversation) = visitor_in_conversation(&gw, SITE_ORIGIN).await;
    let mut console = agent_present(&gw, &admin).await;
    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    let id = asked.body["id"].as_str().unwrap().to_owned();
    assert!(invite(&mut page).await.control_allowed);
    page.send(&VisitorClientFrame::CobrowseAnswer {
        session_id: id.clone(),
        accept: true,
    })
    .await;
    assert_eq!(invite(&mut page).await.state, CobrowseState::Active);
    let act = |act| AgentClientFrame::CobrowseAct {
        conversation_id: conversation.clone(),
        act,
    };
    console.send(&act(CobrowseAct::Click { node: 4 })).await;
    assert_eq!(next_refusal(&mut console).await, "cobrowse_no_control");

    page.send(&VisitorClientFrame::CobrowseControl {
        session_id: id.clone(),
        granted: true,
    })
    .await;
    let granted = invite(&mut page).await;
    assert!(granted.control && granted.state == CobrowseState::Active);
    console.send(&act(CobrowseAct::Click { node: 4 })).await;
    let acted: VisitorServerFrame = page
        .recv_until(|f| matches!(f, VisitorServerFrame::CobrowseAct { .. }))
        .await;
    assert_eq!(
        acted,
        VisitorServerFrame::CobrowseAct {
            act: CobrowseAct::Click { node: 4 }
        }
    );
    console
        .send(&act(CobrowseAct::Type {
            node: 5,
            text: "x".repeat(protocol::MAX_COBROWSE_TYPED_CHARS + 1),
        }))
        .await;
    assert_eq!(next_refusal(&mut console).await, "validation_failed");

    // Taken back: acting is refused again.
    page.send(&VisitorClientFrame::CobrowseControl {
        session_id: id.clone(),
        granted: false,
    })
    .await;
    assert!(!invite(&mut page).await.control);
    console.send(&act(CobrowseAct::Click { node: 4 })).await;
    assert_eq!(next_refusal(&mut console).await, "cobrowse_no_control");
    assert!(!frames_within(&mut page, QUIET)
        .await
        .iter()
        .any(|f| f["type"] == "cobrowse_act"));
}

#[tokio::test]
async fn who_may_ask_to_see_a_page() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    let (_visitor, mut page, conversation) = visitor_in_conversation(&gw, SITE_ORIGIN).await;
    let path = ask_path(&conversation);

    // Off: refused (a new channel starts off, as the other channel below shows).
    enable(&gw, &admin, json!({"enabled": false})).await;
    call(&gw, &admin, Method::POST, &path, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "cobrowse_off");
    enable(&gw, &admin, json!({"enabled": true})).await;

    let anonymous = reqwest::Client::new()
        .post(gw.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    call(&gw, &channel.secret, Method::POST, &path, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    // A login of another channel (a join link of its own conversation) sees nothing here.
    let (_, _, other_secret, other_conversation) = other_channel(&gw, &admin).await;
    let scoped = scoped_login(&gw, &other_secret, &other_conversation).await;
    call(&gw, &scoped, Method::POST, &path, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "conversation_not_found");
    // ...nor may it watch this conversation's page.
    let mut foreign = agent_present(&gw, &scoped).await;
    foreign
        .send(&AgentClientFrame::Watch {
            conversation_id: conversation.clone(),
            on: true,
        })
        .await;
    assert_eq!(next_refusal(&mut foreign).await, "conversation_not_found");
    // The other channel does not allow co-browsing: its own conversation is refused too.
    call(
        &gw,
        &scoped,
        Method::POST,
        &ask_path(&other_conversation),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "cobrowse_off");
    let heard = frames_within(&mut page, QUIET).await;
    assert!(
        !heard.iter().any(|f| f["type"] == "cobrowse"),
        "nothing was asked of the visitor: {heard:?}"
    );

    // Any agent may ask.
    let plain = plain_agent(&gw, &admin).await;
    let asked = call(&gw, &plain, Method::POST, &path, None).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    assert_eq!(invite(&mut page).await.agent_name, "Plain");
    // Selectors are checked.
    let bad = patch_demo_channel(
        &gw,
        &admin,
        json!({"cobrowse": {"mask": ["ok", "", "a\nb"], "rate": 1}}),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let problems = &bad.body["error"]["problems"];
    assert!(problems["cobrowse.mask[1]"].is_object(), "{problems}");
    assert!(problems["cobrowse.mask[2]"].is_object(), "{problems}");
    assert!(problems["cobrowse.rate"].is_object(), "{problems}");
}

#[tokio::test]
async fn a_mirror_beyond_its_budget_ends_the_session() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    enable(&gw, &admin, json!({"enabled": true})).await;
    let (_visitor, mut page, conversation) = visitor_in_conversation(&gw, SITE_ORIGIN).await;
    let mut console = agent_present(&gw, &admin).await;
    console
        .send(&AgentClientFrame::Open {
            conversation_id: conversation.clone(),
            resume_after: 0,
        })
        .await;
    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    let id = asked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(invite(&mut page).await.state, CobrowseState::Requested);
    page.send(&VisitorClientFrame::CobrowseAnswer {
        session_id: id.clone(),
        accept: true,
    })
    .await;
    assert_eq!(invite(&mut page).await.state, CobrowseState::Active);
    assert_eq!(session(&mut console).await.state, CobrowseState::Requested);
    assert_eq!(session(&mut console).await.state, CobrowseState::Active);
    // Pieces of 18 KB, far faster than the budget refills: the burst runs out.
    let piece = "x".repeat(18 * 1024);
    let pieces = protocol::MIRROR_BURST_BYTES as usize / piece.len() + 20;
    for _ in 0..pieces {
        page.send(&VisitorClientFrame::Mirror {
            session_id: id.clone(),
            data: piece.clone(),
            more: true,
        })
        .await;
    }
    assert_eq!(next_refusal(&mut page).await, "mirror_too_fast");
    assert_eq!(session(&mut console).await.state, CobrowseState::Ended);
}

/// A site with a page's files, counting what the gateway fetched.
struct Site {
    origin: String,
    fetched: Arc<AtomicUsize>,
}

/// The smallest PNG: one transparent pixel.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

async fn site() -> Site {
    use axum::routing::get;
    let fetched = Arc::new(AtomicUsize::new(0));
    let counted = fetched.clone();
    let app = axum::Router::new()
        .route(
            "/img/pixel.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], PIXEL) }),
        )
        .route(
            "/css/site.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    "body { background: url(../img/pixel.png) }",
                )
            }),
        )
        .route(
            "/page.html",
            get(|| async { axum::response::Html("<script>alert(1)</script>") }),
        )
        .route(
            "/huge.png",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    vec![0u8; gateway::page_assets::MAX_ASSET_BYTES + 1],
                )
            }),
        )
        .route(
            "/away.png",
            get(|| async {
                axum::response::Redirect::temporary("http://elsewhere.test/pixel.png")
                    .into_response()
            }),
        )
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(request).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Site { origin, fetched }
}

#[tokio::test]
async fn the_page_files_come_through_the_gateway_from_the_site_alone() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let site = site().await;
    let patched = patch_demo_channel(
        &gw,
        &admin,
        json!({"allowed_origins": [SITE_ORIGIN, site.origin], "cobrowse": {"enabled": true}}),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let (_visitor, mut page, conversation) = visitor_in_conversation(&gw, &site.origin).await;
    let asset = |token: String, url: String| {
        let gw = &gw;
        let conversation = conversation.clone();
        async move {
            reqwest::Client::new()
                .get(gw.url(&format!("/v1/conversations/{conversation}/cobrowse/asset")))
                .query(&[("url", url)])
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let pixel = format!("{}/img/pixel.png", site.origin);

    // Only while a session runs.
    let early = asset(admin.clone(), pixel.clone()).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    let asked = call(&gw, &admin, Method::POST, &ask_path(&conversation), None).await;
    let id = asked.body["id"].as_str().unwrap().to_owned();
    page.send(&VisitorClientFrame::CobrowseAnswer {
        session_id: id.clone(),
        accept: true,
    })
    .await;
    invite(&mut page).await;
    assert_eq!(invite(&mut page).await.state, CobrowseState::Active);

    let image = asset(admin.clone(), pixel.clone()).await;
    assert_eq!(image.status(), StatusCode::OK);
    let headers = image.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(image.bytes().await.unwrap(), PIXEL);
    // Fetched once, whoever asks next (any agent of the channel).
    let plain = plain_agent(&gw, &admin).await;
    let again = asset(plain, pixel.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(site.fetched.load(Ordering::SeqCst), 1);

    // A stylesheet's links come through the gateway too.
    let css = asset(admin.clone(), format!("{}/css/site.css", site.origin)).await;
    assert_eq!(css.headers()[header::CONTENT_TYPE], "text/css");
    let proxied =
        gateway::cobrowse::assets::proxied(&conversation, &url::Url::parse(&pixel).unwrap());
    assert_eq!(
        css.text().await.unwrap(),
        format!("body {{ background: url(\"{proxied}\") }}")
    );

    // Not a page, not too big, not from elsewhere (not even by a redirect).
    let refused = |response: reqwest::Response| async move {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body["error"]["code"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        refused(asset(admin.clone(), format!("{}/page.html", site.origin)).await).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_not_allowed".into()
        )
    );
    assert_eq!(
        refused(asset(admin.clone(), format!("{}/huge.png", site.origin)).await).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large".into())
    );
    assert_eq!(
        refused(asset(admin.clone(), "http://127.0.0.1:9/secret.png".into()).await).await,
        (StatusCode::FORBIDDEN, "origin_not_allowed".into())
    );
    assert_eq!(
        refused(asset(admin.clone(), format!("{}/away.png", site.origin)).await).await,
        (StatusCode::FORBIDDEN, "origin_not_allowed".into())
    );
    assert_eq!(
        refused(asset(admin.clone(), "javascript:alert(1)".into()).await).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into())
    );

    // No credential, another channel's login: nothing.
    let anonymous = reqwest::Client::new()
        .get(gw.url(&format!("/v1/conversations/{conversation}/cobrowse/asset")))
        .query(&[("url", &pixel)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (_, _, other_secret, other_conversation) = other_channel(&gw, &admin).await;
    let scoped = scoped_login(&gw, &other_secret, &other_conversation).await;
    assert_eq!(
        asset(scoped, pixel.clone()).await.status(),
        StatusCode::NOT_FOUND
    );

    // The mirror's document runs nothing and loads only from the gateway.
    let frame = reqwest::Client::new()
        .get(gw.url("/v1/agent/cobrowse/frame"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let policy = frame.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    let unauthenticated = reqwest::Client::new()
        .get(gw.url("/v1/agent/cobrowse/frame"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    // Stopped: nothing more.
    call(&gw, &admin, Method::DELETE, &ask_path(&conversation), None).await;
    assert_eq!(asset(admin, pixel).await.status(), StatusCode::CONFLICT);
}
