//! The desk's record file, `brewdeck.sqlite3` in the app's data folder: opened at start (a
//! damaged one is moved aside by the store and a new one begun), opened again by itself while
//! it cannot be (a read-only folder, a file another process holds), and its health published
//! for the webview.

use super::view::{RecordHealth, RecordView, Retention, TrendAnswer, TrendQuery, TrendSeries};
use super::view::{TREND_MAX_ENDPOINTS, TREND_MAX_POINTS};
use crate::error::StationError;
use brewdeck_store::{
    Location, Query, Reader, Reading, RecordState, RecordStatus, Store, StoreConfig, Writer,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// The record's file name in the app's data folder.
pub const RECORD_FILE: &str = "brewdeck.sqlite3";
/// How often a record that could not be opened is tried again.
pub const REOPEN_EVERY: Duration = Duration::from_secs(10);
/// Per-minute history kept by default.
pub const DEFAULT_MINUTE_DAYS: u32 = 35;
/// The default size cap. The demo plant's 35 endpoints cost about 8.7 MB a day of per-second
/// buckets (kept a day) and 0.25 MB a day of per-minute and per-hour ones; 400 days of them
/// fit in well under this (see benches/README.md, `store_bytes_per_endpoint_day`).
pub const DEFAULT_SIZE_CAP_MIB: u32 = 1024;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            minute_days: DEFAULT_MINUTE_DAYS,
            size_cap_mib: DEFAULT_SIZE_CAP_MIB,
        }
    }
}

impl Retention {
    /// Refuses values the settings form must not save.
    pub fn check(&self) -> Result<(), StationError> {
        if !(1..=3650).contains(&self.minute_days) {
            return Err(StationError::InvalidSetting {
                field: "minuteDays",
                reason: "per-minute history is kept 1 to 3650 days".to_owned(),
            });
        }
        if !(16..=1_048_576).contains(&self.size_cap_mib) {
            return Err(StationError::InvalidSetting {
                field: "sizeCapMib",
                reason: "the record's size cap is 16 MiB to 1 TiB".to_owned(),
            });
        }
        Ok(())
    }

    fn minute(&self) -> Duration {
        Duration::from_secs(u64::from(self.minute_days) * 86_400)
    }

    fn cap_bytes(&self) -> u64 {
        u64::from(self.size_cap_mib) << 20
    }
}

fn config(path: &Path, retention: &Retention) -> StoreConfig {
    let mut config = StoreConfig::desk(Location::File(path.to_owned()));
    config.minute_retention = retention.minute();
    config.size_cap_bytes = retention.cap_bytes();
    config
}

/// The desk's record. Clone it freely: every clone is the same record.
#[derive(Clone)]
pub struct DeskRecord {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Shared out of the lock, so nobody waits on the disk while holding it.
    store: Mutex<Option<Arc<Store>>>,
    retention: Mutex<Retention>,
    moved_aside: Mutex<Option<PathBuf>>,
    /// Why it is not open, while it is not.
    unavailable: Mutex<Option<String>>,
    view: watch::Sender<RecordView>,
    /// A fill from the plant is running (one at a time).
    pub(super) filling: AtomicBool,
    /// Closed for good (the app is ending): never opened again.
    closed: AtomicBool,
    /// How often the health was worked out (a test checks it does not spin).
    publishes: AtomicU64,
}

impl std::fmt::Debug for DeskRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskRecord")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn plain(status: &RecordStatus) -> (RecordHealth, Option<String>) {
    match &status.state {
        RecordState::Recording => (RecordHealth::Recording, None),
        RecordState::Paused { reason } => (RecordHealth::Paused, Some(reason.clone())),
    }
}

impl DeskRecord {
    /// Opens `dir/brewdeck.sqlite3`. Never fails: a record that cannot be opened is
    /// `unavailable`, and [`DeskRecord::upkeep`] tries again.
    pub fn open(dir: &Path, retention: Retention) -> DeskRecord {
        let path = dir.join(RECORD_FILE);
        let empty = RecordView {
            health: RecordHealth::Unavailable,
            reason: Some("not opened yet".to_owned()),
            path: Some(path.display().to_string()),
            bytes: 0,
            retention,
            moved_aside: None,
            written: 0,
            dropped: 0,
            oldest_ms: None,
        };
        let record = DeskRecord {
            inner: Arc::new(Inner {
                path,
                store: Mutex::new(None),
                retention: Mutex::new(retention),
                moved_aside: Mutex::new(None),
                unavailable: Mutex::new(None),
                view: watch::channel(empty).0,
                filling: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                publishes: AtomicU64::new(0),
            }),
        };
        record.try_open();
        record
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Opens the store if it is not open; true when it is open afterwards.
    pub fn try_open(&self) -> bool {
        // One opener at a time; the lock is not held while the file is opened.
        static OPENING: Mutex<()> = Mutex::new(());
        let _one = lock(&OPENING);
        if lock(&self.inner.store).is_some() {
            return true;
        }
        if self.inner.closed.load(Ordering::Acquire) {
            return false;
        }
        if let Some(dir) = self.inner.path.parent() {
            // A missing folder is made; one that cannot be is reported by the open below.
            let _ = std::fs::create_dir_all(dir);
        }
        let retention = *lock(&self.inner.retention);
        let opened = match Store::open(config(&self.inner.path, &retention)) {
            Ok(opened) => opened,
            Err(e) => {
                let reason = e.to_string();
                let mut unavailable = lock(&self.inner.unavailable);
                if unavailable.as_deref() != Some(reason.as_str()) {
                    tracing::warn!(path = %self.inner.path.display(), error = %reason, "the record cannot be opened; recording is off until it can");
                }
                *unavailable = Some(reason);
                drop(unavailable);
                self.publish();
                return false;
            }
        };
        if let Some(aside) = &opened.moved_aside {
            tracing::warn!(moved_to = %aside.display(), "the record was damaged: moved aside, a new one begun");
            *lock(&self.inner.moved_aside) = Some(aside.clone());
        }
        tracing::info!(path = %self.inner.path.display(), "recording readings");
        *lock(&self.inner.store) = Some(Arc::new(opened.store));
        *lock(&self.inner.unavailable) = None;
        self.publish();
        true
    }

    fn store(&self) -> Option<Arc<Store>> {
        lock(&self.inner.store).clone()
    }

    fn status_rx(&self) -> Option<watch::Receiver<RecordStatus>> {
        self.store().map(|s| s.status())
    }

    /// Whether it records now, and what it has kept and lost; `None` while not open.
    pub fn status(&self) -> Option<RecordStatus> {
        self.status_rx().map(|rx| rx.borrow().clone())
    }

    /// Keeps the record open and its health current: reopens it while it cannot be opened,
    /// and publishes when writing pauses or resumes. Runs until the process ends.
    pub async fn upkeep(self) {
        // One receiver for the store's life: a fresh one would see the current status as new
        // and wake at once, forever.
        let mut status: Option<watch::Receiver<RecordStatus>> = None;
        while !self.inner.closed.load(Ordering::Acquire) {
            match status.as_mut() {
                None => {
                    status = self.status_rx();
                    if let Some(rx) = status.as_mut() {
                        rx.borrow_and_update();
                        continue;
                    }
                    tokio::time::sleep(REOPEN_EVERY).await;
                    let me = self.clone();
                    let _ = tokio::task::spawn_blocking(move || me.try_open()).await;
                }
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        // The store was closed: open it again (or say why not).
                        status = None;
                        continue;
                    }
                    rx.borrow_and_update();
                    self.publish();
                }
            }
        }
    }

    /// The health as the webview sees it, published only when it changes. Cheap: nothing is
    /// read from the file (the writer publishes after every batch).
    fn publish(&self) {
        self.inner.publishes.fetch_add(1, Ordering::Relaxed);
        let next = self.light_view();
        self.inner.view.send_if_modified(|now| {
            let changed = (now.health, &now.reason, &now.moved_aside)
                != (next.health, &next.reason, &next.moved_aside);
            *now = next;
            changed
        });
    }

    /// Follows the record's health (recording, paused, unavailable, moved aside).
    pub fn watch(&self) -> watch::Receiver<RecordView> {
        self.inner.view.subscribe()
    }

    /// Where the record stands, without reading the file.
    fn light_view(&self) -> RecordView {
        let retention = *lock(&self.inner.retention);
        let (health, reason, written, dropped) = match self.status() {
            Some(status) => {
                let (health, reason) = plain(&status);
                (health, reason, status.written, status.dropped)
            }
            None => (
                RecordHealth::Unavailable,
                lock(&self.inner.unavailable).clone(),
                0,
                0,
            ),
        };
        RecordView {
            health,
            reason,
            path: Some(self.inner.path.display().to_string()),
            bytes: 0,
            retention,
            moved_aside: lock(&self.inner.moved_aside)
                .as_ref()
                .map(|p| p.display().to_string()),
            written,
            dropped,
            oldest_ms: None,
        }
    }

    /// Where the record stands now, with its size and oldest time (blocking: reads the
    /// file's size and one index entry per endpoint).
    pub fn view(&self) -> RecordView {
        let mut view = self.light_view();
        view.oldest_ms = self.reader().and_then(|r| r.oldest_ms().ok().flatten());
        // The database and its write-ahead log: what the record takes on disk.
        view.bytes = [&self.inner.path, &wal(&self.inner.path)]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        view
    }

    /// Changes how long the record keeps what (checked first; nothing changes when refused).
    pub fn set_retention(&self, retention: Retention) -> Result<(), StationError> {
        retention.check()?;
        *lock(&self.inner.retention) = retention;
        if let Some(store) = self.store() {
            let desk = StoreConfig::desk(Location::Memory);
            store.writer().set_retention(
                desk.fine_retention,
                retention.minute(),
                desk.hour_retention,
                retention.cap_bytes(),
            );
        }
        self.publish();
        Ok(())
    }

    pub fn writer(&self) -> Option<Writer> {
        lock(&self.inner.store).as_ref().map(|s| s.writer())
    }

    pub fn reader(&self) -> Option<Reader> {
        lock(&self.inner.store).as_ref().map(|s| s.reader())
    }

    /// Records readings of `source` (never blocks; nothing when the record is not open).
    pub fn record(&self, source: &str, readings: Vec<Reading>) {
        if let Some(w) = self.writer() {
            w.record(source, readings);
        }
    }

    /// Waits until everything sent to the record is written (blocking).
    pub fn flush(&self) -> Result<(), StationError> {
        match self.store() {
            Some(s) => s.flush().map_err(StationError::from),
            None => Ok(()),
        }
    }

    /// Readings of `source` from the record (blocking). `filling` is left false: the caller
    /// decides whether to ask the plant for what is missing.
    pub fn trend(&self, source: &str, q: &TrendQuery) -> Result<TrendAnswer, StationError> {
        check(q)?;
        let reader = self.reader().ok_or_else(|| {
            StationError::RecordUnavailable(
                lock(&self.inner.unavailable)
                    .clone()
                    .unwrap_or_else(|| "not open".to_owned()),
            )
        })?;
        let answer = reader.query(&Query {
            source: source.to_owned(),
            endpoints: q.endpoint_ids.iter().map(ToString::to_string).collect(),
            from_ms: q.from_ms,
            to_ms: q.to_ms,
            max_points: q.max_points as usize,
            min_bucket_ms: 0,
        })?;
        Ok(TrendAnswer {
            from_ms: q.from_ms,
            to_ms: q.to_ms,
            bucket_ms: answer.bucket_ms,
            series: q
                .endpoint_ids
                .iter()
                .zip(answer.series)
                .map(|(id, s)| {
                    let mut series = TrendSeries {
                        endpoint_id: id.clone(),
                        t: Vec::with_capacity(s.points.len()),
                        min: Vec::with_capacity(s.points.len()),
                        max: Vec::with_capacity(s.points.len()),
                        last: Vec::with_capacity(s.points.len()),
                    };
                    for p in s.points {
                        series.t.push(p.t_ms);
                        series.min.push(p.min);
                        series.max.push(p.max);
                        series.last.push(p.last);
                    }
                    series
                })
                .collect(),
            filling: false,
        })
    }

    pub(super) fn filling(&self) -> &AtomicBool {
        &self.inner.filling
    }

    /// Closes the record for good (at exit): what was sent is written, the file and its lock
    /// are let go, and nothing opens it again.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let store = lock(&self.inner.store).take();
        drop(store);
    }
}

fn wal(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// A trend query's bounds, checked before anything is read.
pub fn check(q: &TrendQuery) -> Result<(), StationError> {
    let bad = |reason: String| StationError::InvalidSetting {
        field: "query",
        reason,
    };
    if q.endpoint_ids.is_empty() || q.endpoint_ids.len() > TREND_MAX_ENDPOINTS {
        return Err(bad(format!(
            "a trend shows 1 to {TREND_MAX_ENDPOINTS} endpoints"
        )));
    }
    if q.max_points == 0 || q.max_points > TREND_MAX_POINTS {
        return Err(bad(format!("1 to {TREND_MAX_POINTS} points per line")));
    }
    if q.from_ms >= q.to_ms {
        return Err(bad("the range must begin before it ends".to_owned()));
    }
    // Times RFC 3339 can write (years 0 to 9999): nothing else is ever recorded, and the
    // arithmetic on them cannot overflow.
    if brewdeck_protocol::Timestamp::from_unix_millis(q.from_ms).is_none()
        || brewdeck_protocol::Timestamp::from_unix_millis(q.to_ms).is_none()
    {
        return Err(bad("the range is outside the years 0 to 9999".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upkeep_works_once_per_change_and_ends_when_closed() {
        let dir = tempfile::tempdir().unwrap();
        let record = DeskRecord::open(dir.path(), Retention::default());
        let upkeep = tokio::spawn(record.clone().upkeep());
        for i in 0..3 {
            record.record(
                "s",
                vec![Reading {
                    endpoint: "x".into(),
                    t_ms: 1_764_547_200_000 + i,
                    value: 1.0,
                }],
            );
            record.flush().unwrap();
        }
        // Idle now: a loop that woke on nothing would count thousands here. (An absence is
        // asserted over a bounded wait.)
        tokio::time::sleep(Duration::from_millis(300)).await;
        let publishes = record.inner.publishes.load(Ordering::Relaxed);
        assert!(publishes <= 12, "{publishes} publishes for three batches");
        record.close();
        tokio::time::timeout(Duration::from_secs(20), upkeep)
            .await
            .unwrap()
            .unwrap();
        assert!(!record.try_open(), "closed for good");
    }
}
