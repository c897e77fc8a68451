//! Every command the link knows: its lifecycle, the outbox of commands waiting for a
//! connection, and which are in flight.

use brewdeck_protocol::{
    Action, CommandId, CommandRecord, CommandState, CommandStatus, EndpointId, Timestamp, Value,
};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use tokio::time::Instant;
use ts_rs::TS;

/// Where a command is in its life, as the link knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CommandPhase {
    /// Waiting in the outbox, or queued at the server.
    Queued,
    Sent,
    Acked,
    Succeeded,
    Failed,
    Rejected,
    /// The link dropped while it was in flight to a server that cannot be asked again
    /// (level 0): it may or may not have run. Never repeated blindly.
    Unknown,
}

impl CommandPhase {
    pub const ALL: [CommandPhase; 7] = [
        CommandPhase::Queued,
        CommandPhase::Sent,
        CommandPhase::Acked,
        CommandPhase::Succeeded,
        CommandPhase::Failed,
        CommandPhase::Rejected,
        CommandPhase::Unknown,
    ];

    /// Still on its way: the operator waits for an outcome. (`Unknown` is not pending: the
    /// link will not learn more by itself, though a server may still tell.)
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            CommandPhase::Queued | CommandPhase::Sent | CommandPhase::Acked
        )
    }

    /// The outcome is known and will not change.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CommandPhase::Succeeded | CommandPhase::Failed | CommandPhase::Rejected
        )
    }

    fn rank(self) -> u8 {
        match self {
            CommandPhase::Queued => 0,
            CommandPhase::Sent => 1,
            CommandPhase::Acked | CommandPhase::Unknown => 2,
            CommandPhase::Succeeded | CommandPhase::Failed | CommandPhase::Rejected => 3,
        }
    }

    /// Whether a report of `next` moves a command in `self` forward. Statuses can arrive out
    /// of order (a replay after a live one); a command never goes back, and a final one stays.
    fn advances_to(self, next: CommandPhase) -> bool {
        if self.is_final() {
            return false;
        }
        next.rank() > self.rank() || (self == CommandPhase::Unknown && next != self)
    }
}

impl From<CommandState> for CommandPhase {
    fn from(s: CommandState) -> Self {
        match s {
            CommandState::Queued => CommandPhase::Queued,
            CommandState::Sent => CommandPhase::Sent,
            CommandState::Acked => CommandPhase::Acked,
            CommandState::Succeeded => CommandPhase::Succeeded,
            CommandState::Failed => CommandPhase::Failed,
            CommandState::Rejected => CommandPhase::Rejected,
        }
    }
}

/// What an operator asks: an action on an endpoint.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CommandDraft {
    pub endpoint_id: EndpointId,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A command as the model shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandView {
    pub command_id: CommandId,
    pub endpoint_id: EndpointId,
    pub action: Action,
    pub value: Option<Value>,
    pub phase: CommandPhase,
    /// Why it failed, was rejected, or is unknown (`expired`, an interlock's name).
    pub reason: Option<String>,
    pub actual_value: Option<Value>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// Issued by this link (this desktop), rather than seen from another client.
    pub mine: bool,
    /// The level-1 `seq` of its latest status.
    #[ts(type = "number | null")]
    pub seq: Option<u64>,
    /// Bumped by the link at each change of this view: of two views of one command, the one
    /// with the higher revision is the newer. Which phase may follow which is decided here
    /// (`CommandPhase::advances_to`) and nowhere else; a view keeps the higher revision.
    #[ts(type = "number")]
    pub revision: u64,
}

#[derive(Debug)]
struct Entry {
    view: CommandView,
    /// When it stops being sendable from the outbox, on tokio time.
    deadline: Instant,
    /// Written to a server at least once.
    sent: bool,
}

/// The link's commands. Final ones beyond `history` are forgotten, oldest first.
#[derive(Debug)]
pub(crate) struct CommandBook {
    entries: HashMap<CommandId, Entry>,
    order: VecDeque<CommandId>,
    outbox: VecDeque<CommandId>,
    history: usize,
    /// The last revision given: one counter for the whole book, kept across a reset, so a
    /// command forgotten and seen again (a snapshot, a move) still gets a higher number.
    revisions: u64,
}

impl CommandBook {
    pub fn new(history: usize) -> Self {
        CommandBook {
            entries: HashMap::new(),
            order: VecDeque::new(),
            outbox: VecDeque::new(),
            history,
            revisions: 0,
        }
    }

    /// An empty book that goes on numbering from this one.
    pub fn emptied(&self) -> Self {
        CommandBook {
            revisions: self.revisions,
            ..CommandBook::new(self.history)
        }
    }

    /// A new command of this desktop, into the outbox.
    pub fn issue(
        &mut self,
        draft: CommandDraft,
        lifetime: std::time::Duration,
        now: Instant,
    ) -> CommandView {
        let issued_at = Timestamp::now();
        let expires_at = chrono::Duration::from_std(lifetime)
            .ok()
            .and_then(|d| issued_at.0.checked_add_signed(d))
            .map_or(issued_at, Timestamp);
        let view = CommandView {
            command_id: CommandId(uuid::Uuid::new_v4().to_string()),
            endpoint_id: draft.endpoint_id,
            action: draft.action,
            value: draft.value,
            phase: CommandPhase::Queued,
            reason: None,
            actual_value: None,
            issued_at,
            expires_at,
            completed_at: None,
            mine: true,
            seq: None,
            revision: self.revisions + 1,
        };
        self.revisions += 1;
        let id = view.command_id.clone();
        self.entries.insert(
            id.clone(),
            Entry {
                view: view.clone(),
                deadline: now + lifetime,
                sent: false,
            },
        );
        self.order.push_back(id.clone());
        self.outbox.push_back(id);
        self.trim();
        view
    }

    pub fn history(&self) -> usize {
        self.history
    }

    pub fn get(&self, id: &CommandId) -> Option<&CommandView> {
        self.entries.get(id).map(|e| &e.view)
    }

    pub fn views(&self) -> Vec<CommandView> {
        self.order
            .iter()
            .filter_map(|id| self.entries.get(id))
            .map(|e| e.view.clone())
            .collect()
    }

    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// The earliest outbox deadline, for the expiry timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.outbox
            .iter()
            .filter_map(|id| self.entries.get(id))
            .map(|e| e.deadline)
            .min()
    }

    /// Fails every outbox command whose deadline has passed, with reason `expired`.
    pub fn expire(&mut self, now: Instant) -> Vec<CommandView> {
        let mut expired = Vec::new();
        let entries = &mut self.entries;
        self.outbox.retain(|id| {
            let Some(e) = entries.get_mut(id) else {
                return false;
            };
            if e.deadline > now {
                return true;
            }
            e.view.phase = CommandPhase::Failed;
            e.view.reason = Some("expired".to_owned());
            e.view.completed_at = Some(Timestamp::now());
            self.revisions += 1;
            e.view.revision = self.revisions;
            expired.push(e.view.clone());
            false
        });
        expired
    }

    /// Takes the outbox in order for sending; expired ones must have been expired first.
    pub fn drain_outbox(&mut self) -> Vec<CommandView> {
        let ids: Vec<CommandId> = self.outbox.drain(..).collect();
        let mut views = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(e) = self.entries.get_mut(id) {
                e.sent = true;
                views.push(e.view.clone());
            }
        }
        views
    }

    /// Puts commands that could not be sent back at the front of the outbox, in order.
    pub fn requeue(&mut self, ids: &[CommandId]) {
        for id in ids.iter().rev() {
            if let Some(e) = self.entries.get_mut(id) {
                if !e.view.phase.is_final() {
                    e.sent = false;
                    self.outbox.push_front(id.clone());
                }
            }
        }
    }

    /// Commands of this desktop sent but not final: to re-send (level 1) or mark unknown.
    pub fn in_flight(&self) -> Vec<CommandView> {
        self.order
            .iter()
            .filter_map(|id| self.entries.get(id))
            .filter(|e| e.sent && e.view.mine && !e.view.phase.is_final())
            .map(|e| e.view.clone())
            .collect()
    }

    /// Ids still waiting for a final status, to follow on a level-0 server.
    pub fn open_ids(&self) -> Vec<CommandId> {
        self.in_flight().into_iter().map(|v| v.command_id).collect()
    }

    /// Applies a `command_status`. Returns the new view when it changed the command.
    pub fn apply_status(&mut self, status: &CommandStatus) -> Option<CommandView> {
        let phase = CommandPhase::from(status.status);
        if !self.entries.contains_key(&status.command_id) {
            // Another client's command (level 1 reports every command with its target).
            let (Some(endpoint_id), Some(action)) = (status.endpoint_id.clone(), status.action)
            else {
                return None;
            };
            let now = Timestamp::now();
            self.insert_foreign(CommandView {
                command_id: status.command_id.clone(),
                endpoint_id,
                action,
                value: None,
                phase,
                reason: status.reason.clone(),
                actual_value: status.actual_value.clone(),
                issued_at: now,
                expires_at: now,
                completed_at: status.completed_at,
                mine: false,
                seq: status.seq,
                revision: 0,
            });
            return self.get(&status.command_id).cloned();
        }
        let e = self.entries.get_mut(&status.command_id)?;
        // The server confirming the phase the link already shows (its `queued` after the
        // outbox's) is still news when it is a new numbered event: the command reached it.
        let confirms = phase == e.view.phase && status.seq.is_some() && status.seq != e.view.seq;
        if !e.view.phase.advances_to(phase) && !confirms {
            return None;
        }
        e.view.phase = phase;
        e.sent = true;
        // The seq of this status: none for an answer to a re-sent command (an answer, not a
        // numbered event), so the view never repeats the number of an event already told.
        e.view.seq = status.seq;
        if status.reason.is_some() {
            e.view.reason = status.reason.clone();
        } else if e.view.reason.is_some() && !phase.is_final() {
            e.view.reason = None;
        }
        if status.actual_value.is_some() {
            e.view.actual_value = status.actual_value.clone();
        }
        if status.completed_at.is_some() {
            e.view.completed_at = status.completed_at;
        }
        self.revisions += 1;
        e.view.revision = self.revisions;
        let view = e.view.clone();
        self.drop_from_outbox(&status.command_id);
        self.trim();
        Some(view)
    }

    /// Applies a command as a snapshot lists it.
    pub fn apply_record(&mut self, record: &CommandRecord) -> Option<CommandView> {
        if !self.entries.contains_key(&record.command_id) {
            self.insert_foreign(CommandView {
                command_id: record.command_id.clone(),
                endpoint_id: record.endpoint_id.clone(),
                action: record.action,
                value: record.value.clone(),
                phase: record.status.into(),
                reason: record.reason.clone(),
                actual_value: record.actual_value.clone(),
                issued_at: record.issued_at,
                expires_at: record.expires_at,
                completed_at: record.completed_at,
                mine: false,
                seq: record.seq,
                revision: 0,
            });
            return self.get(&record.command_id).cloned();
        }
        self.apply_status(&record.status(record.seq))
    }

    /// Marks a command whose outcome the link cannot learn or decide.
    pub fn settle(
        &mut self,
        id: &CommandId,
        phase: CommandPhase,
        reason: String,
    ) -> Option<CommandView> {
        let e = self.entries.get_mut(id)?;
        if e.view.phase.is_final() || e.view.phase == phase {
            return None;
        }
        e.view.phase = phase;
        e.view.reason = Some(reason);
        if phase.is_final() {
            e.view.completed_at = Some(Timestamp::now());
        }
        self.revisions += 1;
        e.view.revision = self.revisions;
        let view = e.view.clone();
        self.drop_from_outbox(id);
        self.trim();
        Some(view)
    }

    /// Fails everything not final (the link is pointed at another server).
    pub fn abandon_all(&mut self, reason: &str) -> Vec<CommandView> {
        let ids: Vec<CommandId> = self
            .order
            .iter()
            .filter(|id| {
                self.entries
                    .get(*id)
                    .is_some_and(|e| e.view.mine && !e.view.phase.is_final())
            })
            .cloned()
            .collect();
        ids.iter()
            .filter_map(|id| self.settle(id, CommandPhase::Failed, reason.to_owned()))
            .collect()
    }

    /// Forgets other clients' commands (the model is rebuilt from a snapshot).
    pub fn forget_foreign(&mut self) {
        let entries = &mut self.entries;
        self.order.retain(|id| {
            let keep = entries.get(id).is_some_and(|e| e.view.mine);
            if !keep {
                entries.remove(id);
            }
            keep
        });
    }

    fn insert_foreign(&mut self, mut view: CommandView) {
        self.revisions += 1;
        view.revision = self.revisions;
        let id = view.command_id.clone();
        self.entries.insert(
            id.clone(),
            Entry {
                view,
                deadline: Instant::now(),
                sent: true,
            },
        );
        self.order.push_back(id);
        self.trim();
    }

    fn drop_from_outbox(&mut self, id: &CommandId) {
        if let Some(pos) = self.outbox.iter().position(|x| x == id) {
            self.outbox.remove(pos);
        }
    }

    /// Keeps at most `history` final commands; open ones are never dropped.
    fn trim(&mut self) {
        // Fewer commands than the limit: nothing to count (the common case, and a snapshot
        // applies hundreds of records one by one).
        if self.order.len() <= self.history {
            return;
        }
        let finals = self
            .order
            .iter()
            .filter(|id| {
                self.entries
                    .get(*id)
                    .is_some_and(|e| e.view.phase.is_final())
            })
            .count();
        let mut excess = finals.saturating_sub(self.history);
        if excess == 0 {
            return;
        }
        let entries = &mut self.entries;
        self.order.retain(|id| {
            if excess > 0 && entries.get(id).is_some_and(|e| e.view.phase.is_final()) {
                entries.remove(id);
                excess -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brewdeck_protocol::{Action, CommandState, EndpointId};

    fn status(id: &CommandId, state: CommandState, seq: Option<u64>) -> CommandStatus {
        CommandStatus {
            command_id: id.clone(),
            status: state,
            actual_value: None,
            completed_at: None,
            reason: None,
            endpoint_id: None,
            action: None,
            seq,
        }
    }

    /// Found by the chaos test once reconnects got fast: a re-sent command's answer (no
    /// `seq`) moved the view on, and its event repeated the number of the last one told.
    #[test]
    fn a_view_carries_the_number_of_its_latest_status_or_none() {
        let mut book = CommandBook::new(10);
        let draft = CommandDraft {
            endpoint_id: EndpointId::from(7),
            action: Action::On,
            value: None,
        };
        let id = book
            .issue(draft, std::time::Duration::from_secs(30), Instant::now())
            .command_id;
        let sent = book.apply_status(&status(&id, CommandState::Sent, Some(5)));
        assert_eq!(sent.map(|v| v.seq), Some(Some(5)));
        // The answer to a re-send: news, but no number of its own.
        let answered = book.apply_status(&status(&id, CommandState::Acked, None));
        assert_eq!(
            answered.map(|v| (v.phase, v.seq)),
            Some((CommandPhase::Acked, None))
        );
        // The numbered event of that same phase is still told once, with its number.
        let numbered = book.apply_status(&status(&id, CommandState::Acked, Some(6)));
        assert_eq!(numbered.map(|v| v.seq), Some(Some(6)));
        assert_eq!(
            book.apply_status(&status(&id, CommandState::Acked, Some(6))),
            None
        );
    }
}
