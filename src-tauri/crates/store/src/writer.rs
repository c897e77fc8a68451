//! The writer handle: every call queues a command for the writer thread and returns at once.

use crate::config::Retention;
use crate::journal::Pending;
use crate::shared::{Counters, Shared};
use crate::worker::Command;
use crate::{Point, Reading, StoreError};
use brewdeck_protocol::JournalEntry;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Sends readings to the record. Cheap to clone; never blocks, never fails: what cannot be
/// queued is dropped and counted in [`crate::RecordStatus::dropped`].
#[derive(Debug, Clone)]
pub struct Writer {
    pub(crate) tx: mpsc::Sender<Command>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) shared: Arc<Shared>,
}

impl Writer {
    /// Queues readings of `source` (`""` on the plant; the server URL on the desk).
    pub fn record(&self, source: &str, readings: Vec<Reading>) {
        let n = readings.len();
        if n == 0 {
            return;
        }
        let before = self.counters.queued.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.counters.max_queued {
            self.counters.queued.fetch_sub(n, Ordering::Relaxed);
            self.drop_readings(n);
            return;
        }
        let command = Command::Record {
            source: source.to_owned(),
            readings,
        };
        if self.tx.send(command).is_err() {
            self.counters.queued.fetch_sub(n, Ordering::Relaxed);
            self.drop_readings(n);
        }
    }

    /// Buckets of `bucket_ms` fetched from a server for a range this desk did not see. They
    /// go to the minute tier (`bucket_ms` ≤ 60 s) or the hour tier, never over a row the desk
    /// recorded itself; importing the same answer twice changes nothing.
    pub fn import(&self, source: &str, endpoint: &str, bucket_ms: i64, points: Vec<Point>) {
        if points.is_empty() || bucket_ms <= 0 {
            return;
        }
        let _ = self.tx.send(Command::Import {
            source: source.to_owned(),
            endpoint: endpoint.to_owned(),
            bucket_ms,
            points,
        });
    }

    /// The desk saw (or fetched) `[from_ms, to_ms)` of `source`: joined with overlapping
    /// intervals and those within 2 s, so [`crate::Reader::gaps`] lists only real gaps.
    pub fn mark_covered(&self, source: &str, from_ms: i64, to_ms: i64) {
        if from_ms >= to_ms {
            return;
        }
        let _ = self.tx.send(Command::Cover {
            source: source.to_owned(),
            from_ms,
            to_ms,
        });
    }

    /// Queues a journal entry of `source` (`"plant"` on the plant; the server's key on the
    /// desk), committed with the next batch like readings. The row's `seq` becomes the entry's,
    /// whatever `entry.seq` says. To be sure a read sees it, [`Writer::flush`] after it.
    pub fn journal(&self, source: &str, entry: JournalEntry) {
        let _ = self.tx.send(Command::Journal(Pending {
            source: source.to_owned(),
            entry,
        }));
    }

    /// Keeps a number under `name` with the record, committed with the next batch (the plant
    /// keeps its last `seq` so, restarted, it numbers on from there). The latest queued wins.
    pub fn remember(&self, name: &str, value: i64) {
        let _ = self.tx.send(Command::Remember {
            key: remembered_key(name),
            value,
        });
    }

    /// Blocks until everything queued before it (readings, journal entries, imports) is
    /// committed, so a read that follows sees it. Commands are taken in order, so this is a
    /// barrier. Fails with `Paused` if that commit failed (readings are then dropped and
    /// counted; journal entries are kept for the next try).
    pub fn flush(&self) -> Result<(), StoreError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.tx
            .send(Command::Flush(ack))
            .map_err(|_| StoreError::Closed)?;
        done.recv().map_err(|_| StoreError::Closed)?
    }

    /// New retention and size cap; the writer prunes to them right away. Queries plan with
    /// them at once.
    pub fn set_retention(
        &self,
        fine: Duration,
        minute: Duration,
        hour: Option<Duration>,
        size_cap_bytes: u64,
    ) {
        // The journal's retention is not the readings': it stays as configured.
        let journal = self.shared.retention().journal;
        self.shared.set_retention(Retention {
            fine,
            minute,
            hour,
            size_cap_bytes,
            journal,
        });
        let _ = self.tx.send(Command::Prune(None));
    }

    fn drop_readings(&self, n: usize) {
        self.counters
            .dropped
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// Callers' names kept apart from the store's own `meta` keys.
pub(crate) fn remembered_key(name: &str) -> String {
    format!("kept:{name}")
}
