//! What the webview asks of the journal and what it gets back.

use brewdeck_protocol::{JournalEntry, JournalKind, JournalQuery, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which journal a page comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JournalSource {
    /// The plant's: every desk's actions, named by operator.
    Plant,
    /// This desk's own record of what it saw and did (a level-0 server keeps none).
    Desk,
}

/// The journal view's filters. Times are milliseconds since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(optional_fields)]
pub struct JournalFilter {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub kinds: Vec<JournalKind>,
    pub severities: Vec<Severity>,
    pub text: Option<String>,
    /// Older than this entry (the last `seq` of the previous page).
    pub before_seq: Option<u64>,
    pub limit: Option<u32>,
    /// This desk's own record even when the plant keeps a journal.
    pub desk_only: bool,
}

impl JournalFilter {
    /// The wire query (the link or the store fills in the `requestId`).
    pub fn query(&self) -> JournalQuery {
        let time = |ms: Option<i64>| ms.and_then(Timestamp::from_unix_millis);
        let text = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        JournalQuery {
            request_id: "desk".to_owned(),
            from: time(self.from_ms),
            to: time(self.to_ms),
            kinds: (!self.kinds.is_empty()).then(|| self.kinds.clone()),
            severities: (!self.severities.is_empty()).then(|| self.severities.clone()),
            text: text.map(str::to_owned),
            before_seq: self.before_seq,
            limit: self.limit,
        }
    }
}

/// One page of the journal, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JournalPage {
    pub source: JournalSource,
    pub entries: Vec<JournalEntry>,
    /// Older entries match too: ask again with `beforeSeq` = the last entry's `seq`.
    pub more: bool,
    /// Why this desk's own record is shown rather than the plant's, when it is.
    pub notice: Option<String>,
}

/// How an "acknowledge all" went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AckAllOutcome {
    pub acknowledged: u32,
    /// The first refusal, when some were refused (they stay unacknowledged).
    pub refused: Option<String>,
}
