//! The OpenAPI document against the running gateway: every documented operation is routed (and
//! its path refuses an undocumented method with 405, which only a routed path does), each
//! refuses the callers its `security` leaves out, and real responses have exactly the
//! documented properties. (That nothing is served undocumented holds by construction: the API
//! routes are registered only through `utoipa_axum::routes!`.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::client::{agent_login, call, Visitor};
use tests::receiver::Receiver;
use tests::{TestGateway, SITE_ORIGIN};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn every_documented_operation_is_served() {
    let gw = TestGateway::spawn().await;
    let served = reqwest::get(gw.url("/openapi.json")).await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let doc: Value = served.json().await.unwrap();
    assert_eq!(doc, gateway::openapi::document());
    let page = reqwest::get(gw.url("/api")).await.unwrap();
    assert!(page.text().await.unwrap().contains("/openapi.json"));

    let client = reqwest::Client::new();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let url = gw.url(&concrete(path));
        for method in METHODS {
            let documented = operations.get(method).is_some();
            let status = client
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap()
                .status();
            if documented {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                checked += 1;
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}: its path is routed for other methods only"
                );
            }
        }
    }
    assert!(checked > 50, "{checked} operations");
}

/// `/v1/channels/{id}/…` with every parameter filled in with `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// A scheme's name and the scopes it needs, for one of an operation's alternatives.
type Requirement = (String, Value);

/// Every documented operation with its security requirements.
fn operations(doc: &Value) -> Vec<(Method, String, Vec<Requirement>)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = operation["security"]
                .as_array()
                .map(|alternatives| {
                    alternatives
                        .iter()
                        .flat_map(|a| a.as_object().unwrap().clone())
                        .collect()
                })
                .unwrap_or_default();
            all.push((
                method.to_uppercase().parse().unwrap(),
                path.clone(),
                security,
            ));
        }
    }
    all
}

#[tokio::test]
async fn every_operation_refuses_the_callers_its_security_leaves_out() {
    let gw = TestGateway::spawn().await;
    let doc = gateway::openapi::document();
    let admin = agent_login(&gw).await;
    let plain = crate::hostile::plain_agent(&gw, &admin).await;
    let client = reqwest::Client::new();
    let (mut guarded, mut admin_only) = (0, 0);
    for (method, path, security) in operations(&doc) {
        let url = gw.url(&concrete(&path));
        let anonymous = client.request(method.clone(), &url).send().await.unwrap();
        if security.is_empty() {
            assert_ne!(
                anonymous.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} is public"
            );
            continue;
        }
        guarded += 1;
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let agents_may = |scopes: &Value| {
            security
                .iter()
                .any(|(scheme, s)| scheme == "agentToken" && s == scopes)
        };
        if !agents_may(&json!([])) {
            admin_only += 1;
            // A login is no credential at all where none is asked for; a plain one is not
            // enough where an admin's is.
            let expected = if agents_may(&json!(["admin"])) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNAUTHORIZED
            };
            let answer = call(&gw, &plain, method.clone(), &concrete(&path), None).await;
            assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
        }
    }
    assert!(
        guarded > 40 && admin_only > 30,
        "{guarded} guarded, {admin_only} for admins"
    );
}

/// Checks that `value` has exactly the properties `schema` documents (required ones present,
/// no others), recursively through references, arrays and nested objects.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if value.is_null() {
        return;
    }
    if let Some(variants) = schema["oneOf"].as_array() {
        return conforms(doc, variant(doc, variants, value, at), value, at);
    }
    if let Some(properties) = schema["properties"].as_object() {
        let object = value.as_object().unwrap_or_else(|| panic!("{at}: {value}"));
        for required in schema["required"].as_array().unwrap() {
            let name = required.as_str().unwrap();
            assert!(object.contains_key(name), "{at}: {name} is missing");
        }
        for (name, field) in object {
            let documented = properties
                .get(name)
                .unwrap_or_else(|| panic!("{at}: {name} is not documented"));
            conforms(doc, documented, field, &format!("{at}.{name}"));
        }
    } else if schema["type"] == "array" {
        for (i, item) in value.as_array().unwrap().iter().enumerate() {
            conforms(doc, &schema["items"], item, &format!("{at}[{i}]"));
        }
    }
}

/// The one of `variants` that `value` is: not the `null` of an `Option`, and for a tagged
/// enum the one whose tag (a single-valued `enum` property) `value` carries.
fn variant<'a>(doc: &Value, variants: &'a [Value], value: &Value, at: &str) -> &'a Value {
    let resolved = |v: &'a Value| -> Value {
        match v["$ref"].as_str() {
            Some(reference) => {
                doc["components"]["schemas"][reference.rsplit('/').next().unwrap()].clone()
            }
            None => v.clone(),
        }
    };
    let candidates: Vec<&Value> = variants.iter().filter(|v| v["type"] != "null").collect();
    if let [only] = candidates[..] {
        return only;
    }
    candidates
        .into_iter()
        .find(|v| {
            let schema = resolved(v);
            schema["properties"].as_object().is_some_and(|properties| {
                properties
                    .iter()
                    .all(|(name, property)| match property["enum"].as_array() {
                        Some(tag) if tag.len() == 1 => value.get(name) == Some(&tag[0]),
                        _ => true,
                    })
            })
        })
        .unwrap_or_else(|| panic!("{at}: {value} is none of the documented variants"))
}

fn response_schema(doc: &Value, method: &str, path: &str, status: &str) -> Value {
    doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
}

#[tokio::test]
async fn the_integration_responses_have_exactly_the_documented_properties() {
    let gw = TestGateway::spawn_with(|c| c.webhooks_allow_private = true).await;
    let doc = gateway::openapi::document();
    let channel = gw.demo_channel().await;
    let receiver = Receiver::start().await;
    let endpoint = crate::deliveries::register(&gw, &receiver, json!({})).await;
    let visitor = Visitor::arrive(&gw, SITE_ORIGIN).await;
    let mut socket = visitor.connect(&gw, None).await;
    let (conversation, _) = socket.say("m1", "Hello").await;
    let delivered = receiver
        .wait_for(1, std::time::Duration::from_secs(20))
        .await;
    let admin = agent_login(&gw).await;

    let base = format!("/v1/channels/{}", channel.id);
    let cases = [
        (
            "get",
            "/v1/channels/{id}/conversations",
            format!("{base}/conversations"),
            None,
        ),
        (
            "get",
            "/v1/channels/{id}/conversations/{conversation_id}",
            format!("{base}/conversations/{conversation}"),
            None,
        ),
        (
            "post",
            "/v1/channels/{id}/conversations/{conversation_id}/messages",
            format!("{base}/conversations/{conversation}/messages"),
            Some(json!({"client_id": "a1", "text": "Hi"})),
        ),
        (
            "get",
            "/v1/channels/{id}/webhooks",
            format!("{base}/webhooks"),
            None,
        ),
        (
            "get",
            "/v1/channels/{id}/webhooks/{endpoint_id}/deliveries",
            format!("{base}/webhooks/{endpoint}/deliveries"),
            None,
        ),
        (
            "post",
            "/v1/channels/{id}/conversations/{conversation_id}/close",
            format!("{base}/conversations/{conversation}/close"),
            None,
        ),
    ];
    for (method, documented, path, body) in cases {
        let answer = call(
            &gw,
            &admin,
            method.to_uppercase().parse::<Method>().unwrap(),
            &path,
            body,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        let schema = response_schema(&doc, method, documented, "200");
        conforms(&doc, &schema, &answer.body, documented);
    }
    // The refusals too, and the webhook payload the receiver got.
    let refused = call(
        &gw,
        &admin,
        Method::GET,
        &format!("{base}/conversations?limit=0"),
        None,
    )
    .await;
    conforms(
        &doc,
        &json!({"$ref": "#/components/schemas/ErrorBody"}),
        &refused.body,
        "error",
    );
    conforms(
        &doc,
        &json!({"$ref": "#/components/schemas/WebhookPayload"}),
        &delivered[0].payload,
        "payload",
    );
}
