//! The plant's state: simulator, latest values, alarms, the command memory (`commands.rs`)
//! and the `seq`'d history.
//!
//! One mutex guards it, and every change is published to the live stream while the lock is
//! held, so "take a snapshot and start following the stream" done under the lock has no gap
//! and no overlap. Nothing awaits while holding it.
//!
//! - `alarms`: raised, cleared, acknowledged, shelved, unshelved.
//! - `notes`: the shift's log.
//! - `journal`: each of those, and each command's end, as a journal entry.

mod alarms;
mod journal;
mod notes;

use crate::commands::CommandMemory;
use crate::config::{Flood, PlantConfig};
use crate::historian::{Historian, Pending};
use crate::sim::{Brewery, SimConfig, SimEvent};
use crate::wire::{encoded_len, text};
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    Action, Alarm, AlarmId, Command, CommandId, CommandRecord, CommandState, Endpoint, EndpointId,
    EndpointKind, Operator, Quality, Resumed, Seq, ServerMessage, Snapshot, Telemetry, Timestamp,
    Value,
};
use brewdeck_store::Writer;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// What a live event is about, so each client can keep only what it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Topic {
    Telemetry(EndpointId),
    Alarm,
    Command(CommandId),
    /// Level 1 only: level 0 has no notes.
    Note,
}

/// One message of the live stream, encoded once for every client.
#[derive(Debug)]
pub(crate) struct Event {
    pub topic: Topic,
    pub text: Utf8Bytes,
}

/// What became of a submitted command.
#[derive(Debug, Clone)]
pub(crate) enum Submitted {
    /// A new command: its first status went to the stream.
    New(CommandRecord),
    /// This `commandId` is known: nothing was done; here is its latest status, without a
    /// `seq` (it is an answer to the asker, not an event of the stream: a client that
    /// deduplicates by `seq` must not take it for one).
    Repeat {
        record: CommandRecord,
        status: Utf8Bytes,
    },
}

/// Why an operator's change to an alarm was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AlarmRefusal {
    #[error("no alarm {0} is known")]
    Unknown(AlarmId),
    /// The operator's role does not allow it (an unshelve of another's shelving).
    #[error("{0}")]
    Forbidden(String),
}

/// Per-client figures for `/admin/stats`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientInfo {
    pub client_id: String,
    pub peer: String,
    /// 0 until the client says `hello`.
    pub level: u8,
    pub subscriptions: SubscriptionCounts,
    /// `subscribe` messages received, per channel: a client that resubscribes once per
    /// reconnect has 1 each.
    pub subscribe_messages: BTreeMap<String, u64>,
    pub messages_received: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubscriptionCounts {
    pub telemetry: usize,
    pub alarms: bool,
    pub commands: usize,
    pub all_commands: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stats {
    pub clients: Vec<ClientInfo>,
    pub executions: BTreeMap<String, u32>,
    pub last_seq: Seq,
    pub active_alarms: usize,
    pub pending_commands: usize,
}

#[derive(Debug)]
pub(crate) struct PlantState {
    name: String,
    sim: Brewery,
    catalog: Vec<Endpoint>,
    index: HashMap<EndpointId, usize>,
    values: Vec<Option<Telemetry>>,
    flood_ids: Vec<EndpointId>,
    flood_cursor: usize,
    flood_phase: f64,
    seq: Seq,
    /// The `seq` last sent to the historian to keep.
    seq_kept: Seq,
    history: VecDeque<(Seq, Utf8Bytes)>,
    history_cap: usize,
    alarms: BTreeMap<u64, Alarm>,
    conditions: HashMap<String, u64>,
    next_alarm: u64,
    /// When each shelved alarm's shelf runs out, on the runtime's clock.
    shelves: BTreeMap<u64, tokio::time::Instant>,
    /// How long one minute of shelving lasts (shorter in tests).
    shelving_minute: Duration,
    next_note: u64,
    commands: CommandMemory,
    clients: BTreeMap<u64, ClientInfo>,
    tx: broadcast::Sender<Arc<Event>>,
    /// Readings of the current step, for the historian, and where they (and journal entries)
    /// go.
    pending: Pending,
    recorder: Option<Writer>,
}

impl PlantState {
    pub fn new(config: &PlantConfig, tx: broadcast::Sender<Arc<Event>>) -> Self {
        let sim = Brewery::new(&SimConfig {
            seed: config.seed,
            fermenters: config.fermenters,
        });
        let mut catalog = sim.catalog().to_vec();
        let flood_ids = config
            .flood
            .map(|f| add_flood(&mut catalog, f))
            .unwrap_or_default();
        let index = catalog
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let seq = config.seq_start.unwrap_or_else(|| {
            // Microseconds of wall clock: a restarted server continues above every seq it
            // sent before, and stays below 2^53 for JavaScript until the year 2255.
            u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0) * 1000
        });
        let mut state = PlantState {
            name: config.name.clone(),
            values: vec![None; catalog.len()],
            sim,
            catalog,
            index,
            flood_ids,
            flood_cursor: 0,
            flood_phase: 0.0,
            seq,
            seq_kept: seq,
            history: VecDeque::new(),
            history_cap: config.history.max(1),
            alarms: BTreeMap::new(),
            conditions: HashMap::new(),
            next_alarm: 1,
            shelves: BTreeMap::new(),
            shelving_minute: config.shelving_minute,
            next_note: 1,
            commands: CommandMemory::new(config.command_stage_ticks),
            clients: BTreeMap::new(),
            tx,
            pending: Pending::default(),
            recorder: None,
        };
        let now = Timestamp::now();
        for (id, value) in state.sim.values() {
            state.set_value(&id, value, now);
        }
        for id in state.flood_ids.clone() {
            state.set_value(&id, Value::Number(0.0), now);
        }
        state
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn last_seq(&self) -> Seq {
        self.seq
    }

    /// A new receiver of the live stream: everything published after this call.
    pub fn follow(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    fn set_value(
        &mut self,
        id: &EndpointId,
        value: Value,
        timestamp: Timestamp,
    ) -> Option<Telemetry> {
        let i = *self.index.get(id)?;
        let t = Telemetry {
            endpoint_id: id.clone(),
            value,
            timestamp,
            quality: Some(Quality::Good),
        };
        self.values[i] = Some(t.clone());
        Some(t)
    }

    fn publish(&self, topic: Topic, text: Utf8Bytes) {
        // No receiver is not an error: nobody is connected.
        let _ = self.tx.send(Arc::new(Event { topic, text }));
    }

    fn publish_reading(&mut self, id: &EndpointId, value: Value, at: Timestamp) {
        if self.recorder.is_some() {
            self.pending.push(&id.to_string(), at.unix_millis(), &value);
        }
        if let Some(t) = self.set_value(id, value, at) {
            let message = text(&ServerMessage::Telemetry(t));
            self.publish(Topic::Telemetry(id.clone()), message);
        }
    }

    /// Gives the next `seq` to a message, keeps it in the history and publishes it.
    fn publish_sequenced(
        &mut self,
        topic: Topic,
        build: impl FnOnce(Seq) -> ServerMessage,
    ) -> Utf8Bytes {
        self.seq += 1;
        let message = text(&build(self.seq));
        if self.history.len() == self.history_cap {
            self.history.pop_front();
        }
        self.history.push_back((self.seq, message.clone()));
        self.publish(topic, message.clone());
        message
    }

    // ----- simulation -----

    /// One simulation step: physics, alarms, shelves run out, and one stage of every pending
    /// command.
    pub fn tick(&mut self, dt: Duration) {
        let now = Timestamp::now();
        for event in self.sim.step(dt) {
            match event {
                SimEvent::Reading { endpoint, value } => {
                    self.publish_reading(&endpoint, value, now)
                }
                SimEvent::AlarmRaised {
                    condition,
                    severity,
                    message,
                    endpoint,
                } => {
                    if !self.conditions.contains_key(&condition) {
                        let id = self.raise(severity, message, endpoint, now);
                        self.conditions.insert(condition, id);
                    }
                }
                SimEvent::AlarmCleared { condition } => {
                    if let Some(id) = self.conditions.remove(&condition) {
                        self.clear(id, now);
                    }
                }
            }
        }
        self.expire_shelves();
        self.advance_commands(now);
        self.commands.forget_old(now);
        self.send_pending();
        self.keep_seq();
    }

    /// Numbers on above `seq` (what a previous run with the same store reached), when the
    /// counter starts below it: a client never sees a number twice, even if the clock went
    /// back.
    pub fn continue_after(&mut self, seq: Seq) {
        if seq > self.seq {
            self.seq = seq;
            self.seq_kept = seq;
        }
    }

    /// Sends the latest `seq` to the historian to keep, if it moved (each step, and at
    /// shutdown).
    pub fn keep_seq(&mut self) {
        if self.seq != self.seq_kept {
            if let Some(writer) = &self.recorder {
                Historian::keep_seq(writer, self.seq);
            }
            self.seq_kept = self.seq;
        }
    }

    /// Every reading and journal entry from now on goes to the historian too.
    pub fn record_to(&mut self, writer: Writer) {
        self.recorder = Some(writer);
    }

    /// One batch per step: the writer never blocks, so this is safe under the lock.
    fn send_pending(&mut self) {
        if let Some(writer) = &self.recorder {
            self.pending.send(writer);
        }
    }

    /// Flood mode: the next `count` flood endpoints, round robin, get a new value.
    pub fn flood(&mut self, count: usize) {
        if self.flood_ids.is_empty() {
            return;
        }
        let now = Timestamp::now();
        self.flood_phase += 0.01;
        for _ in 0..count {
            let i = self.flood_cursor % self.flood_ids.len();
            self.flood_cursor = self.flood_cursor.wrapping_add(1);
            let id = self.flood_ids[i].clone();
            let v = 50.0 + 25.0 * (self.flood_phase + i as f64 * 0.1).sin();
            self.publish_reading(&id, Value::Number((v * 100.0).round() / 100.0), now);
        }
        self.send_pending();
    }

    // ----- commands -----

    /// A command arrives from an operator (over the socket or `POST /api/os/command`). One
    /// whose role may not change the plant is rejected (`forbidden: viewer`), so whoever
    /// follows it sees it end.
    pub fn submit(&mut self, command: Command, by: &Operator) -> Submitted {
        self.submit_as(command, Timestamp::now(), by)
    }

    /// [`PlantState::submit`] at a given time, for tests of the memory window.
    #[cfg(test)]
    pub fn submit_at(&mut self, command: Command, now: Timestamp) -> Submitted {
        let by = Operator {
            name: "tester".to_owned(),
            role: brewdeck_protocol::Role::Operator,
        };
        self.submit_as(command, now, &by)
    }

    fn submit_as(&mut self, command: Command, now: Timestamp, by: &Operator) -> Submitted {
        if let Some(record) = self.commands.recall(&command.command_id) {
            let record = record.clone();
            let status = text(&ServerMessage::CommandStatus(record.status(None)));
            return Submitted::Repeat { record, status };
        }
        let sim = &self.sim;
        let mut record = self.commands.first_record(command, now, |c| {
            sim.check(&c.endpoint_id, c.action, c.value.as_ref())
                .err()
                .map(|r| r.reason)
        });
        if !by.role.may_change() {
            record.status = CommandState::Rejected;
            record.reason = Some(format!("forbidden: {}", by.role));
            record.completed_at = Some(now);
        }
        self.publish_status(&mut record);
        if record.status.is_final() {
            self.journal_command(&record, &by.name);
        }
        self.commands.remember(record.clone(), now, by.name.clone());
        Submitted::New(record)
    }

    fn publish_status(&mut self, record: &mut CommandRecord) -> Utf8Bytes {
        let topic = Topic::Command(record.command_id.clone());
        self.publish_sequenced(topic, |seq| {
            record.seq = Some(seq);
            ServerMessage::CommandStatus(record.status(Some(seq)))
        })
    }

    /// One tick of every command in flight: those due move on a stage, and their new status
    /// goes to the stream.
    fn advance_commands(&mut self, now: Timestamp) {
        let mut due = self.commands.due();
        for record in &mut due {
            self.next_stage(record, now);
            self.publish_status(record);
            if record.status.is_final() {
                let by = self.commands.sender(&record.command_id).to_owned();
                self.journal_command(record, &by);
            }
        }
        self.commands.staged(due);
    }

    fn next_stage(&mut self, record: &mut CommandRecord, now: Timestamp) {
        record.status = match record.status {
            CommandState::Queued => CommandState::Sent,
            CommandState::Sent => CommandState::Acked,
            _ => {
                record.completed_at = Some(now);
                // Conditions may have changed since the command was accepted: re-checked here.
                match self
                    .sim
                    .apply(&record.endpoint_id, record.action, record.value.as_ref())
                {
                    Ok(actual) => {
                        self.commands.ran(&record.command_id);
                        self.publish_reading(&record.endpoint_id, actual.clone(), now);
                        record.actual_value = Some(actual);
                        CommandState::Succeeded
                    }
                    Err(refusal) => {
                        record.reason = Some(refusal.reason);
                        CommandState::Failed
                    }
                }
            }
        };
    }

    // ----- what clients ask for -----

    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot {
            catalog: self.catalog.clone(),
            values: self.values.iter().flatten().cloned().collect(),
            alarms: self.alarms.values().cloned().collect(),
            commands: Vec::new(),
            seq: self.seq,
            plant: Some(self.name.clone()),
        };
        snapshot.commands = self
            .commands
            .for_snapshot(Timestamp::now(), encoded_len(&snapshot));
        snapshot
    }

    pub fn snapshot_text(&self) -> Utf8Bytes {
        text(&ServerMessage::Snapshot(self.snapshot()))
    }

    /// The events after `last_seq` still in the history, and the `resumed` that closes them.
    pub fn replay(&self, last_seq: Seq) -> (Vec<Utf8Bytes>, Resumed) {
        let oldest = self
            .history
            .front()
            .map(|(s, _)| *s)
            .unwrap_or(self.seq + 1);
        // Complete when nothing after last_seq was dropped from the history, and last_seq is
        // not from the future (a client of another server, or of a server that lost state).
        let complete = last_seq.saturating_add(1) >= oldest && last_seq <= self.seq;
        let events: Vec<(Seq, Utf8Bytes)> = self
            .history
            .iter()
            .filter(|(s, _)| *s > last_seq)
            .cloned()
            .collect();
        // The first seq replayed; past `toSeq` when there is nothing to replay.
        let from_seq = events.first().map(|(s, _)| *s).unwrap_or(self.seq + 1);
        let events = events.into_iter().map(|(_, t)| t).collect();
        (
            events,
            Resumed {
                from_seq,
                to_seq: self.seq,
                complete,
            },
        )
    }

    /// The latest value of each endpoint, as `telemetry` messages (unknown ids are skipped).
    pub fn current_values<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a EndpointId>,
    ) -> Vec<Utf8Bytes> {
        ids.into_iter()
            .filter_map(|id| self.index.get(id))
            .filter_map(|&i| self.values[i].clone())
            .map(|t| text(&ServerMessage::Telemetry(t)))
            .collect()
    }

    pub fn endpoint_exists(&self, id: &EndpointId) -> bool {
        self.index.contains_key(id)
    }

    // ----- clients -----

    pub fn register(&mut self, key: u64, info: ClientInfo) {
        self.clients.insert(key, info);
    }

    pub fn unregister(&mut self, key: u64) {
        self.clients.remove(&key);
    }

    pub fn client_mut(&mut self, key: u64) -> Option<&mut ClientInfo> {
        self.clients.get_mut(&key)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            clients: self.clients.values().cloned().collect(),
            executions: self.commands.executions(),
            last_seq: self.seq,
            active_alarms: self.alarms.len(),
            pending_commands: self.commands.in_flight(),
        }
    }
}

fn add_flood(catalog: &mut Vec<Endpoint>, flood: Flood) -> Vec<EndpointId> {
    let first = catalog.len() as u64 + 1;
    (0..flood.endpoints as u64)
        .map(|i| {
            let id = EndpointId::from(first + i);
            catalog.push(Endpoint {
                id: id.clone(),
                name: format!("Flood point {}", i + 1),
                area: "Flood".to_owned(),
                kind: EndpointKind::Other,
                unit: None,
                writable: false,
                critical: false,
                actions: Vec::<Action>::new(),
                limits: None,
            });
            id
        })
        .collect()
}

#[cfg(test)]
impl PlantState {
    /// The command memory, for its tests (`commands.rs`).
    pub(crate) fn command_memory(&mut self) -> &mut CommandMemory {
        &mut self.commands
    }

    pub(crate) fn catalog(&self) -> &[Endpoint] {
        &self.catalog
    }
}
