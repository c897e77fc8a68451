//! Level 1 feature `history`: readings over time, asked by `history_query` and answered by
//! `history` (or an `error` carrying the same `requestId`).

use crate::ids::EndpointId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name a server lists in `connected.features` when it serves `history_query`.
pub const FEATURE_HISTORY: &str = "history";
/// At most this many endpoints in one `history_query`.
pub const HISTORY_MAX_ENDPOINTS: usize = 20;
/// At most this many points per series in one answer.
pub const HISTORY_MAX_POINTS: u32 = 5000;
/// Points per series when the query does not say.
pub const HISTORY_DEFAULT_POINTS: u32 = 1000;
/// The longest `requestId` a server takes.
pub const REQUEST_ID_MAX_CHARS: usize = 64;

/// `history_query`: buckets of readings of up to 20 endpoints over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct HistoryQuery {
    pub request_id: String,
    pub endpoint_ids: Vec<EndpointId>,
    pub from: Timestamp,
    pub to: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_points: Option<u32>,
}

impl HistoryQuery {
    pub fn max_points(&self) -> u32 {
        self.max_points.unwrap_or(HISTORY_DEFAULT_POINTS)
    }
}

/// `history`: the answer. Buckets of equal width `bucketMs`, oldest first, empty ones left
/// out so a gap shows as a gap. `complete` is false when the server's history begins after
/// `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub request_id: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub bucket_ms: u64,
    pub series: Vec<HistorySeries>,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistorySeries {
    pub endpoint_id: EndpointId,
    pub points: Vec<HistoryPoint>,
}

/// One bucket: its start, the smallest, largest and latest reading in it and how many.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    pub t: Timestamp,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    pub n: u64,
}
