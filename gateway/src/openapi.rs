//! The OpenAPI 3.1 document of the gateway's HTTP API, served at `/openapi.json`, and a page
//! that shows it (`/api`). One line per operation in [`OPERATIONS`]; the tests check it against
//! the routes the gateway really serves, both ways, and the documented schemas against real
//! responses.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(document()) }))
        .route("/api", get(page))
}

async fn page() -> impl IntoResponse {
    Html(include_str!("openapi.html"))
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone (visitor endpoints check the page's origin against the channel's list).
    Public,
    /// A logged-in agent (bearer token or the console's cookie).
    Agent,
    /// A logged-in agent with the admin role.
    Admin,
    /// The channel's secret as a bearer token, or an admin login.
    ChannelOrAdmin,
    /// The channel's secret, or any agent login.
    ChannelOrAgent,
}

/// One operation: method, path, tag, summary, who may call it, query parameters (name and
/// description), the request body's schema and the success status with its body's schema
/// (a name under `components.schemas`, or "" for none).
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub query: &'static [(&'static str, &'static str)],
    pub request: &'static str,
    pub status: u16,
    pub response: &'static str,
}

/// `io`: the request body's schema, the success status and its body's schema.
const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    io: (&'static str, u16, &'static str),
) -> Operation {
    let (request, status, response) = io;
    Operation {
        method,
        path,
        tag,
        summary,
        auth,
        query: &[],
        request,
        status,
        response,
    }
}

const PAGE: [(&str, &str); 2] = [
    ("cursor", "`next_cursor` of the previous page"),
    ("limit", "rows per page, 1 to 200 (default 50)"),
];

use Auth::*;

pub const OPERATIONS: &[Operation] = &[
    // Conversations, for integrations.
    Operation {
        query: &[
            ("status", "`waiting`, `open` or `closed`"),
            ("queue_id", "only this queue's"),
            ("updated_since", "Unix milliseconds: only those with activity since"),
            PAGE[0],
            PAGE[1],
        ],
        ..op("get", "/v1/channels/{id}/conversations", "Conversations",
            "List the channel's conversations, oldest created first. Paging never returns one twice, whatever is created meanwhile.",
            ChannelOrAdmin, ("", 200, "ConversationPage"))
    },
    Operation {
        query: &[
            ("after_seq", "messages after this seq (default 0: from the first)"),
            PAGE[1],
        ],
        ..op("get", "/v1/channels/{id}/conversations/{conversation_id}", "Conversations",
            "Read a conversation with its messages by seq.",
            ChannelOrAdmin, ("", 200, "ConversationTranscript"))
    },
    op("post", "/v1/channels/{id}/conversations/{conversation_id}/messages", "Conversations",
        "Answer the visitor as an agent. A retry with the same client_id stores the message once.",
        ChannelOrAdmin, ("ApiAgentMessage", 200, "ChatMessage")),
    op("post", "/v1/channels/{id}/conversations/{conversation_id}/assign", "Conversations",
        "Give the conversation to an agent.", ChannelOrAdmin, ("AssignRequest", 200, "ConversationSummary")),
    op("post", "/v1/channels/{id}/conversations/{conversation_id}/transfer", "Conversations",
        "Hand the conversation to an agent or a queue, with a note for agents.",
        ChannelOrAdmin, ("TransferRequest", 200, "ConversationSummary")),
    op("post", "/v1/channels/{id}/conversations/{conversation_id}/close", "Conversations",
        "Close the conversation; the visitor writing again within the reopen window reopens it.",
        ChannelOrAdmin, ("", 200, "ConversationSummary")),
    op("post", "/v1/channels/{id}/inbound", "Conversations",
        "The channel's inbound URL: an external desk answers or closes a conversation it handles.",
        ChannelOrAdmin, ("DeskAction", 200, "ConversationSummary")),
    // Webhooks.
    op("get", "/v1/channels/{id}/webhooks", "Webhooks", "List the channel's endpoints.",
        ChannelOrAdmin, ("", 200, "WebhookEndpointList")),
    op("post", "/v1/channels/{id}/webhooks", "Webhooks",
        "Register an endpoint (a webhook, the channel's bot or its external desk); the answer holds its signing secret.",
        ChannelOrAdmin, ("NewWebhookEndpoint", 201, "WebhookEndpoint")),
    op("delete", "/v1/channels/{id}/webhooks/{endpoint_id}", "Webhooks",
        "Delete an endpoint with its delivery log.", ChannelOrAdmin, ("", 204, "")),
    Operation {
        query: &PAGE,
        ..op("get", "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries", "Webhooks",
            "The endpoint's delivery log, newest first.", ChannelOrAdmin, ("", 200, "DeliveryPage"))
    },
    op("post", "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", "Webhooks",
        "Send a delivery again, with the same webhook-id.", ChannelOrAdmin, ("", 200, "Delivery")),
    // Visibility.
    op("get", "/v1/channels/{id}/rules", "Visibility", "The channel's visibility rules.",
        ChannelOrAdmin, ("", 200, "object")),
    op("put", "/v1/channels/{id}/rules", "Visibility", "Replace the visibility rules (validated whole).",
        ChannelOrAdmin, ("object", 200, "object")),
    op("get", "/v1/channels/{id}/visibility", "Visibility", "The override and the decision now, with reasons.",
        ChannelOrAdmin, ("", 200, "object")),
    op("put", "/v1/channels/{id}/visibility", "Visibility", "Force the widget visible or hidden, optionally until a time.",
        ChannelOrAdmin, ("object", 200, "object")),
    op("post", "/v1/channels/{id}/visibility/preview", "Visibility", "Decide unsaved rules for a sample visitor.",
        ChannelOrAdmin, ("object", 200, "object")),
    op("get", "/v1/time-zones", "Visibility", "Time zone names for business hours.", Agent, ("", 200, "object")),
    // The widget.
    Operation {
        query: &[
            ("ticket", "the visit ticket this browser kept, if any"),
            ("page", "the host page's URL"),
        ],
        ..op("get", "/v1/widget/{channel_key}", "Widget",
            "Bootstrap: appearance, the visibility decision and a visit ticket.", Public, ("", 200, "object"))
    },
    Operation {
        query: &[("ticket", "this page view's ticket"), ("page", "the host page's URL")],
        ..op("get", "/v1/widget/{channel_key}/visibility", "Widget",
            "Decide again for the same page view; renews its ticket.", Public, ("", 200, "object"))
    },
    op("post", "/v1/sessions", "Widget", "Open a chat session with a visit ticket (and a captcha token if required).",
        Public, ("object", 200, "object")),
    Operation {
        query: &[
            ("token", "the session token"),
            ("conversation_id", "resume this conversation"),
            ("resume_after", "replay messages after this seq"),
        ],
        ..op("get", "/v1/visitor/ws", "Widget", "The visitor's WebSocket (JSON frames tagged by type).",
            Public, ("", 101, ""))
    },
    // Agents.
    op("post", "/v1/agent/login", "Agents", "Log in with email and password: a bearer token and a cookie.",
        Public, ("object", 200, "object")),
    op("post", "/v1/agent/logout", "Agents", "End this login.", Agent, ("", 204, "")),
    op("get", "/v1/agent/me", "Agents", "The logged-in agent.", Agent, ("", 200, "object")),
    op("put", "/v1/agent/presence", "Agents", "Set online, away or offline.", Agent, ("object", 200, "object")),
    op("get", "/v1/agent/ws", "Agents", "The console's WebSocket: inbox, messages, typing.", Agent, ("", 101, "")),
    op("get", "/v1/team", "Agents", "Active agents and queues, for transfers.", Agent, ("", 200, "object")),
    op("post", "/v1/conversations/{id}/accept", "Agents", "Take a waiting conversation.", Agent, ("", 200, "ConversationSummary")),
    op("post", "/v1/conversations/{id}/close", "Agents", "Close a conversation.", Agent, ("", 200, "ConversationSummary")),
    op("post", "/v1/conversations/{id}/transfer", "Agents", "Transfer to an agent or a queue.", Agent, ("TransferRequest", 200, "ConversationSummary")),
    op("get", "/v1/conversations/{id}/events", "Agents", "Transfers, notes and closes, for agents.", Agent, ("", 200, "object")),
    op("post", "/v1/conversations/{id}/agent-link", "Agents", "A one-time link that logs an agent in on this conversation.",
        ChannelOrAdmin, ("object", 201, "object")),
    op("get", "/join/{token}", "Agents", "The join link's page (a button; opening it does not use it).", Public, ("", 200, "")),
    op("post", "/join/{token}", "Agents", "Use the join link: logs in and opens the conversation.", Public, ("", 303, "")),
    op("get", "/v1/contacts/{id}", "Agents", "A contact with labels and every conversation.", ChannelOrAgent, ("", 200, "object")),
    op("put", "/v1/contacts/{id}", "Agents", "Set a contact's ids, email and names.", ChannelOrAdmin, ("object", 200, "object")),
    op("put", "/v1/contacts/{id}/labels/{label}", "Agents", "Label a contact.", ChannelOrAdmin, ("", 200, "object")),
    op("delete", "/v1/contacts/{id}/labels/{label}", "Agents", "Remove a label.", ChannelOrAdmin, ("", 204, "")),
    op("get", "/v1/canned-responses", "Agents", "Canned responses.", Agent, ("", 200, "object")),
    op("put", "/v1/canned-responses/{shortcut}", "Agents", "Save a canned response.", Admin, ("object", 200, "object")),
    op("delete", "/v1/canned-responses/{shortcut}", "Agents", "Delete a canned response.", Admin, ("", 204, "")),
    // Administration.
    op("get", "/v1/admin/agents", "Admin", "Every agent with queues, presence and capacity.", Admin, ("", 200, "object")),
    op("put", "/v1/admin/agents/external/{external_id}", "Admin",
        "Create (201) or update (200) an agent by another system's id; fields left out are kept.", Admin, ("object", 200, "object")),
    op("get", "/v1/admin/queues", "Admin", "Queues.", Admin, ("", 200, "object")),
    op("post", "/v1/admin/queues", "Admin", "Create a queue.", Admin, ("object", 201, "object")),
    op("patch", "/v1/admin/queues/{id}", "Admin", "Edit a queue.", Admin, ("object", 200, "object")),
    op("get", "/v1/admin/channels", "Admin", "Channels.", Admin, ("", 200, "object")),
    op("post", "/v1/admin/channels", "Admin", "Create a channel.", Admin, ("object", 201, "object")),
    op("post", "/v1/admin/channels/delete", "Admin", "Delete channels, all or none.", Admin, ("object", 200, "object")),
    op("get", "/v1/admin/channels/{id}", "Admin", "A channel.", Admin, ("", 200, "object")),
    op("patch", "/v1/admin/channels/{id}", "Admin", "Edit a channel.", Admin, ("object", 200, "object")),
    op("delete", "/v1/admin/channels/{id}", "Admin", "Delete a channel.", Admin, ("", 204, "")),
    op("post", "/v1/admin/channels/{id}/rotate-secret", "Admin", "Replace the channel's secret.", Admin, ("", 200, "object")),
    // The service.
    op("get", "/healthz", "Service", "Liveness.", Public, ("", 200, "")),
    op("get", "/openapi.json", "Service", "This document.", Public, ("", 200, "object")),
    op("get", "/api", "Service", "This document as a page.", Public, ("", 200, "")),
];

/// Paths the gateway serves that are not API: the widget's and console's files.
pub const ASSET_PATHS: &[&str] = &["/", "/console", "/embed.js", "/chat/{channel_key}"];

fn security(auth: Auth) -> Value {
    let agent = json!([{"agentToken": []}, {"agentCookie": []}]);
    match auth {
        Public => json!([]),
        Agent | Admin => agent,
        ChannelOrAdmin | ChannelOrAgent => {
            json!([{"channelSecret": []}, {"agentToken": []}, {"agentCookie": []}])
        }
    }
}

fn auth_note(auth: Auth) -> &'static str {
    match auth {
        Public => "",
        Agent => " Needs an agent login.",
        Admin => " Needs an admin login.",
        ChannelOrAdmin => " Needs the channel secret or an admin login.",
        ChannelOrAgent => " Needs the channel secret or an agent login.",
    }
}

fn schema(name: &str) -> Value {
    if name == "object" {
        json!({"type": "object"})
    } else {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }
}

fn operation(op: &Operation) -> Value {
    let mut parameters: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(op.query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description,
               "schema": {"type": "string"}})
    }));
    let success = if op.response.is_empty() {
        json!({"description": "Done."})
    } else {
        json!({"description": "Done.", "content": {"application/json": {"schema": schema(op.response)}}})
    };
    let error = json!({"description": "A JSON error with a stable code.",
                       "content": {"application/json": {"schema": schema("Error")}}});
    let mut value = json!({
        "tags": [op.tag],
        "summary": op.summary,
        "description": format!("{}{}", op.summary, auth_note(op.auth)),
        "operationId": operation_id(op),
        "security": security(op.auth),
        "parameters": parameters,
        "responses": {op.status.to_string(): success, "default": error},
    });
    if !op.request.is_empty() {
        value["requestBody"] = json!({"required": true,
            "content": {"application/json": {"schema": schema(op.request)}}});
    }
    value
}

/// `get_v1_channels_id_conversations`: unique, stable, readable.
fn operation_id(op: &Operation) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut id = format!("{}{path}", op.method);
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    id.trim_end_matches('_').to_owned()
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let entry = paths
            .entry(op.path)
            .or_insert_with(|| Value::Object(Map::new()));
        entry[op.method] = operation(op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Live chat gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The gateway behind the chat widget: the widget's endpoints, the agents' console API, and the REST API and webhooks for integrations. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code. Webhook deliveries are signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`, `webhook-signature`); their body is the `WebhookPayload` schema."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "channelSecret": {"type": "http", "scheme": "bearer",
                    "description": "The channel's secret (console: Channels), for servers only."},
                "agentToken": {"type": "http", "scheme": "bearer",
                    "description": "The token from POST /v1/agent/login."},
                "agentCookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::LOGIN_COOKIE}
            },
            "schemas": schemas()
        }
    })
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let int = json!({"type": "integer", "format": "int64"});
    let opt_string = json!({"type": ["string", "null"]});
    let opt_int = json!({"type": ["integer", "null"], "format": "int64"});
    let object = |required: &[&str], properties: Value| json!({"type": "object", "required": required, "properties": properties});
    let array_of = |name: &str| json!({"type": "array", "items": schema(name)});
    json!({
        "Error": object(&["error"], json!({"error": object(&["code", "message"], json!({
            "code": string, "message": string,
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "validation_failed: the problem with each field"}
        }))})),
        "ConversationSummary": object(
            &["id", "channel_key", "channel_name", "visitor_id", "status", "last_seq", "last_text", "updated_at_ms", "handler"],
            json!({
                "id": string, "channel_key": string, "channel_name": string, "visitor_id": string,
                "status": {"enum": ["waiting", "open", "closed"]},
                "assigned_agent_id": opt_string, "last_seq": int, "last_text": string,
                "page_url": opt_string, "updated_at_ms": int, "contact_id": opt_string,
                "origin": opt_string, "visit": opt_int, "user_agent": opt_string,
                "handler": {"enum": ["agents", "bot", "desk"]}, "queue_id": opt_string
            })),
        "Author": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"enum": ["visitor", "agent", "bot", "desk", "system"]},
            "agent_id": string, "name": string}},
        "ChatMessage": object(&["conversation_id", "seq", "author", "text", "client_id", "sent_at_ms"], json!({
            "conversation_id": string, "seq": int, "author": schema("Author"), "text": string,
            "client_id": string, "sent_at_ms": int})),
        "ConversationPage": object(&["conversations", "next_cursor"], json!({
            "conversations": array_of("ConversationSummary"), "next_cursor": opt_string})),
        "ConversationTranscript": object(&["conversation", "messages", "next_after_seq"], json!({
            "conversation": schema("ConversationSummary"), "messages": array_of("ChatMessage"),
            "next_after_seq": opt_int})),
        "ApiAgentMessage": object(&["client_id", "text"], json!({
            "agent_id": {"type": ["string", "null"], "description": "required with the channel secret"},
            "client_id": string, "text": string})),
        "AssignRequest": object(&["agent_id"], json!({"agent_id": string})),
        "TransferRequest": object(&[], json!({
            "agent_id": opt_string, "queue_id": opt_string, "note": opt_string})),
        "DeskAction": {"oneOf": [
            object(&["type", "conversation_id", "client_id", "text", "author_name"], json!({
                "type": {"const": "message"}, "conversation_id": string, "client_id": string,
                "text": string, "author_name": string})),
            object(&["type", "conversation_id"], json!({
                "type": {"const": "close"}, "conversation_id": string}))
        ]},
        "NewWebhookEndpoint": object(&["url"], json!({
            "url": string,
            "events": {"type": "array", "items": {"enum": protocol::WEBHOOK_EVENTS.map(protocol::EventType::as_str)}},
            "kind": {"enum": ["webhook", "bot", "desk"]},
            "name": string})),
        "WebhookEndpoint": object(&["id", "url", "events", "secret", "kind", "name"], json!({
            "id": string, "url": string, "events": {"type": "array", "items": string},
            "secret": {"type": "string", "description": "whsec_…: verify signatures with it"},
            "kind": {"enum": ["webhook", "bot", "desk"]}, "name": string})),
        "WebhookEndpointList": array_of("WebhookEndpoint"),
        "Delivery": object(
            &["id", "event_id", "event_type", "status", "attempts", "created_at_ms", "last_attempt_at_ms",
              "last_status", "last_error", "next_attempt_at_ms", "delivered_at_ms"],
            json!({
                "id": string, "event_id": string, "event_type": string,
                "status": {"enum": protocol::DeliveryStatus::NAMES}, "attempts": int,
                "created_at_ms": int, "last_attempt_at_ms": opt_int, "last_status": opt_int,
                "last_error": opt_string, "next_attempt_at_ms": opt_int, "delivered_at_ms": opt_int
            })),
        "DeliveryPage": object(&["deliveries", "next_cursor"], json!({
            "deliveries": array_of("Delivery"), "next_cursor": opt_string})),
        "WebhookPayload": object(&["type", "timestamp", "data"], json!({
            "type": {"enum": protocol::EventType::NAMES},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": object(&["channel_id"], json!({
                "channel_id": string, "conversation": schema("ConversationSummary"),
                "message": schema("ChatMessage"), "transcript": array_of("ChatMessage"),
                "session": object(&["session_id", "visitor_id", "reason"], json!({
                    "session_id": string, "visitor_id": string, "reason": string}))
            }))
        })),
        "BotResponse": object(&[], json!({"replies": {"type": "array", "items": {"oneOf": [
            object(&["type", "text"], json!({"type": {"const": "message"}, "text": string})),
            object(&["type"], json!({"type": {"const": "switch"}, "note": opt_string}))
        ]}}}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every route the gateway's source registers (the router's `route` calls, a path and
    /// its method handlers), with its methods.
    fn routes_in_source() -> BTreeSet<(String, String)> {
        let mut routes = BTreeSet::new();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for call in text.split(".route(").skip(1) {
                        let Some(rest) = call.trim_start().strip_prefix('"') else {
                            continue;
                        };
                        let (route, handlers) = rest.split_once('"').unwrap();
                        // The handlers up to the call's closing parenthesis: `get(a).post(b)`.
                        let mut depth = 1;
                        let end = handlers
                            .char_indices()
                            .find(|(_, c)| {
                                depth += match c {
                                    '(' => 1,
                                    ')' => -1,
                                    _ => 0,
                                };
                                depth == 0
                            })
                            .map_or(handlers.len(), |(i, _)| i);
                        for method in ["get", "post", "put", "patch", "delete"] {
                            let called = handlers[..end].match_indices(&format!("{method}(")).any(
                                |(i, _)| {
                                    i == 0 || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric()
                                },
                            );
                            if called {
                                routes.insert((method.to_owned(), route.to_owned()));
                            }
                        }
                    }
                }
            }
        }
        routes
    }

    #[test]
    fn every_route_the_gateway_serves_is_documented_and_nothing_else() {
        let served: BTreeSet<_> = routes_in_source()
            .into_iter()
            .filter(|(_, path)| !ASSET_PATHS.contains(&path.as_str()))
            .collect();
        let documented: BTreeSet<_> = OPERATIONS
            .iter()
            .map(|op| (op.method.to_owned(), op.path.to_owned()))
            .collect();
        assert!(served.len() > 40, "the source scan found {}", served.len());
        assert_eq!(
            served.difference(&documented).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "served but not documented"
        );
        assert_eq!(
            documented.difference(&served).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "documented but not served"
        );
    }

    #[test]
    fn the_document_is_whole() {
        let doc = document();
        let text = doc.to_string();
        // Every schema named is defined.
        for reference in text.split("#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
        let ids: BTreeSet<String> = OPERATIONS.iter().map(operation_id).collect();
        assert_eq!(ids.len(), OPERATIONS.len(), "operation ids are unique");
    }
}
