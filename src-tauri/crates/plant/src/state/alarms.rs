//! Alarms: raised and cleared by the simulator (or the admin API), acknowledged, shelved and
//! unshelved by operators, unshelved by the plant when a shelf runs out. Each change is the
//! whole alarm again with a new `seq`, and a journal entry.

use super::{AlarmRefusal, PlantState, Topic};
use crate::caps::{self, Refused, MAX_HELD_ALARMS};
use brewdeck_protocol::{
    Alarm, AlarmId, AlarmState, EndpointId, Id, JournalKind, Operator, Seq, ServerMessage,
    Severity, Shelved, Timestamp, BY_PLANT,
};
use tokio::time::Instant;

impl PlantState {
    pub(super) fn raise(
        &mut self,
        severity: Severity,
        message: String,
        endpoint: Option<EndpointId>,
        at: Timestamp,
    ) -> u64 {
        let id = self.next_alarm;
        self.next_alarm += 1;
        let mut alarm = Alarm {
            alarm_id: id.into(),
            severity,
            message,
            timestamp: at,
            endpoint_id: endpoint,
            state: Some(AlarmState::Active),
            acked: Some(false),
            acked_by: None,
            acked_at: None,
            ack_note: None,
            shelved: None,
            seq: None,
        };
        self.publish_alarm(&mut alarm);
        self.journal_alarm(JournalKind::AlarmRaised, &alarm, BY_PLANT, at);
        self.alarms.insert(id, alarm);
        id
    }

    pub(super) fn clear(&mut self, id: u64, at: Timestamp) -> bool {
        let Some(mut alarm) = self.alarms.get(&id).cloned() else {
            return false;
        };
        if alarm.state == Some(AlarmState::Cleared) {
            return false;
        }
        alarm.state = Some(AlarmState::Cleared);
        alarm.timestamp = at;
        self.publish_alarm(&mut alarm);
        self.journal_alarm(JournalKind::AlarmCleared, &alarm, BY_PLANT, at);
        self.keep_or_retire(id, alarm);
        true
    }

    /// The alarm to every client, with the next `seq`.
    fn publish_alarm(&mut self, alarm: &mut Alarm) {
        self.publish_sequenced(Topic::Alarm, |seq| {
            alarm.seq = Some(seq);
            ServerMessage::Alarm(alarm.clone())
        });
    }

    /// A cleared and acknowledged alarm is over: it leaves the active list, shelved or not
    /// (its events stay in the history).
    fn keep_or_retire(&mut self, id: u64, alarm: Alarm) {
        if alarm.is_closed() {
            self.alarms.remove(&id);
            self.shelves.remove(&id);
        } else {
            self.alarms.insert(id, alarm);
        }
    }

    /// Raised from the admin API: a manual alarm with no simulator condition behind it.
    /// Refused when the plant already holds `MAX_HELD_ALARMS`: every held alarm is in every
    /// snapshot.
    pub fn raise_manual(
        &mut self,
        severity: Severity,
        message: String,
        endpoint: Option<EndpointId>,
    ) -> Result<(u64, Seq), Refused> {
        caps::alarm_message(&message)?;
        if self.alarms.len() >= MAX_HELD_ALARMS {
            return Err(Refused::TooManyAlarms {
                max: MAX_HELD_ALARMS,
            });
        }
        let id = self.raise(severity, message, endpoint, Timestamp::now());
        Ok((id, self.seq))
    }

    pub fn clear_manual(&mut self, id: u64) -> bool {
        self.conditions.retain(|_, v| *v != id);
        self.clear(id, Timestamp::now())
    }

    /// A held alarm (active, or not yet acknowledged) by its id as a client gave it.
    fn held(&self, alarm_id: &AlarmId) -> Result<(u64, Alarm), AlarmRefusal> {
        let key = match &alarm_id.0 {
            Id::Number(n) => Some(*n),
            Id::Text(s) => s.parse().ok(),
        };
        key.and_then(|k| self.alarms.get(&k).cloned().map(|a| (k, a)))
            .ok_or_else(|| AlarmRefusal::Unknown(alarm_id.clone()))
    }

    /// An operator acknowledges an alarm, with an optional note (checked by the caller).
    /// Acknowledging twice changes nothing.
    pub fn acknowledge(
        &mut self,
        alarm_id: &AlarmId,
        by: &Operator,
        note: Option<String>,
    ) -> Result<(), AlarmRefusal> {
        let (id, mut alarm) = self.held(alarm_id)?;
        if alarm.acked == Some(true) {
            return Ok(());
        }
        let now = Timestamp::now();
        alarm.acked = Some(true);
        alarm.acked_by = Some(by.name.clone());
        alarm.acked_at = Some(now);
        alarm.ack_note = note;
        self.publish_alarm(&mut alarm);
        self.journal_alarm(JournalKind::AlarmAcked, &alarm, &by.name, now);
        self.keep_or_retire(id, alarm);
        Ok(())
    }

    /// Shelves an alarm for `minutes` from now (again from now if it was shelved). The role's
    /// limit and the reason are checked by the caller.
    pub fn shelve(
        &mut self,
        alarm_id: &AlarmId,
        minutes: u32,
        reason: String,
        by: &Operator,
    ) -> Result<(), AlarmRefusal> {
        let (id, mut alarm) = self.held(alarm_id)?;
        let now = Timestamp::now();
        let length = self.shelving_minute.saturating_mul(minutes);
        let until = chrono::Duration::from_std(length)
            .ok()
            .and_then(|d| now.0.checked_add_signed(d))
            .map_or(now, Timestamp);
        // The plant's own clock decides when it ends; `until` says it to people.
        let deadline = Instant::now()
            .checked_add(length)
            .unwrap_or_else(Instant::now);
        self.shelves.insert(id, deadline);
        alarm.shelved = Some(Shelved {
            until,
            by: by.name.clone(),
            reason,
        });
        self.publish_alarm(&mut alarm);
        self.journal_alarm(JournalKind::AlarmShelved, &alarm, &by.name, now);
        self.keep_or_retire(id, alarm);
        Ok(())
    }

    /// Brings a shelved alarm back before its time; one not shelved is left as it is. An
    /// operator may unshelve only what they shelved; a supervisor anything.
    pub fn unshelve(&mut self, alarm_id: &AlarmId, by: &Operator) -> Result<(), AlarmRefusal> {
        let (id, mut alarm) = self.held(alarm_id)?;
        let Some(shelved) = &alarm.shelved else {
            return Ok(());
        };
        if shelved.by != by.name && !by.role.may_unshelve_others() {
            return Err(AlarmRefusal::Forbidden(format!(
                "{} shelved this alarm: an {} may unshelve only what they shelved",
                shelved.by, by.role
            )));
        }
        alarm.shelved = None;
        self.shelves.remove(&id);
        self.publish_alarm(&mut alarm);
        self.journal_alarm(
            JournalKind::AlarmUnshelved,
            &alarm,
            &by.name,
            Timestamp::now(),
        );
        self.keep_or_retire(id, alarm);
        Ok(())
    }

    /// Unshelves every alarm whose shelf has run out (each step of the simulation). One still
    /// active comes back unacknowledged: its return is a new demand on the operator
    /// (ISA-18.2).
    pub(super) fn expire_shelves(&mut self) {
        let now = Instant::now();
        let due: Vec<u64> = self
            .shelves
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.shelves.remove(&id);
            let Some(mut alarm) = self.alarms.get(&id).cloned() else {
                continue;
            };
            if alarm.shelved.take().is_none() {
                continue;
            }
            if alarm.state == Some(AlarmState::Active) {
                alarm.acked = Some(false);
                alarm.acked_by = None;
                alarm.acked_at = None;
                alarm.ack_note = None;
            }
            self.publish_alarm(&mut alarm);
            self.journal_alarm(
                JournalKind::AlarmUnshelved,
                &alarm,
                BY_PLANT,
                Timestamp::now(),
            );
            self.keep_or_retire(id, alarm);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::config::PlantConfig;
    use crate::state::{AlarmRefusal, PlantState};
    use brewdeck_protocol::{AlarmId, AlarmState, Operator, Role, ServerMessage, Severity, Token};
    use std::time::Duration;
    use tokio::sync::broadcast;

    fn state(
        minute: Duration,
    ) -> (
        PlantState,
        broadcast::Receiver<std::sync::Arc<super::super::Event>>,
    ) {
        let mut config = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new("t").unwrap());
        config.shelving_minute = minute;
        let (tx, rx) = broadcast::channel(4096);
        (PlantState::new(&config, tx), rx)
    }

    fn who(name: &str, role: Role) -> Operator {
        Operator {
            name: name.into(),
            role,
        }
    }

    fn alarm(s: &PlantState, id: u64) -> Option<brewdeck_protocol::Alarm> {
        s.snapshot()
            .alarms
            .into_iter()
            .find(|a| a.alarm_id == AlarmId::from(id))
    }

    /// The alarms published since the last call, in order.
    fn published(
        rx: &mut broadcast::Receiver<std::sync::Arc<super::super::Event>>,
    ) -> Vec<brewdeck_protocol::Alarm> {
        let mut out = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let Ok(ServerMessage::Alarm(a)) =
                brewdeck_protocol::decode_server(event.text.as_str())
            {
                out.push(a);
            }
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_shelf_runs_out_on_the_plants_clock_and_an_active_alarm_comes_back_unacknowledged() {
        let (mut s, mut rx) = state(Duration::from_secs(60));
        let ana = who("ana", Role::Operator);
        let (id, _) = s
            .raise_manual(Severity::High, "FV-3 probe uncertain".into(), None)
            .unwrap();
        s.acknowledge(&id.into(), &ana, Some("seen".into()))
            .unwrap();
        s.shelve(&id.into(), 30, "probe being replaced".into(), &ana)
            .unwrap();
        published(&mut rx);
        let shelved = alarm(&s, id).unwrap().shelved.unwrap();
        assert_eq!(shelved.by, "ana");
        assert_eq!(shelved.reason, "probe being replaced");

        tokio::time::advance(Duration::from_secs(29 * 60 + 59)).await;
        s.expire_shelves();
        assert!(published(&mut rx).is_empty(), "not yet");
        assert!(alarm(&s, id).unwrap().shelved.is_some());

        tokio::time::advance(Duration::from_secs(1)).await;
        s.expire_shelves();
        let back = published(&mut rx);
        assert_eq!(back.len(), 1);
        let a = &back[0];
        assert!(a.shelved.is_none());
        assert_eq!(a.acked, Some(false));
        assert_eq!(
            (a.acked_by.as_ref(), a.acked_at, a.ack_note.as_ref()),
            (None, None, None)
        );
        assert_eq!(alarm(&s, id).unwrap().acked, Some(false));
        // Only once.
        tokio::time::advance(Duration::from_secs(3600)).await;
        s.expire_shelves();
        assert!(published(&mut rx).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn shelving_again_starts_from_now_and_a_closed_alarm_leaves_its_shelf() {
        let (mut s, mut rx) = state(Duration::from_secs(60));
        let ana = who("ana", Role::Operator);
        let (id, _) = s.raise_manual(Severity::Low, "a".into(), None).unwrap();
        s.shelve(&id.into(), 10, "r".into(), &ana).unwrap();
        tokio::time::advance(Duration::from_secs(9 * 60)).await;
        s.shelve(&id.into(), 10, "again".into(), &ana).unwrap();
        tokio::time::advance(Duration::from_secs(5 * 60)).await;
        s.expire_shelves();
        assert_eq!(alarm(&s, id).unwrap().shelved.unwrap().reason, "again");

        // Cleared and acknowledged while shelved: it closes at once, and nothing comes back.
        s.clear_manual(id);
        s.acknowledge(&id.into(), &ana, None).unwrap();
        assert!(alarm(&s, id).is_none());
        published(&mut rx);
        tokio::time::advance(Duration::from_secs(3600)).await;
        s.expire_shelves();
        assert!(published(&mut rx).is_empty());
    }

    #[test]
    fn only_a_supervisor_unshelves_what_another_shelved_and_an_unknown_alarm_is_unknown() {
        let (mut s, _rx) = state(Duration::from_secs(60));
        let (ana, ben, sue) = (
            who("ana", Role::Operator),
            who("ben", Role::Operator),
            who("sue", Role::Supervisor),
        );
        let (id, _) = s.raise_manual(Severity::Low, "a".into(), None).unwrap();
        let id = AlarmId::from(id);
        // Not shelved: nothing to do, not an error.
        assert_eq!(s.unshelve(&id, &ben), Ok(()));
        s.shelve(&id, 10, "r".into(), &ana).unwrap();
        assert!(
            matches!(s.unshelve(&id, &ben), Err(AlarmRefusal::Forbidden(m)) if m.contains("ana shelved"))
        );
        assert_eq!(s.unshelve(&id, &sue), Ok(()));
        assert!(s.snapshot().alarms[0].shelved.is_none());
        s.shelve(&id, 10, "r".into(), &ana).unwrap();
        assert_eq!(s.unshelve(&id, &ana), Ok(()));
        let unknown = AlarmId::from(999u64);
        assert_eq!(
            s.shelve(&unknown, 1, "r".into(), &ana),
            Err(AlarmRefusal::Unknown(unknown.clone()))
        );
        assert_eq!(
            s.unshelve(&unknown, &sue),
            Err(AlarmRefusal::Unknown(unknown))
        );
        assert_eq!(s.snapshot().alarms[0].state, Some(AlarmState::Active));
    }
}
