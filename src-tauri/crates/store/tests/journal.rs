//! The journal end to end: written through `Writer::journal`, read through `Reader::journal`
//! with every filter of `journal_query`, paged back with `beforeSeq`, pruned by age and by the
//! size cap (after readings), kept across a reopen, and brought to a version-1 file by the
//! migration.
#![allow(clippy::unwrap_used)]

use brewdeck_protocol::{AlarmId, JournalEntry, JournalKind, JournalQuery, Severity, Timestamp};
use brewdeck_store::{Location, Reading, Store, StoreConfig, StoreError};
use std::time::Duration;

const D: i64 = 86_400_000;

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap()
}

fn memory() -> Store {
    Store::open(StoreConfig::plant(Location::Memory))
        .unwrap()
        .store
}

fn entry(at_ms: i64, kind: JournalKind, by: &str, text: &str) -> JournalEntry {
    JournalEntry {
        // Whatever it says: the store numbers entries itself.
        seq: 999,
        at: at(at_ms),
        by: by.into(),
        kind,
        text: text.into(),
        severity: None,
        alarm_id: None,
        endpoint_ids: Vec::new(),
        command_id: None,
        action: None,
        value: None,
        status: None,
        reason: None,
        note: None,
        until: None,
        note_id: None,
    }
}

fn alarm(at_ms: i64, kind: JournalKind, severity: Severity, text: &str) -> JournalEntry {
    JournalEntry {
        severity: Some(severity),
        alarm_id: Some(AlarmId::from(7)),
        ..entry(at_ms, kind, "plant", text)
    }
}

fn query() -> JournalQuery {
    JournalQuery {
        request_id: "j".into(),
        ..JournalQuery::default()
    }
}

fn texts(entries: &[JournalEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.text.as_str()).collect()
}

#[test]
fn entries_come_back_newest_first_numbered_by_the_store_and_only_of_their_source() {
    let store = memory();
    let w = store.writer();
    let t = now_ms();
    w.journal("plant", entry(t, JournalKind::Note, "ana", "first"));
    w.journal("other", entry(t, JournalKind::Note, "ana", "elsewhere"));
    w.journal("plant", entry(t + 1, JournalKind::Note, "ben", "second"));
    w.flush().unwrap();
    let (entries, more) = store.reader().journal("plant", &query()).unwrap();
    assert_eq!(texts(&entries), ["second", "first"]);
    assert!(!more);
    assert!(entries[0].seq > entries[1].seq);
    assert_ne!(entries[0].seq, 999, "the row's seq, not the entry's");
    assert_eq!(entries[0].by, "ben");
    let (other, _) = store.reader().journal("other", &query()).unwrap();
    assert_eq!(texts(&other), ["elsewhere"]);
    let (none, more) = store.reader().journal("nowhere", &query()).unwrap();
    assert!(none.is_empty() && !more);
}

#[test]
fn each_filter_keeps_what_it_says() {
    let store = memory();
    let w = store.writer();
    let t = now_ms() - 10_000;
    w.journal(
        "plant",
        alarm(
            t,
            JournalKind::AlarmRaised,
            Severity::High,
            "HLT temperature high",
        ),
    );
    w.journal(
        "plant",
        JournalEntry {
            note: Some("Lid open for DRY HOPPING".into()),
            ..alarm(
                t + 1_000,
                JournalKind::AlarmAcked,
                Severity::High,
                "HLT temperature high",
            )
        },
    );
    w.journal(
        "plant",
        alarm(
            t + 2_000,
            JournalKind::AlarmRaised,
            Severity::Low,
            "FV-3 probe uncertain",
        ),
    );
    w.journal(
        "plant",
        entry(t + 3_000, JournalKind::Note, "Ana", "FV-3 dry hopped"),
    );
    w.journal(
        "plant",
        entry(
            t + 4_000,
            JournalKind::Command,
            "ben",
            "set HLT setpoint to 168: succeeded",
        ),
    );
    w.flush().unwrap();
    let r = store.reader();
    let ask = |q: JournalQuery| texts(&r.journal("plant", &q).unwrap().0).join(" | ");

    // Kinds.
    assert_eq!(
        ask(JournalQuery {
            kinds: Some(vec![JournalKind::Note, JournalKind::Command]),
            ..query()
        }),
        "set HLT setpoint to 168: succeeded | FV-3 dry hopped"
    );
    // Severities: entries without one are left out.
    assert_eq!(
        ask(JournalQuery {
            severities: Some(vec![Severity::Low]),
            ..query()
        }),
        "FV-3 probe uncertain"
    );
    assert_eq!(
        ask(JournalQuery {
            severities: Some(vec![Severity::High, Severity::Low]),
            ..query()
        }),
        "FV-3 probe uncertain | HLT temperature high | HLT temperature high"
    );
    assert_eq!(
        ask(JournalQuery {
            kinds: Some(Vec::new()),
            ..query()
        }),
        "",
        "an empty list keeps nothing"
    );
    // Text, ignoring case, in the text, the note or the operator.
    assert_eq!(
        ask(JournalQuery {
            text: Some("fv-3".into()),
            ..query()
        }),
        "FV-3 dry hopped | FV-3 probe uncertain"
    );
    let by_note = r
        .journal(
            "plant",
            &JournalQuery {
                text: Some("dry hopping".into()),
                ..query()
            },
        )
        .unwrap()
        .0;
    assert_eq!(by_note.len(), 1);
    assert_eq!(by_note[0].kind, JournalKind::AlarmAcked);
    assert_eq!(
        ask(JournalQuery {
            text: Some("ANA".into()),
            ..query()
        }),
        "FV-3 dry hopped",
        "the operator's name"
    );
    assert_eq!(
        ask(JournalQuery {
            text: Some("%".into()),
            ..query()
        }),
        "",
        "no wildcard"
    );
    // From and to bound `at`, both inclusive.
    assert_eq!(
        ask(JournalQuery {
            from: Some(at(t + 1_000)),
            to: Some(at(t + 3_000)),
            ..query()
        }),
        "FV-3 dry hopped | FV-3 probe uncertain | HLT temperature high"
    );
    // Filters add up.
    assert_eq!(
        ask(JournalQuery {
            from: Some(at(t + 1_000)),
            kinds: Some(vec![JournalKind::AlarmRaised]),
            text: Some("probe".into()),
            ..query()
        }),
        "FV-3 probe uncertain"
    );
}

#[test]
fn paging_back_with_before_seq_sees_every_entry_once() {
    let store = memory();
    let w = store.writer();
    let t = now_ms() - 3_600_000;
    let n = 1_234;
    for i in 0..n {
        let kind = if i % 3 == 0 {
            JournalKind::Note
        } else {
            JournalKind::Command
        };
        w.journal("plant", entry(t + i, kind, "ana", &format!("entry {i}")));
    }
    w.flush().unwrap();
    let r = store.reader();
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let q = JournalQuery {
            before_seq: before,
            limit: Some(100),
            ..query()
        };
        let (entries, more) = r.journal("plant", &q).unwrap();
        pages += 1;
        assert!(entries.len() <= 100);
        seen.extend(entries.iter().map(|e| (e.seq, e.text.clone())));
        before = entries.last().map(|e| e.seq);
        if !more {
            break;
        }
        assert_eq!(
            entries.len(),
            100,
            "a page short of its limit says there is no more"
        );
    }
    assert_eq!(pages, 13);
    assert_eq!(seen.len(), n as usize);
    assert!(seen.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    assert_eq!(seen[0].1, format!("entry {}", n - 1));
    assert_eq!(seen[seen.len() - 1].1, "entry 0");
    // Paging a filtered query: the filter holds on every page.
    let q = JournalQuery {
        kinds: Some(vec![JournalKind::Note]),
        limit: Some(300),
        ..query()
    };
    let (first, more) = r.journal("plant", &q).unwrap();
    assert!(more);
    let (second, more) = r
        .journal(
            "plant",
            &JournalQuery {
                before_seq: first.last().map(|e| e.seq),
                ..q
            },
        )
        .unwrap();
    assert!(!more);
    assert_eq!(first.len() + second.len(), 412);
    assert!(first
        .iter()
        .chain(&second)
        .all(|e| e.kind == JournalKind::Note));
}

#[test]
fn a_query_outside_its_bounds_is_a_bad_query() {
    let store = memory();
    for q in [
        JournalQuery {
            limit: Some(0),
            ..query()
        },
        JournalQuery {
            limit: Some(501),
            ..query()
        },
        JournalQuery {
            from: Some(at(2_000)),
            to: Some(at(1_000)),
            ..query()
        },
    ] {
        assert!(matches!(
            store.reader().journal("plant", &q),
            Err(StoreError::BadQuery(_))
        ));
    }
}

#[test]
fn old_entries_go_after_journal_days_and_the_rest_stay() {
    let mut config = StoreConfig::plant(Location::Memory);
    config.journal_days = 30;
    let store = Store::open(config).unwrap().store;
    let w = store.writer();
    let now = now_ms();
    w.journal(
        "plant",
        entry(now - 31 * D, JournalKind::Note, "ana", "too old"),
    );
    w.journal(
        "other",
        entry(now - 40 * D, JournalKind::Note, "ana", "too old too"),
    );
    w.journal(
        "plant",
        entry(now - 29 * D, JournalKind::Note, "ana", "kept"),
    );
    store.prune().unwrap();
    let r = store.reader();
    assert_eq!(texts(&r.journal("plant", &query()).unwrap().0), ["kept"]);
    assert!(r.journal("other", &query()).unwrap().0.is_empty());
}

#[test]
fn the_size_cap_takes_readings_before_journal_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let mut config = StoreConfig::plant(Location::File(path.clone()));
    config.size_cap_bytes = u64::MAX;
    let store = Store::open(config).unwrap().store;
    let w = store.writer();
    let now = now_ms();
    let start = now - 10 * D;
    for e in 0..6 {
        let readings: Vec<Reading> = (0..10 * 24 * 12)
            .map(|i| Reading {
                endpoint: format!("ep{e}"),
                t_ms: start + i * 300_000,
                value: (i % 97) as f64,
            })
            .collect();
        w.record("", readings);
    }
    // Older than any reading: age alone would take these first.
    for i in 0..50 {
        w.journal(
            "plant",
            entry(
                start - D + i,
                JournalKind::Note,
                "ana",
                &format!("note {i}"),
            ),
        );
    }
    store.prune().unwrap();
    let before = store.reader().stats().unwrap();
    let cap = 200 * 1024;
    assert!(before.bytes > cap);
    w.set_retention(
        Duration::from_secs(7200),
        Duration::from_secs(35 * 86_400),
        None,
        cap,
    );
    store.prune().unwrap();
    let after = store.reader().stats().unwrap();
    assert!(after.minute_rows < before.minute_rows, "readings went");
    let q = JournalQuery {
        limit: Some(500),
        ..query()
    };
    assert_eq!(
        store.reader().journal("plant", &q).unwrap().0.len(),
        50,
        "every journal entry stayed"
    );

    // With no reading left to take, the journal's oldest day goes.
    w.set_retention(
        Duration::from_secs(7200),
        Duration::from_secs(35 * 86_400),
        None,
        1,
    );
    store.prune().unwrap();
    assert_eq!(store.reader().stats().unwrap().minute_rows, 0);
    assert!(store.reader().journal("plant", &q).unwrap().0.is_empty());
}

#[test]
fn entries_survive_a_reopen_and_numbering_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let open = || {
        Store::open(StoreConfig::plant(Location::File(path.clone())))
            .unwrap()
            .store
    };
    let t = now_ms();
    let first = {
        let store = open();
        store
            .writer()
            .journal("plant", entry(t, JournalKind::Note, "ana", "before"));
        // Dropping commits what is queued.
        drop(store);
        let store = open();
        let (entries, _) = store.reader().journal("plant", &query()).unwrap();
        assert_eq!(texts(&entries), ["before"]);
        entries[0].seq
    };
    let store = open();
    store
        .writer()
        .journal("plant", entry(t + 1, JournalKind::Note, "ana", "after"));
    store.flush().unwrap();
    let (entries, _) = store.reader().journal("plant", &query()).unwrap();
    assert_eq!(texts(&entries), ["after", "before"]);
    assert!(entries[0].seq > first);
}

#[test]
fn a_row_that_no_longer_decodes_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let store = Store::open(StoreConfig::plant(Location::File(path.clone())))
        .unwrap()
        .store;
    let t = now_ms();
    for i in 0..4 {
        store.writer().journal(
            "plant",
            entry(t + i, JournalKind::Note, "ana", &format!("n{i}")),
        );
    }
    store.flush().unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute(
            "UPDATE journal SET entry = '{not json' WHERE entry LIKE '%\"n2\"%'",
            [],
        )
        .unwrap();
    }
    let r = store.reader();
    let (entries, more) = r
        .journal(
            "plant",
            &JournalQuery {
                limit: Some(2),
                ..query()
            },
        )
        .unwrap();
    assert_eq!(texts(&entries), ["n3", "n1"]);
    assert!(more);
    assert_eq!(r.journal_skipped(), 1);
}

/// The schema of version 1, as that build wrote it.
const V1: &str = "
    CREATE TABLE meta(key TEXT PRIMARY KEY, value);
    CREATE TABLE series(
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, endpoint TEXT NOT NULL,
        UNIQUE(source, endpoint));
    CREATE TABLE raw(
        series INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY(series, t)) WITHOUT ROWID;
    CREATE TABLE second(
        series INTEGER NOT NULL, t INTEGER NOT NULL,
        min REAL, max REAL, last REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY(series, t)) WITHOUT ROWID;
    CREATE TABLE minute(
        series INTEGER NOT NULL, t INTEGER NOT NULL,
        min REAL, max REAL, last REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY(series, t)) WITHOUT ROWID;
    CREATE TABLE hour(
        series INTEGER NOT NULL, t INTEGER NOT NULL,
        min REAL, max REAL, last REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY(series, t)) WITHOUT ROWID;
    CREATE TABLE coverage(source TEXT NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL);
    CREATE INDEX coverage_by_source ON coverage(source, from_ms);
    CREATE INDEX coverage_by_end ON coverage(source, to_ms);
    PRAGMA user_version = 1;
";

#[test]
fn a_version_1_file_gains_the_journal_and_keeps_its_readings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let t = (now_ms() - 3_600_000).div_euclid(60_000) * 60_000;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO meta VALUES ('born_ms', {t});
             INSERT INTO series VALUES (1, '', 'hlt');
             INSERT INTO raw VALUES (1, {t}, 152.5, 1);
             INSERT INTO minute VALUES (1, {t}, NULL, NULL, 152.5, 1);
             INSERT INTO hour VALUES (1, {}, NULL, NULL, 152.5, 1);",
            t.div_euclid(3_600_000) * 3_600_000
        ))
        .unwrap();
    }
    let store = Store::open(StoreConfig::plant(Location::File(path.clone())))
        .unwrap()
        .store;
    assert_eq!(
        store.reader().born_ms(),
        t,
        "the same record, not a new one"
    );
    let answer = store
        .reader()
        .query(&brewdeck_store::Query {
            source: String::new(),
            endpoints: vec!["hlt".into()],
            from_ms: t,
            to_ms: t + 60_000,
            max_points: 10,
            min_bucket_ms: 0,
        })
        .unwrap();
    assert_eq!(answer.series[0].points.len(), 1);
    assert_eq!(answer.series[0].points[0].last, 152.5);
    store.writer().journal(
        "plant",
        entry(t, JournalKind::Note, "ana", "after the upgrade"),
    );
    store.flush().unwrap();
    let (entries, _) = store.reader().journal("plant", &query()).unwrap();
    assert_eq!(texts(&entries), ["after the upgrade"]);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

#[test]
fn a_remembered_number_outlives_the_store_and_the_latest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.sqlite3");
    let open = || {
        Store::open(StoreConfig::plant(Location::File(path.clone())))
            .unwrap()
            .store
    };
    {
        let store = open();
        assert_eq!(store.reader().remembered("seq").unwrap(), None);
        store.writer().remember("seq", 41);
        store.writer().remember("seq", 42);
        store.flush().unwrap();
        assert_eq!(store.reader().remembered("seq").unwrap(), Some(42));
        // A caller's name never touches the store's own keys.
        store.writer().remember("born_ms", 7);
    }
    let store = open();
    assert_eq!(store.reader().remembered("seq").unwrap(), Some(42));
    assert_ne!(store.reader().born_ms(), 7);
}
