//! The store's group commit, on a real SQLite file: many appends at once share transactions,
//! yet each is stored exactly once with gap-free seqs, a resend racing its original in the same
//! batch gets the original back, and one append that fails takes nothing of its batch with it.

use gateway::error::Error;
use gateway::store::{Appended, ChannelRef, NewMessage, ReplyAuthor, Store, VisitContext};
use std::collections::{HashMap, HashSet};

mod common;

const VISITORS: usize = 40;
const MESSAGES: usize = 5;

async fn demo(dir: &tempfile::TempDir) -> (Store, ChannelRef) {
    let (state, channel) = common::demo_state(dir).await;
    (state.store.clone(), ChannelRef::from(&channel))
}

async fn visitor_says(
    store: &Store,
    channel: &ChannelRef,
    visitor: &str,
    client_id: &str,
) -> Result<Appended, Error> {
    store
        .append_visitor_message(
            channel,
            visitor,
            VisitContext::default(),
            NewMessage::now(client_id, "hello"),
            0,
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_at_once_are_each_stored_once_in_order_even_when_resent_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, channel) = demo(&dir).await;
    // Every visitor's first message at the same moment (each creates a conversation), each
    // sent twice at once, as a widget resending after a reconnect would; then the rest.
    let mut tasks = Vec::new();
    for m in 0..MESSAGES {
        for v in 0..VISITORS {
            for _copy in 0..2 {
                let (store, channel) = (store.clone(), channel.clone());
                tasks.push(tokio::spawn(async move {
                    let visitor = format!("visitor-{v}");
                    let appended = visitor_says(&store, &channel, &visitor, &format!("m{m}"))
                        .await
                        .expect("stored");
                    (visitor, m, appended)
                }));
            }
        }
        let mut seen: HashMap<(String, usize), i64> = HashMap::new();
        for task in tasks.drain(..) {
            let (visitor, m, appended) = task.await.unwrap();
            let seq = *seen.entry((visitor, m)).or_insert(appended.message.seq);
            assert_eq!(
                seq, appended.message.seq,
                "both copies got the same message"
            );
            assert_eq!(seq, m as i64 + 1, "seqs follow the order of sending");
        }
    }
    let mut conversations = HashSet::new();
    for v in 0..VISITORS {
        let last = visitor_says(&store, &channel, &format!("visitor-{v}"), "m0")
            .await
            .unwrap();
        assert!(last.duplicate, "a late resend is still the same message");
        let stored = store
            .messages_after(&last.message.conversation_id, 0, 100)
            .await
            .unwrap();
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=MESSAGES as i64).collect::<Vec<_>>(),
            "once each, no gap"
        );
        conversations.insert(last.message.conversation_id);
    }
    assert_eq!(
        conversations.len(),
        VISITORS,
        "one conversation per visitor"
    );
    let metrics = gateway::telemetry::render();
    let figure = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    let (appends, commits) = (
        figure("livechat_store_commit_batch_size_sum"),
        figure("livechat_store_commit_batch_size_count"),
    );
    assert!(
        commits < appends / 2.0,
        "appends shared commits: {appends} appends in {commits} commits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_append_takes_nothing_of_its_batch_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, channel) = demo(&dir).await;
    let closed = visitor_says(&store, &channel, "closed-visitor", "c1")
        .await
        .unwrap()
        .message
        .conversation_id;
    assert!(store
        .close_conversation(&closed, None, gateway::now_ms())
        .await
        .unwrap());
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (store, channel, closed) = (store.clone(), channel.clone(), closed.clone());
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                let reply = store
                    .append_reply(
                        &closed,
                        ReplyAuthor::Bot("bot"),
                        NewMessage::now(&format!("r{i}"), "too late"),
                        None,
                    )
                    .await;
                assert!(matches!(reply, Err(Error::ConversationClosed)), "{reply:?}");
                None
            } else {
                let appended = visitor_says(&store, &channel, &format!("v{i}"), "first")
                    .await
                    .expect("its batch-mate's failure does not fail it");
                Some(appended.message.conversation_id)
            }
        }));
    }
    for task in tasks {
        if let Some(conversation) = task.await.unwrap() {
            let stored = store.messages_after(&conversation, 0, 10).await.unwrap();
            assert_eq!(stored.len(), 1, "stored, once");
        }
    }
    let after_close = store.messages_after(&closed, 0, 100).await.unwrap();
    assert_eq!(
        after_close.len(),
        1,
        "nothing of the refused replies was written"
    );
}
