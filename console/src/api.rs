//! The console's one way to call the gateway: send, then decode the answer or the gateway's
//! error, with one sentence for a gateway that cannot be reached.

use gloo_net::http::RequestBuilder;
use protocol::{ErrorBody, ErrorDetail};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::words::t;

/// An error the console itself found (no answer, an unreadable one), shaped like the gateway's.
fn failure(message: String) -> ErrorDetail {
    ErrorDetail {
        code: "network".into(),
        message,
        fields: Default::default(),
        problems: Default::default(),
        refused: vec![],
    }
}

/// The gateway's error in the agent's language where the console words its code
/// (`error_<code>`), each field's problem and each refused item's: its English otherwise.
fn worded(mut error: ErrorDetail) -> ErrorDetail {
    if let Some(text) = crate::words::worded(&format!("error_{}", error.code)) {
        error.message = text;
    }
    for (field, problem) in &error.problems {
        if let Some(text) = crate::words::problem(problem) {
            error.fields.insert(field.clone(), text);
        }
    }
    for refusal in &mut error.refused {
        if let Some(text) = crate::words::problem(&refusal.problem) {
            refusal.reason = text;
        }
    }
    error
}

/// Sends `body` (if any) and decodes the answer, or the gateway's error.
pub async fn call<T: DeserializeOwned>(
    request: RequestBuilder,
    body: Option<Value>,
) -> Result<T, ErrorDetail> {
    let sent = match body {
        Some(body) => {
            request
                .json(&body)
                .map_err(|e| failure(e.to_string()))?
                .send()
                .await
        }
        None => request.send().await,
    }
    .map_err(|_| failure(t("gateway_unreachable")))?;
    if sent.ok() {
        // 204 No Content decodes as JSON null.
        let text = sent.text().await.map_err(|e| failure(e.to_string()))?;
        serde_json::from_str(if text.is_empty() { "null" } else { &text })
            .map_err(|e| failure(e.to_string()))
    } else {
        Err(sent
            .json::<ErrorBody>()
            .await
            .map(|b| worded(b.error))
            .unwrap_or_else(|_| failure(t("unexpected_answer"))))
    }
}

/// The channels to pick from in a page's filters: every channel for an admin, loaded in the
/// background; none for an agent, who may not list them.
pub fn channel_choices(is_admin: bool) -> leptos::prelude::RwSignal<Vec<protocol::ChannelView>> {
    use leptos::prelude::Set;
    let channels = leptos::prelude::RwSignal::new(Vec::new());
    if is_admin {
        leptos::task::spawn_local(async move {
            let request = gloo_net::http::Request::get("/v1/admin/channels");
            if let Ok(list) = call::<Vec<protocol::ChannelView>>(request, None).await {
                channels.set(list);
            }
        });
    }
    channels
}
