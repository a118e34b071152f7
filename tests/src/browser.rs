//! A small WebDriver client for Debian's headless Chromium through chromedriver: enough to
//! load pages, find elements (inside shadow roots too, by script), click, type and read back.
//! Real input events go through WebDriver's element click and send-keys, as a person's would.

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

/// WebDriver's key for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver_url: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// An element handle returned by the browser.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Element {
    /// The handle as a script argument: the page receives the element itself.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
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
        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http
            .get(format!("{driver_url}/status"))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
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
        }}});
        let answer: Value = http
            .post(format!("{driver_url}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused the session: {answer}"))
            .to_owned();
        Self {
            http,
            session,
            driver_url,
            driver,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.driver_url, self.session);
        let mut request = self.http.request(method, url);
        // chromedriver refuses a body on GET (`missing command parameters`).
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("webdriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    /// Runs `script` in every page this browser loads from now on, before the page's own scripts.
    pub async fn before_each_page(&self, script: &str) {
        let params = json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": script } });
        self.command(reqwest::Method::POST, "/goog/cdp/execute", params)
            .await;
    }

    /// Loads `page` and clicks the chat launcher, as a visitor does.
    pub async fn open_chat(&self, page: &str) {
        self.goto(page).await;
        let launcher = self
            .wait_for_element("the launcher", &in_widget("[data-testid=launcher]"), WAIT)
            .await;
        self.click(&launcher).await;
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
        self.wait_for("the live inbox", "return document.querySelector('[data-testid=connection]')?.textContent.includes('live');", WAIT)
            .await;
    }

    pub async fn refresh(&self) {
        self.command(reqwest::Method::POST, "/refresh", json!({}))
            .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
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
        Element(
            value[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("{what} is not an element: {value}"))
                .to_owned(),
        )
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
            "arguments[0].value = arguments[1];              arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
            json!([element.to_json(), value]),
        )
        .await;
    }

    pub async fn click(&self, element: &Element) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            json!({}),
        )
        .await;
    }

    /// Types `text` into the element as keystrokes.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await;
    }

    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        if let Some(bytes) = png
            .as_str()
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        {
            let _ = std::fs::write(path, bytes);
        }
    }

    /// Ends the session and the browser.
    pub async fn quit(mut self) {
        let url = format!("{}/session/{}", self.driver_url, self.session);
        let _ = self.http.delete(url).send().await;
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
