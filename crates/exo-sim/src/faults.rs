//! Fault injection: a seeded generator for 503s and dropped connections, and the
//! per-tenant concurrency limit behind the 429s.
//!
//! The generator is a xorshift64* drawn once per request (and once per `$batch`
//! sub-request when configured), so the same seed and the same sequence of requests give
//! the same faults. Only fault decisions draw from it; request ids and the like come from
//! elsewhere, so adding a header never shifts the sequence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A tiny xorshift64* generator: deterministic, good enough for fault rates.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (0 is replaced by a fixed non-zero constant).
    pub fn new(seed: u64) -> XorShift {
        // Spread small seeds over the state so that seeds 1 and 2 do not start alike.
        let mixed = seed
            .wrapping_add(0x9e37_79b9_7f4a_7c15)
            .wrapping_mul(0xbf58_476d_1ce4_e5b9);
        XorShift(if mixed == 0 {
            0x2545_f491_4f6c_dd1d
        } else {
            mixed
        })
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What the fault generator decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer 503.
    Unavailable,
    /// Close the connection without a response.
    Drop,
}

/// The seeded fault generator.
#[derive(Debug)]
pub struct FaultGenerator {
    seed: u64,
    rng: XorShift,
    /// Latency spikes come from their own sequence, so that turning them on does not
    /// change which requests fail.
    spikes: XorShift,
}

impl FaultGenerator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> FaultGenerator {
        FaultGenerator {
            seed,
            rng: XorShift::new(seed),
            spikes: XorShift::new(seed ^ 0x9e37_79b9_7f4a_7c15),
        }
    }

    /// Restarts the sequence when the seed changed.
    pub fn reseed(&mut self, seed: u64) {
        if seed != self.seed {
            *self = FaultGenerator::new(seed);
        }
    }

    /// Whether an admitted request gets a latency spike.
    pub fn spike(&mut self, rate: f64) -> bool {
        self.spikes.next_f64() < rate
    }

    /// Draws the fault of one request. One number is drawn per call whatever the rates, so
    /// the sequence does not depend on them.
    pub fn draw(&mut self, drop_rate: f64, unavailable_rate: f64) -> Fault {
        let x = self.rng.next_f64();
        if x < drop_rate {
            Fault::Drop
        } else if x < drop_rate + unavailable_rate {
            Fault::Unavailable
        } else {
            Fault::None
        }
    }
}

/// Requests in flight per tenant.
#[derive(Debug, Default, Clone)]
pub struct ConcurrencyLimiter {
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// A slot of the concurrency limit, released on drop (also when the client goes away).
#[derive(Debug)]
pub struct Slot {
    limiter: ConcurrencyLimiter,
    tenant: String,
    /// Requests in flight for the tenant, this one included, when it was admitted.
    pub in_flight: usize,
}

impl ConcurrencyLimiter {
    /// Admits a request for `tenant` unless `limit` requests are already in flight.
    pub fn acquire(&self, tenant: &str, limit: Option<usize>) -> Option<Slot> {
        let tenant = tenant.to_ascii_lowercase();
        let mut map = self.in_flight.lock().expect("limiter lock");
        let count = map.entry(tenant.clone()).or_default();
        if limit.is_some_and(|limit| *count >= limit) {
            return None;
        }
        *count += 1;
        Some(Slot {
            limiter: self.clone(),
            tenant,
            in_flight: *count,
        })
    }

    /// Requests in flight for `tenant` now.
    pub fn current(&self, tenant: &str) -> usize {
        let map = self.in_flight.lock().expect("limiter lock");
        map.get(&tenant.to_ascii_lowercase()).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.limiter.in_flight.lock().expect("limiter lock");
        if let Some(count) = map.get_mut(&self.tenant) {
            *count = count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let run = |seed| {
            let mut g = FaultGenerator::new(seed);
            (0..200).map(|_| g.draw(0.1, 0.3)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let faults = run(7);
        let unavailable = faults.iter().filter(|f| **f == Fault::Unavailable).count();
        assert!((30..90).contains(&unavailable), "{unavailable}");
    }

    #[test]
    fn slots_are_released_on_drop() {
        let limiter = ConcurrencyLimiter::default();
        let a = limiter.acquire("T", Some(2)).unwrap();
        let _b = limiter.acquire("t", Some(2)).unwrap();
        assert!(limiter.acquire("t", Some(2)).is_none());
        assert!(limiter.acquire("other", Some(2)).is_some());
        drop(a);
        assert_eq!(limiter.current("t"), 1);
        assert!(limiter.acquire("t", Some(2)).is_some());
    }
}
