//! The plant's journal entries: every alarm transition, every command's end and every note,
//! in words, to the plant's store (`historian::JOURNAL_SOURCE`).

use super::PlantState;
use crate::historian::JOURNAL_SOURCE;
use brewdeck_protocol::{
    Action, Alarm, CommandRecord, JournalEntry, JournalKind, Note, Timestamp, Value,
};

/// An entry with only what every entry has; the store gives it its `seq`.
fn entry(kind: JournalKind, by: &str, text: String, at: Timestamp) -> JournalEntry {
    JournalEntry::new(kind, at, by, text)
}

/// A command in words: `set HLT setpoint to 168: succeeded`.
pub(crate) fn command_text(
    endpoint: &str,
    action: Action,
    value: Option<&Value>,
    status: &str,
) -> String {
    let asked = match (action, value) {
        (Action::Set, Some(v)) => format!("set {endpoint} to {v}"),
        (Action::Set, None) => format!("set {endpoint}"),
        (Action::On, _) => format!("turn on {endpoint}"),
        (Action::Off, _) => format!("turn off {endpoint}"),
        (Action::Open, _) => format!("open {endpoint}"),
        (Action::Close, _) => format!("close {endpoint}"),
    };
    format!("{asked}: {status}")
}

impl PlantState {
    fn journal(&self, entry: JournalEntry) {
        if let Some(writer) = &self.recorder {
            writer.journal(JOURNAL_SOURCE, entry);
        }
    }

    /// An alarm's transition: its message is the text; an acknowledgement's note or a
    /// shelving's reason the note.
    pub(super) fn journal_alarm(&self, kind: JournalKind, alarm: &Alarm, by: &str, at: Timestamp) {
        let note = match kind {
            JournalKind::AlarmAcked => alarm.ack_note.clone(),
            JournalKind::AlarmShelved => alarm.shelved.as_ref().map(|s| s.reason.clone()),
            _ => None,
        };
        let until = match kind {
            JournalKind::AlarmShelved => alarm.shelved.as_ref().map(|s| s.until),
            _ => None,
        };
        self.journal(JournalEntry {
            severity: Some(alarm.severity),
            alarm_id: Some(alarm.alarm_id.clone()),
            endpoint_ids: alarm.endpoint_id.iter().cloned().collect(),
            note,
            until,
            ..entry(kind, by, alarm.message.clone(), at)
        });
    }

    /// A command's end, by whoever sent it.
    pub(super) fn journal_command(&self, record: &CommandRecord, by: &str) {
        let endpoint = self.index.get(&record.endpoint_id).map_or_else(
            || record.endpoint_id.to_string(),
            |&i| self.catalog[i].name.clone(),
        );
        let status = serde_json::to_value(record.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text = command_text(&endpoint, record.action, record.value.as_ref(), &status);
        self.journal(JournalEntry {
            endpoint_ids: vec![record.endpoint_id.clone()],
            command_id: Some(record.command_id.clone()),
            action: Some(record.action),
            value: record.value.clone(),
            status: Some(record.status),
            reason: record.reason.clone(),
            ..entry(
                JournalKind::Command,
                by,
                text,
                record.completed_at.unwrap_or_else(Timestamp::now),
            )
        });
    }

    pub(super) fn journal_note(&self, note: &Note) {
        self.journal(JournalEntry {
            endpoint_ids: note.endpoint_ids.clone(),
            note_id: Some(note.note_id),
            ..entry(JournalKind::Note, &note.by, note.text.clone(), note.at)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::command_text;
    use brewdeck_protocol::{Action, Value};

    #[test]
    fn a_command_reads_as_what_was_asked_and_how_it_ended() {
        assert_eq!(
            command_text(
                "HLT setpoint",
                Action::Set,
                Some(&Value::Number(168.0)),
                "succeeded"
            ),
            "set HLT setpoint to 168: succeeded"
        );
        assert_eq!(
            command_text("HLT heater", Action::On, None, "rejected"),
            "turn on HLT heater: rejected"
        );
        assert_eq!(
            command_text("FV-1 valve", Action::Close, None, "failed"),
            "close FV-1 valve: failed"
        );
    }
}
