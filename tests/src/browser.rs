//! Debian's headless Chromium through chromedriver, driven with `fantoccini` (a WebDriver
//! client): pages load, elements are found by script (inside shadow roots too), and real input
//! events go through WebDriver's element click and send-keys, as a person's would.

use fantoccini::elements::ElementRef;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a browser test waits for anything the page should show.
pub const WAIT: Duration = Duration::from_secs(15);

/// A page script returning the element with this `data-testid` (outside any shadow root).
pub fn by_testid(id: &str) -> String {
    // Quoted: ids such as `event-message.created` are not CSS identifiers.
    format!("return document.querySelector('[data-testid=\"{id}\"]');")
}

/// A page expression for the element matching `css` inside the widget's shadow root, or null.
pub fn widget_query(css: &str) -> String {
    format!(
        "(document.querySelector('livechat-widget')?.shadowRoot?.querySelector('{css}') ?? null)"
    )
}

/// A page script returning the element matching `css` inside the widget's shadow root, or null.
pub fn in_widget(css: &str) -> String {
    format!("return {};", widget_query(css))
}

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// WebDriver's key for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// An element handle returned by the browser.
#[derive(Debug, Clone)]
pub struct Element(fantoccini::elements::Element);

impl Element {
    /// The handle as a script argument: the page receives the element itself.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&self.0).expect("an element serialises as its reference")
    }
}

/// Chromium's DevTools command through chromedriver's vendor endpoint (WebDriver has none for
/// "run this script in every new document").
#[derive(Debug)]
struct DevToolsCommand(Value);

impl WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium with an empty profile.
    pub async fn launch() -> Self {
        let chromedriver = which("chromedriver")
            .expect("chromedriver is not installed: run `cargo xtask test`, which installs it");
        let chromium = which("chromium")
            .expect("chromium is not installed: run `cargo xtask test`, which installs it");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities);
        let driver_url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen.
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match builder.connect(&driver_url).await {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("chromedriver refused the session: {e}"),
            }
        };
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Sends a DevTools command to the page's browser.
    async fn devtools(&self, cmd: &str, params: Value) {
        self.client
            .issue_cmd(DevToolsCommand(json!({ "cmd": cmd, "params": params })))
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"));
    }

    /// Presses `key` (a character, or a WebDriver key such as `\u{E004}`, Tab) on whatever has
    /// the keyboard's focus, as a person does: through the keyboard, not into an element (a
    /// file input would take typed keys for a path).
    pub async fn press(&self, key: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".into());
        for value in key.chars() {
            keys = keys
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client
            .perform_actions(keys)
            .await
            .expect("keys pressed");
    }

    /// Says the visitor's system prefers a dark (or light) look (`prefers-color-scheme`).
    pub async fn prefer_color_scheme(&self, scheme: &str) {
        let features = json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
        self.devtools("Emulation.setEmulatedMedia", features).await;
    }

    /// Makes the page a phone's: `width`×`height` CSS pixels, a touch screen. Called again with
    /// a smaller height, it is the phone with its on-screen keyboard up (the visual viewport
    /// shrinks).
    pub async fn as_phone(&self, width: u32, height: u32) {
        let metrics =
            json!({ "width": width, "height": height, "deviceScaleFactor": 2, "mobile": true });
        self.devtools("Emulation.setDeviceMetricsOverride", metrics)
            .await;
        self.devtools(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true, "maxTouchPoints": 5 }),
        )
        .await;
    }

    /// Opens another tab of this browser (same profile: storage, cookies, `BroadcastChannel`)
    /// and drives it from now on; returns the tab it was driving.
    pub async fn new_tab(&self) -> fantoccini::wd::WindowHandle {
        let left = self.current_tab().await;
        let tab = self.client.new_window(true).await.expect("a new tab");
        self.switch_to(tab.handle).await;
        left
    }

    /// The tab being driven.
    pub async fn current_tab(&self) -> fantoccini::wd::WindowHandle {
        self.client.window().await.expect("the current tab")
    }

    /// Drives this tab from now on.
    pub async fn switch_to(&self, tab: fantoccini::wd::WindowHandle) {
        self.client
            .switch_to_window(tab)
            .await
            .expect("switch tabs");
    }

    /// Grants `permission` (`notifications`, ...) to `origin`, as a person allowing it would.
    pub async fn grant(&self, permission: &str, origin: &str) {
        let params = json!({ "permissions": [permission], "origin": origin });
        self.devtools("Browser.grantPermissions", params).await;
    }

    /// Runs `script` in every page this tab loads from now on, before the page's own scripts.
    pub async fn before_each_page(&self, script: &str) {
        self.devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": script }),
        )
        .await;
    }

    /// Saves what the page downloads into `dir` (headless Chromium otherwise refuses downloads).
    pub async fn download_into(&self, dir: &Path) {
        let params = json!({ "behavior": "allow", "downloadPath": dir.display().to_string() });
        self.devtools("Browser.setDownloadBehavior", params).await;
    }

    /// Loads `page` and clicks the chat launcher, as a visitor does.
    pub async fn open_chat(&self, page: &str) {
        self.goto(page).await;
        let launcher = self
            .wait_for_element("the launcher", &in_widget(".lc-launcher"), WAIT)
            .await;
        self.click(&launcher).await;
    }

    /// Types `text` into the open panel's composer, sends it with Enter, and waits until the
    /// gateway has acknowledged it.
    pub async fn write_in_panel(&self, text: &str) {
        let composer = self
            .wait_for_element("the composer", &in_widget("[data-testid=composer]"), WAIT)
            .await;
        self.type_into(&composer, &format!("{text}\n")).await;
        let sent = format!(
            "return [...({}?.querySelectorAll('[data-state=sent] .lc-text') ?? [])] \
             .some(m => m.textContent === arguments[0]);",
            "document.querySelector('livechat-widget')?.shadowRoot"
        );
        let deadline = Instant::now() + WAIT;
        while self.eval(&sent, json!([text])).await != json!(true) {
            assert!(Instant::now() < deadline, "{text:?} was not acknowledged");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Logs into the console at `console_url` as the demo agent (an admin) and waits until the
    /// inbox is live.
    pub async fn log_into_console(&self, console_url: &str) {
        self.goto(console_url).await;
        for (field, text) in [
            ("email", gateway::demo::AGENT_EMAIL),
            ("password", gateway::demo::AGENT_PASSWORD),
        ] {
            let input = self.wait_for_element(field, &by_testid(field), WAIT).await;
            self.type_into(&input, text).await;
        }
        let button = self
            .wait_for_element("the login button", &by_testid("login"), WAIT)
            .await;
        self.click(&button).await;
        self.wait_for(
            "the live inbox",
            "return document.querySelector('[data-testid=connection]')?.dataset.live === 'true';",
            WAIT,
        )
        .await;
    }

    /// Logs into the console as the demo admin and opens the demo channel's settings.
    pub async fn open_demo_channel_settings(&self, console_url: &str) {
        self.log_into_console(console_url).await;
        self.click_on("nav-channels").await;
        self.click_on("channel-open").await;
    }

    pub async fn refresh(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        let args = match args {
            Value::Array(args) => args,
            Value::Null => vec![],
            other => vec![other],
        };
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// What axe-core (npm, installed by `cargo xtask test`, named in `LIVECHAT_TEST_AXE`) finds
    /// wrong in `selector`'s part of the page, shadow roots included: each violation as
    /// `[rule, impact, [the first elements' selectors]]`. None without axe-core.
    pub async fn accessibility_violations(&self, selector: &str) -> Option<Value> {
        let Some(path) = std::env::var_os("LIVECHAT_TEST_AXE") else {
            eprintln!("LIVECHAT_TEST_AXE is not set: no accessibility checker");
            return None;
        };
        let axe = std::fs::read_to_string(&path).expect("axe-core's script");
        self.eval(&axe, json!([])).await;
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];                  axe.run({ include: [[arguments[0]]] }, { resultTypes: ['violations'] })                    .then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target)])),                          e => done([['axe failed', String(e), []]]));",
                vec![json!(selector)],
            )
            .await
            .unwrap_or_else(|e| panic!("axe-core: {e}"));
        Some(found)
    }

    /// Polls `script` until it returns something truthy, and returns that.
    pub async fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(script, json!([])).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("")
                && value != json!([]);
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let shot = std::env::temp_dir().join("livechat-failure.png");
                self.screenshot(&shot).await;
                panic!(
                    "timed out waiting for {what} (screenshot: {})",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for `script` to return an element, and returns a handle to it.
    pub async fn wait_for_element(&self, what: &str, script: &str, timeout: Duration) -> Element {
        let value = self.wait_for(what, script, timeout).await;
        let id = value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("{what} is not an element: {value}"));
        Element(fantoccini::elements::Element::from_element_id(
            self.client.clone(),
            ElementRef::from(id.to_owned()),
        ))
    }

    /// Waits for the element with this `data-testid` and clicks it.
    pub async fn click_on(&self, testid: &str) {
        let element = self
            .wait_for_element(testid, &by_testid(testid), WAIT)
            .await;
        self.click(&element).await;
    }

    /// Sets the value of the input with this `data-testid` and fires `change`, as a person
    /// editing it and leaving the field does.
    pub async fn change_value(&self, testid: &str, value: &str) {
        let element = self
            .wait_for_element(testid, &by_testid(testid), WAIT)
            .await;
        self.eval(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
            json!([element.to_json(), value]),
        )
        .await;
    }

    /// Empties the field with this `data-testid` and types `text` into it, as a person would.
    pub async fn retype(&self, testid: &str, text: &str) {
        let element = self
            .wait_for_element(testid, &by_testid(testid), WAIT)
            .await;
        self.eval(
            "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
            json!([element.to_json()]),
        )
        .await;
        self.type_into(&element, text).await;
    }

    pub async fn click(&self, element: &Element) {
        element.0.click().await.expect("click");
    }

    /// Types `text` into the element as keystrokes.
    pub async fn type_into(&self, element: &Element, text: &str) {
        element.0.send_keys(text).await.expect("type");
    }

    pub async fn screenshot(&self, path: &Path) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(path, png);
        }
    }

    /// Ends the session and the browser.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test skips quit(); at least chromedriver goes.
        let _ = self.driver.kill();
    }
}
