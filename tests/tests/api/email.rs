//! Email to visitors against a real SMTP server (aiosmtpd on localhost): the replies they were
//! not there to read, batched; the transcript they asked for; their answers by email back into
//! the conversation; and the outbox's retries when the SMTP server is down.

use protocol::{EmailStatus, EmailView, VisitorClientFrame, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use tests::client::{agent_login, call, Socket, Visitor};
use tests::smtp::{ReceivedEmail, SmtpServer};
use tests::{TestGateway, SITE_ORIGIN};

const INBOUND_SECRET: &str = "inbound-test-secret";
const VISITOR_EMAIL: &str = "ann@visitor.test";

async fn gateway_sending_to(smtp: &SmtpServer) -> TestGateway {
    gateway_on(smtp, None).await
}

/// A gateway sending to `smtp`, on the PostgreSQL database `database_url` if given.
async fn gateway_on(smtp: &SmtpServer, database_url: Option<String>) -> TestGateway {
    let url = smtp.url();
    TestGateway::spawn_with(move |c| {
        if let Some(database_url) = database_url {
            c.database_url = database_url;
        }
        c.smtp_url = Some(url);
        c.email_from = Some("chat@gateway.test".into());
        c.email_reply_to = Some("reply@in.gateway.test".into());
        c.email_inbound_secret = Some(INBOUND_SECRET.into());
        c.email_batch_secs = 1;
        c.webhook_retry_base_ms = 300;
        c.webhook_retry_max_ms = 1000;
    })
    .await
}

/// The visitor leaves an address from the panel; the gateway confirms it.
async fn leave_address(socket: &mut Socket, transcript: bool) {
    socket
        .send(&VisitorClientFrame::Email {
            address: format!(" {VISITOR_EMAIL} "),
            transcript,
        })
        .await;
    let saved = socket
        .recv_until(|f| matches!(f, VisitorServerFrame::EmailSaved { .. }))
        .await;
    assert_eq!(
        saved,
        VisitorServerFrame::EmailSaved {
            address: VISITOR_EMAIL.into(),
            transcript
        }
    );
}

/// A visitor who wrote `question` and left their address (for the transcript too, if asked).
async fn visitor_with_address(
    gw: &TestGateway,
    question: &str,
    transcript: bool,
) -> (Socket, String) {
    let visitor = Visitor::arrive(gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(gw, None).await;
    let (conversation, _) = socket.say("q1", question).await;
    leave_address(&mut socket, transcript).await;
    (socket, conversation)
}

/// The conversation closed through the channel's REST API.
async fn close(gw: &TestGateway, token: &str, conversation: &str) {
    let channel = gw.demo_channel().await;
    let path = format!(
        "/v1/channels/{}/conversations/{conversation}/close",
        channel.id
    );
    let closed = call(gw, token, Method::POST, &path, None).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
}

async fn reply(gw: &TestGateway, token: &str, conversation: &str, client_id: &str, text: &str) {
    let channel = gw.demo_channel().await;
    let path = format!(
        "/v1/channels/{}/conversations/{conversation}/messages",
        channel.id
    );
    let body = serde_json::json!({"client_id": client_id, "text": text});
    let answer = call(gw, token, Method::POST, &path, Some(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

async fn email_log(gw: &TestGateway) -> Vec<EmailView> {
    let channel = gw.demo_channel().await;
    let path = format!("/v1/channels/{}/emails", channel.id);
    let answer = call(gw, &channel.secret, Method::GET, &path, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    serde_json::from_value(answer.body).expect("email log")
}

/// Waits until the log has an email in each of these states.
async fn log_shows(gw: &TestGateway, wanted: &[EmailStatus]) -> Vec<EmailView> {
    for _ in 0..200 {
        let log = email_log(gw).await;
        let statuses: Vec<EmailStatus> = log.iter().map(|e| e.status).collect();
        if statuses.len() == wanted.len() && wanted.iter().all(|s| statuses.contains(s)) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the email log never showed {wanted:?}: {:?}",
        email_log(gw).await
    );
}

async fn inbound(gw: &TestGateway, secret: Option<&str>, raw: &str) -> tests::client::Answer {
    let mut request = reqwest::Client::new()
        .post(gw.url("/v1/email/inbound"))
        .header("content-type", "message/rfc822")
        .body(raw.to_owned());
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    tests::client::answer(request.send().await.expect("inbound")).await
}

/// An answer as a mail program writes it: the new text, then the quoted email.
fn answer_email(to: &str, message_id: &str, text: &str, quoted: &ReceivedEmail) -> String {
    let quoted: String = quoted
        .text()
        .lines()
        .map(|l| format!("> {l}\r\n"))
        .collect();
    format!(
        "From: Ann <{VISITOR_EMAIL}>\r\nTo: {to}\r\nSubject: Re: your chat\r\n\
         Message-ID: {message_id}\r\nDate: Sun, 6 Dec 2026 15:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\n\
         On Sun, Dec 6, 2026 at 3:00 PM Acme <chat@gateway.test> wrote:\r\n{quoted}"
    )
}

#[tokio::test]
async fn replies_the_visitor_missed_come_as_one_email_and_the_answer_comes_back_into_the_chat() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    missed_replies_go_out_and_the_answer_comes_back(&gw, &smtp).await;
}

#[tokio::test]
async fn email_runs_on_postgresql() {
    let Some(db) = tests::postgres::ScratchDatabase::create().await else {
        return;
    };
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_on(&smtp, Some(db.url.clone())).await;
    missed_replies_go_out_and_the_answer_comes_back(&gw, &smtp).await;
}

async fn missed_replies_go_out_and_the_answer_comes_back(gw: &TestGateway, smtp: &SmtpServer) {
    let admin = agent_login(gw).await;
    let visitor = Visitor::arrive(gw, SITE_ORIGIN).await;
    assert!(visitor.session.email, "the panel may offer email");
    let mut socket = visitor.connect(gw, None).await;
    let (conversation, _) = socket.say("q1", "Is the <blue> one in stock?").await;
    leave_address(&mut socket, false).await;
    socket.close().await;

    reply(gw, &admin, &conversation, "r1", "Let me check.").await;
    reply(
        gw,
        &admin,
        &conversation,
        "r2",
        "Yes: 3 left & ready to ship.",
    )
    .await;
    let emails = smtp.wait_for(1, Duration::from_secs(20)).await;
    // The burst made one email, and nothing else comes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(smtp.received().len(), 1, "one email for the burst");
    let email = &emails[0];
    assert_eq!(email.to(), vec![VISITOR_EMAIL.to_owned()]);
    assert!(
        email.subject().starts_with("New reply from"),
        "{}",
        email.subject()
    );
    let text = email.text();
    let first = text.find("Let me check.").expect("the first reply");
    let second = text.find("3 left & ready").expect("the second reply");
    let history = text
        .find("Is the <blue> one in stock?")
        .expect("the question");
    assert!(first < second && second < history, "{text}");
    assert!(email.html().contains("Is the &lt;blue&gt; one in stock?"));
    let reply_to = email.reply_to();
    assert!(
        reply_to.len() == 1
            && reply_to[0].starts_with("reply+")
            && reply_to[0].ends_with("@in.gateway.test")
            && reply_to[0].split('@').next().unwrap().len() <= 64,
        "{reply_to:?}"
    );
    let link = email
        .link(&gw.url("/chat/demo#livechat="))
        .expect("a chat link");
    assert!(
        email.html().contains(&link),
        "the HTML part has the link too"
    );
    let log = log_shows(gw, &[EmailStatus::Sent]).await;
    assert_eq!(log[0].attempts, 1);

    // Ann answers from her mail program; the mail server hands it over (and retries once).
    let raw = answer_email(
        &reply_to[0],
        "<a1@visitor.test>",
        "Great, I'll order it.",
        email,
    );
    let accepted = inbound(gw, Some(INBOUND_SECRET), &raw).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let again = inbound(gw, Some(INBOUND_SECRET), &raw).await;
    assert_eq!(again.body, accepted.body, "a retry is the same message");
    let stored = gw.stored(&conversation).await;
    let from_email: Vec<&str> = stored
        .iter()
        .filter(|m| m.author == protocol::Author::Visitor)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        from_email,
        vec!["Is the <blue> one in stock?", "Great, I'll order it."]
    );

    // Nobody else gets in: no secret, a wrong one, a forged or an expired reply address.
    let count = gw.stored(&conversation).await.len();
    inbound(gw, None, &raw)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    inbound(gw, Some("guess"), &raw)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let token = reply_to[0]
        .strip_prefix("reply+")
        .and_then(|rest| rest.split('@').next())
        .unwrap();
    let flipped = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('0') { '1' } else { '0' }
    );
    let forged = raw.replace(token, &flipped);
    inbound(gw, Some(INBOUND_SECRET), &forged.replace("<a1@", "<a2@"))
        .await
        .assert_error(StatusCode::FORBIDDEN, "invalid_reply_token");
    let expired_token =
        gateway::email::tokens::reply_token(&gw.state, &conversation, 1_700_000_000).unwrap();
    let expired = raw.replace(token, &expired_token).replace("<a1@", "<a3@");
    inbound(gw, Some(INBOUND_SECRET), &expired)
        .await
        .assert_error(StatusCode::GONE, "reply_token_expired");
    let out_of_office = format!(
        "Auto-Submitted: auto-replied\r\n{}",
        raw.replace("<a1@", "<a4@")
    );
    let dropped = inbound(gw, Some(INBOUND_SECRET), &out_of_office).await;
    assert_eq!(dropped.status, StatusCode::ACCEPTED);
    assert_eq!(
        gw.stored(&conversation).await.len(),
        count,
        "nothing written"
    );
}

#[tokio::test]
async fn replies_read_in_the_chat_are_not_emailed() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    let admin = agent_login(&gw).await;
    let (mut socket, conversation) = visitor_with_address(&gw, "Hello?", false).await;
    reply(&gw, &admin, &conversation, "r1", "Hi Ann!").await;
    socket.visitor_message("r1").await;
    let log = log_shows(&gw, &[EmailStatus::Skipped]).await;
    assert_eq!(log[0].attempts, 0);
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn the_transcript_asked_for_goes_out_when_the_conversation_closes() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    let admin = agent_login(&gw).await;
    let (mut socket, conversation) =
        visitor_with_address(&gw, "Where is my order 1234?", true).await;
    reply(&gw, &admin, &conversation, "r1", "It ships today.").await;
    socket.visitor_message("r1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(smtp.received().is_empty(), "nothing before the close");

    close(&gw, &admin, &conversation).await;
    let emails = smtp.wait_for(1, Duration::from_secs(20)).await;
    let transcript = &emails[0];
    assert!(transcript.subject().starts_with("Your conversation with"));
    let text = transcript.text();
    assert!(text.contains("Where is my order 1234?") && text.contains("It ships today."));
    log_shows(&gw, &[EmailStatus::Sent, EmailStatus::Skipped]).await;
}

#[tokio::test]
async fn emails_wait_out_an_smtp_server_that_is_down_and_each_arrives_once() {
    let Some(mut smtp) = SmtpServer::stopped() else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    let admin = agent_login(&gw).await;
    for n in 0..2 {
        let (_socket, conversation) =
            visitor_with_address(&gw, &format!("question {n}"), true).await;
        close(&gw, &admin, &conversation).await;
    }
    // Both tried and failed, and kept for a retry, with the reason.
    for _ in 0..200 {
        let log = email_log(&gw).await;
        if log.len() == 2 && log.iter().all(|e| e.attempts >= 1) {
            assert!(
                log.iter().all(|e| e.status == EmailStatus::Pending),
                "{log:?}"
            );
            let error = log[0].last_error.clone().unwrap_or_default();
            assert!(error.to_lowercase().contains("connect"), "{error}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    smtp.resume().await;
    smtp.wait_for(2, Duration::from_secs(20)).await;
    let log = log_shows(&gw, &[EmailStatus::Sent, EmailStatus::Sent]).await;
    assert!(log.iter().all(|e| e.attempts >= 2), "{log:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = smtp.received();
    assert_eq!(received.len(), 2, "each email once");
    assert_ne!(received[0].message_id(), received[1].message_id());
}

#[tokio::test]
async fn without_smtp_no_email_is_offered_or_taken() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    assert!(!visitor.session.email);
    let mut socket = visitor.connect(&gw, None).await;
    socket.say("q1", "Hello?").await;
    socket
        .send(&VisitorClientFrame::Email {
            address: VISITOR_EMAIL.into(),
            transcript: true,
        })
        .await;
    let refused = socket
        .recv_until(|f| matches!(f, VisitorServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(&refused, VisitorServerFrame::Error { code, .. } if code == "email_unavailable"),
        "{refused:?}"
    );
    inbound(&gw, Some(INBOUND_SECRET), "To: x@y\r\n\r\nhi")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let channel = gw.demo_channel().await;
    let log = reqwest::get(gw.url(&format!("/v1/channels/{}/emails", channel.id)))
        .await
        .expect("log");
    assert_eq!(log.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bad_address_is_refused_by_name() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    // No conversation yet: nothing to send replies of.
    socket
        .send(&VisitorClientFrame::Email {
            address: VISITOR_EMAIL.into(),
            transcript: false,
        })
        .await;
    let early = socket
        .recv_until(|f| matches!(f, VisitorServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(&early, VisitorServerFrame::Error { code, .. } if code == "conversation_not_found"),
        "{early:?}"
    );
    socket.say("q1", "Hello?").await;
    socket
        .send(&VisitorClientFrame::Email {
            address: "ann at visitor".into(),
            transcript: false,
        })
        .await;
    let refused = socket
        .recv_until(|f| matches!(f, VisitorServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(&refused, VisitorServerFrame::Error { code, .. } if code == "validation_failed"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_message_an_agent_writes_first_to_a_known_customer_away_from_the_site_goes_by_email() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let gw = gateway_sending_to(&smtp).await;
    let admin = agent_login(&gw).await;
    let channel = gw.demo_channel().await;
    // A customer the site identified (the token names their email), who chatted once.
    let token = tests::client::identity_token(
        channel.identity_secret.as_deref().unwrap(),
        "demo",
        "user-5",
        300,
    );
    let ticket = tests::client::bootstrap(&gw, SITE_ORIGIN, None)
        .await
        .visit_ticket;
    let session = tests::client::post(
        &gw.url("/v1/sessions"),
        Some(SITE_ORIGIN),
        &serde_json::json!({"channel_key": "demo", "visit_ticket": ticket, "identity_token": token}),
    )
    .await;
    let session_token = session.body["session_token"].as_str().unwrap();
    let mut socket = Socket::connect(
        &gw.ws_url(&format!("/v1/visitor/ws?token={session_token}")),
        Some(SITE_ORIGIN),
        None,
    )
    .await
    .unwrap();
    let (earlier, _) = socket.say("v1", "Do you restock the blue tent?").await;
    socket.close().await;
    close(&gw, &admin, &earlier).await;
    let contact = gw.conversation(&earlier).await.contact_id.unwrap();

    let started = call(
        &gw,
        &admin,
        Method::POST,
        &format!("/v1/channels/{}/conversations", channel.id),
        Some(
            serde_json::json!({"contact_id": contact, "client_id": "first-1",
                                "text": "The blue tent is back in stock."}),
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let sent = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(sent[0].to(), ["ada@example.com"]);
    assert!(
        sent[0].text().contains("The blue tent is back in stock."),
        "{}",
        sent[0].text()
    );
}
