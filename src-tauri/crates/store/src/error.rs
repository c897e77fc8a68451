use std::path::PathBuf;

/// Why the record could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another store (this process or another) holds the file: two writers would interleave
    /// their batches and fight over retention.
    #[error("the record {} is already open elsewhere", path.display())]
    Locked { path: PathBuf },
    /// A newer Brewdeck wrote this file; it is left untouched so that version can still use it.
    #[error("the record was written by a newer Brewdeck (schema version {found}, this one knows up to {known})")]
    TooNew { found: u32, known: u32 },
    #[error("cannot open the record {}: {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    #[error("record database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("record file: {0}")]
    Io(#[from] std::io::Error),
    /// The query cannot be answered as asked (empty range, no endpoints, no points).
    #[error("bad query: {0}")]
    BadQuery(String),
    /// The writer could not commit; what it held was dropped and counted. `reason` is plain
    /// English, fit for the operator ("the disk is full").
    #[error("recording paused: {reason}")]
    Paused { reason: String },
    /// The store was dropped (or its writer thread is gone).
    #[error("the record is closed")]
    Closed,
}
