//! The writer thread: the only connection that writes. It folds what arrives into an
//! in-memory batch (fine rows, and minute/hour deltas per series and bucket) and commits the
//! batch in one transaction every `flush_every`, or sooner when it grows large, so no caller
//! waits on the disk. A failed commit pauses recording instead of panicking; the next batch
//! (at most every 2 s while paused) is the retry.

use crate::bucket::Acc;
use crate::config::Fine;
use crate::coverage;
use crate::journal;
use crate::ladder::bucket_start;
use crate::plan::Tier;
use crate::prune;
use crate::schema::set_meta_i64;
use crate::shared::{Counters, Shared};
use crate::{Point, Reading, RecordState, RecordStatus, StoreError};
use rusqlite::{params, Connection, ErrorCode, TransactionBehavior};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub(crate) type Ack = mpsc::SyncSender<Result<(), StoreError>>;

pub(crate) enum Command {
    Record {
        source: String,
        readings: Vec<Reading>,
    },
    Import {
        source: String,
        endpoint: String,
        bucket_ms: i64,
        points: Vec<Point>,
    },
    Cover {
        source: String,
        from_ms: i64,
        to_ms: i64,
    },
    Journal(journal::Pending),
    /// A caller's number kept in `meta` (see `Writer::remember`).
    Remember {
        key: String,
        value: i64,
    },
    /// Commit what is queued now (and answer when done).
    Flush(Ack),
    /// Apply retention and the size cap now.
    Prune(Option<Ack>),
    /// Test hook: `PRAGMA max_page_count` on the writer's connection, to fake a full disk.
    LimitPages(Option<u64>),
    Shutdown,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Record { .. } => "Record",
            Command::Import { .. } => "Import",
            Command::Cover { .. } => "Cover",
            Command::Journal(_) => "Journal",
            Command::Remember { .. } => "Remember",
            Command::Flush(_) => "Flush",
            Command::Prune(_) => "Prune",
            Command::LimitPages(_) => "LimitPages",
            Command::Shutdown => "Shutdown",
        })
    }
}

/// A batch this large is committed without waiting for the next tick.
const BIG_BATCH: u64 = 200_000;
/// While paused, retries are at most this frequent: a full disk is not cleared in 500 ms.
const PAUSED_RETRY: Duration = Duration::from_secs(2);
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Journal entries held for the next try while commits fail; past it the oldest are dropped
/// (and counted). An operator's entries are worth a retry, readings are not.
const MAX_HELD_JOURNAL: usize = 10_000;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Default)]
struct Batch {
    new_series: Vec<(i64, String, String)>,
    raw: Vec<(i64, i64, f64)>,
    second: HashMap<(i64, i64), Acc>,
    minute: HashMap<(i64, i64), Acc>,
    hour: HashMap<(i64, i64), Acc>,
    imports: Vec<(i64, i64, Vec<Point>)>,
    covers: Vec<(String, i64, i64)>,
    journal: Vec<journal::Pending>,
    /// Callers' numbers, the latest of each (`meta` keys).
    remembered: HashMap<String, i64>,
    /// Readings folded in: written on commit, dropped on failure.
    readings: u64,
    /// Queue slots to give back once the batch is settled.
    queued: usize,
    /// The earliest reading, so queries know how far back the tiers reach.
    recorded_from: Option<i64>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.new_series.is_empty()
            && self.readings == 0
            && self.imports.is_empty()
            && self.covers.is_empty()
            && self.journal.is_empty()
            && self.remembered.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct Worker {
    conn: Connection,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    status: watch::Sender<RecordStatus>,
    ids: HashMap<String, HashMap<String, i64>>,
    next_id: i64,
    batch: Batch,
    paused: Option<String>,
    written: u64,
    flush_every: Duration,
}

impl Worker {
    pub(crate) fn new(
        conn: Connection,
        shared: Arc<Shared>,
        counters: Arc<Counters>,
        status: watch::Sender<RecordStatus>,
        flush_every: Duration,
    ) -> Result<Worker, StoreError> {
        let mut ids: HashMap<String, HashMap<String, i64>> = HashMap::new();
        let mut next_id = 1;
        {
            let mut stmt = conn.prepare("SELECT id, source, endpoint FROM series")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                next_id = next_id.max(id + 1);
                ids.entry(row.get(1)?).or_default().insert(row.get(2)?, id);
            }
        }
        Ok(Worker {
            conn,
            shared,
            counters,
            status,
            ids,
            next_id,
            batch: Batch::default(),
            paused: None,
            written: 0,
            flush_every: flush_every.max(Duration::from_millis(1)),
        })
    }

    pub(crate) fn run(mut self, rx: mpsc::Receiver<Command>) {
        let _ = self.prune_now();
        let mut next_flush = Instant::now() + self.flush_every;
        let mut next_prune = Instant::now() + PRUNE_EVERY;
        loop {
            let wait = next_flush.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Command::Record { source, readings }) => self.record(&source, readings),
                Ok(Command::Import {
                    source,
                    endpoint,
                    bucket_ms,
                    points,
                }) => {
                    let id = self.series_id(&source, &endpoint);
                    self.batch.imports.push((id, bucket_ms, points));
                }
                Ok(Command::Cover {
                    source,
                    from_ms,
                    to_ms,
                }) => self.batch.covers.push((source, from_ms, to_ms)),
                Ok(Command::Journal(entry)) => self.batch.journal.push(entry),
                Ok(Command::Remember { key, value }) => {
                    self.batch.remembered.insert(key, value);
                }
                Ok(Command::Flush(ack)) => {
                    let result = self.flush();
                    if result.is_err() {
                        next_flush = Instant::now() + self.flush_every.max(PAUSED_RETRY);
                    }
                    let _ = ack.send(result);
                }
                Ok(Command::Prune(ack)) => {
                    let _ = self.flush();
                    let result = self.prune_now();
                    if let Some(ack) = ack {
                        let _ = ack.send(result);
                    }
                }
                Ok(Command::LimitPages(pages)) => self.limit_pages(pages),
                Ok(Command::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = self.flush();
                    return;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if now >= next_flush || self.batch.readings >= BIG_BATCH {
                let _ = self.flush();
                let every = if self.paused.is_some() {
                    self.flush_every.max(PAUSED_RETRY)
                } else {
                    self.flush_every
                };
                next_flush = Instant::now() + every;
            }
            if now >= next_prune {
                let _ = self.prune_now();
                next_prune = Instant::now() + PRUNE_EVERY;
            }
        }
    }

    fn record(&mut self, source: &str, readings: Vec<Reading>) {
        self.batch.queued += readings.len();
        let fine = self.shared.fine;
        let mut bad = 0u64;
        for r in readings {
            if !r.value.is_finite() {
                bad += 1;
                continue;
            }
            let id = self.series_id(source, &r.endpoint);
            let (t, v) = (r.t_ms, r.value);
            match fine {
                Fine::EveryReading => self.batch.raw.push((id, t, v)),
                Fine::PerSecond => add(&mut self.batch.second, id, bucket_start(t, 1_000), t, v),
            }
            add(&mut self.batch.minute, id, bucket_start(t, MINUTE_MS), t, v);
            self.batch.recorded_from = Some(self.batch.recorded_from.map_or(t, |e| e.min(t)));
            add(&mut self.batch.hour, id, bucket_start(t, HOUR_MS), t, v);
            self.batch.readings += 1;
        }
        if bad > 0 {
            self.counters.dropped.fetch_add(bad, Ordering::Relaxed);
        }
    }

    /// The id of a series, assigned here (the only writer) and inserted with the next batch.
    fn series_id(&mut self, source: &str, endpoint: &str) -> i64 {
        if let Some(id) = self.ids.get(source).and_then(|m| m.get(endpoint)) {
            return *id;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.ids
            .entry(source.to_owned())
            .or_default()
            .insert(endpoint.to_owned(), id);
        self.batch
            .new_series
            .push((id, source.to_owned(), endpoint.to_owned()));
        id
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            let queued = std::mem::take(&mut self.batch.queued);
            self.counters.queued.fetch_sub(queued, Ordering::Relaxed);
            self.publish();
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let result = self.write(&batch);
        self.counters
            .queued
            .fetch_sub(batch.queued, Ordering::Relaxed);
        let outcome = match result {
            Ok(earliest) => {
                self.written += batch.readings;
                self.paused = None;
                if let Some(t) = batch.recorded_from {
                    self.shared.recorded_from_ms.fetch_min(t, Ordering::Relaxed);
                }
                if let Some(t) = earliest {
                    self.shared.earliest_ms.fetch_min(t, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.counters
                    .dropped
                    .fetch_add(batch.readings, Ordering::Relaxed);
                // Ids stay assigned; their rows go with the next batch.
                self.batch.new_series = batch.new_series;
                self.hold_journal(batch.journal);
                for (key, value) in batch.remembered {
                    self.batch.remembered.entry(key).or_insert(value);
                }
                let reason = plain_reason(&e);
                self.paused = Some(reason.clone());
                Err(StoreError::Paused { reason })
            }
        };
        self.publish();
        outcome
    }

    /// Puts the journal entries of a failed batch back in front of those queued since, so
    /// they are written, in order, by the next commit that succeeds.
    fn hold_journal(&mut self, mut failed: Vec<journal::Pending>) {
        failed.append(&mut self.batch.journal);
        let excess = failed.len().saturating_sub(MAX_HELD_JOURNAL);
        if excess > 0 {
            failed.drain(..excess);
            self.counters
                .dropped
                .fetch_add(u64::try_from(excess).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        self.batch.journal = failed;
    }

    fn publish(&self) {
        let status = RecordStatus {
            state: match &self.paused {
                None => RecordState::Recording,
                Some(reason) => RecordState::Paused {
                    reason: reason.clone(),
                },
            },
            written: self.written,
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        };
        self.status.send_if_modified(|held| {
            let changed = *held != status;
            *held = status;
            changed
        });
    }

    /// One transaction for the whole batch. Returns the earliest time now in the minute and hour
    /// tiers, if this batch lowered it.
    fn write(&mut self, batch: &Batch) -> rusqlite::Result<Option<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO series(id, source, endpoint) VALUES (?1, ?2, ?3)")?;
            for (id, source, endpoint) in &batch.new_series {
                stmt.execute(params![id, source, endpoint])?;
            }
        }
        if !batch.raw.is_empty() {
            let mut raw = batch.raw.clone();
            // Stable: two readings at one ms upsert in arrival order, so the later is `v`.
            raw.sort_by_key(|&(s, t, _)| (s, t));
            let mut stmt = tx.prepare_cached(
                "INSERT INTO raw(series, t, v, n) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT(series, t) DO UPDATE SET v = excluded.v, n = n + 1",
            )?;
            for (s, t, v) in raw {
                stmt.execute(params![s, t, v])?;
            }
        }
        merge_rows(&tx, Tier::Second, &batch.second)?;
        merge_rows(&tx, Tier::Minute, &batch.minute)?;
        merge_rows(&tx, Tier::Hour, &batch.hour)?;
        if let Some(t) = batch.recorded_from {
            if t < self.shared.recorded_from_ms.load(Ordering::Relaxed) {
                set_meta_i64(&tx, "recorded_from_ms", t)?;
            }
        }
        let mut earliest: Option<i64> = batch.recorded_from;
        for (series, bucket_ms, points) in &batch.imports {
            let seconds = self.shared.fine == Fine::PerSecond;
            let (first, first_second) = import(&tx, *series, *bucket_ms, points, seconds)?;
            if let Some(t) = first {
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
            }
            // Seconds fetched reach the fine tier: it now begins there for queries too.
            if let Some(t) = first_second {
                if t < self.shared.recorded_from_ms.load(Ordering::Relaxed) {
                    set_meta_i64(&tx, "recorded_from_ms", t)?;
                    self.shared.recorded_from_ms.fetch_min(t, Ordering::Relaxed);
                }
            }
        }
        if let Some(t) = earliest {
            if t < self.shared.earliest_ms.load(Ordering::Relaxed) {
                set_meta_i64(&tx, "earliest_ms", t)?;
            }
        }
        for (source, from, to) in &batch.covers {
            cover(&tx, source, *from, *to)?;
        }
        journal::insert(&tx, &batch.journal)?;
        for (key, value) in &batch.remembered {
            set_meta_i64(&tx, key, *value)?;
        }
        tx.commit()?;
        Ok(earliest)
    }

    fn prune_now(&mut self) -> Result<(), StoreError> {
        let result = prune::prune(&mut self.conn, &self.shared, crate::config::now_ms());
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result.map_err(StoreError::from)
    }

    fn limit_pages(&mut self, pages: Option<u64>) {
        // SQLite's own ceiling: 2^32 - 2 pages.
        let pages = pages.unwrap_or(4_294_967_294);
        let _ = self
            .conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get::<_, i64>(0)
            });
    }
}

fn add(map: &mut HashMap<(i64, i64), Acc>, id: i64, bucket: i64, t: i64, v: f64) {
    map.entry((id, bucket))
        .and_modify(|a| a.add(t, v))
        .or_insert_with(|| Acc::one(t, v));
}

/// Upserts deltas into a bucket tier, merging with what a previous batch (or a previous run)
/// committed to the same bucket. `min`/`max` equal to `last` are stored as NULL.
fn merge_rows(
    tx: &rusqlite::Transaction<'_>,
    tier: Tier,
    rows: &HashMap<(i64, i64), Acc>,
) -> rusqlite::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<&(i64, i64)> = rows.keys().collect();
    keys.sort_unstable();
    let mut stmt = tx.prepare_cached(&merge_sql(tier))?;
    for key in keys {
        let acc = &rows[key];
        stmt.execute(acc.row(key.0, key.1))?;
    }
    Ok(())
}

fn merge_sql(tier: Tier) -> String {
    let table = tier.table();
    format!(
        "INSERT INTO {table}(series, t, min, max, last, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(series, t) DO UPDATE SET
           min = nullif(min(coalesce(min, last), coalesce(excluded.min, excluded.last)), excluded.last),
           max = nullif(max(coalesce(max, last), coalesce(excluded.max, excluded.last)), excluded.last),
           last = excluded.last,
           n = n + excluded.n"
    )
}

/// Imported buckets: folded to minutes (≤ 60 s) and inserted where the desk has no minute of
/// its own, each inserted minute also merged into its hour; coarser buckets folded to hours
/// and inserted where there is no hour yet. Buckets of a second or less also go to the
/// per-second tier (`seconds`, the desk's), where the desk has no second of its own, so a
/// short trend over a recent gap draws them at its own resolution. Returns the earliest
/// bucket inserted in the minute or hour tier, and the earliest second inserted.
fn import(
    tx: &rusqlite::Transaction<'_>,
    series: i64,
    bucket_ms: i64,
    points: &[Point],
    seconds: bool,
) -> rusqlite::Result<(Option<i64>, Option<i64>)> {
    let mut first_second = None;
    if seconds && bucket_ms <= 1_000 {
        let by_second = fold_points(points, 1_000);
        let mut stmt = tx.prepare_cached(&insert_new_sql(Tier::Second))?;
        for (t, acc) in by_second {
            first_second.get_or_insert(t);
            stmt.execute(acc.row(series, t))?;
        }
    }
    let width = if bucket_ms <= MINUTE_MS {
        MINUTE_MS
    } else {
        HOUR_MS
    };
    let folded = fold_points(points, width);
    let tier = if width == MINUTE_MS {
        Tier::Minute
    } else {
        Tier::Hour
    };
    let mut stmt = tx.prepare_cached(&insert_new_sql(tier))?;
    let mut hours: HashMap<(i64, i64), Acc> = HashMap::new();
    let mut earliest = None;
    for (t, acc) in folded {
        let inserted = stmt.execute(acc.row(series, t))?;
        if inserted == 0 {
            continue;
        }
        earliest.get_or_insert(t);
        if width == MINUTE_MS {
            let hour = bucket_start(t, HOUR_MS);
            hours
                .entry((series, hour))
                .and_modify(|a| a.merge(&acc))
                .or_insert(acc);
        }
    }
    merge_rows(tx, Tier::Hour, &hours)?;
    Ok((earliest, first_second))
}

/// Inserts a bucket where the tier has none yet: an import never overwrites what was seen.
fn insert_new_sql(tier: Tier) -> String {
    format!(
        "INSERT OR IGNORE INTO {}(series, t, min, max, last, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        tier.table()
    )
}

/// Imported points folded into buckets of `width` (a point of no reading, or not finite,
/// is left out).
fn fold_points(points: &[Point], width: i64) -> BTreeMap<i64, Acc> {
    let mut folded: BTreeMap<i64, Acc> = BTreeMap::new();
    for p in points {
        if p.n == 0 || !(p.min.is_finite() && p.max.is_finite() && p.last.is_finite()) {
            continue;
        }
        let acc = Acc::of_point(p);
        folded
            .entry(bucket_start(p.t_ms, width))
            .and_modify(|a| a.merge(&acc))
            .or_insert(acc);
    }
    folded
}

/// Records that `[from, to)` of `source` is covered, joined with its neighbours.
fn cover(tx: &rusqlite::Transaction<'_>, source: &str, from: i64, to: i64) -> rusqlite::Result<()> {
    let near: Vec<(i64, i64, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT rowid, from_ms, to_ms FROM coverage
             WHERE source = ?1 AND from_ms <= ?2 AND to_ms >= ?3",
        )?;
        let rows = stmt.query_map(
            params![
                source,
                to.saturating_add(coverage::JOIN_MS),
                from.saturating_sub(coverage::JOIN_MS)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let held: Vec<(i64, i64)> = near.iter().map(|&(_, f, t)| (f, t)).collect();
    let (from, to) = coverage::join(from, to, &held);
    let mut delete = tx.prepare_cached("DELETE FROM coverage WHERE rowid = ?1")?;
    for (rowid, _, _) in &near {
        delete.execute([rowid])?;
    }
    tx.prepare_cached("INSERT INTO coverage(source, from_ms, to_ms) VALUES (?1, ?2, ?3)")?
        .execute(params![source, from, to])?;
    Ok(())
}

/// What an operator is told when a write fails.
pub(crate) fn plain_reason(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "the disk is full".into(),
        Some(ErrorCode::ReadOnly) => "the record file is read-only".into(),
        Some(ErrorCode::CannotOpen) => "the record file cannot be opened".into(),
        Some(ErrorCode::SystemIoFailure) => "the disk failed a write".into(),
        Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
            "the record file is damaged".into()
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            "the record file is busy".into()
        }
        _ => format!("the record cannot be written ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_plain() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert_eq!(plain_reason(&full), "the disk is full");
    }
}
