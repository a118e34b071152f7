//! Abuse limits: token buckets keyed by IP, channel or session. Each bucket refills at a steady
//! rate up to a burst; a request that finds it empty is refused with how long to wait.
//!
//! The buckets live in this process: behind a load balancer each gateway limits on its own,
//! which bounds abuse per gateway (a shared store would make it exact; not needed yet).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Error, Result};

/// A bucket map larger than this is swept of full (idle) buckets, so it cannot grow unbounded.
const SWEEP_ABOVE: usize = 10_000;

pub struct RateLimit {
    per_second: f64,
    burst: f64,
    // std Mutex: held for a map lookup and a few float operations, never across an await.
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimit {
    /// `per_minute` sustained, with bursts of up to `burst` at once.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub fn take(&self, key: &str, now: Instant) -> std::result::Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > SWEEP_ABOVE {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            let wait = if self.per_second > 0.0 {
                (1.0 - refilled) / self.per_second
            } else {
                3600.0
            };
            Err(Duration::from_secs_f64(wait))
        }
    }
}

/// The gateway's limits, from the config.
pub struct Limits {
    pub sessions_per_ip: RateLimit,
    pub sessions_per_channel: RateLimit,
    pub messages_per_session: RateLimit,
    /// Many sessions from one address (tabs, or a script) share this.
    pub messages_per_ip: RateLimit,
    pub messages_per_channel: RateLimit,
    pub logins_per_ip: RateLimit,
    pub logins_per_account: RateLimit,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            sessions_per_ip: RateLimit::per_minute(
                config.sessions_per_ip_per_minute,
                config.sessions_per_ip_per_minute.min(10),
            ),
            sessions_per_channel: RateLimit::per_minute(
                config.sessions_per_channel_per_minute,
                config.sessions_per_channel_per_minute,
            ),
            // A reconnect resends everything written offline at once: the burst allows for it.
            messages_per_session: RateLimit::per_minute(config.messages_per_session_per_minute, 20),
            messages_per_ip: RateLimit::per_minute(config.messages_per_ip_per_minute, 40),
            messages_per_channel: RateLimit::per_minute(
                config.messages_per_channel_per_minute,
                config.messages_per_channel_per_minute,
            ),
            logins_per_ip: RateLimit::per_minute(
                config.logins_per_ip_per_minute,
                config.logins_per_ip_per_minute.min(10),
            ),
            logins_per_account: RateLimit::per_minute(
                config.logins_per_account_per_minute,
                config.logins_per_account_per_minute.min(5),
            ),
        }
    }
}

/// Takes a token from each `(limit, key)` in order; the first refusal becomes `rate_limited`.
pub fn check(checks: &[(&RateLimit, &str)]) -> Result<()> {
    let now = Instant::now();
    for (limit, key) in checks {
        limit.take(key, now).map_err(|wait| Error::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_applies_per_key() {
        let limit = RateLimit::per_minute(60, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.take("a", start).is_ok());
        }
        let wait = limit.take("a", start).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            limit.take("b", start).is_ok(),
            "other keys have their own bucket"
        );
        assert!(
            limit.take("a", start + Duration::from_millis(1100)).is_ok(),
            "one token per second refills"
        );
        assert!(limit
            .take("a", start + Duration::from_millis(1200))
            .is_err());
    }

    #[test]
    fn idle_buckets_are_swept_when_the_map_grows() {
        let limit = RateLimit::per_minute(600, 1);
        let start = Instant::now();
        for i in 0..=SWEEP_ABOVE {
            limit.take(&format!("k{i}"), start).unwrap();
        }
        limit.take("late", start + Duration::from_secs(10)).unwrap();
        assert!(
            limit.buckets.lock().unwrap().len() < 10,
            "refilled buckets are dropped"
        );
    }
}
