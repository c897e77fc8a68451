//! What goes in and comes out: readings, queries, answers, stats, status.

use std::path::PathBuf;

/// One value of one endpoint at one instant. Booleans are recorded as 0/1; NaN and infinities
/// are skipped and counted as dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub endpoint: String,
    pub t_ms: i64,
    pub value: f64,
}

/// A range of some endpoints of one source, in at most `max_points` buckets of at least
/// `min_bucket_ms` (0 for "as fine as fits").
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `""` on the plant; the server URL on the desk.
    pub source: String,
    pub endpoints: Vec<String>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub max_points: usize,
    pub min_bucket_ms: i64,
}

/// Buckets of `bucket_ms` aligned to the Unix epoch, per endpoint in the order asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub bucket_ms: i64,
    pub series: Vec<SeriesPoints>,
    /// The earliest time anything is kept for the asked endpoints (so a chart can say where
    /// history starts rather than show a gap); `None` if nothing is kept.
    pub begins_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoints {
    pub endpoint: String,
    /// Oldest first; empty buckets are left out, so a gap stays a gap.
    pub points: Vec<Point>,
}

/// One bucket: `t_ms` is its start, `last` the value of its latest reading, `n` how many
/// readings it summarises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t_ms: i64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    pub n: u64,
}

/// How big the record is and how far back it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub path: Option<PathBuf>,
    /// On disk (database and WAL: the WAL holds up to a few MB written since the last
    /// checkpoint, on top of what the size cap limits), or in memory.
    pub bytes: u64,
    pub fine_rows: u64,
    pub minute_rows: u64,
    pub hour_rows: u64,
    pub oldest_ms: Option<i64>,
    pub born_ms: i64,
}

/// Whether readings are being kept, and how many were kept or lost since the store opened.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordStatus {
    pub state: RecordState,
    pub written: u64,
    pub dropped: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordState {
    Recording,
    /// The last write failed; `reason` is plain English for the operator. The writer keeps
    /// trying and returns to `Recording` by itself.
    Paused {
        reason: String,
    },
}
