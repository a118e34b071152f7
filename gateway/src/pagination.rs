//! Opaque cursors for the REST API's lists: the last row's sort key, `(time, id)`, so a page
//! starts exactly after it whatever was inserted meanwhile.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use protocol::Problem;

use crate::error::{Error, Result};

/// Rows per page unless the caller says otherwise, and the most it may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub fn encode(at_ms: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{at_ms}:{id}"))
}

pub fn decode(cursor: &str) -> Result<(i64, String)> {
    let bad = || Error::field("cursor", Problem::Cursor);
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = raw.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
}

/// The cursor given, if any, decoded.
pub fn after(cursor: Option<&str>) -> Result<Option<(i64, String)>> {
    cursor.map(decode).transpose()
}

/// The page size asked for, checked.
pub fn limit(asked: Option<i64>) -> Result<i64> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::field(
            "limit",
            Problem::Number {
                min: "1".into(),
                max: MAX_LIMIT.to_string(),
            },
        )),
    }
}

/// The cursor for the page after `rows`, if the page was full (a short page is the last).
pub fn next<T>(rows: &[(i64, T)], limit: i64, id: impl Fn(&T) -> &str) -> Option<String> {
    let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
    rows.last()
        .filter(|_| full)
        .map(|(at, row)| encode(*at, id(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode(1_700_000_000_123, "a:b-c");
        assert_eq!(
            decode(&cursor).unwrap(),
            (1_700_000_000_123, "a:b-c".into())
        );
        for bad in [
            "",
            "!!",
            &URL_SAFE_NO_PAD.encode("no-colon"),
            &URL_SAFE_NO_PAD.encode("x:y"),
        ] {
            assert_eq!(
                decode(bad).unwrap_err().code(),
                "validation_failed",
                "{bad}"
            );
        }
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert!(limit(Some(0)).is_err() && limit(Some(MAX_LIMIT + 1)).is_err());
    }
}
