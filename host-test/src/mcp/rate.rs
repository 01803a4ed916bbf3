//! The per-token call rate of the HTTP server: a token bucket per bearer
//! token, so that one client calling in a loop cannot take the machine (or
//! the store's audit table) from the others. Over the rate, the call gets a
//! tool error result; the connection and the server carry on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls per minute per key, with bursts of up to a minute's worth.
pub struct CallRate {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    /// Calls that may be made now (fractional while refilling).
    available: f64,
    refilled: Instant,
}

impl CallRate {
    pub fn per_minute(per_minute: u32) -> Self {
        CallRate {
            per_minute: per_minute.max(1),
            buckets: Mutex::default(),
        }
    }

    /// Takes one call for `key`, or says how long until one is available.
    /// Keys are token ids that authenticated, so the map is bounded by the
    /// store's token table.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            available: capacity,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.available = (bucket.available + elapsed * per_second).min(capacity);
        bucket.refilled = now;
        if bucket.available >= 1.0 {
            bucket.available -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.available) / per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_a_minutes_calls_then_refusal_per_key() {
        let rate = CallRate::per_minute(3);
        for _ in 0..3 {
            assert!(rate.take("a").is_ok());
        }
        let wait = rate
            .take("a")
            .expect_err("the fourth call is over the rate");
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(20));
        assert!(rate.take("b").is_ok(), "another token has its own bucket");
    }
}
