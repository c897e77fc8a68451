//! The plant as the link knows it: catalog, latest readings, alarms and commands. The actor
//! owns it; followers get a [`PlantSnapshot`] and then the deltas.

use crate::command_book::{CommandBook, CommandView};
use crate::events::{Delivery, LinkEvent};
use crate::seq_window::SeqWindow;
use crate::state::{LinkState, ProtocolLevel};
use brewdeck_protocol::{
    Alarm, AlarmId, AlarmState, Endpoint, EndpointId, Operator, Quality, Seq, Shelved, Snapshot,
    Telemetry, Timestamp, Value,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;
use ts_rs::TS;

/// Alarms kept from a level-0 server, which never says when one is cleared.
const MAX_ALARMS: usize = 1000;

#[derive(Debug, Clone)]
struct Reading {
    value: Value,
    timestamp: Timestamp,
    quality: Quality,
    received: Instant,
}

/// An endpoint's latest value as a snapshot shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReadingView {
    pub endpoint_id: EndpointId,
    pub value: Value,
    pub timestamp: Timestamp,
    pub quality: Quality,
    /// Milliseconds since the link received it.
    #[ts(type = "number")]
    pub age_ms: u64,
    /// The link is down, or the value is older than the stale threshold.
    pub stale: bool,
}

/// Counts of what the link met, for diagnosis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkCounters {
    /// Frames that were not valid JSON or not a known message shape, and binary frames.
    #[ts(type = "number")]
    pub bad_frames: u64,
    /// Frames over the size limit, refused by the socket (the connection is then reopened).
    #[ts(type = "number")]
    pub oversized_frames: u64,
    /// Messages of a type this link does not know (ignored, as the protocol says).
    #[ts(type = "number")]
    pub unknown_messages: u64,
    /// Sequenced events already seen (a replay overlapping the live stream), dropped.
    #[ts(type = "number")]
    pub duplicates: u64,
    #[ts(type = "number")]
    pub server_errors: u64,
    /// Connections opened, the first included.
    #[ts(type = "number")]
    pub connections: u64,
}

/// The range of events the server could no longer replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MissedEvents {
    #[ts(type = "number")]
    pub from_seq: Seq,
    #[ts(type = "number")]
    pub to_seq: Seq,
    pub at: Timestamp,
}

/// Everything a view needs to (re)draw, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlantSnapshot {
    pub link: LinkState,
    pub server: String,
    pub level: Option<ProtocolLevel>,
    pub plant: Option<String>,
    pub catalog: Vec<Endpoint>,
    pub readings: Vec<ReadingView>,
    /// Alarms active or not yet acknowledged, newest first.
    pub alarms: Vec<Alarm>,
    /// Commands, oldest first.
    pub commands: Vec<CommandView>,
    /// Commands waiting in the outbox for the link to come back.
    pub outbox: usize,
    /// Endpoints the link follows.
    pub subscriptions: Vec<EndpointId>,
    #[ts(type = "number | null")]
    pub last_seq: Option<Seq>,
    /// Set when a resume could not replay everything; kept until the link moves to another
    /// server, so the operator can see it.
    pub missed_events: Option<MissedEvents>,
    pub counters: LinkCounters,
    /// The optional level-1 features the server listed (`history`, ...): the desk asks only
    /// for those.
    pub features: Vec<String>,
    /// Who this desk is on the server (feature `operators`), as it last said; kept while
    /// the link is down, so a viewer's desk stays a viewer's.
    pub operator: Option<Operator>,
}

#[derive(Debug)]
pub(crate) struct PlantModel {
    pub plant: Option<String>,
    pub level: Option<ProtocolLevel>,
    pub catalog: Vec<Endpoint>,
    readings: HashMap<EndpointId, Reading>,
    alarms: BTreeMap<AlarmId, Alarm>,
    pub commands: CommandBook,
    pub seqs: SeqWindow,
    pub missed: Option<MissedEvents>,
    pub counters: LinkCounters,
    /// What the server listed in `connected.features`, on the current connection.
    pub features: Vec<String>,
    pub operator: Option<Operator>,
    /// Shelving this desk keeps itself, for a server that does not serve it.
    pub local_shelf: crate::local_shelf::LocalShelf,
}

impl PlantModel {
    pub fn new(command_history: usize) -> Self {
        PlantModel {
            plant: None,
            level: None,
            catalog: Vec::new(),
            readings: HashMap::new(),
            alarms: BTreeMap::new(),
            commands: CommandBook::new(command_history),
            features: Vec::new(),
            operator: None,
            local_shelf: Default::default(),
            seqs: SeqWindow::default(),
            missed: None,
            counters: LinkCounters::default(),
        }
    }

    /// Forgets the plant (the link now points at another server); keeps the counters.
    pub fn reset(&mut self) {
        let counters = self.counters;
        let commands = self.commands.emptied();
        *self = PlantModel::new(self.commands.history());
        self.counters = counters;
        self.commands = commands;
    }

    pub fn endpoint(&self, id: &EndpointId) -> Option<&Endpoint> {
        self.catalog.iter().find(|e| &e.id == id)
    }

    pub fn has_alarm(&self, id: &AlarmId) -> bool {
        self.alarms.contains_key(id)
    }

    /// The floor and the number when `seq` is from another epoch than the link's numbers.
    pub fn epoch_jump(&self, seq: Option<Seq>) -> Option<(Seq, Seq)> {
        let seq = seq?;
        let floor = self.seqs.floor()?;
        self.seqs.is_jump(seq).then_some((floor, seq))
    }

    /// Whether a sequenced event is new. Counts the duplicate otherwise.
    pub fn is_new(&mut self, seq: Option<Seq>) -> bool {
        match seq {
            Some(s) if !self.seqs.is_new(s) => {
                self.counters.duplicates += 1;
                false
            }
            _ => true,
        }
    }

    pub fn saw(&mut self, seq: Option<Seq>) {
        if let Some(s) = seq {
            self.seqs.record(s);
        }
    }

    pub fn apply_reading(&mut self, t: &Telemetry, now: Instant) {
        let reading = Reading {
            value: t.value.clone(),
            timestamp: t.timestamp,
            quality: t.quality.unwrap_or_default(),
            received: now,
        };
        match self.readings.get_mut(&t.endpoint_id) {
            Some(slot) => *slot = reading,
            None => {
                self.readings.insert(t.endpoint_id.clone(), reading);
            }
        }
    }

    /// Applies an `alarm`. Level 0 sends no state: an alarm is active until said otherwise.
    pub fn apply_alarm(&mut self, mut alarm: Alarm, via: Delivery) -> Option<LinkEvent> {
        self.saw(alarm.seq);
        alarm.state.get_or_insert(AlarmState::Active);
        alarm.acked.get_or_insert(false);
        let id = alarm.alarm_id.clone();
        if alarm.shelved.is_none() {
            alarm.shelved = self.local_shelf.get(&id).cloned();
        }
        // Level 0 repeats itself without `seq`: an unchanged alarm is not news. A sequenced
        // event is always news (the caller dropped the ones already seen).
        if alarm.seq.is_none() && self.alarms.get(&id).is_some_and(|k| same_alarm(k, &alarm)) {
            return None;
        }
        if alarm.is_closed() {
            // Cleared and acknowledged: nothing left for the operator to do.
            self.alarms.remove(&id);
            self.local_shelf.unshelve(&id);
        } else {
            self.alarms.insert(id, alarm.clone());
            if self.alarms.len() > MAX_ALARMS {
                self.alarms.pop_first();
            }
        }
        Some(LinkEvent::Alarm { alarm, via })
    }

    /// Marks a held alarm shelved (or not) by this desk; the changed alarm as an event.
    pub fn set_local_shelved(
        &mut self,
        id: &AlarmId,
        shelved: Option<Shelved>,
    ) -> Option<LinkEvent> {
        let alarm = self.alarms.get_mut(id)?;
        alarm.shelved = shelved;
        Some(LinkEvent::Alarm {
            alarm: alarm.clone(),
            via: Delivery::Local,
        })
    }

    /// Replaces catalog, readings and alarms with a level-1 snapshot, and merges its commands.
    /// Returns the events the link had not seen yet (alarms and statuses newer than its last
    /// `seq`).
    pub fn apply_snapshot(&mut self, snap: Snapshot, now: Instant) -> Vec<LinkEvent> {
        let mut events = Vec::new();
        let seen = self.seqs.clone();
        let unseen = |seq: Option<Seq>, seen: &SeqWindow| seq.is_none_or(|s| seen.is_new(s));
        let previous = std::mem::take(&mut self.alarms);
        for mut alarm in snap.alarms {
            alarm.state.get_or_insert(AlarmState::Active);
            alarm.acked.get_or_insert(false);
            if alarm.shelved.is_none() {
                alarm.shelved = self.local_shelf.get(&alarm.alarm_id).cloned();
            }
            let changed = previous
                .get(&alarm.alarm_id)
                .is_none_or(|known| !same_alarm(known, &alarm));
            if changed && unseen(alarm.seq, &seen) {
                events.push(LinkEvent::Alarm {
                    alarm: alarm.clone(),
                    via: Delivery::Snapshot,
                });
            }
            self.alarms.insert(alarm.alarm_id.clone(), alarm);
        }
        self.commands.forget_foreign();
        for record in &snap.commands {
            if let Some(command) = self.commands.apply_record(record) {
                if command.mine || unseen(record.seq, &seen) {
                    events.push(LinkEvent::Command {
                        command,
                        via: Delivery::Snapshot,
                    });
                }
            }
        }
        self.catalog = snap.catalog;
        self.readings.clear();
        for t in &snap.values {
            self.apply_reading(t, now);
        }
        if snap.plant.is_some() {
            self.plant = snap.plant;
        }
        self.seqs.cover(snap.seq);
        events
    }

    pub fn snapshot(
        &self,
        link: LinkState,
        server: String,
        subscriptions: Vec<EndpointId>,
        stale_after: Duration,
        now: Instant,
    ) -> PlantSnapshot {
        let down = !link.is_connected();
        // States (a pump's on/off, a setpoint) are sent when they change, so while the link is
        // up an old one is still true; measurements arrive every step. One pass over the catalog.
        let on_change: HashSet<&EndpointId> = self
            .catalog
            .iter()
            .filter(|e| REPORTED_ON_CHANGE.contains(&e.kind))
            .map(|e| &e.id)
            .collect();
        let mut readings: Vec<ReadingView> = self
            .readings
            .iter()
            .map(|(id, r)| {
                let age = now.saturating_duration_since(r.received);
                let by_exception = on_change.contains(id);
                ReadingView {
                    endpoint_id: id.clone(),
                    value: r.value.clone(),
                    timestamp: r.timestamp,
                    quality: r.quality,
                    age_ms: u64::try_from(age.as_millis()).unwrap_or(u64::MAX),
                    stale: down || (!by_exception && age > stale_after),
                }
            })
            .collect();
        readings.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        let mut alarms: Vec<Alarm> = self.alarms.values().cloned().collect();
        alarms.sort_by_key(|a| std::cmp::Reverse(a.timestamp));
        PlantSnapshot {
            link,
            server,
            level: self.level,
            plant: self.plant.clone(),
            catalog: self.catalog.clone(),
            readings,
            alarms,
            commands: self.commands.views(),
            outbox: self.commands.outbox_len(),
            subscriptions,
            last_seq: self.seqs.floor(),
            missed_events: self.missed,
            counters: self.counters,
            features: self.features.clone(),
            operator: self.operator.clone(),
        }
    }
}

fn same_alarm(a: &Alarm, b: &Alarm) -> bool {
    a.state == b.state
        && a.acked == b.acked
        && a.acked_by == b.acked_by
        && a.severity == b.severity
        && a.message == b.message
        && a.ack_note == b.ack_note
        && a.shelved == b.shelved
}

/// Endpoint kinds a server sends only when they change (docs/protocol.md: report by exception):
/// their age says when they last changed, not that they are out of date.
pub const REPORTED_ON_CHANGE: &[brewdeck_protocol::EndpointKind] = {
    use brewdeck_protocol::EndpointKind::*;
    &[Pump, Valve, Heater, Switch, Setpoint]
};
