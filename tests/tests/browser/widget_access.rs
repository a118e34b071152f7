//! The visitor's panel without a mouse, and on a phone: opened with Enter from the launcher,
//! focus in the composer, Enter sends, Tab goes round inside the panel, Escape closes it and
//! gives focus back to the launcher; on a 375×667 touch screen the open panel fills the screen,
//! its composer stays above the on-screen keyboard, its inputs are 16 px, and the page behind
//! does not scroll. Asserted on what the browser computes; the phone's screenshots are kept in
//! `target/screenshots/` for a person to look at.

use serde_json::json;
use std::time::Duration;
use tests::browser::{in_widget, widget_query, Browser, WAIT};
use tests::DemoStack;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

/// What has the focus, inside the widget's shadow root if it is there: `[class, testid]`.
const FOCUSED: &str =
    "const host = document.activeElement, inner = host?.shadowRoot?.activeElement ?? host; \
     return [inner?.className ?? null, inner?.dataset?.testid ?? null];";

#[tokio::test]
async fn a_visitor_chats_without_a_mouse() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    visitor.goto(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    // Tab through the page until the launcher has the focus (a bounded walk).
    let mut on_launcher = false;
    for _ in 0..20 {
        visitor.press(TAB).await;
        if visitor.eval(FOCUSED, json!([])).await[0] == "lc-launcher" {
            on_launcher = true;
            break;
        }
    }
    assert!(on_launcher, "Tab never reached the launcher");
    visitor.press(ENTER).await;
    let focused = visitor
        .wait_for(
            "the composer focused",
            &format!("const f = (() => {{ {FOCUSED} }})(); return f[1] === 'composer' && f;"),
            WAIT,
        )
        .await;
    assert_eq!(focused, json!(["", "composer"]));
    visitor.write_in_panel("Hello from the keyboard").await;
    // Tab and Shift+Tab go round inside the panel.
    for _ in 0..12 {
        visitor.press(TAB).await;
        let inside = visitor
            .eval(
                &format!(
                    "const inner = document.activeElement?.shadowRoot?.activeElement; \
                     return !!inner && {}.contains(inner);",
                    widget_query(".lc-root > div")
                ),
                json!([]),
            )
            .await;
        assert_eq!(inside, json!(true), "focus left the open panel");
    }
    visitor.press(ESCAPE).await;
    let back = visitor
        .wait_for(
            "the panel closed and the launcher focused",
            &format!(
                "const f = (() => {{ {FOCUSED} }})(); return {}.hidden && f[0] === 'lc-launcher' && f;",
                widget_query(".lc-root > div")
            ),
            WAIT,
        )
        .await;
    assert_eq!(back[0], "lc-launcher");
    // Enter on the launcher opens it again, focus in the composer.
    visitor.press(ENTER).await;
    visitor
        .wait_for(
            "the composer focused again",
            &format!("const f = (() => {{ {FOCUSED} }})(); return f[1] === 'composer';"),
            WAIT,
        )
        .await;
}

/// The panel's box, the composer's and the send button's bottoms, the composer's font size,
/// whether the launcher shows, and the page's overflow.
const PHONE_LAYOUT: &str = "const root = document.querySelector('livechat-widget').shadowRoot, \
       panel = root.querySelector('.lc-panel').getBoundingClientRect(), \
       composer = root.querySelector('[data-testid=composer]'), \
       send = root.querySelector('[data-testid=send]').getBoundingClientRect(); \
     return [[panel.left, panel.top, panel.width, Math.round(panel.height)], \
       Math.round(composer.getBoundingClientRect().bottom), Math.round(send.bottom), \
       getComputedStyle(composer).fontSize, \
       root.querySelector('.lc-launcher').offsetParent !== null, \
       document.documentElement.style.overflow];";

#[tokio::test]
async fn on_a_phone_the_open_panel_is_the_screen_and_its_composer_stays_above_the_keyboard() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    visitor.as_phone(375, 667).await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    visitor.screenshot(&shots.join("phone-panel.png")).await;
    let layout = visitor.eval(PHONE_LAYOUT, json!([])).await;
    assert_eq!(layout[0], json!([0, 0, 375, 667]), "{layout}");
    assert!(
        layout[1].as_i64().unwrap() <= 667 && layout[2].as_i64().unwrap() <= 667,
        "{layout}"
    );
    assert_eq!(
        layout[3], "16px",
        "inputs large enough that iOS does not zoom"
    );
    assert_eq!(
        layout[4],
        json!(false),
        "the launcher waits behind the panel"
    );
    assert_eq!(layout[5], "hidden", "the page behind keeps still");

    // The on-screen keyboard takes the bottom 267 px: the composer stays above it.
    visitor.as_phone(375, 400).await;
    let raised = visitor
        .wait_for(
            "the panel as high as the visual viewport",
            &format!("const l = (() => {{ {PHONE_LAYOUT} }})(); return l[0][3] === 400 && l;"),
            WAIT,
        )
        .await;
    assert!(
        raised[1].as_i64().unwrap() <= 400 && raised[2].as_i64().unwrap() <= 400,
        "{raised}"
    );
    visitor
        .screenshot(&shots.join("phone-panel-keyboard.png"))
        .await;

    // Closed, the page scrolls again and the launcher is back.
    visitor.as_phone(375, 667).await;
    let close = visitor
        .wait_for_element("the close button", &in_widget(".lc-close"), WAIT)
        .await;
    visitor.click(&close).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = visitor
        .eval(
            "return [document.documentElement.style.overflow, \
             document.querySelector('livechat-widget').shadowRoot.querySelector('.lc-launcher').offsetParent !== null];",
            json!([]),
        )
        .await;
    assert_eq!(after, json!(["", true]));
}

/// The open panel's background and text colours.
const PANEL_COLOURS: &str = "const s = getComputedStyle(document.querySelector('livechat-widget').shadowRoot.querySelector('.lc-panel')); \
     return [s.backgroundColor, s.color];";

#[tokio::test]
async fn the_panel_is_dark_on_a_dark_system_unless_the_channel_forces_light() {
    let demo = DemoStack::start().await;
    let visitor = Browser::launch().await;
    visitor.prefer_color_scheme("dark").await;
    visitor.open_chat(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    assert_eq!(
        visitor.eval(PANEL_COLOURS, json!([])).await,
        json!(["rgb(17, 24, 39)", "rgb(243, 244, 246)"])
    );
    demo.gateway
        .edit_demo_channel(|c| c.appearance.theme = protocol::Theme::Light)
        .await;
    let forced = Browser::launch().await;
    forced.prefer_color_scheme("dark").await;
    forced.open_chat(&format!("{}/", demo.site)).await;
    forced
        .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
        .await;
    assert_eq!(
        forced.eval(PANEL_COLOURS, json!([])).await,
        json!(["rgb(255, 255, 255)", "rgb(17, 24, 39)"])
    );
}

/// axe-core's findings on the host page with the widget (its shadow root included), the
/// launcher alone and then the open panel, with a conversation in it; `prepare` sets the page
/// up first.
async fn widget_violations(
    demo: &DemoStack,
    prepare: &str,
    dark: bool,
) -> Option<serde_json::Value> {
    let visitor = Browser::launch().await;
    if dark {
        visitor.prefer_color_scheme("dark").await;
    }
    visitor.goto(&format!("{}/", demo.site)).await;
    let launcher = visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    visitor.eval(prepare, json!([])).await;
    let closed = visitor.accessibility_violations("html").await?;
    visitor.click(&launcher).await;
    visitor
        .write_in_panel("Is the Ridgeline 2 waterproof?")
        .await;
    let open = visitor.accessibility_violations("html").await?;
    Some(json!({"launcher": closed, "panel": open}))
}

#[tokio::test]
async fn axe_finds_nothing_wrong_with_the_widget_light_dark_or_right_to_left() {
    let demo = DemoStack::start().await;
    for (mode, prepare, dark) in [
        ("light", "", false),
        ("dark", "", true),
        (
            "right to left",
            "document.documentElement.lang = 'ar'; document.documentElement.dir = 'rtl';",
            false,
        ),
    ] {
        let Some(found) = widget_violations(&demo, prepare, dark).await else {
            return;
        };
        assert_eq!(found, json!({"launcher": [], "panel": []}), "{mode}");
    }
}
