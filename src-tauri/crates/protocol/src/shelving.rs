//! Level 1 feature `shelving`: an alarm out of the way for a while, for a reason; and an
//! acknowledgement that carries a note.

use crate::ids::AlarmId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name a server lists in `connected.features` when it serves `alarm_shelve`.
pub const FEATURE_SHELVING: &str = "shelving";
/// The longest `alarm_ack.note`, in characters.
pub const ACK_NOTE_MAX_CHARS: usize = 500;
/// The longest shelving reason, in characters (at least one).
pub const SHELVE_REASON_MAX_CHARS: usize = 200;

/// `alarm_shelve`: out of the way for `minutes` (within the role's limit), for `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct AlarmShelve {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub alarm_id: AlarmId,
    pub minutes: u32,
    pub reason: String,
}

/// `alarm_unshelve`: back before its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct AlarmUnshelve {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub alarm_id: AlarmId,
}

/// `alarm.shelved`: until when, by whom and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Shelved {
    pub until: Timestamp,
    pub by: String,
    pub reason: String,
}

/// Why a shelving reason or an acknowledgement note is refused, if it is.
pub fn check_reason(reason: &str) -> Result<(), String> {
    let n = reason.chars().count();
    if reason.trim().is_empty() {
        return Err("a shelving needs a reason".to_owned());
    }
    if n > SHELVE_REASON_MAX_CHARS {
        return Err(format!(
            "a shelving reason is at most {SHELVE_REASON_MAX_CHARS} characters, not {n}"
        ));
    }
    Ok(())
}

/// Why an acknowledgement note is refused, if it is.
pub fn check_ack_note(note: &str) -> Result<(), String> {
    let n = note.chars().count();
    if n > ACK_NOTE_MAX_CHARS {
        return Err(format!(
            "an acknowledgement note is at most {ACK_NOTE_MAX_CHARS} characters, not {n}"
        ));
    }
    Ok(())
}
