//! The leak test, alone in its own process so that its resident memory is its own: 1,000
//! visitor sockets opened and closed leave no hub topic and no memory behind.

use protocol::VisitorServerFrame;
use tests::client::Visitor;
use tests::{TestGateway, SITE_ORIGIN};

async fn visitors_come_and_go(gw: &TestGateway, count: usize) {
    for _ in 0..count / 50 {
        let mut sockets = Vec::new();
        for _ in 0..50 {
            let visitor = Visitor::arrive(gw, SITE_ORIGIN).await;
            let mut socket = visitor.connect(gw, None).await;
            socket.recv::<VisitorServerFrame>().await;
            sockets.push(socket);
        }
        assert!(
            gw.state.hub.topic_count() >= 50,
            "each visitor has its topic"
        );
        drop(sockets);
    }
}

#[tokio::test]
async fn a_thousand_visitor_sockets_leave_no_topic_and_no_memory_behind() {
    let gw = TestGateway::spawn_with(|c| {
        c.sessions_per_ip_per_minute = 1_000_000;
        c.sessions_per_channel_per_minute = 1_000_000;
    })
    .await;
    // Warm the allocator and every lazy structure first, so what follows measures growth.
    visitors_come_and_go(&gw, 200).await;
    let before = tests::rss_kib(None);
    visitors_come_and_go(&gw, 1_000).await;
    let start = std::time::Instant::now();
    while gw.state.hub.topic_count() > 0 && start.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        gw.state.hub.topic_count(),
        0,
        "every topic went with its socket"
    );
    let grown = tests::rss_kib(None).saturating_sub(before);
    eprintln!("GROWN {grown} KiB");
    // A topic per visitor once cost about 80 KiB that was never freed: 1,000 of them, 80 MiB.
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB over 1,000 sockets"
    );
}
