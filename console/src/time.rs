//! Times as the agent reads them.

/// A time (ms since the epoch) as the agent's browser writes its local date and time.
pub fn local_time(ms: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}
