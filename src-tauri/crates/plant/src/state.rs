//! The plant's state: simulator, latest values, alarms, commands and the `seq`'d history.
//!
//! One mutex guards it, and every change is published to the live stream while the lock is
//! held, so "take a snapshot and start following the stream" done under the lock has no gap
//! and no overlap. Nothing awaits while holding it.

use crate::caps::{self, Refused, MAX_HELD_ALARMS};
use crate::config::{Flood, PlantConfig};
use crate::sim::{Brewery, SimConfig, SimEvent};
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    encode, Action, Alarm, AlarmId, AlarmState, Command, CommandId, CommandRecord, CommandState,
    Endpoint, EndpointId, EndpointKind, Id, Quality, Resumed, Seq, ServerMessage, Severity,
    Snapshot, Telemetry, Timestamp, Value,
};
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
}

/// One message of the live stream, encoded once for every client.
#[derive(Debug)]
pub(crate) struct Event {
    pub topic: Topic,
    pub text: Utf8Bytes,
}

/// How long a command id is remembered from its arrival: a repeated id within it is answered
/// with the command's status and never executed again. Counted from arrival, not from the
/// client's `expiresAt`, because a level-0 request without one gets a fresh default expiry on
/// every retry.
const COMMAND_MEMORY: chrono::Duration = chrono::Duration::hours(24);

/// How long a refused command's id is remembered from its arrival. It never ran, so forgetting
/// it cannot run anything twice; it is kept past any lifetime it could have had
/// (`MAX_COMMAND_LIFETIME`), so a re-send while its client may still wait gets the same answer,
/// and then let go, so refused junk does not fill the memory for a day.
const REFUSED_MEMORY: chrono::Duration = chrono::Duration::minutes(15);

/// At most this many ended commands are remembered (each is a few hundred bytes). Past it the
/// refused ones go first, then the oldest; see `PlantState::forgotten_early`.
const MAX_REMEMBERED_COMMANDS: usize = 100_000;

/// An ended command stays in snapshots this long past its `expiresAt`: until then its client
/// may still be waiting for its outcome. Older ones are only remembered, not sent.
const SNAPSHOT_PAST_EXPIRY: chrono::Duration = chrono::Duration::seconds(60);

/// At most this many ended commands in a snapshot, the latest: a snapshot must stay far under
/// a client's message limit (the link's is 1 MiB) however busy the plant is.
const MAX_SNAPSHOT_ENDED: usize = 1_000;

/// The encoded size commands may fill a snapshot up to. The rest of it is bounded by the caps
/// (at most `MAX_HELD_ALARMS` alarms of a 1 KiB one-line message, at most twice that once
/// escaped): about 600 KiB at worst, so a snapshot stays under a client's 1 MiB either way.
const SNAPSHOT_BUDGET: usize = 512 * 1024;

/// How far ahead of the server's clock a client's `issuedAt` may be.
const MAX_CLOCK_AHEAD: chrono::Duration = chrono::Duration::minutes(1);

/// The oldest `issuedAt` accepted. A command issued before this may have arrived once and been
/// forgotten since (its memory is `COMMAND_MEMORY` from an arrival no earlier than its
/// `issuedAt` minus `MAX_CLOCK_AHEAD`), so it is refused rather than risk running it twice.
const MAX_COMMAND_AGE: chrono::Duration = chrono::Duration::minutes(24 * 60 - 1);

/// The longest a command may stay valid.
const MAX_COMMAND_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

#[derive(Debug)]
struct CommandEntry {
    record: CommandRecord,
    /// Ticks until the next stage; meaningless once final.
    ticks_left: u32,
    /// When it reached this server: its id is remembered for `COMMAND_MEMORY` from here.
    arrived: Timestamp,
}

impl CommandEntry {
    /// Refused ones never reached the plant; any other may have acted on it.
    fn may_have_run(&self) -> bool {
        self.record.status != CommandState::Rejected
    }

    /// Whether its id is still inside its memory window.
    fn remembered_at(&self, now: Timestamp) -> bool {
        let memory = if self.may_have_run() {
            COMMAND_MEMORY
        } else {
            REFUSED_MEMORY
        };
        self.arrived
            .0
            .checked_add_signed(memory)
            .is_some_and(|until| until > now.0)
    }
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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AckError {
    #[error("no alarm {0} is known")]
    Unknown(AlarmId),
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
    history: VecDeque<(Seq, Utf8Bytes)>,
    history_cap: usize,
    alarms: BTreeMap<u64, Alarm>,
    conditions: HashMap<String, u64>,
    next_alarm: u64,
    commands: HashMap<CommandId, CommandEntry>,
    pending: VecDeque<CommandId>,
    executions: BTreeMap<CommandId, u32>,
    /// `MAX_REMEMBERED_COMMANDS`; smaller in tests.
    memory_cap: usize,
    /// The latest arrival among commands that were not refused (so may have run) and had to be
    /// forgotten inside their memory window because too many were remembered. A command issued
    /// before that plus `MAX_CLOCK_AHEAD` may be one of them: it is refused, never run again.
    forgotten_early: Option<Timestamp>,
    stage_ticks: u32,
    clients: BTreeMap<u64, ClientInfo>,
    tx: broadcast::Sender<Arc<Event>>,
}

/// A client's time brought within what this server accepts around `now`.
fn clamp(t: Timestamp, now: Timestamp) -> Timestamp {
    let min = now.0.checked_sub_signed(MAX_COMMAND_AGE).unwrap_or(now.0);
    let max = now
        .0
        .checked_add_signed(MAX_COMMAND_LIFETIME)
        .unwrap_or(now.0);
    Timestamp(t.0.clamp(min, max))
}

/// The length of a value encoded as JSON, counted without building the text.
fn encoded_len<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Our own types always encode (`text` relies on it too).
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

fn text(message: &ServerMessage) -> Utf8Bytes {
    // Our own types always encode; an empty frame would be counted as bad by the client.
    Utf8Bytes::from(encode(message).unwrap_or_default())
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
            history: VecDeque::new(),
            history_cap: config.history.max(1),
            alarms: BTreeMap::new(),
            conditions: HashMap::new(),
            next_alarm: 1,
            commands: HashMap::new(),
            pending: VecDeque::new(),
            executions: BTreeMap::new(),
            memory_cap: MAX_REMEMBERED_COMMANDS,
            forgotten_early: None,
            stage_ticks: config.command_stage_ticks.max(1),
            clients: BTreeMap::new(),
            tx,
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

    /// One simulation step: physics, alarms, and one stage of every pending command.
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
        self.advance_commands(now);
        self.forget_old_commands(now);
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
    }

    // ----- alarms -----

    fn raise(
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
            seq: None,
        };
        self.publish_sequenced(Topic::Alarm, |seq| {
            alarm.seq = Some(seq);
            ServerMessage::Alarm(alarm.clone())
        });
        self.alarms.insert(id, alarm);
        id
    }

    fn clear(&mut self, id: u64, at: Timestamp) -> bool {
        let Some(mut alarm) = self.alarms.get(&id).cloned() else {
            return false;
        };
        if alarm.state == Some(AlarmState::Cleared) {
            return false;
        }
        alarm.state = Some(AlarmState::Cleared);
        alarm.timestamp = at;
        self.publish_sequenced(Topic::Alarm, |seq| {
            alarm.seq = Some(seq);
            ServerMessage::Alarm(alarm.clone())
        });
        self.keep_or_retire(id, alarm);
        true
    }

    /// A cleared and acknowledged alarm is over: it leaves the active list (its events stay
    /// in the history).
    fn keep_or_retire(&mut self, id: u64, alarm: Alarm) {
        if alarm.state == Some(AlarmState::Cleared) && alarm.acked == Some(true) {
            self.alarms.remove(&id);
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

    /// An operator acknowledges an alarm. Acknowledging twice changes nothing.
    pub fn acknowledge(&mut self, alarm_id: &AlarmId, by: &str) -> Result<(), AckError> {
        let key = match &alarm_id.0 {
            Id::Number(n) => Some(*n),
            Id::Text(s) => s.parse().ok(),
        };
        let Some((id, mut alarm)) = key.and_then(|k| self.alarms.get(&k).cloned().map(|a| (k, a)))
        else {
            return Err(AckError::Unknown(alarm_id.clone()));
        };
        if alarm.acked == Some(true) {
            return Ok(());
        }
        alarm.acked = Some(true);
        alarm.acked_by = Some(by.to_owned());
        alarm.acked_at = Some(Timestamp::now());
        self.publish_sequenced(Topic::Alarm, |seq| {
            alarm.seq = Some(seq);
            ServerMessage::Alarm(alarm.clone())
        });
        self.keep_or_retire(id, alarm);
        Ok(())
    }

    // ----- commands -----

    /// A command arrives (over the socket or `POST /api/os/command`).
    pub fn submit(&mut self, command: Command) -> Submitted {
        self.submit_at(command, Timestamp::now())
    }

    /// [`PlantState::submit`] at a given time, for tests of the memory window.
    pub fn submit_at(&mut self, command: Command, now: Timestamp) -> Submitted {
        if let Some(entry) = self.commands.get(&command.command_id) {
            let record = entry.record.clone();
            let status = text(&ServerMessage::CommandStatus(record.status(None)));
            return Submitted::Repeat { record, status };
        }
        let later = |d: chrono::Duration| now.0.checked_add_signed(d);
        let earlier = |d: chrono::Duration| now.0.checked_sub_signed(d);
        let refusal = if command.expires_at <= now {
            Some("expired".to_owned())
        } else if later(MAX_COMMAND_LIFETIME).is_none_or(|max| command.expires_at.0 > max) {
            Some(format!(
                "expiresAt is more than {} minutes away",
                MAX_COMMAND_LIFETIME.num_minutes()
            ))
        } else if later(MAX_CLOCK_AHEAD).is_none_or(|max| command.issued_at.0 > max) {
            Some("issuedAt is in the future: check the client's clock".to_owned())
        } else if earlier(MAX_COMMAND_AGE).is_none_or(|min| command.issued_at.0 <= min) {
            Some(
                "issuedAt is too old: this server may have forgotten it, so it is not run"
                    .to_owned(),
            )
        } else if self.forgotten_early.is_some_and(|t| {
            t.0.checked_add_signed(MAX_CLOCK_AHEAD)
                .is_none_or(|limit| command.issued_at.0 <= limit)
        }) {
            Some(
                "issuedAt is older than the commands this server still remembers (too many \
                 arrived): not run, in case it already was"
                    .to_owned(),
            )
        } else {
            self.sim
                .check(&command.endpoint_id, command.action, command.value.as_ref())
                .err()
                .map(|r| r.reason)
        };
        let mut record = CommandRecord {
            command_id: command.command_id.clone(),
            endpoint_id: command.endpoint_id,
            action: command.action,
            value: command.value,
            status: CommandState::Queued,
            // Kept within the window this server accepts, so a refused command with an
            // absurd time cannot break a snapshot (RFC 3339 has four-digit years).
            issued_at: clamp(command.issued_at, now),
            expires_at: clamp(command.expires_at, now),
            actual_value: None,
            completed_at: None,
            reason: None,
            seq: None,
        };
        if let Some(reason) = refusal {
            record.status = CommandState::Rejected;
            record.reason = Some(reason);
            record.completed_at = Some(now);
        } else {
            self.pending.push_back(command.command_id.clone());
        }
        self.publish_status(&mut record);
        self.commands.insert(
            command.command_id,
            CommandEntry {
                record: record.clone(),
                ticks_left: self.stage_ticks,
                arrived: now,
            },
        );
        Submitted::New(record)
    }

    fn publish_status(&mut self, record: &mut CommandRecord) -> Utf8Bytes {
        let topic = Topic::Command(record.command_id.clone());
        self.publish_sequenced(topic, |seq| {
            record.seq = Some(seq);
            ServerMessage::CommandStatus(record.status(Some(seq)))
        })
    }

    fn advance_commands(&mut self, now: Timestamp) {
        let mut still_pending = VecDeque::with_capacity(self.pending.len());
        while let Some(id) = self.pending.pop_front() {
            let Some(mut entry) = self.commands.remove(&id) else {
                continue;
            };
            entry.ticks_left = entry.ticks_left.saturating_sub(1);
            if entry.ticks_left == 0 {
                entry.ticks_left = self.stage_ticks;
                self.next_stage(&mut entry.record, now);
                self.publish_status(&mut entry.record);
            }
            if !entry.record.status.is_final() {
                still_pending.push_back(id.clone());
            }
            self.commands.insert(id, entry);
        }
        self.pending = still_pending;
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
                        *self
                            .executions
                            .entry(record.command_id.clone())
                            .or_insert(0) += 1;
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

    /// Forgets ended commands once their memory window has passed (and, when too many are
    /// remembered, the refused ones and then the oldest), with their execution counts.
    pub fn forget_old_commands(&mut self, now: Timestamp) {
        self.commands
            .retain(|_, e| !e.record.status.is_final() || e.remembered_at(now));
        if self.commands.len() > self.memory_cap {
            // Refused first (`false` sorts first): forgetting one cannot run anything twice.
            let mut ended: Vec<(bool, Timestamp, CommandId)> = self
                .commands
                .iter()
                .filter(|(_, e)| e.record.status.is_final())
                .map(|(id, e)| (e.may_have_run(), e.arrived, id.clone()))
                .collect();
            ended.sort();
            let excess = self.commands.len() - self.memory_cap;
            for (may_have_run, arrived, id) in ended.into_iter().take(excess) {
                self.commands.remove(&id);
                if may_have_run {
                    self.forgotten_early = self.forgotten_early.max(Some(arrived));
                }
            }
        }
        // Once its own window has passed, the age limit refuses all it would.
        if self.forgotten_early.is_some_and(|t| {
            t.0.checked_add_signed(COMMAND_MEMORY)
                .is_none_or(|until| until <= now.0)
        }) {
            self.forgotten_early = None;
        }
        let commands = &self.commands;
        self.executions.retain(|id, _| commands.contains_key(id));
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
        let room = SNAPSHOT_BUDGET.saturating_sub(encoded_len(&snapshot));
        snapshot.commands = self.snapshot_commands(Timestamp::now(), room);
        snapshot
    }

    /// The commands in flight, and the latest ended ones whose clients may still be waiting
    /// for their outcome, in `seq` order, within `room` bytes once encoded. Not every
    /// remembered one: a day of them would not fit in a client's message.
    fn snapshot_commands(&self, now: Timestamp, room: usize) -> Vec<CommandRecord> {
        let awaited = |r: &CommandRecord| {
            r.expires_at
                .0
                .checked_add_signed(SNAPSHOT_PAST_EXPIRY)
                .is_none_or(|until| until > now.0)
        };
        let mut commands: Vec<&CommandRecord> = self
            .commands
            .values()
            .map(|e| &e.record)
            .filter(|r| !r.status.is_final() || awaited(r))
            .collect();
        commands.sort_by_key(|c| std::cmp::Reverse(c.seq));
        let mut ended = 0usize;
        commands.retain(|r| {
            ended += usize::from(r.status.is_final());
            !r.status.is_final() || ended <= MAX_SNAPSHOT_ENDED
        });
        // Over the room, the oldest ended ones are left out first; those in flight only when
        // they alone do not fit (their clients then learn the outcome from the live stream).
        commands.sort_by_key(|r| (r.status.is_final(), std::cmp::Reverse(r.seq)));
        let offered = commands.len();
        let in_flight = commands.iter().filter(|r| !r.status.is_final()).count();
        let mut used = 0usize;
        let mut kept: Vec<&CommandRecord> = Vec::with_capacity(offered);
        for record in commands {
            // One more for the comma between records.
            used += encoded_len(record) + 1;
            if used > room {
                break;
            }
            kept.push(record);
        }
        if kept.len() < in_flight {
            tracing::warn!(
                offered,
                kept = kept.len(),
                "snapshot over its budget: commands in flight left out"
            );
        } else if kept.len() < offered {
            tracing::debug!(
                offered,
                kept = kept.len(),
                "snapshot over its budget: the oldest ended commands left out"
            );
        }
        kept.sort_by_key(|r| r.seq);
        kept.into_iter().cloned().collect()
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
            executions: self
                .executions
                .iter()
                .map(|(k, v)| (k.0.clone(), *v))
                .collect(),
            last_seq: self.seq,
            active_alarms: self.alarms.len(),
            pending_commands: self.pending.len(),
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
mod memory_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use brewdeck_protocol::Token;

    fn state() -> PlantState {
        let config = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new("t").unwrap());
        let (tx, _) = broadcast::channel(4096);
        PlantState::new(&config, tx)
    }

    fn command(state: &PlantState, id: &str, issued: Timestamp, expires: Timestamp) -> Command {
        let endpoint = state
            .catalog
            .iter()
            .find(|e| e.name == "Fermenter 1 setpoint")
            .unwrap()
            .id
            .clone();
        Command {
            command_id: CommandId::from(id),
            endpoint_id: endpoint,
            action: Action::Set,
            value: Some(Value::Number(60.0)),
            issued_at: issued,
            expires_at: expires,
        }
    }

    fn at(t: Timestamp, secs: i64) -> Timestamp {
        Timestamp(t.0 + chrono::Duration::seconds(secs))
    }

    /// A command to an endpoint the plant does not have: refused at once.
    fn refused(id: &str, now: Timestamp) -> Command {
        Command {
            command_id: CommandId::from(id),
            endpoint_id: EndpointId::from(999_999u64),
            action: Action::On,
            value: None,
            issued_at: now,
            expires_at: at(now, 30),
        }
    }

    /// Enough ticks for every pending command to end.
    fn run_commands(s: &mut PlantState) {
        for _ in 0..5 {
            s.tick(Duration::from_millis(10));
        }
    }

    /// What `/admin/stats` reports as executions per command id.
    fn executions(s: &PlantState) -> BTreeMap<String, u32> {
        s.stats().executions
    }

    fn counts(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn reason(s: &Submitted) -> Option<String> {
        match s {
            Submitted::New(r) => r.reason.clone(),
            Submitted::Repeat { record, .. } => record.reason.clone(),
        }
    }

    #[test]
    fn an_id_is_remembered_from_arrival_and_a_late_resend_never_runs_again() {
        let mut s = state();
        let t0 = Timestamp::now();
        let first = command(&s, "c-1", t0, at(t0, 30));
        assert!(matches!(s.submit_at(first.clone(), t0), Submitted::New(_)));
        run_commands(&mut s);
        assert_eq!(executions(&s), counts(&[("c-1", 1)]));
        // A retry 2 minutes on, with a fresh expiry as an HTTP retry gets: the same command.
        let retry = Command {
            expires_at: at(t0, 150),
            ..first.clone()
        };
        let again = s.submit_at(retry.clone(), at(t0, 120));
        let Submitted::Repeat { status, record } = again else {
            panic!("a repeat")
        };
        assert_eq!(record.status, CommandState::Succeeded);
        assert!(!status.as_str().contains("\"seq\""), "{}", status.as_str());
        // Past the memory window the id is forgotten, with its execution count...
        let later = at(t0, 24 * 3600 + 1);
        s.forget_old_commands(later);
        assert!(s.commands.is_empty() && s.executions.is_empty());
        // ...and a re-send of the same command is refused by its age.
        let late = Command {
            expires_at: at(later, 30),
            ..first
        };
        let refused = s.submit_at(late, later);
        assert!(reason(&refused).unwrap().contains("issuedAt is too old"));
        run_commands(&mut s);
        assert_eq!(executions(&s), counts(&[]), "not run again");
    }

    #[test]
    fn a_refused_command_is_forgotten_after_15_minutes_one_that_ran_after_a_day() {
        let mut s = state();
        let t0 = Timestamp::now();
        s.submit_at(refused("no", t0), t0);
        s.submit_at(command(&s, "yes", t0, at(t0, 30)), t0);
        run_commands(&mut s);
        s.forget_old_commands(at(t0, 14 * 60));
        assert_eq!(s.commands.len(), 2);
        s.forget_old_commands(at(t0, 15 * 60 + 1));
        assert!(s.commands.contains_key(&CommandId::from("yes")));
        assert!(!s.commands.contains_key(&CommandId::from("no")));
        assert_eq!(executions(&s), counts(&[("yes", 1)]));
    }

    #[test]
    fn past_the_memory_cap_refused_ones_go_first_and_a_forgotten_one_never_runs_again() {
        let mut s = state();
        s.memory_cap = 2;
        let t0 = Timestamp::now();
        let a = command(&s, "a", t0, at(t0, 30));
        s.submit_at(a.clone(), t0);
        s.submit_at(command(&s, "b", at(t0, 1), at(t0, 30)), at(t0, 1));
        run_commands(&mut s);
        assert_eq!(executions(&s), counts(&[("a", 1), ("b", 1)]));

        // One over the cap: the refused one is forgotten, and nothing else needs to be.
        s.submit_at(refused("r", at(t0, 2)), at(t0, 2));
        s.forget_old_commands(at(t0, 3));
        assert!(!s.commands.contains_key(&CommandId::from("r")));
        assert_eq!(s.forgotten_early, None);

        // Another that runs: the oldest that ran must go, inside its memory window...
        s.submit_at(command(&s, "c", at(t0, 3), at(t0, 30)), at(t0, 3));
        run_commands(&mut s);
        assert!(!s.commands.contains_key(&CommandId::from("a")));
        assert_eq!(executions(&s), counts(&[("b", 1), ("c", 1)]));

        // ...so its re-send is refused, not run a second time.
        let again = s.submit_at(a, at(t0, 4));
        assert!(matches!(again, Submitted::New(_)));
        assert!(
            reason(&again).unwrap().contains("still remembers"),
            "{again:?}"
        );
        run_commands(&mut s);
        assert_eq!(executions(&s), counts(&[("b", 1), ("c", 1)]));

        // A command issued after the forgotten ones' arrival (plus the clock allowance) runs.
        let fresh = at(t0, 90);
        let d = s.submit_at(command(&s, "d", fresh, at(fresh, 30)), fresh);
        assert_eq!(reason(&d), None);
    }

    #[test]
    fn snapshots_carry_only_the_commands_a_client_may_still_wait_on() {
        let mut s = state();
        let now = Timestamp::now();
        let ids = |s: &PlantState| -> Vec<String> {
            s.snapshot()
                .commands
                .iter()
                .map(|c| c.command_id.0.clone())
                .collect()
        };
        let hour_ago = at(now, -3600);
        s.submit_at(command(&s, "old", hour_ago, at(hour_ago, 30)), hour_ago);
        run_commands(&mut s);
        s.submit_at(refused("recent", now), now);
        // Remembered (a repeat is still answered), but long expired: not sent.
        assert!(s.commands.contains_key(&CommandId::from("old")));
        assert_eq!(ids(&s), vec!["recent".to_owned()]);

        for i in 0..MAX_SNAPSHOT_ENDED {
            s.submit_at(refused(&format!("r-{i}"), now), now);
        }
        s.submit_at(command(&s, "in-flight", now, at(now, 30)), now);
        let snapshot = s.snapshot();
        let ids = ids(&s);
        // The latest ended ones up to the cap, and whatever is in flight, in seq order.
        assert_eq!(ids.len(), MAX_SNAPSHOT_ENDED + 1);
        assert!(
            !ids.contains(&"recent".to_owned()),
            "the oldest is left out"
        );
        assert_eq!(ids.first().map(String::as_str), Some("r-0"));
        assert_eq!(ids.last().map(String::as_str), Some("in-flight"));
        assert!(snapshot.commands.windows(2).all(|w| w[0].seq < w[1].seq));
    }

    /// An id as long as the plant takes, in the character that costs the most once escaped.
    fn maximal_id(i: usize) -> String {
        let tag = format!("{i}-");
        format!("{tag}{}", "\"".repeat(caps::MAX_ID_BYTES - tag.len()))
    }

    /// Refused at once (unknown endpoint), kept as an ended command: maximal id, endpoint
    /// and value.
    fn maximal_refused(i: usize, now: Timestamp) -> Command {
        Command {
            command_id: CommandId(maximal_id(i)),
            endpoint_id: EndpointId::from(maximal_id(i).as_str()),
            action: Action::Set,
            value: Some(Value::Text("\"".repeat(caps::MAX_TEXT_VALUE_BYTES))),
            issued_at: now,
            expires_at: at(now, 30),
        }
    }

    fn maximal_in_flight(s: &PlantState, i: usize, now: Timestamp) -> Command {
        let c = command(s, &maximal_id(i), now, at(now, 30));
        assert!(caps::command(&c).is_ok());
        c
    }

    #[test]
    fn a_snapshot_of_a_full_plant_stays_under_a_clients_frame_limit() {
        let mut s = state();
        let now = Timestamp::now();
        let message = "\"".repeat(caps::MAX_ALARM_MESSAGE_BYTES);
        let mut raised = Vec::new();
        let refusal = loop {
            match s.raise_manual(Severity::Critical, message.clone(), None) {
                Ok((id, _)) => raised.push(id),
                Err(e) => break e,
            }
        };
        assert_eq!(
            refusal,
            Refused::TooManyAlarms {
                max: MAX_HELD_ALARMS
            }
        );
        assert_eq!(raised.len(), MAX_HELD_ALARMS);
        for i in 0..2 * MAX_SNAPSHOT_ENDED {
            let c = maximal_refused(i, now);
            assert!(caps::command(&c).is_ok(), "at the caps, not over");
            s.submit_at(c, now);
        }
        for i in 0..500 {
            s.submit_at(maximal_in_flight(&s, 100_000 + i, now), now);
        }

        let text = s.snapshot_text();
        assert!(
            text.len() < 1 << 20,
            "a snapshot of {} bytes breaks every desk",
            text.len()
        );
        let Ok(brewdeck_protocol::ServerMessage::Snapshot(snapshot)) =
            brewdeck_protocol::decode_server(text.as_str())
        else {
            panic!("a snapshot")
        };
        for id in raised {
            assert!(
                snapshot.alarms.iter().any(|a| a.alarm_id == id.into()),
                "alarm {id} left out"
            );
        }
    }

    #[test]
    fn over_its_budget_a_snapshot_leaves_out_the_oldest_ended_commands_first() {
        let mut s = state();
        let now = Timestamp::now();
        for i in 0..MAX_SNAPSHOT_ENDED {
            s.submit_at(maximal_refused(i, now), now);
        }
        let in_flight: Vec<String> = (0..50).map(|i| maximal_id(100_000 + i)).collect();
        for i in 0..50 {
            let accepted = s.submit_at(maximal_in_flight(&s, 100_000 + i, now), now);
            assert!(matches!(accepted, Submitted::New(r) if !r.status.is_final()));
        }

        let text = s.snapshot_text();
        assert!(text.len() <= SNAPSHOT_BUDGET, "{} bytes", text.len());
        let snapshot = s.snapshot();
        let ids: Vec<&str> = snapshot
            .commands
            .iter()
            .map(|c| c.command_id.0.as_str())
            .collect();
        for id in &in_flight {
            assert!(ids.contains(&id.as_str()), "in flight, kept");
        }
        let ended: Vec<&str> = snapshot
            .commands
            .iter()
            .filter(|c| c.status.is_final())
            .map(|c| c.command_id.0.as_str())
            .collect();
        assert!(
            !ended.is_empty() && ended.len() < MAX_SNAPSHOT_ENDED,
            "{} ended kept",
            ended.len()
        );
        // The latest ones, in seq order, ending with the last refused.
        let first_kept = MAX_SNAPSHOT_ENDED - ended.len();
        let expected: Vec<String> = (first_kept..MAX_SNAPSHOT_ENDED).map(maximal_id).collect();
        assert_eq!(
            ended,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn absurd_times_are_refused_without_panicking() {
        let mut s = state();
        let now = Timestamp::now();
        let max = Timestamp(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let min = Timestamp(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let far = command(&s, "far", now, max);
        assert!(reason(&s.submit_at(far, now))
            .unwrap()
            .contains("minutes away"));
        let future = command(&s, "future", at(now, 3600), at(now, 30));
        assert!(reason(&s.submit_at(future, now))
            .unwrap()
            .contains("future"));
        let ancient = command(&s, "ancient", min, at(now, 30));
        assert!(reason(&s.submit_at(ancient, now))
            .unwrap()
            .contains("too old"));
        // The snapshot still encodes and decodes; forgetting far ahead does not overflow.
        let snapshot = s.snapshot_text();
        assert!(brewdeck_protocol::decode_server(snapshot.as_str()).is_ok());
        s.forget_old_commands(max);
        s.forget_old_commands(min);
    }
}
