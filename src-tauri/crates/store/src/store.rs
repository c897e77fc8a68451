//! Opening a store: the lock, the schema, a corrupt file moved aside, the writer thread.

use crate::config::{now_ms, Location, Retention, StoreConfig};
use crate::prune::PRUNED_KEYS;
use crate::schema::{meta_i64, open_writer, set_meta_i64, Target};
use crate::shared::{Counters, Shared};
use crate::worker::{Command, Worker};
use crate::{Reader, RecordState, RecordStatus, StoreError, Writer};
use rusqlite::{Connection, ErrorCode};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// An open store, and where a damaged file was moved if one had to be.
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// The damaged file's new name (`<name>.corrupt-<UTC time>`), kept for a post-mortem.
    pub moved_aside: Option<PathBuf>,
}

/// The record. Owns the writer thread; dropping it commits what is queued and joins it.
#[derive(Debug)]
pub struct Store {
    writer: Writer,
    reader: Reader,
    status: watch::Receiver<RecordStatus>,
    path: Option<PathBuf>,
    thread: Option<JoinHandle<()>>,
    /// Held for the store's life: the OS releases it if the process dies.
    _lock: Option<File>,
}

impl Store {
    pub fn open(config: StoreConfig) -> Result<Opened, StoreError> {
        let (target, lock, path) = match &config.location {
            Location::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| open_error(path, &e))?;
                }
                let lock = lock(path)?;
                (Target::File(path.clone()), Some(lock), Some(path.clone()))
            }
            Location::Memory => {
                let uri = format!("file:/brewdeck-{}?vfs=memdb", uuid::Uuid::new_v4().simple());
                (Target::Memory(uri), None, None)
            }
        };
        let (conn, moved_aside) = match first_open(&target) {
            Ok(conn) => (conn, None),
            Err(e) if is_damaged(&e) => match &path {
                Some(path) => {
                    let moved = move_aside(path)?;
                    (first_open(&target)?, Some(moved))
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let born_ms = meta_i64(&conn, "born_ms")?.unwrap_or_else(now_ms);
        let recorded_from_ms = meta_i64(&conn, "recorded_from_ms")?.unwrap_or(born_ms);
        let earliest_ms = meta_i64(&conn, "earliest_ms")?.unwrap_or(recorded_from_ms);
        let mut pruned = [i64::MIN; 3];
        for (slot, key) in pruned.iter_mut().zip(PRUNED_KEYS) {
            *slot = meta_i64(&conn, key)?.unwrap_or(i64::MIN);
        }
        let shared = Arc::new(Shared::new(
            born_ms,
            config.fine,
            Retention::of(&config),
            recorded_from_ms,
            earliest_ms,
            pruned,
        ));
        let counters = Arc::new(Counters {
            queued: AtomicUsize::new(0),
            dropped: Default::default(),
            max_queued: config.max_queued_readings,
        });
        let (status_tx, status) = watch::channel(RecordStatus {
            state: RecordState::Recording,
            written: 0,
            dropped: 0,
        });
        let worker = Worker::new(
            conn,
            shared.clone(),
            counters.clone(),
            status_tx,
            config.flush_every,
        )?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("brewdeck-store-writer".into())
            .spawn(move || worker.run(rx))?;
        let store = Store {
            writer: Writer {
                tx,
                counters,
                shared: shared.clone(),
            },
            reader: Reader::new(target, shared),
            status,
            path,
            thread: Some(thread),
            _lock: lock,
        };
        Ok(Opened { store, moved_aside })
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    pub fn reader(&self) -> Reader {
        self.reader.clone()
    }

    /// The file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn status(&self) -> watch::Receiver<RecordStatus> {
        self.status.clone()
    }

    /// Blocks until everything queued before it is committed (tests, shutdown, and before a
    /// journal read that must see what was just journaled); see [`Writer::flush`].
    pub fn flush(&self) -> Result<(), StoreError> {
        self.writer.flush()
    }

    /// Commits what is queued, then applies retention and the size cap now instead of at the
    /// next minute; blocks until done.
    pub fn prune(&self) -> Result<(), StoreError> {
        self.ask(|ack| Command::Prune(Some(ack)))
    }

    /// Test hook: caps the writer connection's pages (`PRAGMA max_page_count`) to fake a full
    /// disk; `None` lifts it.
    #[doc(hidden)]
    pub fn limit_pages_for_test(&self, pages: Option<u64>) {
        let _ = self.writer.tx.send(Command::LimitPages(pages));
    }

    fn ask(&self, command: impl FnOnce(crate::worker::Ack) -> Command) -> Result<(), StoreError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.writer
            .tx
            .send(command(ack))
            .map_err(|_| StoreError::Closed)?;
        done.recv().map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Readers close first, so the writer's connection is the last and checkpoints the WAL
        // away (and so an in-memory database is freed).
        self.reader.close();
        let _ = self.writer.tx.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sidecar `<name>.lock`, locked for the store's life. An OS lock, not the file's
/// existence: a crash never leaves a stale lock behind.
pub(crate) fn lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = sibling(path, ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| open_error(path, &e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
            path: path.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(open_error(path, &e)),
    }
}

/// Opens the writer connection and reads what every store has: a damaged file fails here.
fn first_open(target: &Target) -> Result<Connection, StoreError> {
    let conn = open_writer(target)?;
    if meta_i64(&conn, "born_ms")?.is_none() {
        set_meta_i64(&conn, "born_ms", now_ms())?;
    }
    conn.query_row("SELECT count(*) FROM series", [], |r| r.get::<_, i64>(0))?;
    for table in ["raw", "second", "minute", "hour", "coverage", "journal"] {
        conn.query_row(
            &format!("SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)"),
            [],
            |r| r.get::<_, i64>(0),
        )?;
    }
    Ok(conn)
}

fn is_damaged(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sqlite(e) if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        )
    )
}

/// Renames a damaged file and its WAL and shared-memory files to
/// `<name>.corrupt-<YYYYMMDDTHHMMSSZ>[-wal|-shm]`, so a fresh store can start in its place.
fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut aside = sibling(path, &format!(".corrupt-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = sibling(path, &format!(".corrupt-{stamp}-{n}"));
    }
    for suffix in ["-wal", "-shm"] {
        let from = sibling(path, suffix);
        if from.exists() {
            let mut to = aside.clone().into_os_string();
            to.push(suffix);
            std::fs::rename(&from, &to).map_err(|e| open_error(path, &e))?;
        }
    }
    std::fs::rename(path, &aside).map_err(|e| open_error(path, &e))?;
    Ok(aside)
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn open_error(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
