//! The file's layout and how connections to it are opened. `MIGRATIONS[i]` takes a file from
//! schema version `i` to `i + 1` (kept in `PRAGMA user_version`), each in its own transaction:
//! a new version is one more entry, appended (a file of any older version is brought up).

use crate::StoreError;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::time::Duration;

/// Bucket tables share one shape. `min`/`max` are NULL when equal to `last` (most fine
/// buckets hold one reading); `WITHOUT ROWID` keeps rows in `(series, t)` order, so a range of
/// one series is one index seek and a contiguous read.
pub(crate) const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE meta(key TEXT PRIMARY KEY, value);
    CREATE TABLE series(
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        endpoint TEXT NOT NULL,
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
    -- Joining a new interval looks for those ending near its start: without this, every older
    -- interval of the source is read, once a second.
    CREATE INDEX coverage_by_end ON coverage(source, to_ms);
",
    "
    -- Version 2: the journal (what happened and who did it). `entry` is the protocol's
    -- JournalEntry as JSON, whose `seq` is this row's; the other columns are what queries
    -- filter on. `search` is the entry's text, note and operator, lowercased.
    CREATE TABLE journal(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT,
        \"by\" TEXT NOT NULL,
        search TEXT NOT NULL,
        entry TEXT NOT NULL);
    -- Paging back (newest first, beforeSeq) and retention by time, per source.
    CREATE INDEX journal_by_seq ON journal(source, seq);
    CREATE INDEX journal_by_at ON journal(source, at);
",
];

/// The newest schema this build knows.
pub(crate) fn known_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// A waiting writer or reader retries this long before SQLITE_BUSY: long enough to ride out
/// a checkpoint or a big batch, short enough that a stuck peer shows up as an error.
const BUSY: Duration = Duration::from_secs(5);

/// What SQLite is asked to open.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    File(std::path::PathBuf),
    /// A `file:/brewdeck-<uuid>?vfs=memdb` URI: one database shared by every connection of this
    /// process that names it, alive while one of them is open.
    Memory(String),
}

impl Target {
    fn open(&self, flags: OpenFlags) -> rusqlite::Result<Connection> {
        let conn = match self {
            Target::File(path) => Connection::open_with_flags(path, flags)?,
            Target::Memory(uri) => {
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
            }
        };
        conn.busy_timeout(BUSY)?;
        Ok(conn)
    }
}

/// The writer's connection, with the schema brought up to date. A file written by a newer
/// build is refused before anything (not even the journal mode) is changed in it.
pub(crate) fn open_writer(target: &Target) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = target.open(flags)?;
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = known_version();
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    if found == 0 {
        // Only takes effect before the first table: lets pruning give pages back to the disk.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    }
    if let Target::File(_) = target {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: target.path_buf(),
                reason: format!("the file system does not allow WAL (journal mode {mode})"),
            });
        }
        // With WAL, NORMAL loses at most the last commits on power loss, never consistency.
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    }
    migrate(&conn, found)?;
    Ok(conn)
}

/// Applies every migration past `from`, each with its version bump in one transaction.
fn migrate(conn: &Connection, from: u32) -> Result<(), StoreError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let version = i + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))
        .inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        })?;
    }
    Ok(())
}

/// A query connection. It never writes, so a reader bug cannot damage the record.
pub(crate) fn open_reader(target: &Target) -> rusqlite::Result<Connection> {
    target.open(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
}

impl Target {
    pub(crate) fn path_buf(&self) -> std::path::PathBuf {
        match self {
            Target::File(p) => p.clone(),
            Target::Memory(uri) => uri.into(),
        }
    }
}

/// A `meta` value, if set.
pub(crate) fn meta_i64(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub(crate) fn set_meta_i64(conn: &Connection, key: &str, value: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value],
    )?;
    Ok(())
}
