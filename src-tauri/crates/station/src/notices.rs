//! Which link events become native notifications. A pure policy: events and the time in,
//! notices out, so floods and replays are tested without a desktop.
//!
//! - A new alarm of a chosen severity, active and unacknowledged: once per alarm id, whether it
//!   arrives live, replayed after a reconnect, or in a fresh snapshot. Alarms already active
//!   when the app first synced are on screen, not notified.
//! - A command issued from this desktop that ended (succeeded, failed, rejected, expired) or
//!   became unknown: once per command id, when command notifications are on.
//! - At most [`BUDGET`] a minute shown one by one; the rest are folded into one summary shown
//!   [`SUMMARY_DELAY`] after the first folded one (so the burst is counted), then at most one
//!   summary a minute while the flood lasts.

use crate::settings::NotificationChoices;
use brewdeck_link::{CommandPhase, CommandView, LinkEvent};
use brewdeck_protocol::EndpointId;
use brewdeck_protocol::{Alarm, AlarmId, AlarmState, CommandId, Severity};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Notifications shown one by one per [`WINDOW`].
pub const BUDGET: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a summary collects a burst before it is shown.
pub const SUMMARY_DELAY: Duration = Duration::from_secs(2);
/// Alarm and command ids remembered, so a replay never notifies twice.
const REMEMBERED: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Alarm,
    Command,
    Summary,
}

/// A native notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// A critical alarm: stays on screen until dismissed where the desktop allows it.
    pub urgent: bool,
}

/// A set that forgets its oldest members past a size.
#[derive(Debug)]
struct Memory<T> {
    set: HashSet<T>,
    order: VecDeque<T>,
}

impl<T: std::hash::Hash + Eq + Clone> Memory<T> {
    fn new() -> Self {
        Memory {
            set: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// True when newly inserted.
    fn insert(&mut self, value: &T) -> bool {
        if !self.set.insert(value.clone()) {
            return false;
        }
        self.order.push_back(value.clone());
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[derive(Debug)]
pub struct NoticePolicy {
    choices: NotificationChoices,
    alarms: Memory<AlarmId>,
    /// Alarms last seen shelved: one that comes back active and unacknowledged is a new
    /// demand on the operator, notified again.
    shelved: HashSet<AlarmId>,
    commands: Memory<CommandId>,
    /// The first sync after start has happened: later snapshot alarms are news.
    baselined: bool,
    shown: VecDeque<Instant>,
    folded: Vec<Notice>,
    summary_due: Option<Instant>,
    last_summary: Option<Instant>,
    /// Endpoint names from the catalog, so a notice says "Kettle temperature", not an id.
    names: HashMap<EndpointId, String>,
}

impl NoticePolicy {
    pub fn new(choices: NotificationChoices) -> Self {
        NoticePolicy {
            choices,
            alarms: Memory::new(),
            shelved: HashSet::new(),
            commands: Memory::new(),
            baselined: false,
            shown: VecDeque::new(),
            folded: Vec::new(),
            summary_due: None,
            last_summary: None,
            names: HashMap::new(),
        }
    }

    /// The catalog's names for endpoints (after each sync).
    pub fn set_names(&mut self, names: HashMap<EndpointId, String>) {
        self.names = names;
    }

    fn name_of(&self, id: &EndpointId) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn set_choices(&mut self, choices: NotificationChoices) {
        self.choices = choices;
    }

    /// The notice this event deserves now, if any (folded ones come out of [`Self::flush`]).
    pub fn on_event(&mut self, event: &LinkEvent, now: Instant) -> Option<Notice> {
        let notice = match event {
            LinkEvent::Alarm { alarm, via } => {
                let new = self.alarms.insert(&alarm.alarm_id);
                if alarm.shelved.is_some() {
                    // Shelved: out of the operator's way, on every desk.
                    self.shelved.insert(alarm.alarm_id.clone());
                    return None;
                }
                let back = self.shelved.remove(&alarm.alarm_id);
                let on_screen_at_start =
                    !self.baselined && *via == brewdeck_link::Delivery::Snapshot;
                ((new || back) && !on_screen_at_start && self.wants_alarm(alarm))
                    .then(|| alarm_notice(alarm, self))
            }
            LinkEvent::Command { command, .. } => {
                let ended = command.phase.is_final() || command.phase == CommandPhase::Unknown;
                (command.mine
                    && ended
                    && self.choices.command_completions
                    && self.commands.insert(&command.command_id))
                .then(|| command_notice(command, self))
            }
            LinkEvent::Synced { .. } => {
                self.baselined = true;
                None
            }
            _ => None,
        }?;
        self.admit(notice, now)
    }

    fn wants_alarm(&self, alarm: &Alarm) -> bool {
        self.choices.severities.contains(&alarm.severity)
            && alarm.state != Some(AlarmState::Cleared)
            && alarm.acked != Some(true)
    }

    fn admit(&mut self, notice: Notice, now: Instant) -> Option<Notice> {
        while self
            .shown
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.shown.pop_front();
        }
        if self.shown.len() < BUDGET && self.folded.is_empty() {
            self.shown.push_back(now);
            return Some(notice);
        }
        self.folded.push(notice);
        if self.summary_due.is_none() {
            let earliest = now + SUMMARY_DELAY;
            let due = match self.last_summary {
                Some(last) => earliest.max(last + WINDOW),
                None => earliest,
            };
            self.summary_due = Some(due);
        }
        None
    }

    /// When [`Self::flush`] has a summary to give.
    pub fn due(&self) -> Option<Instant> {
        self.summary_due
    }

    /// The summary of folded notices, once it is due.
    pub fn flush(&mut self, now: Instant) -> Option<Notice> {
        if self.summary_due.is_none_or(|due| now < due) || self.folded.is_empty() {
            return None;
        }
        self.summary_due = None;
        self.last_summary = Some(now);
        let folded = std::mem::take(&mut self.folded);
        let alarms = folded
            .iter()
            .filter(|n| n.kind == NoticeKind::Alarm)
            .count();
        let commands = folded.len() - alarms;
        let mut parts = Vec::new();
        if alarms > 0 {
            parts.push(plural(alarms, "alarm"));
        }
        if commands > 0 {
            parts.push(plural(commands, "command update"));
        }
        let newest = folded
            .iter()
            .rev()
            .find(|n| n.kind == NoticeKind::Alarm)
            .or(folded.last())
            .map(|n| format!("Latest: {}: {}\n", n.title, n.body))
            .unwrap_or_default();
        Some(Notice {
            kind: NoticeKind::Summary,
            title: format!("{} more in Brewdeck", parts.join(" and ")),
            body: format!("{newest}Open Brewdeck to see them all."),
            urgent: folded.iter().any(|n| n.urgent),
        })
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

fn alarm_notice(alarm: &Alarm, policy: &NoticePolicy) -> Notice {
    let place = alarm
        .endpoint_id
        .as_ref()
        .map(|e| format!(": {}", policy.name_of(e)))
        .unwrap_or_default();
    Notice {
        kind: NoticeKind::Alarm,
        title: format!("{} alarm{place}", severity_word(alarm.severity)),
        body: alarm.message.clone(),
        urgent: alarm.severity == Severity::Critical,
    }
}

fn command_notice(c: &CommandView, policy: &NoticePolicy) -> Notice {
    let name = policy.name_of(&c.endpoint_id);
    let what = match &c.value {
        Some(v) => format!("{name} {} to {v}", c.action.as_str()),
        None => format!("{name} {}", c.action.as_str()),
    };
    let (outcome, default_reason) = match (c.phase, c.reason.as_deref()) {
        (CommandPhase::Succeeded, _) => ("succeeded", ""),
        (CommandPhase::Rejected, _) => ("rejected", "refused by the plant"),
        (CommandPhase::Failed, Some("expired")) => ("expired", ""),
        (CommandPhase::Failed, _) => ("failed", "the plant reported a failure"),
        _ => (
            "outcome unknown",
            "the link dropped before the plant answered; check the equipment",
        ),
    };
    let body = match c.reason.as_deref() {
        Some("expired") => {
            "It was not sent before it expired: the plant was unreachable.".to_owned()
        }
        Some(reason) if c.phase != CommandPhase::Succeeded => reason.to_owned(),
        _ if !default_reason.is_empty() => default_reason.to_owned(),
        _ => match &c.actual_value {
            Some(v) => format!("Now {v}."),
            None => "Done.".to_owned(),
        },
    };
    Notice {
        kind: NoticeKind::Command,
        title: format!("Command {outcome}: {what}"),
        body,
        urgent: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_link::Delivery;
    use brewdeck_protocol::{Action, EndpointId, Timestamp};

    fn alarm(id: u64, severity: Severity) -> Alarm {
        Alarm {
            alarm_id: AlarmId::from(id),
            severity,
            message: format!("Kettle over temperature #{id}"),
            timestamp: Timestamp::now(),
            endpoint_id: Some(EndpointId::from("kettle.temperature")),
            state: Some(AlarmState::Active),
            acked: Some(false),
            acked_by: None,
            acked_at: None,
            ack_note: None,
            shelved: None,
            seq: None,
        }
    }

    fn raised(id: u64, via: Delivery) -> LinkEvent {
        LinkEvent::Alarm {
            alarm: alarm(id, Severity::Critical),
            via,
        }
    }

    fn synced() -> LinkEvent {
        LinkEvent::Synced {
            level: brewdeck_link::ProtocolLevel::Level1,
            plant: None,
            endpoints: 0,
            last_seq: None,
        }
    }

    fn command(id: &str, phase: CommandPhase, mine: bool, reason: Option<&str>) -> LinkEvent {
        LinkEvent::Command {
            command: CommandView {
                command_id: CommandId::from(id),
                endpoint_id: EndpointId::from("pump-transfer"),
                action: Action::On,
                value: None,
                phase,
                reason: reason.map(str::to_owned),
                actual_value: None,
                issued_at: Timestamp::now(),
                expires_at: Timestamp::now(),
                completed_at: None,
                mine,
                seq: None,
                revision: 0,
            },
            via: Delivery::Live,
        }
    }

    fn policy() -> NoticePolicy {
        let mut p = NoticePolicy::new(NotificationChoices::default());
        p.on_event(&synced(), Instant::now());
        p
    }

    #[test]
    fn one_notice_per_alarm_id_even_when_replayed() {
        let mut p = policy();
        let now = Instant::now();
        let n = p.on_event(&raised(7, Delivery::Live), now).unwrap();
        assert_eq!(n.title, "Critical alarm: kettle.temperature");
        p.set_names(HashMap::from([(
            EndpointId::from("kettle.temperature"),
            "Kettle temperature".to_owned(),
        )]));
        let named = p.on_event(&raised(70, Delivery::Live), now).unwrap();
        assert_eq!(named.title, "Critical alarm: Kettle temperature");
        assert_eq!(n.body, "Kettle over temperature #7");
        assert_eq!(p.on_event(&raised(7, Delivery::Replay), now), None);
        assert_eq!(p.on_event(&raised(7, Delivery::Snapshot), now), None);
        // An alarm first seen in a replay after a reconnect is news.
        assert!(p.on_event(&raised(8, Delivery::Replay), now).is_some());
        // So is one first seen in a fresh snapshot once the app has synced.
        assert!(p.on_event(&raised(9, Delivery::Snapshot), now).is_some());
    }

    #[test]
    fn alarms_on_screen_at_start_do_not_notify() {
        let mut p = NoticePolicy::new(NotificationChoices::default());
        let now = Instant::now();
        assert_eq!(p.on_event(&raised(1, Delivery::Snapshot), now), None);
        p.on_event(&synced(), now);
        assert_eq!(p.on_event(&raised(1, Delivery::Replay), now), None);
        assert!(p.on_event(&raised(2, Delivery::Live), now).is_some());
    }

    #[test]
    fn a_shelved_alarm_is_not_notified_and_its_return_unacknowledged_is() {
        let mut p = policy();
        let now = Instant::now();
        p.on_event(&synced(), now);
        let mut shelved = alarm(5, Severity::Critical);
        shelved.shelved = Some(brewdeck_protocol::Shelved {
            until: brewdeck_protocol::Timestamp::now(),
            by: "ana".into(),
            reason: "probe swap".into(),
        });
        let ev = |a: Alarm| LinkEvent::Alarm {
            alarm: a,
            via: Delivery::Live,
        };
        assert_eq!(
            p.on_event(&ev(shelved.clone()), now),
            None,
            "raised shelved"
        );
        let back = p.on_event(&ev(alarm(5, Severity::Critical)), now).unwrap();
        assert!(back.urgent, "a critical alarm's notice is urgent");
        // Raised, notified, then shelved: silent; back again: notified again.
        assert!(p.on_event(&ev(alarm(6, Severity::Critical)), now).is_some());
        shelved.alarm_id = 6.into();
        assert_eq!(p.on_event(&ev(shelved), now), None);
        assert!(p.on_event(&ev(alarm(6, Severity::Critical)), now).is_some());
        // The same alarm again, not shelved in between: once.
        assert_eq!(p.on_event(&ev(alarm(6, Severity::Critical)), now), None);
    }

    #[test]
    fn severity_choice_and_alarm_state_filter() {
        let mut p = policy();
        let now = Instant::now();
        let high = LinkEvent::Alarm {
            alarm: alarm(1, Severity::High),
            via: Delivery::Live,
        };
        assert_eq!(p.on_event(&high, now), None);
        let mut cleared = alarm(2, Severity::Critical);
        cleared.state = Some(AlarmState::Cleared);
        let ev = LinkEvent::Alarm {
            alarm: cleared,
            via: Delivery::Live,
        };
        assert_eq!(p.on_event(&ev, now), None);
        p.set_choices(NotificationChoices {
            severities: vec![Severity::High],
            command_completions: true,
        });
        let high = LinkEvent::Alarm {
            alarm: alarm(3, Severity::High),
            via: Delivery::Live,
        };
        assert!(p.on_event(&high, now).is_some());
    }

    #[test]
    fn own_commands_notify_once_when_they_end() {
        let mut p = policy();
        let now = Instant::now();
        assert_eq!(
            p.on_event(&command("c1", CommandPhase::Acked, true, None), now),
            None
        );
        let done = p
            .on_event(&command("c1", CommandPhase::Succeeded, true, None), now)
            .unwrap();
        assert_eq!(done.title, "Command succeeded: pump-transfer on");
        assert_eq!(
            p.on_event(&command("c1", CommandPhase::Succeeded, true, None), now),
            None
        );
        // Another desktop's command is not ours to announce.
        assert_eq!(
            p.on_event(&command("c2", CommandPhase::Failed, false, None), now),
            None
        );
        let rejected = p
            .on_event(
                &command(
                    "c3",
                    CommandPhase::Rejected,
                    true,
                    Some("interlock: kettle empty"),
                ),
                now,
            )
            .unwrap();
        assert!(rejected.title.starts_with("Command rejected"));
        assert_eq!(rejected.body, "interlock: kettle empty");
        let expired = p
            .on_event(
                &command("c4", CommandPhase::Failed, true, Some("expired")),
                now,
            )
            .unwrap();
        assert!(
            expired.title.starts_with("Command expired"),
            "{}",
            expired.title
        );
        p.set_choices(NotificationChoices {
            severities: vec![Severity::Critical],
            command_completions: false,
        });
        assert_eq!(
            p.on_event(&command("c5", CommandPhase::Succeeded, true, None), now),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_is_folded_into_one_summary() {
        let mut p = policy();
        let start = Instant::now();
        let shown: Vec<_> = (0..20)
            .filter_map(|i| p.on_event(&raised(i, Delivery::Live), start))
            .collect();
        assert_eq!(shown.len(), BUDGET);
        let due = p.due().unwrap();
        assert_eq!(due, start + SUMMARY_DELAY);
        assert_eq!(p.flush(start), None, "not before it is due");
        let summary = p.flush(due).unwrap();
        assert_eq!(summary.kind, NoticeKind::Summary);
        assert_eq!(summary.title, "15 alarms more in Brewdeck");
        assert!(summary.body.contains("#19"), "{}", summary.body);
        assert_eq!(p.due(), None);
        assert_eq!(p.flush(due + WINDOW), None);

        // Still in the flood's minute: folded again, summarised no sooner than a minute later.
        let later = start + Duration::from_secs(10);
        assert_eq!(p.on_event(&raised(100, Delivery::Live), later), None);
        assert_eq!(p.due(), Some(due + WINDOW));
        // After the flood's minute the budget is back, once the summary is out.
        let summary = p.flush(due + WINDOW).unwrap();
        assert_eq!(summary.title, "1 alarm more in Brewdeck");
        let calm = due + WINDOW + WINDOW;
        assert!(p.on_event(&raised(101, Delivery::Live), calm).is_some());
    }
}
