//! The bucket widths a query may be answered in: round numbers a chart axis can label, each
//! dividing the ones above it that share a tier, so every width is a whole number of rows of
//! the coarsest tier that can produce it.

/// Every bucket width an answer can have, narrowest first.
pub const LADDER_MS: &[i64] = &[
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
];

/// The next ladder width above `bucket_ms` (the plant lowers resolution with it until an
/// answer fits a frame); `None` past the top.
pub fn next_bucket(bucket_ms: i64) -> Option<i64> {
    LADDER_MS.iter().copied().find(|&w| w > bucket_ms)
}

/// How many epoch-aligned buckets of `width` touch `[from, to)`: the most points an answer of
/// that width can hold. `from < to`, `width > 0`.
pub(crate) fn aligned_count(from: i64, to: i64, width: i64) -> i64 {
    let first = from.div_euclid(width);
    let last = (to - 1).div_euclid(width);
    last - first + 1
}

/// The start of the epoch-aligned bucket of `width` holding `t`.
pub(crate) fn bucket_start(t: i64, width: i64) -> i64 {
    t.div_euclid(width) * width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_is_sorted_and_next_walks_it() {
        assert!(LADDER_MS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(next_bucket(0), Some(100));
        assert_eq!(next_bucket(100), Some(200));
        assert_eq!(next_bucket(150), Some(200));
        assert_eq!(next_bucket(3_600_000), Some(7_200_000));
        assert_eq!(next_bucket(604_800_000), None);
    }

    #[test]
    fn ladder_widths_from_a_second_up_are_whole_seconds_minutes_hours() {
        for &w in LADDER_MS {
            if w >= 1_000 {
                assert_eq!(w % 1_000, 0, "{w}");
            }
            if w >= 60_000 {
                assert_eq!(w % 60_000, 0, "{w}");
            }
            if w >= 3_600_000 {
                assert_eq!(w % 3_600_000, 0, "{w}");
            }
        }
    }

    #[test]
    fn aligned_buckets_count_the_partial_ends() {
        assert_eq!(aligned_count(0, 60_000, 60_000), 1);
        assert_eq!(aligned_count(0, 60_001, 60_000), 2);
        assert_eq!(aligned_count(59_999, 60_001, 60_000), 2);
        assert_eq!(aligned_count(-1, 1, 60_000), 2);
        assert_eq!(bucket_start(-1, 1_000), -1_000);
        assert_eq!(bucket_start(59_999, 60_000), 0);
        assert_eq!(bucket_start(60_000, 60_000), 60_000);
    }
}
