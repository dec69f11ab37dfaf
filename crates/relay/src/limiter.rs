//! Rate limits keyed by IP address or pubkey: `governor`'s keyed GCRA limiter (the token
//! bucket it replaces, in its own terms), with a rate and a burst from the configuration.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A limit per key; keys unseen for long are forgotten once there are many.
pub struct Limiter<K: Hash + Eq + Clone> {
    /// `None`: no limit.
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

/// Keys whose state is back to a full burst are dropped once the map grows past this.
const SWEEP_AT: usize = 100_000;

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_second` tokens a second, at most `burst` at once; `per_second == 0` disables the
    /// limit.
    pub fn new(per_second: f64, burst: f64) -> Self {
        let burst = NonZeroU32::new(burst.max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
        let quota = (per_second > 0.0)
            .then(|| Quota::with_period(Duration::from_secs_f64(1.0 / per_second)))
            .flatten()
            .map(|q| q.allow_burst(burst));
        Limiter {
            limiter: quota.map(RateLimiter::keyed),
        }
    }

    /// Takes one token for `key`; false when its burst is spent.
    pub fn allow(&self, key: &K) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        if limiter.len() > SWEEP_AT {
            limiter.retain_recent();
        }
        limiter.check_key(key).is_ok()
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
