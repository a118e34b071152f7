//! The audit log in the console: an admin's edits and a rotated secret, as an admin reads
//! them (the secret only as changed), narrowed to one action; checked by axe-core.

use reqwest::Method;
use serde_json::json;
use tests::browser::{Browser, WAIT};
use tests::client::{agent_login, call, patch_demo_channel};
use tests::DemoStack;

#[tokio::test]
async fn an_admin_reads_who_changed_what() {
    let demo = DemoStack::start().await;
    let admin = agent_login(&demo.gateway).await;
    let channel = demo.gateway.demo_channel().await;
    let renamed = patch_demo_channel(
        &demo.gateway,
        &admin,
        json!({"name": "Demo shop", "retention_days": 30}),
    )
    .await;
    assert!(renamed.status.is_success(), "{}", renamed.body);
    let path = format!("/v1/admin/channels/{}/rotate-secret", channel.id);
    let rotated = call(&demo.gateway, &admin, Method::POST, &path, None).await;
    let secret = rotated.body["secret"].as_str().unwrap().to_owned();

    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    agent.click_on("nav-audit").await;
    let shown = agent
        .wait_for(
            "the three entries",
            "const entries = [...document.querySelectorAll('[data-testid=audit-entry]')]; \
             return entries.length === 3 ? entries.map(e => [e.dataset.action, e.querySelector('dl').textContent]) : null;",
            WAIT,
        )
        .await;
    assert_eq!(
        shown,
        json!([
            ["secret_rotated", "secretchanged (not shown)"],
            ["retention_changed", "retention_days0 → 30"],
            [
                "channel_edited",
                format!("name{} → Demo shop", channel.name)
            ],
        ])
    );
    let page = agent
        .eval("return document.body.textContent;", json!([]))
        .await;
    assert!(!page.as_str().unwrap().contains(&secret));
    agent
        .change_value("audit-action", "retention_changed")
        .await;
    agent
        .wait_for(
            "the retention change alone",
            "const entries = document.querySelectorAll('[data-testid=audit-entry]'); \
             return entries.length === 1 && entries[0].dataset.action === 'retention_changed';",
            WAIT,
        )
        .await;
    if let Some(violations) = agent.accessibility_violations("html").await {
        assert_eq!(violations, json!([]));
    }
    agent.quit().await;
}
