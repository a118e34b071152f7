//! Files both ways, against the real gateway: a visitor uploads and sends, the agent reads and
//! answers with a file, the REST API and webhooks get signed links; and every way a file could
//! be misused is refused (too large while streaming, a page disguised as an image, a
//! decompression bomb, someone else's file, an expired link).

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use protocol::{Attachment, ChatMessage, VisitorClientFrame, VisitorServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::{Connection, Row};
use std::io::Cursor;
use tests::client::{agent_login, call, Visitor};
use tests::{TestGateway, SITE_ORIGIN};

/// A PNG of `width` × `height` pixels.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
    .write_to(&mut out, ImageFormat::Png)
    .unwrap();
    out.into_inner()
}

/// A JPEG carrying an EXIF block with a GPS position (52.37° N), as a phone writes it.
fn jpeg_with_gps() -> Vec<u8> {
    let mut plain = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 48, Rgb([10, 120, 200])))
        .write_to(&mut plain, ImageFormat::Jpeg)
        .unwrap();
    let plain = plain.into_inner();
    // TIFF, little-endian: IFD0 with one entry pointing at a GPS IFD holding GPSLatitudeRef "N"
    // and GPSLatitude 52/1 22/1 0/1.
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend([1, 0]); // IFD0: one entry
    tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0]); // GPSInfo → offset 26
    tiff.extend([0, 0, 0, 0]); // no next IFD
    tiff.extend([2, 0]); // GPS IFD: two entries
    tiff.extend([1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef
    tiff.extend([2, 0, 5, 0, 3, 0, 0, 0, 56, 0, 0, 0]); // GPSLatitude → offset 56
    tiff.extend([0, 0, 0, 0]);
    for (num, den) in [(52u32, 1u32), (22, 1), (0, 1)] {
        tiff.extend(num.to_le_bytes());
        tiff.extend(den.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut jpeg = plain[..2].to_vec(); // SOI
    jpeg.extend([0xff, 0xe1]);
    jpeg.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    jpeg.extend(app1);
    jpeg.extend(&plain[2..]);
    jpeg
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn uploaded(response: reqwest::Response) -> Attachment {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn error_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Uploads the test PDF as the console does, for an agent's next message in `conversation`.
async fn agent_upload(
    gw: &TestGateway,
    token: &str,
    conversation: &str,
    name: &str,
    key: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(gw.url("/v1/agent/files"))
        .query(&[
            ("conversation_id", conversation),
            ("name", name),
            ("key", key),
        ])
        .bearer_auth(token)
        .body(PDF.to_vec())
        .send()
        .await
        .unwrap()
}

async fn agent_download(gw: &TestGateway, token: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(gw.url(&format!("/v1/agent/files/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn send(client_id: &str, text: &str, attachments: &[&Attachment]) -> VisitorClientFrame {
    VisitorClientFrame::Send {
        client_id: client_id.into(),
        text: text.into(),
        attachments: attachments.iter().map(|a| a.id.clone()).collect(),
    }
}

async fn count(gw: &TestGateway, sql: &str) -> i64 {
    let mut db = sqlx::SqliteConnection::connect(&gw.database_url())
        .await
        .unwrap();
    sqlx::query(sql).fetch_one(&mut db).await.unwrap().get(0)
}

#[tokio::test]
async fn a_visitor_sends_an_image_and_a_pdf_and_the_agent_reads_both_and_answers_with_a_file() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let image = uploaded(visitor.upload(&gw, "screen.png", "u1", png(800, 600)).await).await;
    assert_eq!(image.content_type, "image/png");
    assert_eq!((image.width, image.height), (Some(800), Some(600)));
    let pdf = uploaded(
        visitor
            .upload(&gw, "C:\\docs\\invoice.pdf", "u2", PDF.to_vec())
            .await,
    )
    .await;
    assert_eq!(
        (pdf.name.as_str(), pdf.content_type.as_str()),
        ("invoice.pdf", "application/pdf")
    );
    assert_eq!(pdf.size, PDF.len() as u64);

    let mut socket = visitor.connect(&gw, None).await;
    socket
        .send(&send("m1", "Here you go", &[&image, &pdf]))
        .await;
    let ack = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;
    let VisitorServerFrame::Ack {
        conversation_id,
        seq,
        ..
    } = ack
    else {
        unreachable!()
    };
    let stored = gw.stored(&conversation_id).await;
    assert_eq!(stored.len(), 1);
    let names: Vec<_> = stored[0]
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["screen.png", "invoice.pdf"],
        "in the order the message named them"
    );

    // A message of files alone: the inbox says what it is.
    let more = uploaded(visitor.upload(&gw, "photo.png", "u3", png(20, 20)).await).await;
    socket.send(&send("m2", "", &[&more])).await;
    socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;
    assert_eq!(
        gw.conversation(&conversation_id).await.last_text,
        "📎 photo.png"
    );

    // The agent reads them: the PDF byte for byte, as a download; the image inline.
    let agent = agent_login(&gw).await;
    let got = agent_download(&gw, &agent, &pdf.id).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert!(got.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert!(got.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);
    let got = agent_download(&gw, &agent, &image.id).await;
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(got.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let decoded = image::load_from_memory(&got.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 600));
    let thumb = visitor.download(&gw, &image.id, true).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));

    // The agent answers with a file; the visitor's socket gets it and can fetch it.
    let reply_file =
        uploaded(agent_upload(&gw, &agent, &conversation_id, "terms.pdf", "a1").await).await;
    let mut console = tests::client::agent_socket(&gw, &agent).await;
    console
        .send(&protocol::AgentClientFrame::Send {
            conversation_id: conversation_id.clone(),
            client_id: "r1".into(),
            text: "Our terms".into(),
            attachments: vec![reply_file.id.clone()],
        })
        .await;
    let message = socket.visitor_message("r1").await;
    // The frame carries each file with a signed link of its own (what the panel shows and
    // opens: an `<img>` or a link cannot send the session's token).
    let [sent] = &message.attachments[..] else {
        panic!("one file: {:?}", message.attachments)
    };
    assert_eq!(
        Attachment {
            url: None,
            ..sent.clone()
        },
        reply_file
    );
    let link = sent.url.as_deref().expect("a link to the file");
    let fetched = reqwest::get(link).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PDF);
    let fetched = visitor.download(&gw, &reply_file.id, false).await;
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PDF);
    // A reconnect replays the visitor's image with a link to its thumbnail too.
    let mut again = visitor.connect(&gw, None).await;
    let message = again.visitor_message("m1").await;
    let link = message.attachments[0].url.as_deref().expect("a link");
    let thumb = reqwest::get(format!("{link}&thumbnail=true"))
        .await
        .unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert!(seq >= 1);
}

#[tokio::test]
async fn a_resend_after_a_reconnect_and_a_retried_upload_store_one_message_and_one_file() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let first = uploaded(visitor.upload(&gw, "a.pdf", "k1", PDF.to_vec()).await).await;
    // The connection dropped before the answer: the widget uploads again under the same key.
    let again = uploaded(visitor.upload(&gw, "a.pdf", "k1", PDF.to_vec()).await).await;
    assert_eq!(first.id, again.id);
    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, seq) = {
        socket.send(&send("m1", "file", &[&first])).await;
        match socket
            .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
            .await
        {
            VisitorServerFrame::Ack {
                conversation_id,
                seq,
                ..
            } => (conversation_id, seq),
            _ => unreachable!(),
        }
    };
    drop(socket);
    let mut socket = visitor.connect(&gw, Some((&conversation, seq))).await;
    socket.send(&send("m1", "file", &[&again])).await;
    let ack = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;
    assert!(
        matches!(ack, VisitorServerFrame::Ack { seq: s, .. } if s == seq),
        "the same seq back"
    );
    assert_eq!(count(&gw, "SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(count(&gw, "SELECT COUNT(*) FROM attachments").await, 1);

    // An upload cannot go into a second message.
    socket.send(&send("m2", "again", &[&first])).await;
    let refused = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(refused, VisitorServerFrame::Error { code, .. } if code == "attachment_not_found")
    );
    assert_eq!(
        count(&gw, "SELECT COUNT(*) FROM messages").await,
        1,
        "nothing written"
    );
}

#[tokio::test]
async fn a_body_past_the_limit_is_cut_off_while_streaming_and_nothing_is_kept() {
    let gw = TestGateway::spawn().await;
    gw.edit_demo_channel(|c| c.uploads.max_bytes = 64 * 1024)
        .await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    // Declared too large: refused before a byte is read.
    let declared = visitor
        .upload(&gw, "big.txt", "k1", vec![b'a'; 65 * 1024])
        .await;
    assert_eq!(
        error_code(declared).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large".into())
    );
    // Not declared (chunked): a body that goes on and on is cut off once past the limit; the
    // stream here would be 100 MiB, and stops being read at the first chunk beyond 64 KiB.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let endless = futures_util::stream::iter(0..1600).map(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 64 * 1024]))
    });
    let response = reqwest::Client::new()
        .post(gw.url("/v1/visitor/files"))
        .query(&[("name", "endless.txt"), ("key", "k2")])
        .header("origin", SITE_ORIGIN)
        .bearer_auth(&visitor.session.session_token)
        .body(reqwest::Body::wrap_stream(endless))
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE),
        // The gateway may close the connection while the client is still writing.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert!(
        sent.load(std::sync::atomic::Ordering::Relaxed) < 1600,
        "the gateway stopped reading long before the end"
    );
    assert_eq!(count(&gw, "SELECT COUNT(*) FROM attachments").await, 0);
    let receiving = gw.files_dir().join("receiving");
    assert_eq!(
        std::fs::read_dir(receiving).unwrap().count(),
        0,
        "no partial file is left"
    );
}

use futures_util::StreamExt;

#[tokio::test]
async fn a_page_named_like_an_image_is_served_as_text_never_run_and_refused_where_text_is_not_allowed(
) {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let page = b"<html><script>fetch('/v1/agent/me')</script></html>".to_vec();
    let file = uploaded(visitor.upload(&gw, "cat.png", "k1", page.clone()).await).await;
    assert_eq!(file.content_type, "text/plain; charset=utf-8");
    assert_eq!(file.width, None);
    let served = visitor.download(&gw, &file.id, false).await;
    let headers = served.headers();
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(headers["x-content-type-options"], "nosniff");

    gw.edit_demo_channel(|c| c.uploads.kinds = vec![protocol::FileKind::Image])
        .await;
    let refused = visitor.upload(&gw, "cat.png", "k2", page).await;
    assert_eq!(
        error_code(refused).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_type_not_allowed".into()
        )
    );
    gw.edit_demo_channel(|c| c.visitor_uploads = false).await;
    let refused = visitor.upload(&gw, "a.png", "k3", png(4, 4)).await;
    assert_eq!(
        error_code(refused).await,
        (StatusCode::FORBIDDEN, "uploads_disabled".into())
    );
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_and_a_photo_loses_its_gps_position() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    // 100,000 × 100,000 pixels declared, a few bytes of data.
    let mut bomb = Vec::new();
    {
        let mut writer = png::Encoder::new(&mut bomb, 100_000, 100_000)
            .write_header()
            .unwrap();
        writer
            .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00])
            .unwrap();
    }
    let refused = visitor.upload(&gw, "bomb.png", "k1", bomb).await;
    assert_eq!(
        error_code(refused).await,
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "image_refused".into())
    );

    let photo = jpeg_with_gps();
    assert!(contains(&photo, b"Exif\0\0"), "the upload carries EXIF");
    let file = uploaded(visitor.upload(&gw, "holiday.jpg", "k2", photo).await).await;
    let served = visitor
        .download(&gw, &file.id, false)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(!contains(&served, b"Exif"), "no EXIF block is served");
    assert!(!contains(&served, &52u32.to_le_bytes()[..]) || !contains(&served, b"II*\0"));
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
}

#[tokio::test]
async fn only_the_files_reader_gets_them_everyone_else_gets_404() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let file = uploaded(visitor.upload(&gw, "a.pdf", "k1", PDF.to_vec()).await).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.send(&send("m1", "", &[&file])).await;
    let VisitorServerFrame::Ack {
        conversation_id: demo_conversation,
        ..
    } = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await
    else {
        unreachable!()
    };

    let other = Visitor::arrive(&gw, SITE_ORIGIN).await;
    assert_eq!(
        other.download(&gw, &file.id, false).await.status(),
        StatusCode::NOT_FOUND
    );
    // Another visitor cannot attach it either.
    let mut theirs = other.connect(&gw, None).await;
    theirs.send(&send("x1", "mine now", &[&file])).await;
    let refused = theirs
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(refused, VisitorServerFrame::Error { code, .. } if code == "attachment_not_found")
    );

    let anonymous = reqwest::Client::new()
        .get(gw.url(&format!("/v1/visitor/files/{}", file.id)))
        .header("origin", SITE_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let foreign = reqwest::Client::new()
        .get(gw.url(&format!("/v1/visitor/files/{}", file.id)))
        .header("origin", "http://evil.example")
        .bearer_auth(&visitor.session.session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        agent_download(&gw, "not-a-login", &file.id).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let link_without_signature =
        reqwest::get(gw.url(&format!("/v1/files/{}?link=forged.sig", file.id)))
            .await
            .unwrap();
    assert_eq!(link_without_signature.status(), StatusCode::NOT_FOUND);

    // A login scoped to another channel (its agent link's) gets the same 404, and cannot
    // upload into this conversation; the REST API with that channel's secret is refused.
    let admin = agent_login(&gw).await;
    let (_, _, other_secret, other_conversation) = crate::hostile::other_channel(&gw, &admin).await;
    let scoped = crate::hostile::scoped_login(&gw, &other_secret, &other_conversation).await;
    assert_eq!(
        agent_download(&gw, &scoped, &file.id).await.status(),
        StatusCode::NOT_FOUND
    );
    let upload_there = agent_upload(&gw, &scoped, &demo_conversation, "x.pdf", "k").await;
    assert_eq!(upload_there.status(), StatusCode::NOT_FOUND);
    // The unscoped login of the same agent reads it.
    assert_eq!(
        agent_download(&gw, &admin, &file.id).await.status(),
        StatusCode::OK
    );
    let demo = gw.demo_channel().await;
    let wrong = reqwest::Client::new()
        .post(gw.url(&format!("/v1/channels/{}/files", demo.id)))
        .query(&[("name", "x.pdf"), ("key", "k")])
        .bearer_auth(&other_secret)
        .body(PDF.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rest_answers_and_webhooks_carry_links_that_download_the_file_until_they_expire() {
    let gw = TestGateway::spawn_with(|c| {
        c.file_link_ttl_secs = 2;
        c.webhooks_allow_private = true;
    })
    .await;
    let demo = gw.demo_channel().await;
    let receiver = tests::receiver::Receiver::start().await;
    super::deliveries::register(&gw, &receiver, json!({"events": ["message.created"]})).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let file = uploaded(visitor.upload(&gw, "a.pdf", "k1", PDF.to_vec()).await).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.send(&send("m1", "see attached", &[&file])).await;
    let VisitorServerFrame::Ack {
        conversation_id, ..
    } = socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await
    else {
        unreachable!()
    };
    // The webhook's payload: signed as sent (the receiver checks), with a working link.
    let delivered = receiver
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(
        receiver.forged(),
        0,
        "the payload with its links is what was signed"
    );
    let hooked: ChatMessage =
        serde_json::from_value(delivered[0].payload["data"]["message"].clone()).unwrap();
    let hook_url = hooked.attachments[0]
        .url
        .clone()
        .expect("a link in the payload");
    assert_eq!(
        reqwest::get(&hook_url)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        PDF
    );
    let read = call(
        &gw,
        &demo.secret,
        Method::GET,
        &format!("/v1/channels/{}/conversations/{conversation_id}", demo.id),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let messages: Vec<ChatMessage> = serde_json::from_value(read.body["messages"].clone()).unwrap();
    let url = messages[0].attachments[0].url.clone().expect("a link");
    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PDF);
    // Tampered: another file's id under this signature.
    let tampered = url.replace(&file.id, "00000000-0000-0000-0000-000000000000");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // The REST API uploads and answers with a file too.
    let api_file: Attachment = {
        let response = reqwest::Client::new()
            .post(gw.url(&format!("/v1/channels/{}/files", demo.id)))
            .query(&[("name", "reply.png"), ("key", "api-1")])
            .bearer_auth(&demo.secret)
            .body(png(10, 10))
            .send()
            .await
            .unwrap();
        uploaded(response).await
    };
    let agent = gw
        .state
        .store
        .agent_by_email(gateway::demo::AGENT_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let posted = call(
        &gw,
        &demo.secret,
        Method::POST,
        &format!("/v1/channels/{}/conversations/{conversation_id}/messages", demo.id),
        Some(json!({"agent_id": agent.id, "client_id": "api-m1", "text": "", "attachments": [api_file.id]})),
    )
    .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    let answered: ChatMessage = serde_json::from_value(posted.body).unwrap();
    assert_eq!(answered.attachments[0].id, api_file.id);
    assert!(answered.attachments[0].url.is_some());

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::GONE);
    assert_eq!(
        reqwest::get(&hook_url).await.unwrap().status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn an_unsent_upload_is_swept_and_a_sent_one_goes_with_its_conversation() {
    let gw = TestGateway::spawn().await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let sent = uploaded(visitor.upload(&gw, "kept.pdf", "k1", PDF.to_vec()).await).await;
    let unsent_bytes = b"%PDF-1.4\nnever sent\n%%EOF\n".to_vec();
    let unsent = uploaded(visitor.upload(&gw, "left.pdf", "k2", unsent_bytes).await).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.send(&send("m1", "", &[&sent])).await;
    socket
        .recv_until(|f: &VisitorServerFrame| matches!(f, VisitorServerFrame::Ack { .. }))
        .await;
    let blobs_on_disk = || walk(&gw.files_dir().join("blobs"));
    assert_eq!(blobs_on_disk(), 2);

    let a_day_later = gateway::now_ms() + 25 * 3600 * 1000;
    gateway::housekeeping::sweep(&gw.state, a_day_later)
        .await
        .unwrap();
    assert_eq!(
        visitor.download(&gw, &unsent.id, false).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(blobs_on_disk(), 1, "the unsent upload's bytes went with it");
    let kept = visitor.download(&gw, &sent.id, false).await;
    assert_eq!(kept.bytes().await.unwrap().as_ref(), PDF);

    // A sent file follows its conversation: deleted with it (here with its channel), its bytes
    // at the next sweep.
    let admin = agent_login(&gw).await;
    let demo = gw.demo_channel().await;
    let conversation = gw
        .state
        .store
        .latest_conversation(&demo.id, &visitor.session.visitor_id)
        .await
        .unwrap()
        .unwrap();
    let base = format!("/v1/channels/{}/conversations/{}", demo.id, conversation.id);
    let closed = call(
        &gw,
        &demo.secret,
        Method::POST,
        &format!("{base}/close"),
        None,
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let deleted = call(
        &gw,
        &admin,
        Method::DELETE,
        &format!("/v1/admin/channels/{}", demo.id),
        None,
    )
    .await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    assert_eq!(count(&gw, "SELECT COUNT(*) FROM attachments").await, 0);
    gateway::housekeeping::sweep(&gw.state, a_day_later)
        .await
        .unwrap();
    assert_eq!(
        blobs_on_disk(),
        0,
        "no bytes outlive the files that named them"
    );
}

/// Files under `dir`, at any depth.
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_desk_gets_the_visitors_file_in_the_hand_over_and_answers_with_one_the_visitor_receives()
{
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let demo = gw.demo_channel().await;
    let bot = tests::receiver::Receiver::answering(|payload| {
        if payload["data"]["message"]["text"] == "a person, please" {
            json!({"replies": [{"type": "switch", "note": "asked for a person"}]})
        } else {
            json!({"replies": [{"type": "message", "text": "Got it."}]})
        }
    })
    .await;
    let desk = tests::receiver::Receiver::start().await;
    super::deliveries::register(&gw, &bot, json!({"kind": "bot", "name": "Robo"})).await;
    super::deliveries::register(&gw, &desk, json!({"kind": "desk"})).await;

    // The visitor shows the bot an invoice, then asks for a person.
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let invoice = uploaded(visitor.upload(&gw, "invoice.pdf", "k1", PDF.to_vec()).await).await;
    let mut socket = visitor.connect(&gw, None).await;
    socket.send(&send("v1", "my invoice", &[&invoice])).await;
    let first = socket.visitor_message("v1").await;
    socket.send(&send("v2", "a person, please", &[])).await;
    socket.visitor_message("v2").await;

    // The desk's hand-over carries the transcript, the invoice in it with a working link.
    let handed = desk.wait_for(1, std::time::Duration::from_secs(20)).await;
    assert_eq!(handed[0].event_type(), "conversation.handed_over");
    assert_eq!(
        desk.forged(),
        0,
        "the payload with its links is what was signed"
    );
    let transcript: Vec<ChatMessage> =
        serde_json::from_value(handed[0].payload["data"]["transcript"].clone()).unwrap();
    let shown = &transcript
        .iter()
        .find(|m| m.client_id == "v1")
        .expect("the visitor's first message")
        .attachments[0];
    assert_eq!(
        (
            shown.id.as_str(),
            shown.name.as_str(),
            shown.content_type.as_str(),
            shown.size
        ),
        (
            invoice.id.as_str(),
            "invoice.pdf",
            "application/pdf",
            PDF.len() as u64
        )
    );
    let link = shown.url.clone().expect("a signed link in the transcript");
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PDF);

    // The desk answers with a file through the channel's REST upload and its inbound URL.
    let label = png(12, 8);
    let answer: Attachment = uploaded(
        reqwest::Client::new()
            .post(gw.url(&format!("/v1/channels/{}/files", demo.id)))
            .query(&[("name", "label.png"), ("key", "desk-1")])
            .bearer_auth(&demo.secret)
            .body(label.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let inbound = format!("/v1/channels/{}/inbound", demo.id);
    let reply = json!({"type": "message", "conversation_id": first.conversation_id,
        "client_id": "desk-1", "text": "Your label", "author_name": "Dana",
        "attachments": [answer.id]});
    let posted = call(&gw, &demo.secret, Method::POST, &inbound, Some(reply)).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    let received = socket.visitor_message("desk-1").await;
    assert_eq!(
        received.author,
        protocol::Author::Desk {
            name: "Dana".into()
        }
    );
    assert_eq!(received.attachments.len(), 1);
    assert_eq!(received.attachments[0].id, answer.id);
    let downloaded = reqwest::get(received.attachments[0].url.clone().expect("a link"))
        .await
        .unwrap();
    assert_eq!(downloaded.status(), StatusCode::OK);
    // An image is served re-encoded (metadata stripped): the same picture, 12 × 8.
    let picture = image::load_from_memory(&downloaded.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (12, 8));
}
