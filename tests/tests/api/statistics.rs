//! Each conversation's statistics, recorded when it closes: scripted conversations with known
//! timings (a bot answering first then handing over, a transfer; one left waiting; one reopened
//! and closed again) read back through the REST API, and the report of them, on SQLite and on
//! PostgreSQL; who may read whose figures.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::client::{agent_login, call, login};
use tests::postgres::ScratchDatabase;
use tests::TestGateway;

use gateway::store::{
    ChannelRef, NewMessage, ReplyAuthor, Transfer, TransferTo, VisitContext, DEFAULT_QUEUE,
};

const S: i64 = 1000;

struct Script<'a> {
    gw: &'a TestGateway,
    channel: ChannelRef,
    /// When the script starts: an hour ago, so every time is in the past.
    t0: i64,
}

impl Script<'_> {
    async fn visitor(&self, visitor_id: &str, at_s: i64) -> String {
        let client_id = format!("{visitor_id}-{at_s}");
        let message = NewMessage {
            sent_at_ms: self.t0 + at_s * S,
            ..NewMessage::now(&client_id, "hello")
        };
        let context = VisitContext::default();
        // Reopens what closed within the last hour.
        let reopen_after = self.t0 + at_s * S - 3600 * S;
        self.gw
            .state
            .store
            .append_visitor_message(&self.channel, visitor_id, context, message, reopen_after)
            .await
            .expect("append")
            .conversation
            .id
    }

    async fn reply(&self, conversation: &str, author: ReplyAuthor<'_>, at_s: i64) {
        let client_id = format!("reply-{at_s}");
        let message = NewMessage {
            sent_at_ms: self.t0 + at_s * S,
            ..NewMessage::now(&client_id, "hi")
        };
        self.gw
            .state
            .store
            .append_reply(conversation, author, message, None)
            .await
            .expect("reply");
    }

    async fn close(&self, conversation: &str, at_s: i64) {
        assert!(self
            .gw
            .state
            .store
            .close_conversation(conversation, None, self.t0 + at_s * S)
            .await
            .expect("close"));
    }
}

/// The conversation's statistics as the REST API reads them.
async fn statistics(gw: &TestGateway, channel: &str, admin: &str, id: &str) -> Value {
    let path = format!("/v1/channels/{channel}/conversations/{id}");
    let read = call(gw, admin, Method::GET, &path, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    read.body["statistics"].clone()
}

async fn scripted_conversations_have_their_statistics(gw: TestGateway) {
    let admin = agent_login(&gw).await;
    let record = gw.demo_channel().await;
    // A bot first: its conversations start with it.
    let bot = json!({"kind": "bot", "url": "http://127.0.0.1:9/bot", "name": "Assistant"});
    let path = format!("/v1/channels/{}/webhooks", record.id);
    let created = call(&gw, &admin, Method::POST, &path, Some(bot)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let agent = gw
        .state
        .store
        .agent_by_email(gateway::demo::AGENT_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let script = Script {
        gw: &gw,
        channel: ChannelRef::from(&record),
        t0: gateway::now_ms() - 3600 * S,
    };

    // The bot answers in 2 s; it hands over at 40 s; the agent answers at 100 s; a transfer
    // to the queue at 150 s; the agent writes again at 200 s; closed at 600 s.
    let id = script.visitor("ann", 10).await;
    assert_eq!(statistics(&gw, &record.id, &admin, &id).await, Value::Null);
    script.reply(&id, ReplyAuthor::Bot("Assistant"), 12).await;
    script.visitor("ann", 30).await;
    let store = &gw.state.store;
    store
        .hand_over(&id, None, script.t0 + 40 * S)
        .await
        .unwrap()
        .expect("handed over");
    script.reply(&id, ReplyAuthor::Agent(&agent), 100).await;
    let to_queue = Transfer {
        to: TransferTo::Queue(DEFAULT_QUEUE),
        note: None,
    };
    assert!(store
        .transfer(&id, Some(&agent.id), &to_queue, script.t0 + 150 * S)
        .await
        .unwrap());
    script.reply(&id, ReplyAuthor::Agent(&agent), 200).await;
    script.close(&id, 600).await;
    assert_eq!(
        statistics(&gw, &record.id, &admin, &id).await,
        json!({
            "outcome": "answered", "agent_id": agent.id, "queue_id": DEFAULT_QUEUE,
            "handler": "agents", "closed_at_ms": script.t0 + 600 * S,
            "wait_ms": 2 * S, "first_response_ms": 60 * S, "handle_ms": 500 * S,
            "duration_ms": 590 * S, "visitor_messages": 2, "agent_messages": 2,
            "bot_messages": 1, "desk_messages": 0, "transfers": 1
        })
    );

    // Handed over and never answered by a person: the visitor left waiting.
    let left = script.visitor("bo", 1000).await;
    script
        .reply(&left, ReplyAuthor::Bot("Assistant"), 1001)
        .await;
    store
        .hand_over(&left, None, script.t0 + 1002 * S)
        .await
        .unwrap()
        .expect("handed over");
    script.close(&left, 1300).await;
    let abandoned = statistics(&gw, &record.id, &admin, &left).await;
    assert_eq!(
        (
            &abandoned["outcome"],
            &abandoned["wait_ms"],
            &abandoned["first_response_ms"],
            &abandoned["handle_ms"]
        ),
        (&json!("abandoned"), &json!(S), &Value::Null, &Value::Null),
        "{abandoned}"
    );

    // Reopened by the visitor: no statistics while it is in progress; closed again, they are
    // recorded anew (now answered, and longer).
    assert_eq!(script.visitor("bo", 1400).await, left, "reopened");
    assert_eq!(
        statistics(&gw, &record.id, &admin, &left).await,
        Value::Null
    );
    script.reply(&left, ReplyAuthor::Agent(&agent), 1410).await;
    script.close(&left, 1500).await;
    let again = statistics(&gw, &record.id, &admin, &left).await;
    assert_eq!(
        (
            &again["outcome"],
            &again["duration_ms"],
            &again["visitor_messages"]
        ),
        (&json!("answered"), &json!(500 * S), &json!(2)),
        "{again}"
    );

    the_report_of_them_adds_up(&gw, &admin, &agent.id, script.t0).await;
}

/// The report of the two conversations above: both answered; waits of 2 s and 1 s; first
/// responses of 60 s and 408 s (the second counted from its hand-over at 1,002 s).
async fn the_report_of_them_adds_up(gw: &TestGateway, admin: &str, agent_id: &str, t0: i64) {
    let period = format!("from_ms={t0}&to_ms={}", t0 + 3600 * S);
    let report = call(
        gw,
        admin,
        Method::GET,
        &format!("/v1/reports?{period}"),
        None,
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let body = &report.body;
    assert_eq!(
        body["totals"],
        json!({"conversations": 2, "answered": 2, "bot": 0, "offline": 0, "missed": 0, "abandoned": 0})
    );
    assert_eq!(
        (&body["wait"]["median_ms"], &body["wait"]["p90_ms"]),
        (&json!(S), &json!(2 * S))
    );
    assert_eq!(
        body["wait"]["buckets"][0],
        json!({"below_ms": 15000, "count": 2})
    );
    let first = &body["first_response"];
    assert_eq!(
        (&first["count"], &first["median_ms"], &first["p90_ms"]),
        (&json!(2), &json!(60 * S), &json!(408 * S))
    );
    let counts: Vec<i64> = first["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .collect();
    assert_eq!(
        counts,
        [0, 0, 0, 1, 0, 1, 0, 0],
        "under 2 min, and under 10 min"
    );
    let day_total: i64 = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["conversations"].as_i64().unwrap())
        .sum();
    let hour_total: i64 = body["week_hours"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|day| day.as_array().unwrap())
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!((day_total, hour_total), (2, 2));
    let agent_row = &body["agents"][0];
    assert_eq!(
        (
            &agent_row["id"],
            &agent_row["name"],
            &agent_row["answered"],
            &agent_row["average_first_response_ms"],
            &agent_row["average_handle_ms"]
        ),
        (
            &json!(agent_id),
            &json!(gateway::demo::AGENT_NAME),
            &json!(2),
            &json!(234 * S),
            &json!(295 * S)
        ),
        "{agent_row}"
    );
    assert_eq!(body["queues"][0]["conversations"], json!(2));

    // A plain agent reads only their own figures: none here, and not another agent's.
    let body = json!({"email": "pia@example.test", "name": "Pia", "password": "a long password"});
    let synced = call(
        gw,
        admin,
        Method::PUT,
        "/v1/admin/agents/external/pia",
        Some(body),
    )
    .await;
    assert_eq!(synced.status, StatusCode::CREATED, "{}", synced.body);
    let pia = login(gw, "pia@example.test", "a long password").await;
    let own = call(
        gw,
        &pia,
        Method::GET,
        &format!("/v1/reports?{period}"),
        None,
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body["totals"]["conversations"], json!(0));
    let path = format!("/v1/reports?{period}&agent_id={agent_id}");
    call(gw, &pia, Method::GET, &path, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // A bad period and an unknown time zone are named.
    let path = format!(
        "/v1/reports?from_ms={}&to_ms={t0}&time_zone=Mars/Olympus",
        t0 + S
    );
    let refused = call(gw, admin, Method::GET, &path, None).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        refused.body["error"]["problems"]["from_ms"]["code"],
        json!("number")
    );
}

#[tokio::test]
async fn statistics_of_scripted_conversations_on_sqlite() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    scripted_conversations_have_their_statistics(gw).await;
}

#[tokio::test]
async fn statistics_of_scripted_conversations_on_postgresql() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let gw = TestGateway::spawn_with(move |c| {
        c.database_url = url;
        c.webhooks_allow_private = true;
    })
    .await;
    scripted_conversations_have_their_statistics(gw).await;
}
