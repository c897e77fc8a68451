//! Choosing an answer's bucket width and the tier to aggregate it from: pure, no SQLite.
//!
//! The width is the narrowest ladder width whose epoch-aligned buckets over the range number
//! at most `max_points`, raised when a finer tier no longer holds the start of the range while
//! a coarser one does (a 30-day chart must not show 1-second detail for its last day and
//! nothing before). The tier is then the coarsest one whose width divides the answer's width:
//! fewest rows to read.

use crate::config::{millis, Fine, Retention};
use crate::ladder::{aligned_count, LADDER_MS};

/// A table of buckets (or of readings, for `Raw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Raw,
    Second,
    Minute,
    Hour,
}

impl Tier {
    pub(crate) fn width_ms(self) -> i64 {
        match self {
            Tier::Raw => 1,
            Tier::Second => 1_000,
            Tier::Minute => 60_000,
            Tier::Hour => 3_600_000,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Tier::Raw => "raw",
            Tier::Second => "second",
            Tier::Minute => "minute",
            Tier::Hour => "hour",
        }
    }

    pub(crate) fn fine(fine: Fine) -> Tier {
        match fine {
            Fine::EveryReading => Tier::Raw,
            Fine::PerSecond => Tier::Second,
        }
    }
}

/// The earliest time each tier can still hold data for, right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Floors {
    pub fine: i64,
    pub minute: i64,
    pub hour: i64,
}

/// Where each tier begins. The fine tier: never before `fine_since` (the store's birth, or an
/// earlier reading recorded into it). Minute and hour tiers: never before `coarse_since`,
/// which imported buckets can lower further. Neither before what retention now allows, nor
/// before where pruning (retention or the size cap) already cut (`pruned`: fine, minute,
/// hour), so a longer retention set today claims nothing that was deleted yesterday.
pub(crate) fn floors(
    now_ms: i64,
    fine_since: i64,
    coarse_since: i64,
    pruned: [i64; 3],
    retention: &Retention,
) -> Floors {
    let since = |d| now_ms.saturating_sub(millis(d));
    let coarse = coarse_since.min(fine_since);
    Floors {
        fine: fine_since.max(pruned[0]).max(since(retention.fine)),
        minute: coarse.max(pruned[1]).max(since(retention.minute)),
        hour: retention
            .hour
            .map_or(coarse, |h| coarse.max(since(h)))
            .max(pruned[2]),
    }
}

/// How a query will be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub bucket_ms: i64,
    pub tier: Tier,
}

const WEEK_MS: i64 = 604_800_000;

/// The plan for `[from, to)` in at most `max_points` buckets of at least `min_bucket_ms`.
/// Needs `from < to` and `max_points > 0` (the reader checks).
pub(crate) fn plan(
    from: i64,
    to: i64,
    max_points: usize,
    min_bucket_ms: i64,
    fine: Fine,
    floors: Floors,
) -> Plan {
    let fine_tier = Tier::fine(fine);
    let reach = |tier: Tier| match tier {
        Tier::Raw | Tier::Second => from.max(floors.fine),
        Tier::Minute => from.max(floors.minute),
        Tier::Hour => from.max(floors.hour),
    };
    let best = reach(fine_tier)
        .min(reach(Tier::Minute))
        .min(reach(Tier::Hour));
    let mut least = min_bucket_ms.max(match fine {
        Fine::EveryReading => LADDER_MS[0],
        Fine::PerSecond => 1_000,
    });
    if reach(fine_tier) > best {
        least = least.max(Tier::Minute.width_ms());
    }
    if reach(Tier::Minute) > best && reach(Tier::Hour) == best {
        least = least.max(Tier::Hour.width_ms());
    }
    let most = i64::try_from(max_points).unwrap_or(i64::MAX);
    let fits = |w: i64| aligned_count(from, to, w) <= most;
    let bucket_ms = LADDER_MS
        .iter()
        .copied()
        .find(|&w| w >= least && fits(w))
        .unwrap_or_else(|| whole_weeks(from, to, most, least));
    let tier = [Tier::Hour, Tier::Minute, fine_tier]
        .into_iter()
        .find(|&t| bucket_ms % t.width_ms() == 0 && reach(t) == best)
        .unwrap_or(fine_tier);
    Plan { bucket_ms, tier }
}

/// Past the top of the ladder: the fewest whole weeks per bucket that still fit.
fn whole_weeks(from: i64, to: i64, most: i64, least: i64) -> i64 {
    let span = to.saturating_sub(from);
    let mut weeks = (span / most.saturating_mul(WEEK_MS).max(1)).max(1);
    weeks = weeks.max(least / WEEK_MS);
    loop {
        let w = weeks.saturating_mul(WEEK_MS);
        if w == i64::MAX || (w >= least && aligned_count(from, to, w) <= most) {
            return w;
        }
        weeks = weeks.saturating_add(1.max(weeks / 8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const S: i64 = 1_000;
    const M: i64 = 60_000;
    const H: i64 = 3_600_000;
    const D: i64 = 86_400_000;
    const NOW: i64 = 1_700_000_000_000;

    /// A store that has kept everything since long ago.
    fn open_floors() -> Floors {
        Floors {
            fine: i64::MIN,
            minute: i64::MIN,
            hour: i64::MIN,
        }
    }

    #[test]
    fn picks_the_narrowest_width_that_fits() {
        let cases: &[(i64, usize, i64)] = &[
            (60 * S, 1000, 100),
            (60 * S, 600, 100),
            (60 * S, 599, 200),
            (H, 1000, 5 * S),
            (H, 3600, S),
            (24 * H, 1000, 2 * M),
            (24 * H, 5000, 30 * S),
            (30 * D, 1000, H),
            (30 * D, 5000, 10 * M),
            (365 * D, 1000, 12 * H),
            (365 * D, 5000, 2 * H),
        ];
        for &(span, points, want) in cases {
            let from = NOW - span;
            let p = plan(from, NOW, points, 0, Fine::EveryReading, open_floors());
            assert_eq!(p.bucket_ms, want, "span {span} points {points}");
        }
    }

    #[test]
    fn never_more_buckets_than_asked_and_always_a_whole_tier() {
        let spans = [
            1,
            99,
            100,
            999,
            S,
            59 * S,
            M + 1,
            H - 1,
            7 * H,
            D,
            31 * D,
            3_650 * D,
        ];
        let points = [1, 2, 3, 7, 10, 99, 100, 500, 1000, 1920, 5000, 100_000];
        for fine in [Fine::EveryReading, Fine::PerSecond] {
            for &span in &spans {
                for &n in &points {
                    for offset in [0, 1, 59_999, 3_599_999] {
                        let to = NOW + offset;
                        let from = to - span;
                        let p = plan(from, to, n, 0, fine, open_floors());
                        let count = aligned_count(from, to, p.bucket_ms);
                        assert!(count <= n as i64, "{span} {n} {p:?} gives {count}");
                        assert_eq!(p.bucket_ms % p.tier.width_ms(), 0, "{p:?}");
                        if fine == Fine::PerSecond {
                            assert!(p.bucket_ms >= S);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn ten_years_at_5000_points_is_coarse() {
        let from = NOW - 3_650 * D;
        let p = plan(from, NOW, 5000, 0, Fine::EveryReading, open_floors());
        assert_eq!(p.bucket_ms, D);
        assert_eq!(p.tier, Tier::Hour);
        assert!(aligned_count(from, NOW, p.bucket_ms) <= 5000);
        let p = plan(from, NOW, 10, 0, Fine::EveryReading, open_floors());
        assert_eq!(p.bucket_ms % WEEK_MS, 0);
        assert!(aligned_count(from, NOW, p.bucket_ms) <= 10);
    }

    #[test]
    fn min_bucket_raises_the_width() {
        let p = plan(NOW - H, NOW, 1000, 7_000, Fine::EveryReading, open_floors());
        assert_eq!(p.bucket_ms, 10 * S);
        let p = plan(
            NOW - H,
            NOW,
            1000,
            700 * D,
            Fine::EveryReading,
            open_floors(),
        );
        assert_eq!(p.bucket_ms % WEEK_MS, 0);
        assert!(p.bucket_ms >= 700 * D);
    }

    #[test]
    fn answers_from_the_coarsest_tier_that_divides() {
        let f = open_floors();
        assert_eq!(
            plan(NOW - H, NOW, 1000, 0, Fine::EveryReading, f).tier,
            Tier::Raw
        );
        assert_eq!(
            plan(NOW - H, NOW, 1000, 0, Fine::PerSecond, f).tier,
            Tier::Second
        );
        assert_eq!(
            plan(NOW - D, NOW, 1000, 0, Fine::PerSecond, f).tier,
            Tier::Minute
        );
        assert_eq!(
            plan(NOW - 30 * D, NOW, 1000, 0, Fine::PerSecond, f).tier,
            Tier::Hour
        );
        assert_eq!(
            plan(NOW - 30 * D, NOW, 5000, 0, Fine::PerSecond, f).tier,
            Tier::Minute
        );
    }

    fn retention(fine_h: u64, minute_d: u64, hour_d: Option<u64>) -> Retention {
        Retention {
            fine: Duration::from_secs(fine_h * 3600),
            minute: Duration::from_secs(minute_d * 86_400),
            hour: hour_d.map(|d| Duration::from_secs(d * 86_400)),
            size_cap_bytes: u64::MAX,
            journal: Duration::from_secs(400 * 86_400),
        }
    }

    #[test]
    fn a_fine_tier_that_no_longer_reaches_back_means_minutes() {
        let born = NOW - 100 * D;
        let f = floors(NOW, born, born, [i64::MIN; 3], &retention(24, 35, None));
        // 30 h at 5000 points would be 30 s buckets, but the fine tier holds only 24 h.
        let p = plan(NOW - 30 * H, NOW, 5000, 0, Fine::PerSecond, f);
        assert_eq!((p.bucket_ms, p.tier), (M, Tier::Minute));
        // Within the fine tier's day: seconds.
        let p = plan(NOW - 20 * H, NOW, 5000, 0, Fine::PerSecond, f);
        assert_eq!((p.bucket_ms, p.tier), (15 * S, Tier::Second));
        // Past the minute tier's 35 days: hours.
        let p = plan(NOW - 40 * D, NOW, 100_000, 0, Fine::PerSecond, f);
        assert_eq!((p.bucket_ms, p.tier), (H, Tier::Hour));
    }

    #[test]
    fn a_young_store_does_not_coarsen_for_time_nobody_kept() {
        let born = NOW - 30 * M;
        let f = floors(NOW, born, born, [i64::MIN; 3], &retention(2, 35, None));
        let p = plan(NOW - 90 * M, NOW, 1000, 0, Fine::EveryReading, f);
        assert_eq!((p.bucket_ms, p.tier), (10 * S, Tier::Raw));
    }

    #[test]
    fn imported_minutes_from_before_birth_are_reached() {
        let born = NOW - H;
        let f = floors(
            NOW,
            born,
            NOW - 3 * D,
            [i64::MIN; 3],
            &retention(24, 35, None),
        );
        let p = plan(NOW - 2 * D, NOW, 5000, 0, Fine::PerSecond, f);
        assert_eq!((p.bucket_ms, p.tier), (M, Tier::Minute));
    }

    #[test]
    fn the_size_cap_floor_binds_every_tier() {
        let born = NOW - 100 * D;
        let cap = NOW - 10 * D;
        let f = floors(NOW, born, born, [cap; 3], &retention(24, 35, None));
        assert_eq!(f.minute, cap);
        assert_eq!(f.hour, cap);
        // Nothing reaches back 20 days: no reason to coarsen past what fits.
        let p = plan(NOW - 20 * D, NOW, 100_000, 0, Fine::PerSecond, f);
        assert_eq!((p.bucket_ms, p.tier), (M, Tier::Minute));
    }
}
