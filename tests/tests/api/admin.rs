//! The channel admin API: who may use it, field-by-field validation, and what each setting
//! does to visitors.

use protocol::{ChannelState, ChannelView, VisitorClientFrame, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::client::{agent_login, call, get, login, open_session, Answer, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

async fn create(gw: &TestGateway, token: &str, body: serde_json::Value) -> ChannelView {
    let answer = call(gw, token, Method::POST, "/v1/admin/channels", Some(body)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    serde_json::from_value(answer.body).unwrap()
}

#[tokio::test]
async fn only_logged_in_admins_may_manage_channels() {
    let gw = TestGateway::spawn().await;
    assert_eq!(
        get(&gw.url("/v1/admin/channels"), None).await.code(),
        "unauthorized"
    );
    gateway::agents::ensure_agent(
        &gw.state,
        "sam@demo.test",
        "Sam",
        "a long password",
        protocol::Role::Agent,
    )
    .await
    .unwrap();
    let agent = login(&gw, "sam@demo.test", "a long password").await;
    let answer = call(&gw, &agent, Method::GET, "/v1/admin/channels", None).await;
    answer.assert_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_channel_is_created_from_a_name_and_a_timeout_and_accepts_any_origin() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = create(
        &gw,
        &admin,
        json!({"name": "Support", "inactivity_timeout_secs": 900}),
    )
    .await;
    assert_eq!(
        (
            channel.name.as_str(),
            channel.inactivity_timeout_secs,
            channel.state
        ),
        ("Support", 900, ChannelState::Online)
    );
    assert!(channel.allowed_origins.is_empty());
    assert_eq!(
        channel.snippet,
        format!(
            "<script async src=\"{}\" data-channel=\"{}\"></script>",
            gw.url("/embed.js"),
            channel.key
        )
    );
    assert!(channel.secret.len() >= 32);
    assert_eq!(channel.chat_url, gw.url(&format!("/chat/{}", channel.key)));

    // Empty allow-list: any site may embed it.
    let bootstrap = get(
        &gw.url(&format!("/v1/widget/{}", channel.key)),
        Some("https://anywhere.example"),
    )
    .await;
    assert_eq!(bootstrap.status, StatusCode::OK, "{}", bootstrap.body);
    let read = call(
        &gw,
        &admin,
        Method::GET,
        &format!("/v1/admin/channels/{}", channel.id),
        None,
    )
    .await;
    assert_eq!(
        serde_json::from_value::<ChannelView>(read.body).unwrap(),
        channel
    );
}

#[tokio::test]
async fn bad_values_are_refused_field_by_field_and_nothing_is_saved() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let answer = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels",
        Some(json!({"name": "", "inactivity_timeout_secs": "soon", "allowed_origins": ["https://ok.example", "https://bad.example/"]})),
    )
    .await;
    answer.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields = answer.body["error"]["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        vec!["allowed_origins[1]", "inactivity_timeout_secs", "name"]
    );
    assert_eq!(
        answer.body["error"]["problems"],
        json!({
            "allowed_origins[1]": {"code": "origin"},
            "inactivity_timeout_secs": {"code": "seconds", "min": 1, "max": 604800},
            "name": {"code": "empty"},
        })
    );
    assert_eq!(fields["name"], "cannot be empty");
    let all = call(&gw, &admin, Method::GET, "/v1/admin/channels", None).await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        1,
        "only the demo channel exists"
    );
}

#[tokio::test]
async fn channels_are_searched_by_name_edited_and_their_secret_rotated() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    for name in ["Shop EU", "Shop US", "Careers"] {
        create(
            &gw,
            &admin,
            json!({"name": name, "inactivity_timeout_secs": 60}),
        )
        .await;
    }
    let found = call(&gw, &admin, Method::GET, "/v1/admin/channels?q=shop", None).await;
    let names: Vec<_> = found
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["Shop EU", "Shop US"]);

    let demo = gw
        .state
        .store
        .channel_by_key("demo")
        .await
        .unwrap()
        .unwrap();
    let path = format!("/v1/admin/channels/{}", demo.id);
    let edited = call(
        &gw,
        &admin,
        Method::PATCH,
        &path,
        Some(json!({"online": false, "allowed_origins": ["HTTP://Site.Test"]})),
    )
    .await;
    let edited: ChannelView = serde_json::from_value(edited.body).unwrap();
    assert_eq!(
        (edited.state, edited.allowed_origins.clone()),
        (ChannelState::Offline, vec!["http://site.test".to_owned()])
    );

    let rotated = call(
        &gw,
        &admin,
        Method::POST,
        &format!("{path}/rotate-secret"),
        None,
    )
    .await;
    let rotated: ChannelView = serde_json::from_value(rotated.body).unwrap();
    assert_ne!(rotated.secret, edited.secret);
    assert_eq!(
        gw.state
            .store
            .channel_by_id(&demo.id)
            .await
            .unwrap()
            .unwrap()
            .secret,
        rotated.secret
    );
}

#[tokio::test]
async fn an_offline_channel_hides_the_widget_and_refuses_sessions() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let demo = gw
        .state
        .store
        .channel_by_key("demo")
        .await
        .unwrap()
        .unwrap();
    let ticket = Visitor::arrive(&gw, SITE_ORIGIN).await.ticket;
    call(
        &gw,
        &admin,
        Method::PATCH,
        &format!("/v1/admin/channels/{}", demo.id),
        Some(json!({"online": false})),
    )
    .await;

    let bootstrap = get(&gw.url("/v1/widget/demo"), Some(SITE_ORIGIN)).await;
    assert_eq!(bootstrap.body["visibility"]["state"], "hidden");
    let session = open_session(&gw, SITE_ORIGIN, &ticket, None).await;
    session.assert_error(StatusCode::SERVICE_UNAVAILABLE, "channel_offline");
}

#[tokio::test]
async fn a_channel_with_an_open_conversation_is_not_deleted_alone_or_in_bulk() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let spare = create(
        &gw,
        &admin,
        json!({"name": "Spare", "inactivity_timeout_secs": 60}),
    )
    .await;
    let demo = gw
        .state
        .store
        .channel_by_key("demo")
        .await
        .unwrap()
        .unwrap();
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket
        .send(&VisitorClientFrame::Send {
            client_id: "m1".into(),
            text: "hi".into(),
            attachments: Vec::new(),
        })
        .await;
    socket
        .recv_until(|f| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;

    let alone = call(
        &gw,
        &admin,
        Method::DELETE,
        &format!("/v1/admin/channels/{}", demo.id),
        None,
    )
    .await;
    alone.assert_error(StatusCode::CONFLICT, "channel_in_use");
    assert_eq!(alone.body["error"]["refused"][0]["name"], "Demo site");

    let bulk = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels/delete",
        Some(json!({"ids": [spare.id, demo.id]})),
    )
    .await;
    bulk.assert_error(StatusCode::CONFLICT, "channel_in_use");
    assert_eq!(bulk.body["error"]["refused"].as_array().unwrap().len(), 1);
    assert!(
        gw.state
            .store
            .channel_by_id(&spare.id)
            .await
            .unwrap()
            .is_some(),
        "nothing is deleted when one is refused"
    );

    let unknown = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels/delete",
        Some(json!({"ids": [spare.id, "no-such-id"]})),
    )
    .await;
    unknown.assert_error(StatusCode::NOT_FOUND, "channel_not_found");

    let ok = call(
        &gw,
        &admin,
        Method::POST,
        "/v1/admin/channels/delete",
        Some(json!({"ids": [spare.id]})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(gw
        .state
        .store
        .channel_by_id(&spare.id)
        .await
        .unwrap()
        .is_none());
    assert!(gw
        .state
        .store
        .channel_by_id(&demo.id)
        .await
        .unwrap()
        .is_some());
}

/// The demo channel's appearance edited by an admin (`appearance` holds the fields to change).
async fn edit_appearance(gw: &TestGateway, admin: &str, appearance: serde_json::Value) -> Answer {
    let channel = gw.demo_channel().await;
    let path = format!("/v1/admin/channels/{}", channel.id);
    call(
        gw,
        admin,
        Method::PATCH,
        &path,
        Some(json!({ "appearance": appearance })),
    )
    .await
}

#[tokio::test]
async fn the_panel_s_theme_is_one_of_three_and_reaches_the_page() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let refused = edit_appearance(&gw, &admin, json!({"theme": "neon"})).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        refused.body["error"]["fields"]["appearance.theme"].is_string(),
        "{}",
        refused.body
    );
    assert_eq!(
        gw.demo_channel().await.appearance.theme,
        protocol::Theme::Auto
    );
    let set = edit_appearance(&gw, &admin, json!({"theme": "dark"})).await;
    assert_eq!(set.body["appearance"]["theme"], "dark", "{}", set.body);
    let page = get(&gw.url("/v1/widget/demo"), Some(SITE_ORIGIN)).await;
    assert_eq!(page.body["appearance"]["theme"], "dark");
}

#[tokio::test]
async fn an_unreadable_colour_pair_is_refused_and_the_look_reaches_the_page_as_style() {
    let gw = TestGateway::spawn().await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    // White text (the default) on pale yellow: 1.3:1.
    let refused = edit_appearance(
        &gw,
        &admin,
        json!({"accent_color": "#fde68a", "launcher_label": "Help"}),
    )
    .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let problem = &refused.body["error"]["fields"]["appearance.text_color"];
    assert!(
        problem.as_str().unwrap_or_default().contains("4.5:1"),
        "{}",
        refused.body
    );
    // The same problem as a code and its facts, for a client to word in its own language.
    assert_eq!(
        refused.body["error"]["problems"]["appearance.text_color"],
        json!({"code": "contrast", "ratio": "1.2", "min": "4.5"}),
        "{}",
        refused.body
    );
    assert_eq!(
        gw.demo_channel().await.appearance,
        channel.appearance,
        "nothing of a refused edit is kept"
    );

    let set = edit_appearance(
        &gw,
        &admin,
        json!({
            "accent_color": "#fde68a", "text_color": "rgb(31 41 55)", "position": "bottom_left",
            "launcher_icon": "help", "launcher_label": "Questions?", "offset_x": 32,
            "panel_width": 420, "panel_height": 600
        }),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["appearance"]["launcher_label"], "Questions?");
    let page = get(&gw.url("/v1/widget/demo"), Some(SITE_ORIGIN)).await;
    let style = page.body["style"].as_str().unwrap_or_default();
    for part in [
        "--lc-accent:#fde68a;--lc-text:#1f2937;",
        "stroke='%231f2937'",
        "--lc-label:\"Questions?\";--lc-pad:20px;",
        "--lc-start:32px;--lc-end:auto;--lc-y:20px;--lc-align:start;",
        "--lc-w:420px;--lc-h:600px",
    ] {
        assert!(style.contains(part), "{part} not in {style}");
    }
    // The text colour alone, then, is checked against the stored accent.
    let pale_text = edit_appearance(&gw, &admin, json!({"text_color": "#fffbeb"})).await;
    pale_text.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
