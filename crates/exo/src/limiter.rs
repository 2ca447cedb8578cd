//! Bounded adaptive concurrency per tenant: how many admin API requests are in flight.
//!
//! Additive increase, multiplicative decrease: every success raises the limit by
//! `1/limit` (about one more slot per window of successful requests), every throttling
//! answer cuts it to 70% (never below one, never above the configured maximum). Exchange
//! Online's per-tenant budget is not published (reference §6), so the limiter finds it.

use std::sync::Mutex;

use tokio::sync::Notify;

/// The limiter of one tenant.
#[derive(Debug)]
pub struct Limiter {
    state: Mutex<State>,
    released: Notify,
    max: usize,
}

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
    throttled: u64,
}

/// A slot for one request; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit<'a>(&'a Limiter);

impl Limiter {
    /// A limiter that starts at `initial` and never exceeds `max` requests in flight.
    pub fn new(initial: usize, max: usize) -> Limiter {
        let max = max.max(1);
        Limiter {
            state: Mutex::new(State {
                limit: initial.clamp(1, max) as f64,
                in_flight: 0,
                throttled: 0,
            }),
            released: Notify::new(),
            max,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let released = self.released.notified();
            {
                let mut state = self.state();
                if state.in_flight < state.limit.floor().max(1.0) as usize {
                    state.in_flight += 1;
                    return Permit(self);
                }
            }
            released.await;
        }
    }

    /// A request succeeded: let the limit grow.
    pub fn succeeded(&self) {
        let mut state = self.state();
        state.limit = (state.limit + 1.0 / state.limit).min(self.max as f64);
        drop(state);
        self.released.notify_waiters();
    }

    /// A request was throttled: cut the limit.
    pub fn throttled(&self) {
        let mut state = self.state();
        state.limit = (state.limit * 0.7).max(1.0);
        state.throttled += 1;
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state().limit.floor() as usize
    }

    /// Throttling answers seen so far.
    pub fn throttled_count(&self) -> u64 {
        self.state().throttled
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.state().in_flight -= 1;
        self.0.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_cuts_and_successes_restore_slowly() {
        let limiter = Limiter::new(8, 10);
        limiter.throttled();
        assert_eq!(limiter.limit(), 5);
        for _ in 0..3 {
            limiter.throttled();
        }
        assert_eq!(limiter.limit(), 1);
        for _ in 0..3 {
            limiter.throttled();
        }
        assert_eq!(limiter.limit(), 1, "never below one");
        for _ in 0..4 {
            limiter.succeeded();
        }
        assert!(limiter.limit() <= 3, "recovers slowly: {}", limiter.limit());
        for _ in 0..1000 {
            limiter.succeeded();
        }
        assert_eq!(limiter.limit(), 10, "never above the maximum");
        assert_eq!(limiter.throttled_count(), 7);
    }

    #[tokio::test]
    async fn no_more_than_the_limit_in_flight() {
        let limiter = std::sync::Arc::new(Limiter::new(3, 3));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let now = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (limiter, peak, now) = (limiter.clone(), peak.clone(), now.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limiter.acquire().await;
                let n = now.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                peak.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
