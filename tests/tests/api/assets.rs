//! What browsers download, as a browser asks for it: the loader compressed as the browser
//! accepts, on a short cache with an `ETag` that answers 304; the panel's content-named files
//! cached for good; anything else revalidated; and without a build, the loader's source.

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};
use reqwest::StatusCode;
use tests::TestGateway;

const PANEL_JS: &str = "widget-0123456789abcdef.js";

/// A widget build as xtask leaves it: the loader naming the hashed panel, compressed copies.
fn build() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    let dir = dist.path();
    let loader = format!("import('/widget/{PANEL_JS}')");
    std::fs::write(dir.join("embed.js"), &loader).unwrap();
    std::fs::write(dir.join("embed.js.br"), b"brotli bytes").unwrap();
    std::fs::write(dir.join("embed.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(dir.join(PANEL_JS), "export default 1").unwrap();
    std::fs::write(dir.join(format!("{PANEL_JS}.br")), b"brotli panel").unwrap();
    std::fs::create_dir_all(dir.join("snippets/widget-4f3a2b1c/src")).unwrap();
    std::fs::write(dir.join("snippets/widget-4f3a2b1c/src/captcha.js"), "x").unwrap();
    dist
}

async fn get(gw: &TestGateway, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(gw.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_loader_comes_compressed_as_accepted_and_revalidates_with_its_tag() {
    let dist = build();
    let dir = dist.path().to_path_buf();
    let gw = TestGateway::spawn_with(move |c| c.widget_dir = dir).await;

    let brotli = get(
        &gw,
        "/embed.js",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(brotli.status(), StatusCode::OK);
    assert_eq!(header(&brotli, CONTENT_ENCODING), "br");
    assert!(header(&brotli, VARY)
        .to_lowercase()
        .contains("accept-encoding"));
    assert_eq!(header(&brotli, CACHE_CONTROL), "public, max-age=300");
    let tag = header(&brotli, ETAG);
    assert!(tag.starts_with('"') && tag.len() > 10, "{tag}");
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");

    let gzip = get(&gw, "/embed.js", &[(ACCEPT_ENCODING.as_str(), "gzip")]).await;
    assert_eq!(header(&gzip, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&gzip, ETAG), tag);
    let plain = get(&gw, "/embed.js", &[]).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    assert!(plain.text().await.unwrap().contains(PANEL_JS));

    let again = get(&gw, "/embed.js", &[(IF_NONE_MATCH.as_str(), &tag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, ETAG), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    let stale = get(&gw, "/embed.js", &[(IF_NONE_MATCH.as_str(), "\"old\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn content_named_panel_files_are_cached_for_good_and_the_rest_revalidated() {
    let dist = build();
    let dir = dist.path().to_path_buf();
    let gw = TestGateway::spawn_with(move |c| c.widget_dir = dir).await;

    let panel = get(
        &gw,
        &format!("/widget/{PANEL_JS}"),
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(panel.status(), StatusCode::OK);
    assert_eq!(
        header(&panel, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&panel, CONTENT_ENCODING), "br");
    assert_eq!(
        header(&panel, reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
    let snippet = get(&gw, "/widget/snippets/widget-4f3a2b1c/src/captcha.js", &[]).await;
    assert_eq!(snippet.status(), StatusCode::OK);
    assert_eq!(header(&snippet, CACHE_CONTROL), "no-cache");
    let missing = get(&gw, "/widget/widget-fedcba9876543210.js", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&missing, CACHE_CONTROL),
        "",
        "a 404 is not cached for good"
    );
}

#[tokio::test]
async fn without_a_build_the_loader_source_is_served() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_path_buf();
    let gw = TestGateway::spawn_with(move |c| c.widget_dir = dir).await;
    let loader = get(&gw, "/embed.js", &[("accept-encoding", "br")]).await;
    assert_eq!(loader.status(), StatusCode::OK);
    assert!(!header(&loader, ETAG).is_empty());
    assert_eq!(header(&loader, CACHE_CONTROL), "public, max-age=300");
    let served = loader.text().await.unwrap();
    assert_eq!(served, *gateway::assets::SOURCE_LOADER);
    // With the launcher's stylesheet in it, a string the loader adopts.
    assert!(served.contains("sheet.replaceSync(\"/* All the host page shows"));
    assert!(!served.contains("LAUNCHER_CSS"));
}

/// The host page may time and size what the widget costs it (the loader, its bootstrap, the
/// panel), and nothing a login reads: a size there would tell another site something.
#[tokio::test]
async fn host_pages_may_time_the_widget_and_nothing_behind_a_login() {
    let dist = build();
    let dir = dist.path().to_path_buf();
    let gw = TestGateway::spawn_with(move |c| c.widget_dir = dir).await;
    let timing = reqwest::header::HeaderName::from_static("timing-allow-origin");
    let site = [("origin", tests::SITE_ORIGIN)];
    for path in [
        "/embed.js".to_owned(),
        format!("/widget/{PANEL_JS}"),
        "/v1/widget/demo".to_owned(),
    ] {
        let response = get(&gw, &path, &site).await;
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(header(&response, timing.clone()), "*", "{path}");
    }
    for path in ["/v1/agent/me", "/v1/admin/channels", "/console/"] {
        let response = get(&gw, path, &site).await;
        assert_eq!(header(&response, timing.clone()), "", "{path}");
    }
}
