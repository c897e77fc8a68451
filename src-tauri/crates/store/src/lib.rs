//! `brewdeck-store`: the embedded record. The plant server keeps every reading in it (its
//! historian); the desktop app keeps what it received, per second. SQLite (bundled), one file
//! per store, WAL; no Tauri, no async runtime.
//!
//! Design:
//! - Tiers. A fine tier (`raw`: every reading at its millisecond, for the plant; `second`:
//!   per-second buckets, for the desk), then `minute` and `hour` buckets of min, max, last and
//!   count. Each tier has its own retention; the hour tier by default lives until the size cap
//!   needs room, and then the oldest day of every tier goes first.
//! - One writer thread per store owns the only writing connection. [`Writer`] calls queue and
//!   return; the thread folds readings into in-memory deltas and commits one transaction per
//!   `flush_every` (500 ms), merging deltas into rows already on disk, so a restart mid-minute
//!   loses nothing already committed. A failed commit pauses recording (see
//!   [`RecordStatus`]) and is retried; the queue is bounded and drops (and counts) rather than
//!   block.
//! - Queries ([`Reader`]) run on a small pool of read-only connections. The bucket width comes
//!   from [`LADDER_MS`]; the rows from the coarsest tier that can produce it.
//! - Coverage: the desk records which intervals of each source it saw or fetched, so after a
//!   disconnect it asks a server only for [`Reader::gaps`], and [`Writer::import`]s the answer
//!   into minutes or hours without overwriting anything it saw itself.
//!
//! Modules:
//! - `config`: [`StoreConfig`], [`Location`], [`Fine`], defaults for the plant and the desk.
//! - `answer`: readings in, queries, answers, stats and status out.
//! - `store`: [`Store::open`]: the lock file, a damaged file moved aside, the writer thread.
//! - `schema`: the tables, `MIGRATIONS` applied by `user_version`, opening connections.
//! - `writer`: the [`Writer`] handle; `worker`: the writer thread, its batches and pauses.
//! - `journal`: the journal table ([`Writer::journal`], [`Reader::journal`]): what happened and
//!   who did it, as the protocol's entries, filtered and paged newest first.
//! - `prune`: retention and the size cap.
//! - `reader`: [`Reader`]: queries, gaps, stats; `plan`: choosing width and tier (pure).
//! - `ladder`: [`LADDER_MS`], [`next_bucket`]; `bucket`: folding into buckets (pure).
//! - `coverage`: joining and subtracting intervals (pure).
//! - `shared`: what the writer thread and readers share.
//! - [`fill`]: writing synthetic history fast, for benchmarks.
//! - `error`: [`StoreError`].
//!
//! An in-memory store uses SQLite's `memdb` VFS (`file:/brewdeck-<uuid>?vfs=memdb`), which
//! every connection of the process naming it shares.

mod answer;
mod bucket;
mod config;
mod coverage;
mod error;
pub mod fill;
mod journal;
mod ladder;
mod plan;
mod prune;
mod reader;
mod schema;
mod shared;
mod store;
mod worker;
mod writer;

pub use answer::{Answer, Point, Query, Reading, RecordState, RecordStatus, SeriesPoints, Stats};
pub use config::{Fine, Location, StoreConfig};
pub use error::StoreError;
pub use ladder::{next_bucket, LADDER_MS};
pub use reader::Reader;
pub use store::{Opened, Store};
pub use writer::Writer;
