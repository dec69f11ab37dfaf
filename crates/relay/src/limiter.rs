//! Token-bucket rate limits keyed by IP address or pubkey.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter<K> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

/// Buckets idle long enough to be full again are dropped once the map grows past this.
const SWEEP_AT: usize = 100_000;

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_second == 0` disables the limit.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Limiter {
            per_second,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &K) -> bool {
        if self.per_second <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if buckets.len() > SWEEP_AT {
            let full_after = self.burst / self.per_second;
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() < full_after);
        }
        let b = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_second).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let l = Limiter::new(1.0, 3.0);
        assert!(l.allow(&1));
        assert!(l.allow(&1));
        assert!(l.allow(&1));
        assert!(!l.allow(&1));
        assert!(l.allow(&2), "buckets are per key");
        let off = Limiter::new(0.0, 0.0);
        assert!((0..1000).all(|_| off.allow(&1)));
    }
}
