//! What this desk saw and did, as journal entries: every alarm transition it saw (from any
//! server, level 0 included), every command it issued once it ended, every note it received
//! or kept. Pure: link events in, entries out; the task in `desk_journal` writes them.

use brewdeck_link::{CommandPhase, CommandView, Delivery, LinkEvent};
use brewdeck_protocol::{
    Alarm, AlarmId, AlarmState, CommandState, EndpointId, JournalEntry, JournalKind, Note, Shelved,
    Timestamp, BY_PLANT,
};
use std::collections::{HashMap, HashSet};

/// Who an entry names when the desk cannot know (a level-0 server names nobody).
pub const BY_UNKNOWN: &str = "unknown";

/// What the desk last saw of an alarm.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    state: Option<AlarmState>,
    acked: bool,
    shelved: Option<Shelved>,
}

/// A new entry and whether it may already be in the journal (an alarm first seen in a
/// snapshot was perhaps journaled before this desk restarted: the writer checks).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub entry: JournalEntry,
    pub maybe_known: bool,
}

#[derive(Debug, Default)]
pub struct JournalBook {
    alarms: HashMap<AlarmId, Seen>,
    commands: HashSet<brewdeck_protocol::CommandId>,
    /// The catalog's names, so a command entry reads as the operator saw it.
    names: HashMap<EndpointId, String>,
}

fn phase_word(phase: CommandPhase) -> &'static str {
    match phase {
        CommandPhase::Queued => "queued",
        CommandPhase::Sent => "sent",
        CommandPhase::Acked => "acknowledged",
        CommandPhase::Succeeded => "succeeded",
        CommandPhase::Failed => "failed",
        CommandPhase::Rejected => "rejected",
        CommandPhase::Unknown => "outcome unknown",
    }
}

fn entry(kind: JournalKind, at: Timestamp, by: &str, text: String) -> JournalEntry {
    JournalEntry::new(kind, at, by, text)
}

fn alarm_entry(kind: JournalKind, alarm: &Alarm, at: Timestamp, by: &str) -> JournalEntry {
    let mut e = entry(kind, at, by, alarm.message.clone());
    e.severity = Some(alarm.severity);
    e.alarm_id = Some(alarm.alarm_id.clone());
    e.endpoint_ids = alarm.endpoint_id.iter().cloned().collect();
    e
}

impl JournalBook {
    pub fn new() -> Self {
        JournalBook::default()
    }

    /// Forgets what it saw (the desk now talks to another server).
    pub fn reset(&mut self) {
        self.alarms.clear();
        self.commands.clear();
    }

    /// The catalog's names for endpoints (after each sync).
    pub fn set_names(&mut self, names: HashMap<EndpointId, String>) {
        self.names = names;
    }

    /// The entries this event makes; `me` names this desk's operator.
    pub fn on_event(&mut self, event: &LinkEvent, me: &str, now: Timestamp) -> Vec<Written> {
        match event {
            LinkEvent::Alarm { alarm, via } => self.alarm(alarm, *via, now),
            LinkEvent::Command { command, .. } => self.command(command, me, now),
            LinkEvent::Note { note, .. } => vec![Written {
                entry: note_entry(note),
                maybe_known: false,
            }],
            LinkEvent::ServerChanged { .. } => {
                self.reset();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn alarm(&mut self, alarm: &Alarm, via: Delivery, now: Timestamp) -> Vec<Written> {
        let next = Seen {
            state: alarm.state,
            acked: alarm.acked == Some(true),
            shelved: alarm.shelved.clone(),
        };
        let before = self.alarms.insert(alarm.alarm_id.clone(), next.clone());
        if alarm.is_closed() {
            self.alarms.remove(&alarm.alarm_id);
        }
        let mut out = Vec::new();
        let fresh = before.is_none();
        let mut push =
            |entry: JournalEntry, maybe_known: bool| out.push(Written { entry, maybe_known });
        if fresh {
            // First seen: raised, at its time (level 0 sends only raises).
            let known = via == Delivery::Snapshot;
            if next.state != Some(AlarmState::Cleared) || !known {
                push(
                    alarm_entry(JournalKind::AlarmRaised, alarm, alarm.timestamp, BY_PLANT),
                    known,
                );
            }
        }
        let was = before.unwrap_or(Seen {
            state: Some(AlarmState::Active),
            acked: false,
            shelved: None,
        });
        if next.state == Some(AlarmState::Cleared) && was.state != Some(AlarmState::Cleared) {
            push(
                alarm_entry(JournalKind::AlarmCleared, alarm, alarm.timestamp, BY_PLANT),
                fresh && via == Delivery::Snapshot,
            );
        }
        if next.acked && !was.acked {
            let by = alarm.acked_by.as_deref().unwrap_or(BY_UNKNOWN);
            let mut e = alarm_entry(
                JournalKind::AlarmAcked,
                alarm,
                alarm.acked_at.unwrap_or(now),
                by,
            );
            e.note = alarm.ack_note.clone();
            push(e, fresh && via == Delivery::Snapshot);
        }
        match (&was.shelved, &next.shelved) {
            (_, Some(s)) if was.shelved.as_ref() != Some(s) => {
                let mut e = alarm_entry(JournalKind::AlarmShelved, alarm, now, &s.by);
                e.note = Some(s.reason.clone());
                e.until = Some(s.until);
                push(e, fresh && via == Delivery::Snapshot);
            }
            (Some(s), None) => {
                // Its time up, the plant brought it back; before that, someone did.
                let by = if now >= s.until { BY_PLANT } else { BY_UNKNOWN };
                push(
                    alarm_entry(JournalKind::AlarmUnshelved, alarm, now, by),
                    false,
                );
            }
            _ => {}
        }
        out
    }

    fn command(&mut self, command: &CommandView, me: &str, now: Timestamp) -> Vec<Written> {
        let ended = command.phase.is_final() || command.phase == CommandPhase::Unknown;
        if !command.mine || !ended || !self.commands.insert(command.command_id.clone()) {
            return Vec::new();
        }
        let status = match command.phase {
            CommandPhase::Succeeded => Some(CommandState::Succeeded),
            CommandPhase::Failed => Some(CommandState::Failed),
            CommandPhase::Rejected => Some(CommandState::Rejected),
            _ => None,
        };
        let value = command
            .value
            .as_ref()
            .map(|v| format!(" to {v}"))
            .unwrap_or_default();
        let name = self
            .names
            .get(&command.endpoint_id)
            .cloned()
            .unwrap_or_else(|| command.endpoint_id.to_string());
        let text = format!(
            "{} {name}{value}: {}",
            command.action.as_str(),
            phase_word(command.phase)
        );
        let mut e = entry(
            JournalKind::Command,
            command.completed_at.unwrap_or(now),
            me,
            text,
        );
        e.endpoint_ids = vec![command.endpoint_id.clone()];
        e.command_id = Some(command.command_id.clone());
        e.action = Some(command.action);
        e.value = command.value.clone();
        e.status = status;
        e.reason = command.reason.clone();
        vec![Written {
            entry: e,
            maybe_known: false,
        }]
    }
}

/// A note as a journal entry.
pub fn note_entry(note: &Note) -> JournalEntry {
    let mut e = entry(JournalKind::Note, note.at, &note.by, note.text.clone());
    e.endpoint_ids = note.endpoint_ids.clone();
    e.note_id = Some(note.note_id);
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_protocol::Severity;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn alarm(state: AlarmState, acked: bool) -> Alarm {
        Alarm {
            alarm_id: 3.into(),
            severity: Severity::High,
            message: "FV-3 temperature high".into(),
            timestamp: t("2026-11-30T10:00:00Z"),
            endpoint_id: Some(12.into()),
            state: Some(state),
            acked: Some(acked),
            acked_by: acked.then(|| "ana".to_owned()),
            acked_at: acked.then(|| t("2026-11-30T10:01:00Z")),
            ack_note: acked.then(|| "lid open".to_owned()),
            shelved: None,
            seq: None,
        }
    }

    fn kinds(w: &[Written]) -> Vec<JournalKind> {
        w.iter().map(|w| w.entry.kind).collect()
    }

    fn ev(alarm: Alarm, via: Delivery) -> LinkEvent {
        LinkEvent::Alarm { alarm, via }
    }

    #[test]
    fn each_transition_is_one_entry_and_repeats_are_none() {
        let mut b = JournalBook::new();
        let now = t("2026-11-30T10:05:00Z");
        let raised = b.on_event(
            &ev(alarm(AlarmState::Active, false), Delivery::Live),
            "me",
            now,
        );
        assert_eq!(kinds(&raised), vec![JournalKind::AlarmRaised]);
        assert_eq!(raised[0].entry.by, BY_PLANT);
        assert!(!raised[0].maybe_known);
        // The same alarm again (a replay): nothing.
        assert!(b
            .on_event(
                &ev(alarm(AlarmState::Active, false), Delivery::Replay),
                "me",
                now
            )
            .is_empty());
        let acked = b.on_event(
            &ev(alarm(AlarmState::Active, true), Delivery::Live),
            "me",
            now,
        );
        assert_eq!(kinds(&acked), vec![JournalKind::AlarmAcked]);
        assert_eq!(acked[0].entry.by, "ana");
        assert_eq!(acked[0].entry.note.as_deref(), Some("lid open"));
        let mut shelved = alarm(AlarmState::Active, true);
        shelved.shelved = Some(Shelved {
            until: t("2026-11-30T10:35:00Z"),
            by: "ben".into(),
            reason: "probe swap".into(),
        });
        let s = b.on_event(&ev(shelved, Delivery::Live), "me", now);
        assert_eq!(kinds(&s), vec![JournalKind::AlarmShelved]);
        assert_eq!(
            (s[0].entry.by.as_str(), s[0].entry.note.as_deref()),
            ("ben", Some("probe swap"))
        );
        // Back after its time: the plant did it.
        let back = b.on_event(
            &ev(alarm(AlarmState::Active, false), Delivery::Live),
            "me",
            t("2026-11-30T10:35:01Z"),
        );
        assert_eq!(kinds(&back), vec![JournalKind::AlarmUnshelved]);
        assert_eq!(back[0].entry.by, BY_PLANT);
        let cleared = b.on_event(
            &ev(alarm(AlarmState::Cleared, true), Delivery::Live),
            "me",
            now,
        );
        assert_eq!(
            kinds(&cleared),
            vec![JournalKind::AlarmCleared, JournalKind::AlarmAcked]
        );
    }

    #[test]
    fn alarms_first_seen_in_a_snapshot_may_be_known_already() {
        let mut b = JournalBook::new();
        let now = t("2026-11-30T10:05:00Z");
        let w = b.on_event(
            &ev(alarm(AlarmState::Active, true), Delivery::Snapshot),
            "me",
            now,
        );
        assert_eq!(
            kinds(&w),
            vec![JournalKind::AlarmRaised, JournalKind::AlarmAcked]
        );
        assert!(w.iter().all(|w| w.maybe_known));
    }

    #[test]
    fn only_this_desks_commands_are_journaled_once_when_they_end() {
        let mut b = JournalBook::new();
        b.set_names(HashMap::from([(4.into(), "HLT setpoint".to_owned())]));
        let now = t("2026-11-30T10:05:00Z");
        let mut view = CommandView {
            command_id: "c-1".into(),
            endpoint_id: 4.into(),
            action: brewdeck_protocol::Action::Set,
            value: Some(brewdeck_protocol::Value::Number(168.0)),
            phase: CommandPhase::Sent,
            reason: None,
            actual_value: None,
            issued_at: t("2026-11-30T10:04:59Z"),
            expires_at: t("2026-11-30T10:05:29Z"),
            completed_at: None,
            mine: true,
            seq: None,
            revision: 1,
        };
        let event = |v: &CommandView| LinkEvent::Command {
            command: v.clone(),
            via: Delivery::Live,
        };
        assert!(
            b.on_event(&event(&view), "ana", now).is_empty(),
            "not ended yet"
        );
        view.phase = CommandPhase::Succeeded;
        let w = b.on_event(&event(&view), "ana", now);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].entry.text, "set HLT setpoint to 168: succeeded");
        assert_eq!(w[0].entry.by, "ana");
        assert_eq!(w[0].entry.status, Some(CommandState::Succeeded));
        assert!(b.on_event(&event(&view), "ana", now).is_empty(), "once");
        view.command_id = "c-2".into();
        view.mine = false;
        assert!(
            b.on_event(&event(&view), "ana", now).is_empty(),
            "another desk's"
        );
    }
}
