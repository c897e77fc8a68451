//! Token buckets: a client's message rate, and each peer's level-0 command rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A token bucket: `rate` per second sustained, `burst` at once.
#[derive(Debug)]
pub(crate) struct RateLimit {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
    warned: Option<Instant>,
}

impl RateLimit {
    pub fn new(rate: f64, burst: f64) -> Self {
        RateLimit {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
            warned: None,
        }
    }

    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// At most one warning a second.
    pub fn should_warn(&mut self) -> bool {
        let now = Instant::now();
        match self.warned {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => false,
            _ => {
                self.warned = Some(now);
                true
            }
        }
    }

    /// Full again: nothing to remember about this peer.
    fn is_idle(&self, now: Instant) -> bool {
        self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate >= self.burst
    }
}

/// One bucket per peer address.
#[derive(Debug)]
pub(crate) struct PerPeer {
    buckets: Mutex<HashMap<IpAddr, RateLimit>>,
    rate: f64,
    burst: f64,
}

impl PerPeer {
    pub fn new(rate: f64, burst: f64) -> Self {
        PerPeer {
            buckets: Mutex::new(HashMap::new()),
            rate,
            burst,
        }
    }

    pub fn take(&self, peer: IpAddr) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 1024 {
            // Forget peers whose buckets have refilled, so many peers cannot grow this.
            let now = Instant::now();
            buckets.retain(|_, b| !b.is_idle(now));
        }
        buckets
            .entry(peer)
            .or_insert_with(|| RateLimit::new(self.rate, self.burst))
            .take()
    }
}
