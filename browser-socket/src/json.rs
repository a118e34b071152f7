//! JSON for the browser apps through the browser's own `JSON.parse` and `JSON.stringify`, with
//! `serde-wasm-bindgen` between JavaScript values and Rust types: no JSON parser (nor its float
//! formatting and error messages) is compiled into the WASM modules, which is most of what
//! `serde_json` cost the panel.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `text` as a `T`; None if it is not JSON or not a `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    from_value(js_sys::JSON::parse(text).ok()?)
}

/// A parsed JavaScript value (a `fetch` response's `json()`, an object the page passed) as a `T`.
pub fn from_value<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// `value` as JSON text, as `serde_json` would write it (maps as objects, None as null);
/// integers beyond JavaScript's safe range are an error, so none is ever rounded.
pub fn stringify<T: Serialize>(value: &T) -> String {
    to_value(value)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .map(String::from)
        .unwrap_or_default()
}

fn to_value<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}
