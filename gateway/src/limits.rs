//! Abuse limits keyed by IP, channel, session or account: each allows a burst, then a steady
//! rate (GCRA, the generic cell rate algorithm), and a request over it is refused with how long
//! to wait.
//!
//! One gateway keeps its limits in memory (`governor`). Gateways sharing a Redis (`redis_url`)
//! share them, so a client spreading its requests over the gateways behind a load balancer meets
//! the same limit as on one: each check is one atomic script in Redis that keeps the key's
//! theoretical arrival time, on Redis's own clock. When Redis cannot answer in time, the gateway
//! falls back to its own limits for that check, which still bounds abuse per gateway.

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::telemetry;

/// A local limiter holding more keys than this forgets those back at a full burst, so a flood
/// of distinct keys cannot grow it for ever.
const SWEEP_ABOVE: usize = 10_000;

/// How long a check waits for Redis before using the local limit instead.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// After Redis failed, how long checks stay local before trying it again.
const SHARED_RETRY: Duration = Duration::from_secs(5);

pub struct RateLimit {
    /// Part of the Redis key: limits with the same keys (an IP) must not share a bucket.
    name: &'static str,
    per_minute: NonZeroU32,
    burst: NonZeroU32,
    local: DefaultKeyedRateLimiter<String>,
}

impl RateLimit {
    /// `per_minute` sustained (at least one), in bursts of `burst` or of one second at that
    /// rate, whichever is more: a limit raised for a busy site (or a load test from one address)
    /// is not undone by a burst sized for one person's typing.
    pub fn per_minute(name: &'static str, per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(per_minute.get() / 60)).unwrap_or(NonZeroU32::MIN);
        Self {
            name,
            per_minute,
            burst,
            local: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    /// Takes one cell for `key` from this gateway's own limiter, or says how long to wait.
    fn take_local(&self, key: &str) -> std::result::Result<(), Duration> {
        if self.local.len() > SWEEP_ABOVE {
            self.local.retain_recent();
        }
        self.local
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.local.clock().now()))
    }

    /// The time between two cells at the sustained rate.
    fn interval_ms(&self) -> u64 {
        60_000 / u64::from(self.per_minute.get())
    }
}

/// The GCRA in one atomic step. KEYS[1]: the bucket; ARGV: the interval between cells (ms) and
/// the burst. Returns 0 when the cell is taken, else the milliseconds until one is free.
const GCRA_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return tat - now - tolerance
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
";

/// The buckets in Redis, for every gateway on one database.
struct Shared {
    client: redis::Client,
    /// `livechat:{namespace}:limit:`.
    prefix: String,
    script: redis::Script,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Set after a failure: until then, checks stay local.
    local_until: Mutex<Option<tokio::time::Instant>>,
}

impl Shared {
    /// Takes a cell in Redis: Ok(None) when taken, Ok(Some(wait)) when refused, Err when Redis
    /// did not answer (the caller falls back to the local limit).
    async fn take(
        &self,
        limit: &RateLimit,
        key: &str,
    ) -> std::result::Result<Option<Duration>, ()> {
        {
            let mut until = self.local_until.lock().unwrap_or_else(|e| e.into_inner());
            match *until {
                Some(at) if tokio::time::Instant::now() < at => return Err(()),
                Some(_) => *until = None,
                None => {}
            }
        }
        let answer = tokio::time::timeout(SHARED_TIMEOUT, self.invoke(limit, key)).await;
        match answer {
            Ok(Ok(0)) => Ok(None),
            Ok(Ok(wait_ms)) => Ok(Some(Duration::from_millis(wait_ms))),
            Ok(Err(e)) => {
                self.fail(&e.to_string()).await;
                Err(())
            }
            Err(_) => {
                self.fail("no answer in time").await;
                Err(())
            }
        }
    }

    async fn invoke(&self, limit: &RateLimit, key: &str) -> redis::RedisResult<u64> {
        let mut connection = {
            let mut held = self.connection.lock().await;
            match held.as_ref() {
                Some(connection) => connection.clone(),
                None => {
                    let fresh = self.client.get_multiplexed_async_connection().await?;
                    *held = Some(fresh.clone());
                    fresh
                }
            }
        };
        self.script
            .key(format!("{}{}:{key}", self.prefix, limit.name))
            .arg(limit.interval_ms())
            .arg(limit.burst.get())
            .invoke_async(&mut connection)
            .await
    }

    async fn fail(&self, why: &str) {
        tracing::warn!(
            error = why,
            "shared rate limits unavailable; limiting locally"
        );
        self.connection.lock().await.take();
        *self.local_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(tokio::time::Instant::now() + SHARED_RETRY);
    }
}

/// The gateway's limits, from the config.
pub struct Limits {
    shared: Option<Shared>,
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
    /// The limits of `config`; shared through Redis when `redis_url` is set, in the namespace
    /// of the gateways sharing the database.
    pub fn from_config(config: &Config, namespace: Option<&str>) -> Result<Self> {
        let shared = match (&config.redis_url, namespace) {
            (Some(url), Some(namespace)) => Some(Shared {
                client: redis::Client::open(url.as_str())
                    .map_err(|e| Error::Config(format!("redis_url: {e}")))?,
                prefix: format!("livechat:{namespace}:limit:"),
                script: redis::Script::new(GCRA_SCRIPT),
                connection: tokio::sync::Mutex::new(None),
                local_until: Mutex::new(None),
            }),
            _ => None,
        };
        Ok(Self {
            shared,
            sessions_per_ip: RateLimit::per_minute(
                "sessions_per_ip",
                config.sessions_per_ip_per_minute,
                config.sessions_per_ip_per_minute.min(10),
            ),
            sessions_per_channel: RateLimit::per_minute(
                "sessions_per_channel",
                config.sessions_per_channel_per_minute,
                config.sessions_per_channel_per_minute,
            ),
            // A reconnect resends everything written offline at once: the burst allows for it.
            messages_per_session: RateLimit::per_minute(
                "messages_per_session",
                config.messages_per_session_per_minute,
                20,
            ),
            messages_per_ip: RateLimit::per_minute(
                "messages_per_ip",
                config.messages_per_ip_per_minute,
                40,
            ),
            messages_per_channel: RateLimit::per_minute(
                "messages_per_channel",
                config.messages_per_channel_per_minute,
                config.messages_per_channel_per_minute,
            ),
            logins_per_ip: RateLimit::per_minute(
                "logins_per_ip",
                config.logins_per_ip_per_minute,
                config.logins_per_ip_per_minute.min(10),
            ),
            logins_per_account: RateLimit::per_minute(
                "logins_per_account",
                config.logins_per_account_per_minute,
                config.logins_per_account_per_minute.min(5),
            ),
        })
    }

    /// Takes a cell from each `(limit, key)` in order; the first refusal becomes `rate_limited`.
    pub async fn check(&self, checks: &[(&RateLimit, &str)]) -> Result<()> {
        for (limit, key) in checks {
            let shared = match &self.shared {
                Some(shared) => shared.take(limit, key).await.ok(),
                None => None,
            };
            let refused = match shared {
                Some(answer) => answer,
                None => limit.take_local(key).err(),
            };
            if let Some(wait) = refused {
                telemetry::rate_limited(limit.name);
                return Err(Error::RateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_limit_allows_a_seconds_worth_at_once() {
        // Raised for a load from one address: 1,000 a second, though bursts were set for 40.
        let limit = RateLimit::per_minute("test", 60_000, 40);
        assert!((0..1000).all(|_| limit.take_local("a").is_ok()));
        // The default stays as set.
        let limit = RateLimit::per_minute("test", 300, 40);
        assert!((0..40).all(|_| limit.take_local("a").is_ok()));
        assert!(limit.take_local("a").is_err());
    }

    #[test]
    fn a_burst_passes_then_the_rate_applies_per_key() {
        let limit = RateLimit::per_minute("test", 60, 3);
        for _ in 0..3 {
            assert!(limit.take_local("a").is_ok());
        }
        let wait = limit.take_local("a").unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            limit.take_local("b").is_ok(),
            "other keys have their own bucket"
        );
        std::thread::sleep(wait + Duration::from_millis(20));
        assert!(limit.take_local("a").is_ok(), "one cell per second refills");
        assert!(limit.take_local("a").is_err());
    }

    #[test]
    fn a_zero_setting_still_admits_one_at_a_time() {
        let limit = RateLimit::per_minute("test", 0, 0);
        assert!(limit.take_local("a").is_ok());
        assert!(limit.take_local("a").is_err());
    }

    #[test]
    fn idle_keys_are_swept_when_the_limiter_grows() {
        let limit = RateLimit::per_minute("test", 60_000, 1);
        for i in 0..=SWEEP_ABOVE {
            limit.take_local(&format!("k{i}")).unwrap();
        }
        // At a thousand per second, every key is back at a full burst a few ms later.
        std::thread::sleep(Duration::from_millis(20));
        limit.take_local("late").unwrap();
        assert!(limit.local.len() < 10, "{} keys kept", limit.local.len());
    }
}
