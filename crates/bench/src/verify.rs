//! The machine's BIP-340 verification rate on every core: the ceiling of any relay's ingest,
//! since each accepted event costs one verification.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use nostr::prelude::Event;

use super::corpus::Prepared;

pub struct VerifyReport {
    pub threads: usize,
    /// Signature checks alone, per second, all threads together.
    pub signatures_per_sec: f64,
    /// What the relay does per event before storing it: parse the JSON, recompute the id,
    /// check the signature.
    pub parse_and_verify_per_sec: f64,
}

pub fn measure(samples: &[Prepared]) -> Result<VerifyReport> {
    if samples.is_empty() {
        bail!("no events to verify");
    }
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let parsed: Vec<Event> = samples
        .iter()
        .map(|p| Event::from_json(p.json()))
        .collect::<Result<_, _>>()?;

    let sig = on_threads(threads, &parsed, |e| e.verify_signature());
    let full = on_threads(threads, samples, |p| {
        seedstr_proto::parse_event(p.json()).is_ok()
    });
    let (sig_elapsed, sig_ok) = sig;
    let (full_elapsed, full_ok) = full;
    if sig_ok != parsed.len() || full_ok != samples.len() {
        bail!("some generated events failed verification: the generator is broken");
    }
    Ok(VerifyReport {
        threads,
        signatures_per_sec: parsed.len() as f64 / sig_elapsed.as_secs_f64(),
        parse_and_verify_per_sec: samples.len() as f64 / full_elapsed.as_secs_f64(),
    })
}

/// Runs `check` over `items` split across `threads`; wall time and how many passed.
fn on_threads<T: Sync>(
    threads: usize,
    items: &[T],
    check: impl Fn(&T) -> bool + Sync,
) -> (Duration, usize) {
    let chunk = items.len().div_ceil(threads).max(1);
    let start = Instant::now();
    let passed = thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().filter(|x| check(x)).count()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("verifier thread panicked"))
            .sum()
    });
    (start.elapsed(), passed)
}
