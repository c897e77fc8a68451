//! Level 1 feature `notes`: the shift's log, written by operators, on endpoints or not,
//! sequenced and replayed like alarms.

use crate::ids::{EndpointId, Seq};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name a server lists in `connected.features` when it serves `note`.
pub const FEATURE_NOTES: &str = "notes";
/// The longest note, in characters (at least one).
pub const NOTE_MAX_CHARS: usize = 2000;
/// At most this many endpoints a note is about.
pub const NOTE_MAX_ENDPOINTS: usize = 20;

/// `note` from a client: what the operator writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct NoteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_ids: Option<Vec<EndpointId>>,
}

impl NoteRequest {
    /// Why the note is refused, if it is.
    pub fn check(&self) -> Result<(), String> {
        let n = self.text.chars().count();
        if self.text.trim().is_empty() {
            return Err("a note needs some text".to_owned());
        }
        if n > NOTE_MAX_CHARS {
            return Err(format!(
                "a note is at most {NOTE_MAX_CHARS} characters, not {n}"
            ));
        }
        let e = self.endpoint_ids.as_ref().map_or(0, Vec::len);
        if e > NOTE_MAX_ENDPOINTS {
            return Err(format!(
                "a note is about at most {NOTE_MAX_ENDPOINTS} endpoints, not {e}"
            ));
        }
        Ok(())
    }
}

/// `note` from a server: a note as every level-1 client receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub note_id: u64,
    pub seq: Seq,
    pub at: Timestamp,
    pub by: String,
    pub text: String,
    #[serde(default)]
    pub endpoint_ids: Vec<EndpointId>,
}
