//! A site owner styles the widget on the Channels page (colours, launcher side, distance, icon,
//! label, panel size), sees it in the live preview, cannot save text the visitor could not read,
//! and the host page shows what was saved: asserted on what the browser computes.

use serde_json::json;
use tests::browser::{in_widget, Browser, WAIT};
use tests::DemoStack;

/// The launcher's `[left, right from the window's right edge, bottom from its bottom edge,
/// background, label, accessible name]`.
const LAUNCHER: &str = "const b = document.querySelector('livechat-widget').shadowRoot.querySelector('.lc-launcher'), \
     r = b.getBoundingClientRect(), s = getComputedStyle(b); \
     return [Math.round(r.left), Math.round(innerWidth - r.right), Math.round(innerHeight - r.bottom), \
             s.backgroundColor, getComputedStyle(b, '::after').content, b.getAttribute('aria-label')];";

#[tokio::test]
async fn a_site_owner_styles_the_widget_with_a_live_preview_and_the_page_shows_it() {
    let demo = DemoStack::start().await;
    let admin = Browser::launch().await;
    admin
        .open_demo_channel_settings(&demo.gateway.url("/console/"))
        .await;

    // Pale yellow under the default white text: named, and the save refused in the editor.
    admin.retype("edit-accent", "#fde68a").await;
    let problem = admin
        .wait_for(
            "the contrast problem",
            "return document.querySelector('[data-testid=contrast-problem]')?.textContent;",
            WAIT,
        )
        .await;
    assert!(problem.as_str().unwrap().contains("4.5:1"), "{problem}");
    assert_eq!(
        admin
            .eval(
                "return document.querySelector('[data-testid=save-appearance]').disabled;",
                json!([])
            )
            .await,
        json!(true)
    );

    admin.retype("edit-text-color", "#1f2937").await;
    admin.change_value("edit-launcher-icon", "help").await;
    admin.change_value("edit-position", "bottom_left").await;
    admin.retype("edit-launcher-label", "Questions?").await;
    admin.retype("edit-offset-x", "32").await;
    admin.retype("edit-panel-width", "420").await;
    let preview = admin
        .wait_for(
            "the preview with the new launcher",
            "const l = document.querySelector('[data-testid=preview-launcher]'), s = getComputedStyle(l); \
             return document.querySelector('[data-testid=contrast-problem]') === null \
                 && getComputedStyle(l, '::after').content === '\"Questions?\"' \
                 && [s.backgroundColor, s.color, getComputedStyle(l, '::before').content.slice(0, 19)];",
            WAIT,
        )
        .await;
    assert_eq!(
        preview,
        json!([
            "rgb(253, 230, 138)",
            "rgb(31, 41, 55)",
            "url(\"data:image/svg"
        ])
    );
    let ratio = admin
        .eval(
            "return document.querySelector('[data-testid=contrast-ratio]').textContent;",
            json!([]),
        )
        .await;
    // WCAG's ratio of #1f2937 on #fde68a is 11.8.
    let figure: f64 = ratio
        .as_str()
        .and_then(|r| r.strip_prefix("Text on the accent: "))
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in {ratio}"));
    assert!((11.0..12.5).contains(&figure), "{ratio}");
    admin.click_on("save-appearance").await;
    let mut saved = demo.gateway.demo_channel().await.appearance;
    for _ in 0..50 {
        if saved.look.launcher_label == "Questions?" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        saved = demo.gateway.demo_channel().await.appearance;
    }
    assert_eq!(
        (
            saved.accent_color.as_str(),
            saved.look.text_color.as_str(),
            saved.look.launcher_icon,
            saved.position,
            saved.look.offset_x,
            saved.look.panel_width,
        ),
        (
            "#fde68a",
            "#1f2937",
            protocol::LauncherIcon::Help,
            protocol::LauncherPosition::BottomLeft,
            32,
            420
        )
    );

    // The host page: the launcher where and as the owner set it, the panel as wide.
    let visitor = Browser::launch().await;
    visitor.goto(&format!("{}/", demo.site)).await;
    visitor
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    let launcher = visitor.eval(LAUNCHER, json!([])).await;
    assert_eq!(launcher[0], json!(32), "{launcher}");
    assert_eq!(launcher[2], json!(20), "{launcher}");
    assert_eq!(
        launcher.as_array().unwrap()[3..],
        [
            json!("rgb(253, 230, 138)"),
            json!("\"Questions?\""),
            json!("Questions?")
        ]
    );
    visitor.open_chat(&format!("{}/", demo.site)).await;
    let panel = visitor
        .wait_for(
            "the open panel",
            "const root = document.querySelector('livechat-widget').shadowRoot, \
                   panel = root.querySelector('.lc-panel'), head = root.querySelector('.lc-head'); \
             return root.querySelector('[data-testid=composer]') && \
                 [Math.round(panel.getBoundingClientRect().width), getComputedStyle(head).color, getComputedStyle(head).backgroundColor];",
            WAIT,
        )
        .await;
    assert_eq!(panel, json!([420, "rgb(31, 41, 55)", "rgb(253, 230, 138)"]));

    // A right-to-left page mirrors the side: the launcher 32 px from the right edge.
    let mirrored = Browser::launch().await;
    mirrored.goto(&format!("{}/", demo.site)).await;
    mirrored
        .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
        .await;
    mirrored
        .eval("document.documentElement.dir = 'rtl';", json!([]))
        .await;
    let launcher = mirrored.eval(LAUNCHER, json!([])).await;
    assert_eq!(launcher[1], json!(32), "{launcher}");
}
