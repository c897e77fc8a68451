//! Coverage: the intervals of each source's time the desk saw live or fetched, so it knows
//! which ranges to ask a server for after being away. Pure interval logic here; the writer
//! and reader keep them in the `coverage` table.

/// Intervals this close are one: a reconnect within a couple of seconds is not a gap worth a
/// fetch.
pub(crate) const JOIN_MS: i64 = 2_000;

/// `[from, to)` joined with every held interval that overlaps it or lies within `JOIN_MS`.
/// `held` are the candidates the caller found near it.
pub(crate) fn join(from: i64, to: i64, held: &[(i64, i64)]) -> (i64, i64) {
    held.iter()
        .filter(|&&(f, t)| f <= to.saturating_add(JOIN_MS) && t >= from.saturating_sub(JOIN_MS))
        .fold((from, to), |(a, b), &(f, t)| (a.min(f), b.max(t)))
}

/// The parts of `[from, to)` that no interval of `covered` (sorted by start) touches.
pub(crate) fn gaps(from: i64, to: i64, covered: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = from;
    for &(f, t) in covered {
        if t <= at {
            continue;
        }
        if f >= to {
            break;
        }
        if f > at {
            out.push((at, f));
        }
        at = at.max(t);
        if at >= to {
            return out;
        }
    }
    if at < to {
        out.push((at, to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_overlapping_and_near_intervals() {
        assert_eq!(join(10_000, 20_000, &[]), (10_000, 20_000));
        assert_eq!(join(10_000, 20_000, &[(0, 8_000)]), (0, 20_000));
        assert_eq!(join(10_000, 20_000, &[(0, 7_999)]), (10_000, 20_000));
        assert_eq!(
            join(10_000, 20_000, &[(22_000, 30_000), (15_000, 16_000)]),
            (10_000, 30_000)
        );
    }

    #[test]
    fn gaps_are_what_coverage_leaves() {
        assert_eq!(gaps(0, 100, &[]), [(0, 100)]);
        assert_eq!(gaps(0, 100, &[(0, 100)]), []);
        assert_eq!(
            gaps(0, 100, &[(-50, 10), (20, 30), (90, 200)]),
            [(10, 20), (30, 90)]
        );
        assert_eq!(gaps(0, 100, &[(20, 50), (30, 40)]), [(0, 20), (50, 100)]);
        assert_eq!(gaps(0, 100, &[(200, 300)]), [(0, 100)]);
    }
}
