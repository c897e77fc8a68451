//! The bridge: one task that follows a link and feeds the desktop (an [`Output`]: the app's
//! events, notifications and tray). Telemetry is coalesced and flushed at most every
//! [`FLUSH_EVERY`] (20 a second) in batches under 8 KiB; alarms, commands and state go out as
//! they happen; the notice policy decides what pops up.

use crate::notices::{Notice, NoticePolicy};
use crate::readings::{ReadingBatch, ReadingBatcher, MAX_BATCH_BYTES};
use crate::settings::NotificationChoices;
use brewdeck_link::{Delivery, Link, LinkEvent, LinkState, WeakLink};
use brewdeck_protocol::{Alarm, AlarmId, Severity};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// The shortest gap between two telemetry flushes: at most 20 a second.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Names of the events the app emits to the webview.
pub mod events {
    /// Payload: `LinkState`.
    pub const LINK_STATE: &str = "link://state";
    /// Payload: `LinkEvent` of kind `alarm`.
    pub const PLANT_ALARM: &str = "plant://alarm";
    /// Payload: `LinkEvent` of kind `command`.
    pub const PLANT_COMMAND: &str = "plant://command";
    /// Payload: `LinkEvent` of kind `synced`, `events_may_be_missing` or `server_error`.
    pub const PLANT_NOTICE: &str = "plant://notice";
    /// Payload: `ReadingBatch`.
    pub const PLANT_READINGS: &str = "plant://readings";
    /// Payload: `DeskStatus`.
    pub const DESK_STATUS: &str = "desk://status";
    /// No payload: events were dropped on the way; take a fresh snapshot.
    pub const DESK_RESYNC: &str = "desk://resync";
    /// Payload: `RecordView`, when the record's health changes.
    pub const RECORD_STATUS: &str = "record://status";
    /// No payload: ranges the desk had not seen were fetched from the plant; ask again.
    pub const RECORD_FILLED: &str = "record://filled";
    /// Payload: `LinkEvent` of kind `note`.
    pub const PLANT_NOTE: &str = "plant://note";
    /// Payload: `AlarmSoundView`, when the alarm sound starts, stops or its device changes.
    pub const ALARM_SOUND: &str = "alarm://sound";

    /// (constant name, event name, what it carries), for the generated TypeScript.
    pub const ALL: &[(&str, &str, &str)] = &[
        ("LINK_STATE", LINK_STATE, "Payload: LinkState."),
        (
            "PLANT_ALARM",
            PLANT_ALARM,
            "Payload: LinkEvent of kind \"alarm\".",
        ),
        (
            "PLANT_COMMAND",
            PLANT_COMMAND,
            "Payload: LinkEvent of kind \"command\".",
        ),
        (
            "PLANT_NOTICE",
            PLANT_NOTICE,
            "Payload: LinkEvent of kind \"synced\", \"events_may_be_missing\" or \"server_error\".",
        ),
        (
            "PLANT_READINGS",
            PLANT_READINGS,
            "Payload: ReadingBatch (latest value per endpoint).",
        ),
        ("DESK_STATUS", DESK_STATUS, "Payload: DeskStatus."),
        (
            "DESK_RESYNC",
            DESK_RESYNC,
            "No payload: events were lost on the way; take a fresh snapshot.",
        ),
        (
            "RECORD_STATUS",
            RECORD_STATUS,
            "Payload: RecordView, when the record's health changes.",
        ),
        (
            "RECORD_FILLED",
            RECORD_FILLED,
            "No payload: ranges the desk had not seen were fetched from the plant; ask again.",
        ),
        (
            "PLANT_NOTE",
            PLANT_NOTE,
            "Payload: LinkEvent of kind \"note\".",
        ),
        (
            "ALARM_SOUND",
            ALARM_SOUND,
            "Payload: AlarmSoundView, when the sound starts, stops or its device changes.",
        ),
    ];

    /// The event a link event goes out as (`None` for readings, which are batched).
    pub fn for_link_event(event: &brewdeck_link::LinkEvent) -> Option<&'static str> {
        use brewdeck_link::LinkEvent::*;
        match event {
            Readings { .. } | ServerChanged { .. } => None,
            Alarm { .. } => Some(PLANT_ALARM),
            Command { .. } => Some(PLANT_COMMAND),
            Note { .. } => Some(PLANT_NOTE),
            Synced { .. } | EventsMayBeMissing { .. } | ServerError { .. } => Some(PLANT_NOTICE),
        }
    }
}

/// Alarm counts for the tray.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlarmTally {
    /// Active or unacknowledged.
    pub open: usize,
    pub unacknowledged_critical: usize,
}

/// Where the bridge delivers. The app implements it with Tauri; tests with a recorder.
pub trait Output: Send + 'static {
    fn link_state(&mut self, state: &LinkState);
    /// An alarm, command, sync or server error (never readings).
    fn plant_event(&mut self, event: &LinkEvent);
    /// One flush: the latest value of every endpoint that changed, in batches under 8 KiB.
    fn readings(&mut self, batches: &[ReadingBatch]);
    fn notify(&mut self, notice: &Notice);
    fn alarms(&mut self, tally: AlarmTally);
    /// Events were lost between the link and the bridge: the webview must re-snapshot.
    fn resync(&mut self);
}

#[derive(Debug, Default)]
struct Alarms {
    open: HashMap<AlarmId, (Severity, bool)>,
}

impl Alarms {
    fn apply(&mut self, alarm: &Alarm) {
        let acked = alarm.acked == Some(true);
        if alarm.is_closed() {
            self.open.remove(&alarm.alarm_id);
        } else {
            self.open
                .insert(alarm.alarm_id.clone(), (alarm.severity, acked));
        }
    }

    fn tally(&self) -> AlarmTally {
        AlarmTally {
            open: self.open.len(),
            unacknowledged_critical: self
                .open
                .values()
                .filter(|(s, acked)| *s == Severity::Critical && !acked)
                .count(),
        }
    }
}

/// The bridge between one link and one desk. Create it before the link connects, so it sees
/// the first sync; then [`Bridge::run`] it.
#[derive(Debug)]
pub struct Bridge {
    /// Weak: the bridge follows the link, it does not keep it running.
    link: WeakLink,
    state: watch::Receiver<LinkState>,
    events: broadcast::Receiver<LinkEvent>,
    choices: watch::Receiver<NotificationChoices>,
}

impl Bridge {
    pub fn new(link: &Link, choices: watch::Receiver<NotificationChoices>) -> Self {
        Bridge {
            link: link.downgrade(),
            state: link.watch_state(),
            events: link.events(),
            choices,
        }
    }

    /// Runs until the link stops.
    pub async fn run<O: Output>(self, mut out: O) {
        let Bridge {
            link,
            mut state,
            mut events,
            mut choices,
        } = self;
        let mut policy = NoticePolicy::new(choices.borrow_and_update().clone());
        let mut batcher = ReadingBatcher::default();
        let mut alarms = Alarms::default();
        let mut last_tally = AlarmTally::default();
        let flush = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(flush);
        let mut flush_armed = false;
        let mut last_flush: Option<Instant> = None;
        let summary = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(summary);
        let mut choices_open = true;
        let mut state_open = true;
        out.link_state(&state.borrow_and_update().clone());

        loop {
            let mut refreshed = false;
            tokio::select! {
                changed = state.changed(), if state_open => {
                    match changed {
                        Ok(()) => {
                            let now_state = state.borrow_and_update().clone();
                            out.link_state(&now_state);
                        }
                        Err(_) => state_open = false,
                    }
                }
                event = events.recv() => match event {
                    Ok(LinkEvent::Readings { readings }) => {
                        for r in readings {
                            batcher.push(r);
                        }
                        if !flush_armed {
                            let now = Instant::now();
                            let at = last_flush.map_or(now, |t| (t + FLUSH_EVERY).max(now));
                            flush.as_mut().reset(at);
                            flush_armed = true;
                        }
                    }
                    Ok(event) => {
                        out.plant_event(&event);
                        if let Some(notice) = policy.on_event(&event, Instant::now()) {
                            out.notify(&notice);
                        }
                        match &event {
                            LinkEvent::Alarm { alarm, .. } => alarms.apply(alarm),
                            LinkEvent::Synced { .. } => refreshed = true,
                            _ => {}
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the bridge fell behind the link; resyncing");
                        out.resync();
                        // What was missed may hold alarms and command endings: take them from
                        // the model, so none goes unnotified.
                        if let Some(link) = link.upgrade() {
                            if let Ok(snapshot) = link.snapshot().await {
                                for alarm in snapshot.alarms {
                                    let event = LinkEvent::Alarm { alarm, via: Delivery::Snapshot };
                                    if let Some(n) = policy.on_event(&event, Instant::now()) {
                                        out.notify(&n);
                                    }
                                }
                                for command in snapshot.commands {
                                    let event = LinkEvent::Command { command, via: Delivery::Snapshot };
                                    if let Some(n) = policy.on_event(&event, Instant::now()) {
                                        out.notify(&n);
                                    }
                                }
                            }
                        }
                        refreshed = true;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                () = &mut flush, if flush_armed => {
                    out.readings(&batcher.take(MAX_BATCH_BYTES));
                    flush_armed = false;
                    last_flush = Some(Instant::now());
                }
                () = &mut summary, if policy.due().is_some() => {
                    if let Some(notice) = policy.flush(Instant::now()) {
                        out.notify(&notice);
                    }
                }
                changed = choices.changed(), if choices_open => match changed {
                    Ok(()) => policy.set_choices(choices.borrow_and_update().clone()),
                    Err(_) => choices_open = false,
                },
            }
            if refreshed {
                // After every (re)sync the link's model is the truth for the tray's counts.
                if let Some(link) = link.upgrade() {
                    if let Ok(snapshot) = link.snapshot().await {
                        alarms = Alarms::default();
                        for alarm in &snapshot.alarms {
                            alarms.apply(alarm);
                        }
                        policy.set_names(
                            snapshot
                                .catalog
                                .iter()
                                .map(|e| (e.id.clone(), e.name.clone()))
                                .collect(),
                        );
                    }
                }
            }
            let tally = alarms.tally();
            if tally != last_tally {
                last_tally = tally;
                out.alarms(tally);
            }
            if let Some(due) = policy.due() {
                if summary.deadline() != due {
                    summary.as_mut().reset(due);
                }
            }
        }
        // Readings that arrived before the end are still shown.
        if !batcher.is_empty() {
            out.readings(&batcher.take(MAX_BATCH_BYTES));
        }
        tracing::debug!("bridge ended with its link");
    }
}
