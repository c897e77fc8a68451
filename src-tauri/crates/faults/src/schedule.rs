//! A reproducible random schedule of faults: the same seed gives the same steps, so a soak that
//! fails can be run again exactly as it failed.

use crate::proxy::FaultProxy;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// One thing done to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close every open connection cleanly.
    Cut,
    /// Reset every open connection.
    Reset,
    /// Leave every open connection half-open for good; new ones pass.
    Strand,
    /// A half-open link until the next `Calm`.
    Blackhole,
    /// The plant's host is unreachable until the next `Calm`.
    Refuse,
    /// A slow, jittery path (adds to the standing conditions).
    Latency { latency: Duration, jitter: Duration },
    /// Every write cut into pieces of at most this many bytes.
    Slice(usize),
    /// A thin pipe, bytes per second.
    Bandwidth(u64),
    /// Every standing condition lifted.
    Calm,
}

impl Fault {
    /// A short name, for a soak's tally.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Cut => "cut",
            Fault::Reset => "reset",
            Fault::Strand => "strand",
            Fault::Blackhole => "blackhole",
            Fault::Refuse => "refuse",
            Fault::Latency { .. } => "latency",
            Fault::Slice(_) => "slice",
            Fault::Bandwidth(_) => "bandwidth",
            Fault::Calm => "calm",
        }
    }

    pub fn apply(&self, proxy: &FaultProxy) {
        match *self {
            Fault::Cut => proxy.cut(),
            Fault::Reset => proxy.reset(),
            Fault::Strand => proxy.strand(),
            Fault::Blackhole => proxy.update(|f| f.blackhole = true),
            Fault::Refuse => {
                proxy.update(|f| f.refuse = true);
                // Refusing new connections alone leaves the open one up; a host that goes
                // down takes it too.
                proxy.reset();
            }
            Fault::Latency { latency, jitter } => proxy.update(|f| {
                f.latency = latency;
                f.jitter = jitter;
            }),
            Fault::Slice(n) => proxy.update(|f| f.slice = Some(n)),
            Fault::Bandwidth(bps) => proxy.update(|f| f.bandwidth = Some(bps)),
            Fault::Calm => proxy.clear(),
        }
    }
}

/// A fault and how long after the previous step it comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub after: Duration,
    pub fault: Fault,
}

/// An endless, seeded sequence of [`Step`]s. Every `Blackhole` and `Refuse` is followed by a
/// `Calm` within two seconds, so the link is never kept down longer than a real blip.
#[derive(Debug, Clone)]
pub struct Schedule {
    rng: fastrand::Rng,
    outage: bool,
}

impl Schedule {
    pub fn new(seed: u64) -> Schedule {
        Schedule {
            rng: fastrand::Rng::with_seed(seed),
            outage: false,
        }
    }

    /// Applies the steps to `proxy` as they fall due, until `until`; then lifts every fault and
    /// closes what it stranded (a stranded connection outlives `clear`, and no caller should
    /// have to remember it). Returns how many of each kind were applied.
    pub async fn drive(self, proxy: &FaultProxy, until: Instant) -> BTreeMap<&'static str, u32> {
        let mut applied = BTreeMap::new();
        for step in self {
            if Instant::now() + step.after >= until {
                break;
            }
            tokio::time::sleep(step.after).await;
            step.fault.apply(proxy);
            *applied.entry(step.fault.name()).or_default() += 1;
        }
        proxy.clear();
        proxy.end_stranded();
        applied
    }

    fn millis(&mut self, range: std::ops::RangeInclusive<u64>) -> Duration {
        Duration::from_millis(self.rng.u64(range))
    }
}

impl Iterator for Schedule {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        if self.outage {
            self.outage = false;
            let after = self.millis(400..=2_000);
            return Some(Step {
                after,
                fault: Fault::Calm,
            });
        }
        let after = self.millis(300..=2_500);
        let fault = match self.rng.u32(0..100) {
            0..=14 => Fault::Cut,
            15..=29 => Fault::Reset,
            30..=39 => Fault::Blackhole,
            40..=44 => Fault::Refuse,
            45..=59 => Fault::Latency {
                latency: self.millis(0..=200),
                jitter: self.millis(0..=100),
            },
            60..=74 => Fault::Slice(self.rng.usize(1..=64)),
            75..=84 => Fault::Bandwidth(self.rng.u64(8_192..=262_144)),
            85..=89 => Fault::Strand,
            _ => Fault::Calm,
        };
        self.outage = matches!(fault, Fault::Blackhole | Fault::Refuse);
        Some(Step { after, fault })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let a: Vec<Step> = Schedule::new(42).take(200).collect();
        let b: Vec<Step> = Schedule::new(42).take(200).collect();
        let c: Vec<Step> = Schedule::new(43).take(200).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_outage_ends_within_two_seconds() {
        let steps: Vec<Step> = Schedule::new(7).take(2_000).collect();
        for pair in steps.windows(2) {
            if matches!(pair[0].fault, Fault::Blackhole | Fault::Refuse) {
                assert_eq!(pair[1].fault, Fault::Calm, "{pair:?}");
                assert!(pair[1].after <= Duration::from_secs(2), "{pair:?}");
            }
        }
    }

    #[test]
    fn a_long_schedule_holds_every_kind_of_fault() {
        let steps: Vec<Step> = Schedule::new(1).take(500).collect();
        let has = |f: fn(&Fault) -> bool| steps.iter().any(|s| f(&s.fault));
        assert!(has(|f| *f == Fault::Cut));
        assert!(has(|f| *f == Fault::Reset));
        assert!(has(|f| *f == Fault::Strand));
        assert!(has(|f| *f == Fault::Blackhole));
        assert!(has(|f| *f == Fault::Refuse));
        assert!(has(|f| matches!(f, Fault::Latency { .. })));
        assert!(has(|f| matches!(f, Fault::Slice(_))));
        assert!(has(|f| matches!(f, Fault::Bandwidth(_))));
        assert!(has(|f| *f == Fault::Calm));
    }
}
