//! What the store's handles share: the writer thread updates it, readers plan with it.

use crate::config::{Fine, Retention};
use crate::plan::{floors, Floors};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub(crate) struct Shared {
    pub born_ms: i64,
    pub fine: Fine,
    retention: Mutex<Retention>,
    /// The earliest reading recorded, or `born_ms`: where the fine tier can begin.
    pub recorded_from_ms: AtomicI64,
    /// The earliest bucket written to the minute/hour tiers (recorded or imported), or
    /// `born_ms`: those tiers may reach back before the store was born.
    pub earliest_ms: AtomicI64,
    /// Where pruning last cut each tier (fine, minute, hour).
    pub pruned_ms: [AtomicI64; 3],
    /// Set once the store is dropped: readers then answer `Closed`.
    pub closed: AtomicBool,
    /// Journal rows skipped by reads because their entry no longer decodes.
    pub journal_skipped: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        born_ms: i64,
        fine: Fine,
        retention: Retention,
        recorded_from_ms: i64,
        earliest_ms: i64,
        pruned_ms: [i64; 3],
    ) -> Shared {
        Shared {
            born_ms,
            fine,
            retention: Mutex::new(retention),
            recorded_from_ms: AtomicI64::new(recorded_from_ms),
            earliest_ms: AtomicI64::new(earliest_ms),
            pruned_ms: pruned_ms.map(AtomicI64::new),
            closed: AtomicBool::new(false),
            journal_skipped: AtomicU64::new(0),
        }
    }

    pub(crate) fn retention(&self) -> Retention {
        *self
            .retention
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_retention(&self, retention: Retention) {
        *self
            .retention
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = retention;
    }

    pub(crate) fn floors(&self, now_ms: i64) -> Floors {
        let pruned = [0, 1, 2].map(|i| self.pruned_ms[i].load(Ordering::Relaxed));
        floors(
            now_ms,
            self.recorded_from_ms.load(Ordering::Relaxed),
            self.earliest_ms.load(Ordering::Relaxed),
            pruned,
            &self.retention(),
        )
    }
}

/// The queue's bookkeeping, touched by every `Writer::record` without a lock.
#[derive(Debug)]
pub(crate) struct Counters {
    pub queued: AtomicUsize,
    pub dropped: AtomicU64,
    pub max_queued: usize,
}
