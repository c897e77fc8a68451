//! The reconnect schedule: exponential backoff with full jitter. A pure function of the attempt
//! number and a random fraction, so it is tested without a runtime or randomness.

use std::time::Duration;

/// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS): the delay
/// before attempt `attempt` (1 for the first retry) is uniform in `[0, min(cap, base·2^(attempt-1))]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The upper bound of the delay before `attempt`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The delay before `attempt`, for a random `fraction` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, fraction: f64) -> Duration {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.ceiling(attempt).mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }

    #[test]
    fn ceilings_double_from_half_a_second_to_the_cap() {
        let b = backoff();
        let ceilings: Vec<u128> = (1..=9).map(|a| b.ceiling(a).as_millis()).collect();
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(30));
        assert_eq!(b.ceiling(0), Duration::from_millis(500));
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let b = backoff();
        for attempt in 1..40 {
            assert_eq!(b.delay(attempt, 0.0), Duration::ZERO);
            assert_eq!(b.delay(attempt, 1.0), b.ceiling(attempt));
            let mid = b.delay(attempt, 0.5);
            assert!(mid <= b.ceiling(attempt) && mid >= b.ceiling(attempt) / 3);
        }
        assert_eq!(b.delay(3, f64::NAN), Duration::ZERO);
        assert_eq!(b.delay(3, 7.0), b.ceiling(3));
    }
}
