//! Files both ways through the real panel and the real console: the visitor pastes a screenshot
//! and drops a PDF (the tray shows each upload's progress) and cancels a third file while it
//! uploads; the agent opens both and answers with a file picked in the reply box, the visitor
//! downloads it; after a reload each attachment shows once on both sides.

use base64::Engine;
use serde_json::json;
use sqlx::{Connection, Row};
use std::time::Duration;
use tests::browser::{by_testid, in_widget, widget_query, Browser, WAIT};
use tests::DemoStack;

/// A small PNG, as a screenshot on the clipboard would be.
fn screenshot_png() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut png = std::io::Cursor::new(Vec::new());
    pixels
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    png.into_inner()
}

/// A PDF of `bytes`, large enough that its upload reports progress before it ends.
fn pdf_of(bytes: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.resize(bytes, b' ');
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

/// Page script: records every state each upload in the panel's tray goes through, and each
/// progress bar's value, in `window.uploadTrail` (a person watching the tray would see them).
const WATCH_TRAY: &str = "window.uploadTrail = []; \
    const root = document.querySelector('livechat-widget').shadowRoot; \
    const note = () => root.querySelectorAll('[data-testid=upload]').forEach(u => { \
        const bar = u.querySelector('progress'); \
        window.uploadTrail.push([u.querySelector('.lc-fname').textContent, u.dataset.state, \
            bar ? bar.value : null, bar ? bar.max : null]); }); \
    new MutationObserver(note).observe(root, { subtree: true, childList: true, attributes: true });";

/// Page script: `arguments[0]` (base64) as a File named `arguments[1]` of type `arguments[2]`
/// in a DataTransfer, handed to `deliver(dt)`.
fn with_file(deliver: &str) -> String {
    format!(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0)); \
         const dt = new DataTransfer(); \
         dt.items.add(new File([bytes], arguments[1], {{ type: arguments[2] }})); \
         {deliver}"
    )
}

/// Page script: the file (as [`with_file`] takes it) dragged over the panel's log and dropped.
fn drop_on_panel() -> String {
    with_file(&format!(
        "const panel = {}; \
         panel.dispatchEvent(new DragEvent('dragover', {{ dataTransfer: dt, bubbles: true, cancelable: true, composed: true }})); \
         panel.dispatchEvent(new DragEvent('drop', {{ dataTransfer: dt, bubbles: true, cancelable: true, composed: true }}));",
        widget_query(".lc-log")
    ))
}

/// A page expression: how many elements in the panel match `css`.
fn panel_count(css: &str) -> String {
    format!(
        "(document.querySelector('livechat-widget')?.shadowRoot?.querySelectorAll('{css}').length ?? 0)"
    )
}

#[tokio::test]
async fn a_visitor_pastes_an_image_and_drops_a_pdf_and_the_agent_answers_with_a_file() {
    let demo = DemoStack::start().await;
    let agent = Browser::launch().await;
    agent.log_into_console(&demo.gateway.url("/console/")).await;
    let visitor = Browser::launch().await;
    let downloads = tempfile::tempdir().expect("downloads dir");
    visitor.download_into(downloads.path()).await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let composer = visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    visitor
        .wait_for_element("the paperclip", &in_widget("[data-testid=attach]"), WAIT)
        .await;
    visitor.eval(WATCH_TRAY, json!([])).await;

    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let paste = with_file(
        "arguments[3].dispatchEvent(new ClipboardEvent('paste', \
           { clipboardData: dt, bubbles: true, cancelable: true, composed: true }));",
    );
    visitor
        .eval(
            &paste,
            json!([
                b64(&screenshot_png()),
                "screenshot.png",
                "image/png",
                composer.to_json()
            ]),
        )
        .await;
    let drop = drop_on_panel();
    let pdf = pdf_of(1024 * 1024);
    visitor
        .eval(&drop, json!([b64(&pdf), "terms.pdf", "application/pdf"]))
        .await;
    // A third file, cancelled as soon as the tray shows it: before its upload could have ended
    // (the click runs in the same turn of the page's event loop as the tray's drawing, before
    // any answer from the network), so it never reaches the gateway's store or the message.
    visitor
        .eval(
            "const root = document.querySelector('livechat-widget').shadowRoot; \
             new MutationObserver((_, watch) => { \
               const draft = [...root.querySelectorAll('[data-testid=upload]')] \
                 .find(u => u.querySelector('.lc-fname').textContent === 'draft.pdf'); \
               if (draft) { window.draftState = draft.dataset.state; \
                 draft.querySelector('[data-testid=upload-cancel]').click(); watch.disconnect(); } \
             }).observe(root, { subtree: true, childList: true });",
            json!([]),
        )
        .await;
    visitor
        .eval(
            &drop,
            json!([
                b64(&pdf_of(9 * 1024 * 1024)),
                "draft.pdf",
                "application/pdf"
            ]),
        )
        .await;
    assert_eq!(
        visitor
            .wait_for(
                "the third file cancelled",
                "return window.draftState;",
                WAIT
            )
            .await,
        json!("uploading")
    );
    visitor
        .wait_for(
            "both uploads stored",
            "const ups = [...document.querySelector('livechat-widget').shadowRoot \
               .querySelectorAll('[data-testid=upload]')]; \
             return ups.length === 2 && ups.every(u => u.dataset.state === 'stored');",
            WAIT,
        )
        .await;
    let trail = visitor.eval("return window.uploadTrail;", json!([])).await;
    let trail = trail.as_array().expect("trail");
    for name in ["screenshot.png", "terms.pdf"] {
        let states: Vec<&serde_json::Value> = trail.iter().filter(|t| t[0] == name).collect();
        assert!(
            states.iter().any(|t| t[1] == "uploading"),
            "{name} showed no progress: {states:?}"
        );
        let done = states.last().expect("seen");
        assert_eq!(
            (&done[1], &done[2]),
            (&json!("stored"), &json!(100)),
            "{name}"
        );
    }
    // The PDF's bar showed while it uploaded, and the cancelled file is gone from the tray.
    assert!(
        trail
            .iter()
            .any(|t| t[0] == "terms.pdf" && t[1] == "uploading" && t[3] == 100),
        "no progress bar for the PDF: {trail:?}"
    );

    // Files alone, no text: a message may be only its files.
    visitor
        .click(
            &visitor
                .wait_for_element("send", &in_widget("[data-testid=send]"), WAIT)
                .await,
        )
        .await;
    visitor
        .wait_for(
            "the message sent with its thumbnail and card",
            &format!(
                "const m = {}; if (!m || m.dataset.state !== 'sent') return false; \
                 const img = m.querySelector('[data-testid=image] img'); \
                 return img && img.complete && img.naturalWidth > 0 && img.src.includes('thumbnail=true') \
                   && m.querySelector('[data-testid=file]').textContent.includes('terms.pdf');",
                widget_query("[data-testid=message]")
            ),
            WAIT,
        )
        .await;
    // The tray emptied with the message, which carries the two files and not the cancelled one.
    assert_eq!(
        visitor
            .eval(
                &format!("return {};", panel_count("[data-testid=upload]")),
                json!([])
            )
            .await,
        json!(0)
    );
    assert_eq!(
        visitor
            .eval(&format!("return {};", panel_count(".lc-file")), json!([]))
            .await,
        json!(2)
    );
    let drafts = sqlx::query("SELECT count(*) FROM attachments WHERE name = 'draft.pdf'")
        .fetch_one(
            &mut sqlx::SqliteConnection::connect(&demo.gateway.database_url())
                .await
                .unwrap(),
        )
        .await
        .unwrap()
        .get::<i64, _>(0);
    assert_eq!(drafts, 0, "the cancelled upload was stored");
    // The thumbnail's link opens the full image (what a tab opened on it gets).
    let link = visitor
        .eval(
            &format!("return {}.href;", widget_query("[data-testid=image]")),
            json!([]),
        )
        .await;
    let full = reqwest::get(link.as_str().expect("a link"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let full = image::load_from_memory(&full).expect("an image");
    assert_eq!((full.width(), full.height()), (120, 80));

    // The agent sees both: the inbox says what came, the thread shows the image inline (its
    // thumbnail loads, its link opens the image) and the PDF as a card.
    let preview = agent
        .wait_for(
            "the conversation with its preview",
            "return document.querySelector('[data-testid=conversation]')?.textContent;",
            WAIT,
        )
        .await;
    assert!(
        preview.as_str().unwrap().contains("📎 screenshot.png +1"),
        "{preview}"
    );
    agent.click_on("conversation").await;
    let opened = agent
        .wait_for(
            "the image in the thread",
            "const a = document.querySelector('[data-testid=thread-image]'); \
             const img = a?.querySelector('img'); \
             return img && img.complete && img.naturalWidth > 0 && a.href;",
            WAIT,
        )
        .await;
    let image = agent
        .eval(
            "return fetch(arguments[0]).then(r => [r.status, r.headers.get('content-type')]);",
            json!([opened]),
        )
        .await;
    assert_eq!(image, json!([200, "image/png"]));
    agent
        .wait_for(
            "the PDF's card",
            "return [...document.querySelectorAll('[data-testid=thread-file]')].some(f => f.textContent.includes('terms.pdf'));",
            WAIT,
        )
        .await;

    // The agent picks a file with the reply box's paperclip (the real file input) and sends it.
    let sources = tempfile::tempdir().expect("the agent's files");
    let price_list = sources.path().join("price-list.txt");
    let price_text = "Ridgeline 2: 189 EUR\nSummit Pro: 249 EUR\n";
    std::fs::write(&price_list, price_text).expect("write the file");
    let picker = agent
        .wait_for_element("the reply paperclip", &by_testid("attach"), WAIT)
        .await;
    agent
        .type_into(&picker, &price_list.display().to_string())
        .await;
    agent
        .wait_for(
            "the agent's upload stored",
            "return document.querySelector('[data-testid=upload]')?.dataset.state === 'stored';",
            WAIT,
        )
        .await;
    let reply = agent
        .wait_for_element("the reply box", &by_testid("reply"), WAIT)
        .await;
    agent.type_into(&reply, "Here is our price list").await;
    agent.click_on("reply-send").await;
    agent
        .wait_for(
            "the reply box's tray emptied with the reply",
            "return document.querySelectorAll('[data-testid=upload]').length === 0;",
            WAIT,
        )
        .await;

    // The visitor downloads it from the panel.
    visitor
        .click(
            &visitor
                .wait_for_element(
                    "the agent's file",
                    &format!(
                        "return [...document.querySelector('livechat-widget').shadowRoot \
                           .querySelectorAll('[data-testid=file]')].find(f => f.textContent.includes({:?})) ?? null;",
                        "price-list.txt"
                    ),
                    WAIT,
                )
                .await,
        )
        .await;
    let saved = downloads.path().join("price-list.txt");
    let deadline = std::time::Instant::now() + WAIT;
    let downloaded = loop {
        match std::fs::read_to_string(&saved) {
            Ok(text) if !text.is_empty() => break text,
            _ if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            _ => panic!(
                "no download in {}: {:?}",
                downloads.path().display(),
                std::fs::read_dir(downloads.path())
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
            ),
        }
    };
    assert_eq!(downloaded, price_text);

    // After a reload each attachment shows once, on both sides.
    visitor.refresh().await;
    visitor
        .click(
            &visitor
                .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
                .await,
        )
        .await;
    visitor
        .wait_for(
            "the history with its files",
            &format!("return {} === 2;", panel_count("[data-testid=file]")),
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = visitor
        .eval(
            &format!(
                "const root = {}; return ['image', 'file'].map(t => root.querySelectorAll(`[data-testid=${{t}}]`).length);",
                widget_query("[data-testid=log]")
            ),
            json!([]),
        )
        .await;
    assert_eq!(counts, json!([1, 2]));
    agent.refresh().await;
    agent.click_on("conversation").await;
    agent
        .wait_for(
            "the thread's files",
            "return document.querySelectorAll('[data-testid=thread-file]').length === 2;",
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = agent
        .eval(
            "return ['thread-image', 'thread-file'].map(t => document.querySelectorAll(`[data-testid=${t}]`).length);",
            json!([]),
        )
        .await;
    assert_eq!(counts, json!([1, 2]));
    agent.quit().await;
    visitor.quit().await;
}

/// Each upload in the panel's tray: its name, state and the reason it shows.
const TRAY: &str = "return [...document.querySelector('livechat-widget').shadowRoot \
    .querySelectorAll('[data-testid=upload]')].map(u => [u.querySelector('.lc-fname').textContent, \
    u.dataset.state, u.querySelector('small').textContent]);";

#[tokio::test]
async fn an_admin_limits_a_channels_files_on_the_channels_page_and_the_panel_follows() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;
    admin.retype("edit-upload-mib", "1").await;
    admin.click_on("edit-kind-pdf").await;
    admin.click_on("save-channel").await;
    let stored = || async {
        let channel = demo
            .gateway
            .state
            .store
            .channel_by_key("demo")
            .await
            .unwrap()
            .unwrap();
        (channel.visitor_uploads, channel.uploads)
    };
    for _ in 0..100 {
        if stored().await.1.max_bytes == 1024 * 1024 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (open, policy) = stored().await;
    assert!(open);
    assert_eq!(policy.max_bytes, 1024 * 1024);
    assert!(
        !policy.kinds.contains(&protocol::FileKind::Pdf),
        "{:?}",
        policy.kinds
    );

    // A visitor's panel: a file over 1 MiB is refused before it is sent, a PDF by the gateway.
    let visitor = Browser::launch().await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the paperclip", &in_widget("[data-testid=attach]"), WAIT)
        .await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let drop = drop_on_panel();
    visitor
        .eval(
            &drop,
            json!([b64(&pdf_of(1_200_000)), "big.pdf", "application/pdf"]),
        )
        .await;
    visitor
        .eval(
            &drop,
            json!([b64(&pdf_of(2048)), "terms.pdf", "application/pdf"]),
        )
        .await;
    visitor
        .wait_for(
            "both refused",
            &format!(
                "return {} === 2;",
                panel_count("[data-testid=upload][data-state=failed]")
            ),
            WAIT,
        )
        .await;
    assert_eq!(
        visitor.eval(TRAY, json!([])).await,
        json!([
            ["big.pdf", "failed", "Larger than 1 MB."],
            [
                "terms.pdf",
                "failed",
                "files of this type (pdf) are not accepted here"
            ]
        ])
    );
    visitor.quit().await;

    // Visitors may no longer attach: a new visitor's panel shows no paperclip, takes no drop.
    admin.click_on("edit-visitor-uploads").await;
    admin.click_on("save-channel").await;
    for _ in 0..100 {
        if !stored().await.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!stored().await.0);
    let later = Browser::launch().await;
    later.open_chat(&format!("{}/", demo.site)).await;
    later
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    // The session (and with it the channel's answer) is in once the panel says it is online.
    later
        .wait_for(
            "online",
            &format!(
                "return {} === 1;",
                panel_count("[data-testid=status][data-state=online]")
            ),
            WAIT,
        )
        .await;
    let paperclip = later
        .eval(
            "return getComputedStyle(document.querySelector('livechat-widget').shadowRoot \
               .querySelector('.lc-attach')).display;",
            json!([]),
        )
        .await;
    assert_eq!(paperclip, "none");
    later
        .eval(
            &drop,
            json!([b64(&pdf_of(2048)), "terms.pdf", "application/pdf"]),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(later.eval(TRAY, json!([])).await, json!([]));
    later.quit().await;
    admin.quit().await;
}
