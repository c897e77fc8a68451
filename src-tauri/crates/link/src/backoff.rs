//! The reconnect schedule, with full jitter. For the first minute of an outage the link tries
//! about once a second, so it is back within a second of a plant that restarts; after that it
//! backs off exponentially to a cap. A pure function of how long the link has been down, the
//! attempt number past the first minute and a random fraction, so it is tested without a
//! runtime or randomness.

use std::time::Duration;

/// Full jitter ("Exponential Backoff And Jitter", AWS): each delay is uniform in
/// `[0, ceiling]`, so a control room of desks never comes back in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling during the quick phase, and the first one after it is doubled from.
    pub quick_ceiling: Duration,
    /// How long into an outage the ceiling stays at `quick_ceiling`.
    pub quick_for: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The upper bound of the next delay, `outage` into an outage. `slow_attempt` counts the
    /// attempts made after the quick phase (1 for the first).
    pub fn ceiling(&self, outage: Duration, slow_attempt: u32) -> Duration {
        if outage < self.quick_for {
            return self.quick_ceiling.min(self.cap);
        }
        let doublings = slow_attempt.clamp(1, 31);
        self.quick_ceiling
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The next delay, for a random `fraction` in `[0, 1)`.
    pub fn delay(&self, outage: Duration, slow_attempt: u32, fraction: f64) -> Duration {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.ceiling(outage, slow_attempt).mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            quick_ceiling: Duration::from_millis(1500),
            quick_for: Duration::from_secs(60),
            cap: Duration::from_secs(30),
        }
    }

    #[test]
    fn a_minute_of_quick_tries_then_doubling_to_the_cap() {
        let b = backoff();
        for secs in [0, 1, 30, 59] {
            assert_eq!(b.ceiling(Duration::from_secs(secs), 0), b.quick_ceiling);
        }
        let after: Vec<u128> = (1..=7)
            .map(|n| b.ceiling(Duration::from_secs(60), n).as_millis())
            .collect();
        assert_eq!(after, [3000, 6000, 12000, 24000, 30000, 30000, 30000]);
        assert_eq!(b.ceiling(Duration::MAX, u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn about_one_attempt_a_second_in_the_quick_phase() {
        // The mean delay of full jitter is half the ceiling.
        let b = backoff();
        let mean = b.delay(Duration::ZERO, 0, 0.5);
        assert!(mean <= Duration::from_secs(1), "{mean:?}");
        assert!(mean >= Duration::from_millis(500), "{mean:?}");
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let b = backoff();
        for (outage, n) in [(0, 0), (60, 1), (61, 3), (600, 40)] {
            let outage = Duration::from_secs(outage);
            let ceiling = b.ceiling(outage, n);
            assert_eq!(b.delay(outage, n, 0.0), Duration::ZERO);
            assert_eq!(b.delay(outage, n, 1.0), ceiling);
            let mid = b.delay(outage, n, 0.5);
            assert!(mid <= ceiling && mid >= ceiling / 3);
        }
        assert_eq!(b.delay(Duration::ZERO, 0, f64::NAN), Duration::ZERO);
        assert_eq!(b.delay(Duration::ZERO, 0, 7.0), b.quick_ceiling);
    }
}
