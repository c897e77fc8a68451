//! One bucket's summary (min, max, last, count) and how summaries combine: the writer's
//! in-memory deltas, imports folded to minutes or hours, and answers built from tier rows all
//! use it.

use crate::Point;

/// What a bucket holds so far. `last_t` orders `last` within the batch: the latest reading
/// wins, a later arrival wins a tie.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Acc {
    pub min: f64,
    pub max: f64,
    pub last: f64,
    pub last_t: i64,
    pub n: u64,
}

impl Acc {
    pub(crate) fn one(t: i64, v: f64) -> Acc {
        Acc {
            min: v,
            max: v,
            last: v,
            last_t: t,
            n: 1,
        }
    }

    pub(crate) fn of_point(p: &Point) -> Acc {
        Acc {
            min: p.min,
            max: p.max,
            last: p.last,
            last_t: p.t_ms,
            n: p.n,
        }
    }

    pub(crate) fn add(&mut self, t: i64, v: f64) {
        self.merge(&Acc::one(t, v));
    }

    pub(crate) fn merge(&mut self, other: &Acc) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.last_t >= self.last_t {
            self.last = other.last;
            self.last_t = other.last_t;
        }
        self.n += other.n;
    }

    pub(crate) fn point(&self, t_ms: i64) -> Point {
        Point {
            t_ms,
            min: self.min,
            max: self.max,
            last: self.last,
            n: self.n,
        }
    }

    /// `min` as stored: NULL when it equals `last` (most fine buckets hold one reading), which
    /// saves 8 bytes a row.
    pub(crate) fn stored_min(&self) -> Option<f64> {
        (self.min != self.last).then_some(self.min)
    }

    pub(crate) fn stored_max(&self) -> Option<f64> {
        (self.max != self.last).then_some(self.max)
    }

    /// The bucket as a row's parameters: `(series, t, min, max, last, n)`, in that order in
    /// every bucket table's statements.
    pub(crate) fn row(
        &self,
        series: i64,
        t: i64,
    ) -> (i64, i64, Option<f64>, Option<f64>, f64, i64) {
        (
            series,
            t,
            self.stored_min(),
            self.stored_max(),
            self.last,
            i64::try_from(self.n).unwrap_or(i64::MAX),
        )
    }
}

/// Folds rows (or readings) ordered by time into epoch-aligned buckets of `width`, oldest
/// first, empty buckets left out.
#[derive(Debug)]
pub(crate) struct Folder {
    width: i64,
    current: Option<(i64, Acc)>,
    pub points: Vec<Point>,
}

impl Folder {
    pub(crate) fn new(width: i64) -> Folder {
        Folder {
            width,
            current: None,
            points: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, acc: Acc) {
        let start = crate::ladder::bucket_start(acc.last_t, self.width);
        match &mut self.current {
            Some((b, held)) if *b == start => held.merge(&acc),
            _ => {
                if let Some((b, held)) = self.current.take() {
                    self.points.push(held.point(b));
                }
                self.current = Some((start, acc));
            }
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Point> {
        if let Some((b, held)) = self.current.take() {
            self.points.push(held.point(b));
        }
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_extremes_count_and_the_latest_value() {
        let mut a = Acc::one(10, 5.0);
        a.add(30, 1.0);
        a.add(20, 9.0);
        assert_eq!((a.min, a.max, a.last, a.n), (1.0, 9.0, 1.0, 3));
        a.add(30, 2.0);
        assert_eq!(a.last, 2.0, "a later arrival at the same ms wins");
    }

    #[test]
    fn folding_splits_at_epoch_aligned_edges() {
        let mut f = Folder::new(60_000);
        f.push(Acc::one(59_999, 1.0));
        f.push(Acc::one(60_000, 2.0));
        f.push(Acc::one(119_999, 3.0));
        f.push(Acc::one(240_000, 4.0));
        let points = f.finish();
        let starts: Vec<i64> = points.iter().map(|p| p.t_ms).collect();
        assert_eq!(starts, [0, 60_000, 240_000]);
        assert_eq!(
            (points[1].min, points[1].max, points[1].last, points[1].n),
            (2.0, 3.0, 3.0, 2)
        );
    }

    #[test]
    fn min_and_max_equal_to_last_are_not_stored() {
        let a = Acc::one(0, 3.0);
        assert_eq!((a.stored_min(), a.stored_max()), (None, None));
        let mut b = a;
        b.add(1, 4.0);
        assert_eq!((b.stored_min(), b.stored_max()), (Some(3.0), None));
    }
}
