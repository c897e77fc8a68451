//! The command memory: every command this plant was sent, for as long as its id must still be
//! recognised, and those in flight.
//!
//! A `commandId` never runs twice, however often it is re-sent (an HTTP retry, a desk resuming
//! after a lost connection): a known id is answered with its status, and a command too old to
//! be sure about is refused. The memory is bounded so a flood cannot exhaust the server, and
//! what it lets go of early is chosen so that nothing runs twice either. Bookkeeping only: the
//! plant state runs each stage and publishes each status.

use crate::wire::encoded_len;
use brewdeck_protocol::{Command, CommandId, CommandRecord, CommandState, Timestamp};
use std::collections::{BTreeMap, HashMap, VecDeque};

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
/// refused ones go first, then the oldest; see `CommandMemory::forgotten_early`.
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
    /// The operator who sent it, for the journal entry of its end.
    by: String,
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

/// A client's time brought within what this server accepts around `now`.
fn clamp(t: Timestamp, now: Timestamp) -> Timestamp {
    let min = now.0.checked_sub_signed(MAX_COMMAND_AGE).unwrap_or(now.0);
    let max = now
        .0
        .checked_add_signed(MAX_COMMAND_LIFETIME)
        .unwrap_or(now.0);
    Timestamp(t.0.clamp(min, max))
}

/// The commands the plant remembers: each with its latest status, those in flight in arrival
/// order, and how often each ran.
#[derive(Debug)]
pub(crate) struct CommandMemory {
    commands: HashMap<CommandId, CommandEntry>,
    /// In flight, in arrival order: the order their stages run in.
    pending: VecDeque<CommandId>,
    /// How often each remembered command ran on the plant, for `/admin/stats`.
    executions: BTreeMap<CommandId, u32>,
    /// Ticks from one stage of a command to the next.
    stage_ticks: u32,
    /// `MAX_REMEMBERED_COMMANDS`; smaller in tests.
    memory_cap: usize,
    /// The latest arrival among commands that were not refused (so may have run) and had to be
    /// forgotten inside their memory window because too many were remembered. A command issued
    /// before that plus `MAX_CLOCK_AHEAD` may be one of them: it is refused, never run again.
    forgotten_early: Option<Timestamp>,
}

impl CommandMemory {
    pub fn new(stage_ticks: u32) -> Self {
        CommandMemory {
            commands: HashMap::new(),
            pending: VecDeque::new(),
            executions: BTreeMap::new(),
            stage_ticks: stage_ticks.max(1),
            memory_cap: MAX_REMEMBERED_COMMANDS,
            forgotten_early: None,
        }
    }

    /// The latest record of a command whose id is remembered.
    pub fn recall(&self, id: &CommandId) -> Option<&CommandRecord> {
        self.commands.get(id).map(|e| &e.record)
    }

    /// The first record of a command not seen before: queued, or already rejected when its
    /// times are outside what this server accepts or the plant refuses it (`plant_refusal`,
    /// asked only once the times are acceptable).
    pub fn first_record(
        &self,
        command: Command,
        now: Timestamp,
        plant_refusal: impl FnOnce(&Command) -> Option<String>,
    ) -> CommandRecord {
        let refusal = self
            .refusal(&command, now)
            .or_else(|| plant_refusal(&command));
        let mut record = CommandRecord {
            command_id: command.command_id,
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
        }
        record
    }

    /// Why a command is refused on its times alone: expired, valid for too long, or issued
    /// too far ahead or too long ago for this server to be sure it never ran it.
    fn refusal(&self, command: &Command, now: Timestamp) -> Option<String> {
        let later = |d: chrono::Duration| now.0.checked_add_signed(d);
        let earlier = |d: chrono::Duration| now.0.checked_sub_signed(d);
        if command.expires_at <= now {
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
            None
        }
    }

    /// Remembers a new command from its first record (already published), and who sent it;
    /// it is in flight unless it was refused.
    pub fn remember(&mut self, record: CommandRecord, now: Timestamp, by: String) {
        if !record.status.is_final() {
            self.pending.push_back(record.command_id.clone());
        }
        self.commands.insert(
            record.command_id.clone(),
            CommandEntry {
                record,
                ticks_left: self.stage_ticks,
                arrived: now,
                by,
            },
        );
    }

    /// Who sent a remembered command (`""` for one not remembered).
    pub fn sender(&self, id: &CommandId) -> &str {
        self.commands.get(id).map_or("", |e| e.by.as_str())
    }

    /// Counts one tick for every command in flight and hands out those whose next stage is
    /// due, in arrival order. Each comes back, staged, through [`CommandMemory::staged`].
    pub fn due(&mut self) -> Vec<CommandRecord> {
        let mut due = Vec::new();
        for id in &self.pending {
            let Some(entry) = self.commands.get_mut(id) else {
                continue;
            };
            entry.ticks_left = entry.ticks_left.saturating_sub(1);
            if entry.ticks_left == 0 {
                entry.ticks_left = self.stage_ticks;
                due.push(entry.record.clone());
            }
        }
        due
    }

    /// Keeps the new status of the commands [`CommandMemory::due`] handed out; those that
    /// ended are no longer in flight.
    pub fn staged(&mut self, records: Vec<CommandRecord>) {
        for record in records {
            if let Some(entry) = self.commands.get_mut(&record.command_id) {
                entry.record = record;
            }
        }
        let commands = &self.commands;
        self.pending.retain(|id| {
            commands
                .get(id)
                .is_some_and(|e| !e.record.status.is_final())
        });
    }

    /// A command ran on the plant.
    pub fn ran(&mut self, id: &CommandId) {
        *self.executions.entry(id.clone()).or_insert(0) += 1;
    }

    /// Forgets ended commands once their memory window has passed (and, when too many are
    /// remembered, the refused ones and then the oldest), with their execution counts.
    pub fn forget_old(&mut self, now: Timestamp) {
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

    /// The commands in flight, and the latest ended ones whose clients may still be waiting
    /// for their outcome, in `seq` order, for a snapshot whose other parts take `others` bytes
    /// once encoded. Not every remembered one: a day of them would not fit in a client's
    /// message.
    pub fn for_snapshot(&self, now: Timestamp, others: usize) -> Vec<CommandRecord> {
        let room = SNAPSHOT_BUDGET.saturating_sub(others);
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

    /// Runs per command id, for `/admin/stats`.
    pub fn executions(&self) -> BTreeMap<String, u32> {
        self.executions
            .iter()
            .map(|(k, v)| (k.0.clone(), *v))
            .collect()
    }

    /// How many commands are in flight.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::caps::{self, Refused, MAX_HELD_ALARMS};
    use crate::config::PlantConfig;
    use crate::state::{PlantState, Submitted};
    use brewdeck_protocol::{Action, EndpointId, Severity, Token, Value};
    use std::time::Duration;
    use tokio::sync::broadcast;

    fn state() -> PlantState {
        let config = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new("t").unwrap());
        let (tx, _) = broadcast::channel(4096);
        PlantState::new(&config, tx)
    }

    fn command(state: &PlantState, id: &str, issued: Timestamp, expires: Timestamp) -> Command {
        let endpoint = state
            .catalog()
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

    fn remembers(s: &mut PlantState, id: &str) -> bool {
        s.command_memory().recall(&CommandId::from(id)).is_some()
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
        s.command_memory().forget_old(later);
        let memory = s.command_memory();
        assert!(memory.commands.is_empty() && memory.executions.is_empty());
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
        s.command_memory().forget_old(at(t0, 14 * 60));
        assert_eq!(s.command_memory().commands.len(), 2);
        s.command_memory().forget_old(at(t0, 15 * 60 + 1));
        assert!(remembers(&mut s, "yes"));
        assert!(!remembers(&mut s, "no"));
        assert_eq!(executions(&s), counts(&[("yes", 1)]));
    }

    #[test]
    fn past_the_memory_cap_refused_ones_go_first_and_a_forgotten_one_never_runs_again() {
        let mut s = state();
        s.command_memory().memory_cap = 2;
        let t0 = Timestamp::now();
        let a = command(&s, "a", t0, at(t0, 30));
        s.submit_at(a.clone(), t0);
        s.submit_at(command(&s, "b", at(t0, 1), at(t0, 30)), at(t0, 1));
        run_commands(&mut s);
        assert_eq!(executions(&s), counts(&[("a", 1), ("b", 1)]));

        // One over the cap: the refused one is forgotten, and nothing else needs to be.
        s.submit_at(refused("r", at(t0, 2)), at(t0, 2));
        s.command_memory().forget_old(at(t0, 3));
        assert!(!remembers(&mut s, "r"));
        assert_eq!(s.command_memory().forgotten_early, None);

        // Another that runs: the oldest that ran must go, inside its memory window...
        s.submit_at(command(&s, "c", at(t0, 3), at(t0, 30)), at(t0, 3));
        run_commands(&mut s);
        assert!(!remembers(&mut s, "a"));
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
        assert!(remembers(&mut s, "old"));
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
        s.command_memory().forget_old(max);
        s.command_memory().forget_old(min);
    }
}
