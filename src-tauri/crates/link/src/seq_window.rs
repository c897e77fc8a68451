//! Which level-1 `seq` numbers the link has applied, so a replay that overlaps what was seen
//! is dropped, and an event that arrives out of order (a server's answer to a re-sent command
//! can carry an older number than events still in flight) is not mistaken for one seen.

use brewdeck_protocol::Seq;
use std::collections::BTreeSet;

/// Numbers tracked above the contiguous floor before a gap is accepted as permanent (a server
/// that does not send this client every number).
const MAX_TRACKED: usize = 4096;

/// A number further than this from the floor, either way, is not the counter the link has
/// followed: a server restarted with another clock, or a broken one. Taking it as news would
/// make every later event look like a duplicate (after `u64::MAX`, all of them).
pub(crate) const EPOCH_JUMP: Seq = 1 << 32;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SeqWindow {
    /// Every number up to here has been applied (or is covered by a snapshot).
    floor: Option<Seq>,
    /// Numbers applied above the floor, past a gap.
    above: BTreeSet<Seq>,
}

impl SeqWindow {
    /// The number to resume after: everything up to it has been applied.
    pub fn floor(&self) -> Option<Seq> {
        self.floor
    }

    /// Whether `seq` belongs to another epoch than the numbers applied so far.
    pub fn is_jump(&self, seq: Seq) -> bool {
        self.floor.is_some_and(|f| {
            seq > f.saturating_add(EPOCH_JUMP) || seq.saturating_add(EPOCH_JUMP) < f
        })
    }

    pub fn is_new(&self, seq: Seq) -> bool {
        self.floor.is_none_or(|f| seq > f) && !self.above.contains(&seq)
    }

    /// Records an applied number.
    pub fn record(&mut self, seq: Seq) {
        match self.floor {
            None => self.floor = Some(seq),
            Some(f) if seq <= f => {}
            Some(_) => {
                self.above.insert(seq);
                self.settle();
            }
        }
    }

    /// A snapshot taken at `seq` covers everything up to it.
    pub fn cover(&mut self, seq: Seq) {
        let floor = self.floor.map_or(seq, |f| f.max(seq));
        self.floor = Some(floor);
        self.above.retain(|s| *s > floor);
        self.settle();
    }

    pub fn reset(&mut self) {
        *self = SeqWindow::default();
    }

    fn settle(&mut self) {
        let Some(mut floor) = self.floor else { return };
        loop {
            // `checked_add`: a server may send the largest number there is.
            if let Some(next) = floor.checked_add(1).filter(|n| self.above.remove(n)) {
                floor = next;
            } else if self.above.len() > MAX_TRACKED {
                // A gap that never filled: accept it rather than track forever.
                if let Some(next) = self.above.pop_first() {
                    floor = next;
                }
            } else {
                break;
            }
        }
        self.floor = Some(floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_numbers_move_the_floor() {
        let mut w = SeqWindow::default();
        assert!(w.is_new(10));
        w.record(10);
        w.record(11);
        assert_eq!(w.floor(), Some(11));
        assert!(!w.is_new(11) && !w.is_new(3) && w.is_new(12));
    }

    #[test]
    fn an_early_number_does_not_hide_the_ones_before_it() {
        let mut w = SeqWindow::default();
        w.cover(20);
        w.record(25); // an old status answering a re-sent command
        assert_eq!(w.floor(), Some(20), "resume still asks from 20");
        for s in 21..25 {
            assert!(w.is_new(s), "{s} not yet seen");
            w.record(s);
        }
        assert!(!w.is_new(25));
        assert_eq!(w.floor(), Some(25));
    }

    #[test]
    fn a_snapshot_covers_what_it_reflects() {
        let mut w = SeqWindow::default();
        w.record(1);
        w.record(5);
        w.cover(7);
        assert_eq!(w.floor(), Some(7));
        assert!(!w.is_new(6) && w.is_new(8));
    }

    #[test]
    fn far_jumps_either_way_are_another_epoch() {
        let mut w = SeqWindow::default();
        assert!(!w.is_jump(u64::MAX), "nothing to compare with yet");
        w.record(1_000);
        assert!(w.is_jump(u64::MAX));
        assert!(w.is_jump(1_000 + EPOCH_JUMP + 1));
        assert!(!w.is_jump(1_000 + EPOCH_JUMP));
        assert!(!w.is_jump(3), "an old duplicate");
        w.cover(EPOCH_JUMP * 3);
        assert!(w.is_jump(5), "far behind");
        assert!(!w.is_jump(EPOCH_JUMP * 2));
    }

    #[test]
    fn a_permanent_gap_is_eventually_accepted() {
        let mut w = SeqWindow::default();
        w.record(1);
        for s in 3..(3 + MAX_TRACKED as u64 + 1) {
            w.record(s);
        }
        assert_eq!(w.floor(), Some(3 + MAX_TRACKED as u64));
        assert!(w.above.is_empty());
    }
}
