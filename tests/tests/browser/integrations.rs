//! An admin connects a channel to other systems from the console: copies the inbound URL,
//! adds a webhook endpoint, reads its delivery log and replays a delivery.

use reqwest::Method;
use serde_json::json;
use tests::browser::{by_testid, Browser, WAIT};
use tests::client::{call, visitor_writes};
use tests::receiver::Receiver;
use tests::DemoStack;

#[tokio::test]
async fn an_admin_adds_a_webhook_reads_its_deliveries_and_replays_one() {
    let demo = DemoStack::start_with(|c| c.webhooks_allow_private = true).await;
    let channel = demo.gateway.demo_channel().await;
    let receiver = Receiver::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;
    let inbound = admin
        .wait_for(
            "the inbound URL",
            "return document.querySelector('[data-testid=inbound-url]')?.value;",
            WAIT,
        )
        .await;
    assert_eq!(
        inbound,
        demo.gateway
            .url(&format!("/v1/channels/{}/inbound", channel.id))
            .as_str()
    );

    let url = admin
        .wait_for_element("the endpoint URL field", &by_testid("endpoint-url"), WAIT)
        .await;
    admin.type_into(&url, &receiver.url()).await;
    // Only messages: the agent's console being open, routing assigns the conversation too.
    admin.click_on("event-message.created").await;
    admin.click_on("endpoint-add").await;
    admin
        .wait_for(
            "the endpoint listed",
            "return document.querySelectorAll('[data-testid=endpoint]').length === 1;",
            WAIT,
        )
        .await;
    let listed = call(
        &demo.gateway,
        &channel.secret,
        Method::GET,
        &format!("/v1/channels/{}/webhooks", channel.id),
        None,
    )
    .await;
    assert_eq!(listed.body[0]["url"], json!(receiver.url()));
    assert_eq!(listed.body[0]["events"], json!(["message.created"]));
    receiver.set_secret(listed.body[0]["secret"].as_str().unwrap());

    visitor_writes(&demo.gateway, &demo.site, "Hello from the site").await;
    receiver.wait_for(1, WAIT).await;
    admin.click_on("endpoint-log").await;
    admin
        .wait_for(
            "the delivery, delivered",
            "return document.querySelectorAll('[data-testid=delivery][data-status=delivered]').length === 1;",
            WAIT,
        )
        .await;
    admin.click_on("replay").await;
    let again = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        again
            .iter()
            .map(|d| d.id.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1,
        "the replay is the same event, with the same webhook-id"
    );
    assert_eq!(again[0].event_type(), "message.created");
    assert_eq!(receiver.forged(), 0);
    admin.quit().await;
}
