//! Times as the agent reads them.

/// A time (ms since the epoch) as the console's language writes a local date and time.
pub fn local_time(ms: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_string(
            crate::words::locale().as_str(),
            &wasm_bindgen::JsValue::UNDEFINED,
        )
        .into()
}

/// An instant as a weekday and a time in `time_zone` (a business-hours zone, checked by the
/// gateway), as the console's language writes them: "Monday 09:00".
pub fn weekday_and_time(ms: i64, time_zone: &str) -> String {
    let options = js_sys::Object::new();
    for (name, value) in [
        ("weekday", "long"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        // As the rules' hours are typed (09:00-17:00), in every language.
        ("hourCycle", "h23"),
        ("timeZone", time_zone),
    ] {
        let _ = js_sys::Reflect::set(&options, &name.into(), &value.into());
    }
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_string(crate::words::locale().as_str(), &options)
        .into()
}
