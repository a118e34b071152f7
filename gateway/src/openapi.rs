//! The HTTP API as one documented router. Each module's handlers carry `#[utoipa::path]`
//! (method, path, who may call, bodies) and are registered with `routes!`, so a route cannot be
//! served without being documented; the schemas are derived from the types themselves (the
//! `protocol` crate's `openapi` feature, the query structs' `IntoParams`). [`api`] merges them,
//! [`document`] is the OpenAPI 3.1 document served at `/openapi.json`, and `/api` shows it.
//!
//! What every operation shares is added once, by [`finish`]: the JSON error response, the path
//! parameters, and an operation id from the method and path.

use axum::response::Html;
use axum::Json;
use serde_json::Value;
use std::sync::LazyLock;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Object, OpenApi as Document, Ref, Required, ResponseBuilder, Type,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::{
    agents, attachments, audit, canned, channels, cobrowse, contacts, conversations, email, live,
    operations, queues, reports, rules, visitors, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Live chat gateway",
        description = "The gateway behind the chat widget: the widget's endpoints, the agents' console API, and the REST API and webhooks for integrations. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code. Webhook deliveries are signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`, `webhook-signature`); their body is the `WebhookPayload` schema, and a bot answers with `BotResponse`. The sockets' frames are the `*Frame` schemas. An operation's `security` says who may call it: the scope `admin` means a login with the admin role."
    ),
    components(schemas(
        protocol::ErrorBody,
        protocol::WebhookPayload,
        protocol::BotResponse,
        protocol::VisitorClientFrame,
        protocol::VisitorServerFrame,
        protocol::AgentClientFrame,
        protocol::AgentServerFrame,
    ))
)]
struct Base;

/// Every documented route, over the one state. The visitor routes bring their own CORS layer.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Base::openapi())
        .merge(visitors::router())
        .merge(agents::router())
        .merge(agents::sync::router())
        .merge(agents::join::router())
        .merge(agents::team::router())
        .merge(conversations::router())
        .merge(conversations::api::router())
        .merge(conversations::history::router())
        .merge(queues::router())
        .merge(contacts::router())
        .merge(canned::router())
        .merge(webhooks::router())
        .merge(channels::admin::router())
        .merge(rules::api::router())
        .merge(operations::router())
        .merge(attachments::routes::router())
        .merge(email::router())
        .merge(live::router())
        .merge(reports::router())
        .merge(audit::router())
        .merge(cobrowse::router())
        .routes(routes!(served_document))
        .routes(routes!(page))
        .routes(routes!(healthz))
}

/// The document, as served.
pub fn document() -> Value {
    let mut document = api().into_openapi();
    finish(&mut document);
    serde_json::to_value(document).unwrap_or_default()
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "Service",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json")))]
async fn served_document() -> Json<&'static Value> {
    Json(&DOCUMENT)
}

/// This document as a page.
#[utoipa::path(get, path = "/api", tag = "Service",
    responses((status = 200, description = "An HTML page.", content_type = "text/html")))]
async fn page() -> Html<&'static str> {
    Html(include_str!("openapi.html"))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "Service",
    responses((status = 200, description = "`ok`.", content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The security schemes, and on every operation the path parameters its path names, the
/// error response and a unique operation id.
fn finish(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "channelSecret",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The channel's secret (console: Channels), for servers only.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "agentToken",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The token from POST /v1/agent/login."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "visitorSession",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The widget's session token from POST /v1/sessions, from the page it was opened on.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "metricsToken",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The config's metrics_token, for a Prometheus scraper.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "emailInboundSecret",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The config's email_inbound_secret, for the mail server handing over replies.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "agentCookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::LOGIN_COOKIE,
            "The console's login cookie; writes must come from the console's origin.",
        ))),
    );
    let error = ResponseBuilder::new()
        .description("A JSON error with a stable code.")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in document.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            operation.operation_id = Some(operation_id(method, path));
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| error.clone().into());
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            for name in path_parameters(path) {
                let known = parameters.iter().any(|p| {
                    matches!(p, utoipa::openapi::RefOr::T(p) if p.name == name && p.parameter_in == ParameterIn::Path)
                });
                if !known {
                    parameters.push(
                        ParameterBuilder::new()
                            .name(name)
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .schema(Some(Object::with_type(Type::String)))
                            .build()
                            .into(),
                    );
                }
            }
        }
    }
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

/// `{id}` and `{conversation_id}` of `/v1/channels/{id}/conversations/{conversation_id}`.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// `get_v1_channels_id_conversations`: unique, stable, readable.
fn operation_id(method: HttpMethod, path: &str) -> String {
    let method = serde_json::to_value(&method)
        .ok()
        .and_then(|m| m.as_str().map(str::to_owned))
        .unwrap_or_default();
    let words: Vec<&str> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    format!("{method}_{}", words.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_document_is_whole() {
        let doc = document();
        let text = doc.to_string();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
        let mut ids = BTreeSet::new();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                operations += 1;
                assert!(
                    ids.insert(operation["operationId"].to_string()),
                    "{method} {path}"
                );
                assert!(
                    operation["responses"]["default"].is_object(),
                    "{method} {path}"
                );
                assert!(
                    !operation["summary"].as_str().unwrap_or("").is_empty(),
                    "{method} {path} has no summary"
                );
                let named: BTreeSet<_> = path_parameters(path).collect();
                let documented: BTreeSet<_> = operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(named, documented, "{method} {path}");
            }
        }
        assert!(operations > 50, "{operations}");
    }

    #[test]
    fn operation_ids_read_as_the_method_and_path() {
        assert_eq!(
            operation_id(HttpMethod::Get, "/v1/channels/{id}/conversations"),
            "get_v1_channels_id_conversations"
        );
        assert_eq!(
            operation_id(HttpMethod::Post, "/v1/admin/channels/{id}/rotate-secret"),
            "post_v1_admin_channels_id_rotate_secret"
        );
    }
}
