//! Level 1 feature `journal`: what happened and who did it. Every alarm transition, every
//! command's outcome and every note is an entry; `journal_query` pages back through them.

use crate::client::Action;
use crate::ids::{AlarmId, CommandId, EndpointId, Seq};
use crate::server::{CommandState, Severity};
use crate::time::Timestamp;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name a server lists in `connected.features` when it serves `journal_query`.
pub const FEATURE_JOURNAL: &str = "journal";
/// Entries per answer when the query does not say.
pub const JOURNAL_DEFAULT_LIMIT: u32 = 200;
/// At most this many entries per answer.
pub const JOURNAL_MAX_LIMIT: u32 = 500;
/// The longest text a query searches for, in characters.
pub const JOURNAL_TEXT_MAX_CHARS: usize = 200;
/// Who an entry names when the plant itself did it (an alarm raised, a shelf run out).
pub const BY_PLANT: &str = "plant";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    AlarmRaised,
    AlarmCleared,
    AlarmAcked,
    AlarmShelved,
    AlarmUnshelved,
    /// A command's end: its final status.
    Command,
    Note,
}

impl JournalKind {
    pub const ALL: [JournalKind; 7] = [
        JournalKind::AlarmRaised,
        JournalKind::AlarmCleared,
        JournalKind::AlarmAcked,
        JournalKind::AlarmShelved,
        JournalKind::AlarmUnshelved,
        JournalKind::Command,
        JournalKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JournalKind::AlarmRaised => "alarm_raised",
            JournalKind::AlarmCleared => "alarm_cleared",
            JournalKind::AlarmAcked => "alarm_acked",
            JournalKind::AlarmShelved => "alarm_shelved",
            JournalKind::AlarmUnshelved => "alarm_unshelved",
            JournalKind::Command => "command",
            JournalKind::Note => "note",
        }
    }

    pub fn parse(text: &str) -> Option<JournalKind> {
        JournalKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One entry. `text` says what happened in words (the alarm's message, the command, the
/// note); the other fields are there when they apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct JournalEntry {
    pub seq: Seq,
    pub at: Timestamp,
    /// The operator's name, or `plant` for what the plant did by itself.
    pub by: String,
    pub kind: JournalKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_id: Option<AlarmId>,
    #[serde(default)]
    pub endpoint_ids: Vec<EndpointId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<CommandId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CommandState>,
    /// Why a command was rejected or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// An acknowledgement's note or a shelving's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Until when a shelving lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_id: Option<u64>,
}

impl JournalEntry {
    /// An entry with only what every entry has (its `seq` is the journal's to give).
    pub fn new(kind: JournalKind, at: Timestamp, by: &str, text: String) -> JournalEntry {
        JournalEntry {
            seq: 0,
            at,
            by: by.to_owned(),
            kind,
            text,
            severity: None,
            alarm_id: None,
            endpoint_ids: Vec::new(),
            command_id: None,
            action: None,
            value: None,
            status: None,
            reason: None,
            note: None,
            until: None,
            note_id: None,
        }
    }
}

/// `journal_query`: newest first, filtered, `beforeSeq` to page back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct JournalQuery {
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<JournalKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severities: Option<Vec<Severity>>,
    /// Entries whose text, note or operator contains this (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<Seq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl JournalQuery {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(JOURNAL_DEFAULT_LIMIT)
    }

    /// Why the query is refused (`bad_request`), if it is. The `requestId` is checked by
    /// the server with every request's.
    pub fn check(&self) -> Result<(), String> {
        let limit = self.limit();
        if !(1..=JOURNAL_MAX_LIMIT).contains(&limit) {
            return Err(format!(
                "limit is 1 to {JOURNAL_MAX_LIMIT} entries, not {limit}"
            ));
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to < from {
                return Err("to is before from".to_owned());
            }
        }
        if let Some(text) = &self.text {
            let n = text.chars().count();
            if n > JOURNAL_TEXT_MAX_CHARS {
                return Err(format!(
                    "the text searched is at most {JOURNAL_TEXT_MAX_CHARS} characters, not {n}"
                ));
            }
        }
        Ok(())
    }
}

/// `journal`: the answer, newest first; `more` when older entries match too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub request_id: String,
    pub entries: Vec<JournalEntry>,
    pub more: bool,
}

/// `done`: a request with no answer of its own (`alarm_ack`, `alarm_shelve`,
/// `alarm_unshelve`, `note`) that carried a `requestId` was carried out. Sent after the
/// events it caused, so the client has seen them when it reads this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    pub request_id: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_query_outside_its_bounds_says_why() {
        let q = |limit, from: Option<&str>, to: Option<&str>| JournalQuery {
            request_id: "r".into(),
            limit,
            from: from.map(|t| Timestamp::parse(t).expect("a time")),
            to: to.map(|t| Timestamp::parse(t).expect("a time")),
            ..JournalQuery::default()
        };
        assert!(q(None, None, None).check().is_ok());
        assert!(q(Some(1), None, None).check().is_ok());
        assert!(q(Some(500), None, None).check().is_ok());
        assert!(q(Some(0), None, None)
            .check()
            .unwrap_err()
            .contains("limit"));
        assert!(q(Some(501), None, None)
            .check()
            .unwrap_err()
            .contains("not 501"));
        let backwards = q(
            None,
            Some("2026-11-02T00:00:00Z"),
            Some("2026-11-01T00:00:00Z"),
        );
        assert!(backwards.check().unwrap_err().contains("before"));
    }

    #[test]
    fn kinds_have_their_wire_names() {
        for kind in JournalKind::ALL {
            let wire = serde_json::to_value(kind).expect("a kind encodes");
            assert_eq!(wire.as_str(), Some(kind.as_str()));
            assert_eq!(JournalKind::parse(kind.as_str()), Some(kind));
        }
    }
}
