//! What the link asks a level-1 server for the readings of the past (feature `history`).

use brewdeck_protocol::{EndpointId, Timestamp};

/// Most `history_query` waiting for their answer at once; one more is refused with
/// [`crate::LinkError::Busy`] (the plant allows as many per connection).
pub const MAX_HISTORY_IN_FLIGHT: usize = 4;

/// A `history_query` without its `requestId`, which the link chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    pub endpoint_ids: Vec<EndpointId>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub max_points: Option<u32>,
}
