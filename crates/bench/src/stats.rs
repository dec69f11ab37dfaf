//! Latency samples and their percentiles.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

/// Latencies in microseconds; percentiles by nearest rank.
#[derive(Default, Clone)]
pub struct Latencies {
    micros: Vec<u64>,
}

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        self.micros.push(d.as_micros() as u64);
    }

    pub fn extend(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    pub fn summary(&mut self) -> Summary {
        self.micros.sort_unstable();
        let at = |p: f64| -> Duration {
            if self.micros.is_empty() {
                return Duration::ZERO;
            }
            let rank = ((p * self.micros.len() as f64).ceil() as usize).clamp(1, self.micros.len());
            Duration::from_micros(self.micros[rank - 1])
        };
        Summary {
            samples: self.micros.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub samples: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    pub fn to_json(self) -> Value {
        json!({
            "samples": self.samples,
            "p50_ms": ms(self.p50),
            "p99_ms": ms(self.p99),
            "max_ms": ms(self.max),
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.samples
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for us in (1..=100).rev() {
            l.push(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(s.p50, Duration::from_micros(50));
        assert_eq!(s.p99, Duration::from_micros(99));
        assert_eq!(s.max, Duration::from_micros(100));
        assert_eq!(Latencies::default().summary().p99, Duration::ZERO);
    }
}
