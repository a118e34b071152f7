//! A local captcha provider speaking the providers' documented protocols, for tests: the
//! challenge script (explicit rendering, `render(container, {sitekey, callback})`) at `/api.js`
//! and the siteverify endpoint (form POST of secret, response, remoteip; JSON answer) at
//! `/siteverify`. The gateway's and the widget's production code paths run unchanged; only the
//! URLs point here. The response token decides the answer.

use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the challenge script does: a button a person clicks, yielding the token below.
const CHALLENGE_JS: &str = "window.turnstile = { render(container, options) { \
     const button = document.createElement('button'); \
     button.textContent = 'I am human'; button.setAttribute('data-testid', 'captcha-solve'); \
     button.onclick = () => options.callback('solved-in-browser:' + options.sitekey); \
     container.appendChild(button); } };";

pub struct Provider {
    base: String,
    seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Provider {
    pub async fn start() -> Self {
        let seen: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let log = seen.clone();
        let app = Router::new()
            .route(
                "/api.js",
                get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], CHALLENGE_JS) }),
            )
            .route(
                "/siteverify",
                post(move |Form(form): Form<HashMap<String, String>>| {
                    let log = log.clone();
                    async move {
                        log.lock().unwrap().push(form.clone());
                        answer(&form).await.map(Json)
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind provider");
        let base = format!("http://{}", listener.local_addr().expect("provider addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, seen }
    }

    pub fn verify_url(&self) -> String {
        format!("{}/siteverify", self.base)
    }

    pub fn script_url(&self) -> String {
        format!("{}/api.js", self.base)
    }

    /// Every siteverify request so far, as the form fields the gateway sent.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(form: &HashMap<String, String>) -> Result<Value, StatusCode> {
    if form.get("secret").map(String::as_str) == Some("revoked-secret") {
        return Ok(json!({"success": false, "error-codes": ["invalid-input-secret"]}));
    }
    let response = form.get("response").map(String::as_str).unwrap_or_default();
    Ok(match response {
        "solved" => json!({"success": true, "hostname": "site.test"}),
        "solved-v3" => {
            json!({"success": true, "score": 0.9, "action": "livechat", "hostname": "site.test"})
        }
        "bot-v3" => {
            json!({"success": true, "score": 0.1, "action": "livechat", "hostname": "site.test"})
        }
        "solved-elsewhere" => json!({"success": true, "hostname": "evil.test"}),
        // What the challenge script yields in a browser on the demo site (127.0.0.1).
        r if r.starts_with("solved-in-browser:") => {
            json!({"success": true, "hostname": "127.0.0.1"})
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json!({"success": true, "hostname": "site.test"})
        }
        "broken" => return Err(StatusCode::INTERNAL_SERVER_ERROR),
        _ => json!({"success": false, "error-codes": ["invalid-input-response"]}),
    })
}
