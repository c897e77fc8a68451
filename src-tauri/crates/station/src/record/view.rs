//! What the webview sees of the desk's record: trend queries and answers, the record's health
//! and retention, and what an export did. Generated into TypeScript (`bindings.rs`).

use brewdeck_protocol::EndpointId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Most endpoints in one trend query (the trend tool draws up to 8; the tiles' sparklines ask
/// in chunks of this many).
pub const TREND_MAX_ENDPOINTS: usize = 50;
/// Most points per series in one answer.
pub const TREND_MAX_POINTS: u32 = 5000;

/// Readings of some endpoints over `[fromMs, toMs)`, in at most `maxPoints` buckets each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TrendQuery {
    pub endpoint_ids: Vec<EndpointId>,
    /// Unix milliseconds.
    pub from_ms: i64,
    pub to_ms: i64,
    pub max_points: u32,
}

/// One endpoint's buckets as columns (what a chart takes), oldest first. A bucket with no
/// reading is left out: a gap in `t` larger than `bucketMs` is a gap in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TrendSeries {
    pub endpoint_id: EndpointId,
    /// Bucket starts, Unix milliseconds.
    pub t: Vec<i64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub last: Vec<f64>,
}

/// The answer to a [`TrendQuery`], from the desk's own record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TrendAnswer {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Every bucket's width.
    pub bucket_ms: i64,
    pub series: Vec<TrendSeries>,
    /// Parts of the range the desk did not see are being asked of the plant: a
    /// `record://filled` event follows when they are in, and the query is worth asking again.
    pub filling: bool,
}

/// Whether the desk is recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordHealth {
    Recording,
    /// Writing failed (a full disk, a read-only folder): readings are not kept until it
    /// works again, which is tried by itself.
    Paused,
    /// The record could not be opened; tried again by itself.
    Unavailable,
}

/// How long the record keeps what, and how big it may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// Per-minute history is kept this many days (per-hour history after that, until the
    /// size cap).
    pub minute_days: u32,
    /// The record's file never grows past this many MiB: the oldest is dropped first.
    pub size_cap_mib: u32,
}

/// The desk's record, for the settings and the notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    pub health: RecordHealth,
    /// Why it is paused or unavailable, in plain words.
    pub reason: Option<String>,
    /// Where the record is kept (shown, never taken from the webview).
    pub path: Option<String>,
    pub bytes: u64,
    pub retention: Retention,
    /// A damaged record found at start was moved here and a new one begun.
    pub moved_aside: Option<String>,
    /// Readings kept, and readings lost (while paused, or past the queue).
    pub written: u64,
    pub dropped: u64,
    /// Earliest time the record holds, Unix milliseconds.
    pub oldest_ms: Option<i64>,
}

/// What an export did: `saved` false when the operator cancelled the dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportOutcome {
    pub saved: bool,
    /// The file's name (not its folder), to say where it went.
    pub file_name: Option<String>,
    /// Rows written (CSV).
    pub rows: u64,
}
