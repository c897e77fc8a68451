//! The store end to end: through `Store::open`, the writer thread and `Reader`.
#![allow(clippy::unwrap_used)]

use brewdeck_store::{
    Answer, Fine, Location, Point, Query, Reading, RecordState, Store, StoreConfig, StoreError,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const M: i64 = 60_000;
const H: i64 = 3_600_000;
const D: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The start of the hour before this one: recent enough for every tier.
fn base() -> i64 {
    (now_ms() - H).div_euclid(H) * H
}

fn memory(fine: Fine) -> Store {
    let config = match fine {
        Fine::EveryReading => StoreConfig::plant(Location::Memory),
        Fine::PerSecond => StoreConfig::desk(Location::Memory),
    };
    Store::open(config).unwrap().store
}

fn file(path: &Path, fine: Fine) -> Result<brewdeck_store::Opened, StoreError> {
    let location = Location::File(path.to_path_buf());
    Store::open(match fine {
        Fine::EveryReading => StoreConfig::plant(location),
        Fine::PerSecond => StoreConfig::desk(location),
    })
}

fn r(endpoint: &str, t_ms: i64, value: f64) -> Reading {
    Reading {
        endpoint: endpoint.into(),
        t_ms,
        value,
    }
}

fn query(source: &str, endpoint: &str, from_ms: i64, to_ms: i64, min_bucket_ms: i64) -> Query {
    Query {
        source: source.into(),
        endpoints: vec![endpoint.into()],
        from_ms,
        to_ms,
        max_points: 100_000,
        min_bucket_ms,
    }
}

fn points(answer: &Answer) -> Vec<(i64, f64, f64, f64, u64)> {
    answer.series[0]
        .points
        .iter()
        .map(|p| (p.t_ms, p.min, p.max, p.last, p.n))
        .collect()
}

#[test]
fn minute_edges_and_every_reading_resolution() {
    let store = memory(Fine::EveryReading);
    let b = base();
    store.writer().record(
        "",
        vec![
            r("mash/temp", b, 3.0),
            r("mash/temp", b + 30_000, 5.0),
            r("mash/temp", b + 59_999, 1.0),
            r("mash/temp", b + 60_000, 2.0),
        ],
    );
    store.flush().unwrap();
    let reader = store.reader();
    let minutes = reader
        .query(&query("", "mash/temp", b, b + 2 * M, M))
        .unwrap();
    assert_eq!(minutes.bucket_ms, M);
    assert_eq!(
        points(&minutes),
        [(b, 1.0, 5.0, 1.0, 3), (b + M, 2.0, 2.0, 2.0, 1)]
    );
    let fine = reader
        .query(&query("", "mash/temp", b, b + 2 * M, 0))
        .unwrap();
    assert_eq!(fine.bucket_ms, 100);
    assert_eq!(fine.series[0].points.len(), 4);
    assert_eq!(fine.series[0].points[2].t_ms, b + 59_900);
    assert_eq!(fine.begins_ms, Some(b));
    // Hours: the four readings are one bucket.
    let hours = reader.query(&query("", "mash/temp", b, b + H, H)).unwrap();
    assert_eq!(points(&hours), [(b, 1.0, 5.0, 2.0, 4)]);
}

#[test]
fn two_readings_in_one_millisecond_are_both_counted() {
    let store = memory(Fine::EveryReading);
    let b = base();
    let w = store.writer();
    w.record("", vec![r("x", b + 5, 1.0), r("x", b + 5, 7.0)]);
    store.flush().unwrap();
    w.record("", vec![r("x", b + 5, 4.0)]);
    store.flush().unwrap();
    let reader = store.reader();
    let fine = reader.query(&query("", "x", b, b + 1_000, 100)).unwrap();
    assert_eq!(fine.series[0].points.len(), 1);
    let p = fine.series[0].points[0];
    assert_eq!((p.n, p.last), (3, 4.0));
    let minute = reader.query(&query("", "x", b, b + M, M)).unwrap();
    assert_eq!(points(&minute), [(b, 1.0, 7.0, 4.0, 3)]);
}

#[test]
fn per_second_buckets_aggregate_what_arrives() {
    let store = memory(Fine::PerSecond);
    let b = base();
    let readings: Vec<Reading> = (0..20).map(|i| r("x", b + i * 100, i as f64)).collect();
    store.writer().record("wss://plant", readings);
    store.flush().unwrap();
    let a = store
        .reader()
        .query(&query("wss://plant", "x", b, b + 2_000, 0))
        .unwrap();
    assert_eq!(
        a.bucket_ms, 1_000,
        "a desk never answers finer than a second"
    );
    assert_eq!(
        points(&a),
        [(b, 0.0, 9.0, 9.0, 10), (b + 1_000, 10.0, 19.0, 19.0, 10)]
    );
    assert_eq!(store.reader().stats().unwrap().fine_rows, 2);
}

#[test]
fn bad_queries_are_refused_and_unknown_sources_are_empty() {
    let store = memory(Fine::EveryReading);
    let reader = store.reader();
    let b = base();
    let bad = |q: Query| matches!(reader.query(&q), Err(StoreError::BadQuery(_)));
    assert!(bad(query("", "x", b, b, 0)));
    assert!(bad(query("", "x", b + 1, b, 0)));
    assert!(bad(Query {
        max_points: 0,
        ..query("", "x", b, b + 1, 0)
    }));
    assert!(bad(Query {
        endpoints: vec![],
        ..query("", "x", b, b + 1, 0)
    }));
    let a = reader.query(&query("nowhere", "x", b, b + H, 0)).unwrap();
    assert!(a.series[0].points.is_empty());
    assert_eq!(a.begins_ms, None);
}

#[test]
fn retention_drops_old_fine_rows_and_keeps_their_minutes() {
    let store = memory(Fine::EveryReading);
    let now = now_ms();
    let old = now - 3 * H;
    store
        .writer()
        .record("", vec![r("x", old, 1.0), r("x", now - M, 2.0)]);
    store.prune().unwrap();
    let stats = store.reader().stats().unwrap();
    assert_eq!(stats.fine_rows, 1, "the 3-hour-old reading is past 2 h");
    assert_eq!(stats.minute_rows, 2);
    let a = store
        .reader()
        .query(&query("", "x", now - 4 * H, now, 0))
        .unwrap();
    assert_eq!(a.bucket_ms, M, "the fine tier no longer reaches back 4 h");
    assert_eq!(a.series[0].points.len(), 2);
    assert_eq!(a.series[0].points[0].t_ms, old.div_euclid(M) * M);
}

#[test]
fn the_size_cap_drops_oldest_days_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let cap = 256 * 1024;
    let mut config = StoreConfig::plant(Location::File(path.clone()));
    config.size_cap_bytes = u64::MAX;
    let store = Store::open(config).unwrap().store;
    let now = now_ms();
    let start = now - 10 * D;
    let w = store.writer();
    for e in 0..6 {
        let readings: Vec<Reading> = (0..10 * 24 * 12)
            .map(|i| r(&format!("ep{e}"), start + i * 5 * M, (i % 97) as f64))
            .collect();
        w.record("", readings);
    }
    store.prune().unwrap();
    let before = store.reader().stats().unwrap();
    assert!(
        before.bytes > cap,
        "wrote {} bytes, want more than the cap",
        before.bytes
    );
    w.set_retention(
        Duration::from_secs(7200),
        Duration::from_secs(35 * 86_400),
        None,
        cap,
    );
    store.prune().unwrap();
    let after = store.reader().stats().unwrap();
    // The database itself; the WAL adds what was written since the last checkpoint.
    let db = std::fs::metadata(&path).unwrap().len();
    assert!(db <= cap, "{db} bytes left, cap {cap}");
    assert!(after.bytes < before.bytes);
    assert!(after.minute_rows < before.minute_rows);
    let oldest = after.oldest_ms.unwrap();
    assert!(oldest >= start + D, "the first day went first");
    // The newest readings stay, at minute resolution.
    let a = store
        .reader()
        .query(&query("", "ep0", now - H, now, M))
        .unwrap();
    assert!(!a.series[0].points.is_empty());
    // Queries no longer plan on the minute tier reaching back to the start.
    let a = store
        .reader()
        .query(&query("", "ep0", start, now, 0))
        .unwrap();
    assert_eq!(a.bucket_ms, M);
    assert!(a.series[0].points[0].t_ms >= oldest);
}

#[test]
fn a_store_reopens_and_a_newer_schema_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let born = {
        let opened = file(&path, Fine::PerSecond).unwrap();
        assert_eq!(opened.moved_aside, None);
        opened.store.reader().born_ms()
    };
    let again = file(&path, Fine::PerSecond).unwrap();
    assert_eq!(again.store.reader().born_ms(), born);
    drop(again);

    let newer = dir.path().join("newer.sqlite3");
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let bytes = std::fs::read(&newer).unwrap();
    match file(&newer, Fine::PerSecond) {
        Err(StoreError::TooNew {
            found: 99,
            known: 2,
        }) => {}
        other => panic!("want TooNew, got {:?}", other.map(|o| o.moved_aside)),
    }
    assert_eq!(std::fs::read(&newer).unwrap(), bytes, "untouched");
    assert!(!dir.path().join("newer.sqlite3-wal").exists());
}

#[test]
fn a_restart_mid_minute_merges_into_the_minute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let b = base();
    {
        let store = file(&path, Fine::PerSecond).unwrap().store;
        store.writer().record("s", vec![r("x", b + 1_000, 1.0)]);
        // Dropping flushes.
    }
    let store = file(&path, Fine::PerSecond).unwrap().store;
    store
        .writer()
        .record("s", vec![r("x", b + 2_000, 5.0), r("x", b + 3_000, 3.0)]);
    store.flush().unwrap();
    let a = store.reader().query(&query("s", "x", b, b + M, M)).unwrap();
    assert_eq!(points(&a), [(b, 1.0, 5.0, 3.0, 3)]);
    let a = store.reader().query(&query("s", "x", b, b + H, H)).unwrap();
    assert_eq!(points(&a), [(b, 1.0, 5.0, 3.0, 3)]);
}

fn p(t_ms: i64, min: f64, max: f64, last: f64, n: u64) -> Point {
    Point {
        t_ms,
        min,
        max,
        last,
        n,
    }
}

#[test]
fn imports_fill_only_what_was_not_seen_and_twice_is_once() {
    let store = memory(Fine::PerSecond);
    let b = base();
    let (w, reader) = (store.writer(), store.reader());
    w.record("s", vec![r("x", b + 1_000, 10.0)]);
    store.flush().unwrap();
    // The server's 10-second buckets for the first two minutes.
    let fetched: Vec<Point> = (0..12)
        .map(|i| {
            p(
                b + i * 10_000,
                i as f64,
                i as f64 + 0.5,
                i as f64 + 0.25,
                10,
            )
        })
        .collect();
    w.import("s", "x", 10_000, fetched.clone());
    store.flush().unwrap();
    let minutes = reader.query(&query("s", "x", b, b + 2 * M, M)).unwrap();
    assert_eq!(
        points(&minutes),
        [(b, 10.0, 10.0, 10.0, 1), (b + M, 6.0, 11.5, 11.25, 60)],
        "the minute the desk saw is kept; the other is the fetched one"
    );
    let hour = reader.query(&query("s", "x", b, b + H, H)).unwrap();
    assert_eq!(points(&hour), [(b, 6.0, 11.5, 11.25, 61)]);

    w.import("s", "x", 10_000, fetched);
    store.flush().unwrap();
    assert_eq!(
        reader.query(&query("s", "x", b, b + 2 * M, M)).unwrap(),
        minutes
    );
    assert_eq!(reader.query(&query("s", "x", b, b + H, H)).unwrap(), hour);

    // Coarser buckets go to the hour tier, where there is no hour yet.
    let older = b - 5 * H;
    w.import(
        "s",
        "x",
        15 * M,
        vec![
            p(older, 1.0, 2.0, 1.5, 900),
            p(older + 15 * M, 0.0, 3.0, 2.5, 900),
        ],
    );
    w.import("s", "x", 2 * H, vec![p(older - 2 * H, 7.0, 8.0, 7.5, 7200)]);
    store.flush().unwrap();
    let hours = reader
        .query(&query("s", "x", older - 2 * H, older + H, H))
        .unwrap();
    assert_eq!(
        points(&hours),
        [
            (older - 2 * H, 7.0, 8.0, 7.5, 7200),
            (older, 0.0, 3.0, 2.5, 1800)
        ]
    );
}

#[test]
fn gaps_are_what_was_neither_seen_nor_fetched() {
    let store = memory(Fine::PerSecond);
    let w = store.writer();
    w.mark_covered("s", 0, 10_000);
    w.mark_covered("s", 11_500, 20_000);
    w.mark_covered("s", 30_000, 40_000);
    w.mark_covered("other", 0, 100_000);
    store.flush().unwrap();
    let reader = store.reader();
    assert_eq!(
        reader.gaps("s", 0, 50_000).unwrap(),
        [(20_000, 30_000), (40_000, 50_000)]
    );
    assert_eq!(reader.gaps("s", 5_000, 15_000).unwrap(), []);
    w.mark_covered("s", 19_000, 30_500);
    store.flush().unwrap();
    assert_eq!(reader.gaps("s", 0, 50_000).unwrap(), [(40_000, 50_000)]);
    assert_eq!(reader.gaps("nowhere", 0, 10).unwrap(), [(0, 10)]);
}

#[test]
fn a_garbage_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let garbage: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let opened = file(&path, Fine::PerSecond).unwrap();
    let aside = opened.moved_aside.clone().unwrap();
    assert!(aside
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("record.sqlite3.corrupt-"));
    assert_eq!(std::fs::read(&aside).unwrap(), garbage);
    let store = opened.store;
    store.writer().record("", vec![r("x", base(), 1.0)]);
    store.flush().unwrap();
    assert_eq!(store.reader().stats().unwrap().minute_rows, 1);
}

#[test]
fn a_truncated_store_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    {
        let store = file(&path, Fine::EveryReading).unwrap().store;
        let b = base();
        for e in 0..20 {
            let readings = (0..500)
                .map(|i| r(&format!("e{e}"), b + i * 100, i as f64))
                .collect();
            store.writer().record("", readings);
        }
    }
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 64 * 1024, "{len}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let opened = file(&path, Fine::EveryReading).unwrap();
    assert!(opened.moved_aside.is_some());
    assert_eq!(opened.store.reader().stats().unwrap().fine_rows, 0);
}

#[test]
fn a_second_open_of_the_same_file_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let first = file(&path, Fine::PerSecond).unwrap();
    match file(&path, Fine::PerSecond) {
        Err(StoreError::Locked { path: p }) => assert_eq!(p, path),
        other => panic!("want Locked, got {:?}", other.map(|o| o.moved_aside)),
    }
    drop(first);
    file(&path, Fine::PerSecond).unwrap();
}

#[tokio::test]
async fn a_full_disk_pauses_and_recording_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let store = file(&path, Fine::EveryReading).unwrap().store;
    let (w, mut status) = (store.writer(), store.status());
    let b = base();
    w.record("", vec![r("x", b, 1.0)]);
    store.flush().unwrap();
    store.limit_pages_for_test(Some(1));
    let many: Vec<Reading> = (0..5_000)
        .map(|i| r(&format!("e{i}"), b + i, 1.0))
        .collect();
    w.record("", many);
    match store.flush() {
        Err(StoreError::Paused { reason }) => assert_eq!(reason, "the disk is full"),
        other => panic!("want Paused, got {other:?}"),
    }
    let paused = status.borrow().clone();
    assert_eq!(
        paused.state,
        RecordState::Paused {
            reason: "the disk is full".into()
        }
    );
    assert_eq!(paused.dropped, 5_000);
    assert_eq!(paused.written, 1);

    store.limit_pages_for_test(None);
    w.record("", vec![r("x", b + 10_000, 2.0), r("y", b + 10_000, 3.0)]);
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.state == RecordState::Recording),
    )
    .await
    .expect("recording resumes within the retry interval")
    .unwrap();
    let a = store.reader().query(&query("", "x", b, b + M, 0)).unwrap();
    assert_eq!(a.series[0].points.len(), 2);
    let a = store.reader().query(&query("", "y", b, b + M, 0)).unwrap();
    assert_eq!(points(&a), [(b + 10_000, 3.0, 3.0, 3.0, 1)]);
}

#[test]
fn a_full_queue_and_bad_values_drop_and_count() {
    let mut config = StoreConfig::plant(Location::Memory);
    config.max_queued_readings = 10;
    config.flush_every = Duration::from_secs(3600);
    let store = Store::open(config).unwrap().store;
    let w = store.writer();
    let b = base();
    w.record("", (0..11).map(|i| r("x", b + i, 1.0)).collect());
    w.record("", (0..5).map(|i| r("x", b + i, 1.0)).collect());
    w.record("", (0..6).map(|i| r("x", b + 100 + i, 1.0)).collect());
    w.record(
        "",
        vec![r("x", b + 200, f64::NAN), r("x", b + 201, f64::INFINITY)],
    );
    store.flush().unwrap();
    let s = store.status().borrow().clone();
    assert_eq!((s.written, s.dropped), (5, 11 + 6 + 2));
    // Once written, the queue has room again.
    w.record("", (0..10).map(|i| r("x", b + 300 + i, 1.0)).collect());
    store.flush().unwrap();
    assert_eq!(store.status().borrow().written, 15);
}

#[test]
fn memory_stores_share_between_writer_and_reader_and_not_between_stores() {
    let one = memory(Fine::PerSecond);
    let two = memory(Fine::PerSecond);
    let b = base();
    one.writer().record("s", vec![r("x", b, 1.0)]);
    one.flush().unwrap();
    two.flush().unwrap();
    let reader = one.reader();
    let again = reader.clone();
    let t = std::thread::spawn(move || again.query(&query("s", "x", b, b + M, 0)).unwrap());
    assert_eq!(t.join().unwrap().series[0].points.len(), 1);
    assert!(two
        .reader()
        .query(&query("s", "x", b, b + M, 0))
        .unwrap()
        .series[0]
        .points
        .is_empty());
    assert_eq!(one.path(), None);
    drop(one);
    assert!(matches!(reader.stats(), Err(StoreError::Closed)));
}

/// A minute per bucket, computed the obvious way: latest reading is `last`, a later arrival
/// wins a tie.
fn naive_minutes(readings: &[Reading]) -> Vec<(i64, f64, f64, f64, u64)> {
    let mut buckets: BTreeMap<i64, (f64, f64, f64, i64, u64)> = BTreeMap::new();
    for r in readings {
        let b = r.t_ms.div_euclid(M) * M;
        let e = buckets
            .entry(b)
            .or_insert((r.value, r.value, r.value, r.t_ms, 0));
        e.0 = e.0.min(r.value);
        e.1 = e.1.max(r.value);
        if r.t_ms >= e.3 {
            e.2 = r.value;
            e.3 = r.t_ms;
        }
        e.4 += 1;
    }
    buckets
        .into_iter()
        .map(|(b, (min, max, last, _, n))| (b, min, max, last, n))
        .collect()
}

/// 48 cases a run; `PROPTEST_CASES` asks for more (proptest prints a failing case's seed and
/// keeps it in `proptest-regressions/`).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn minute_answers_match_a_naive_aggregation(
        raw in prop::collection::vec((0i64..(10 * M), -1_000i32..1_000), 1..300),
        fine_every in any::<bool>(),
    ) {
        let b = base();
        let readings: Vec<Reading> = raw
            .iter()
            .map(|&(dt, v)| r("x", b + dt, f64::from(v) / 8.0))
            .collect();
        let store = memory(if fine_every { Fine::EveryReading } else { Fine::PerSecond });
        store.writer().record("", readings.clone());
        store.flush().unwrap();
        let a = store.reader().query(&query("", "x", b, b + 10 * M, M)).unwrap();
        prop_assert_eq!(a.bucket_ms, M);
        prop_assert_eq!(points(&a), naive_minutes(&readings));
    }
}

#[test]
fn handles_cross_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<brewdeck_store::Writer>();
    shareable::<brewdeck_store::Reader>();
    fn sendable<T: Send + 'static>() {}
    sendable::<Store>();
}

#[test]
fn per_second_imports_reach_the_desks_per_second_tier_without_overwriting_it() {
    let store = memory(Fine::PerSecond);
    let b = base();
    let (w, reader) = (store.writer(), store.reader());
    // The desk saw its first second, then missed the next nine.
    w.record("s", vec![r("x", b + 100, 1.0)]);
    store.flush().unwrap();
    let fetched: Vec<Point> = (0..10)
        .map(|i| p(b + i * 1_000, 5.0, 6.0, 5.5, 4))
        .collect();
    w.import("s", "x", 1_000, fetched.clone());
    w.import("s", "x", 1_000, fetched);
    store.flush().unwrap();
    let seconds = reader
        .query(&query("s", "x", b, b + 10_000, 1_000))
        .unwrap();
    assert_eq!(seconds.bucket_ms, 1_000);
    let got = points(&seconds);
    assert_eq!(got.len(), 10, "{got:?}");
    assert_eq!(
        got[0],
        (b, 1.0, 1.0, 1.0, 1),
        "the second the desk saw is its own"
    );
    assert_eq!(
        got[1],
        (b + 1_000, 5.0, 6.0, 5.5, 4),
        "imported twice, counted once"
    );
}
