//! The recorder: one task that follows the link and puts every reading it receives into the
//! desk's record, under the source the desk is on, and marks the time it saw everything as
//! seen, so a trend asks the plant only for what the desk missed.
//!
//! Seen means recorded: nothing is marked while the record is closed or paused, a batch it
//! dropped starts the seen time afresh, and marks stay a couple of seconds behind now, so a
//! reading still on its way (or lost when this task fell behind) is never claimed as seen.

use super::desk_record::DeskRecord;
use super::fill::FillMemory;
use brewdeck_link::{Link, LinkEvent, LinkState};
use brewdeck_protocol::Timestamp;
use brewdeck_store::{Reading, RecordState};
use std::time::Duration;
use tokio::sync::{broadcast::error::RecvError, watch};

/// How often the time seen is marked.
pub const MARK_EVERY: Duration = Duration::from_secs(1);
/// Marks stay this far behind now: readings this recent may still be on their way.
pub const MARK_BEHIND_MS: i64 = 2_000;

/// Starts the recorder. `source` names what the desk is connected to (`demo`, or the server's
/// URL); it is read when the link says it changed server, in the event stream, so readings
/// of the old server are never filed under the new one.
pub fn spawn_recorder(
    link: &Link,
    record: DeskRecord,
    memory: FillMemory,
    source: watch::Receiver<String>,
) -> tokio::task::JoinHandle<()> {
    let events = link.events();
    let state = link.watch_state();
    tokio::spawn(run(events, state, record, memory, source))
}

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

/// What is being seen: since when, under which source.
struct Seen {
    source: String,
    since: Option<i64>,
    /// Readings the record had dropped when `since` began.
    dropped: u64,
    connected: bool,
}

impl Seen {
    /// Marks what was seen up to a little before now; stops (and says so) when the record is
    /// not taking everything.
    fn mark(&mut self, record: &DeskRecord) {
        let status = record.status();
        let recording = status
            .as_ref()
            .is_some_and(|s| s.state == RecordState::Recording);
        let dropped = status.as_ref().map_or(0, |s| s.dropped);
        if !recording || !self.connected {
            self.since = None;
            return;
        }
        match self.since {
            None => {
                self.since = Some(now_ms());
                self.dropped = dropped;
            }
            Some(_) if dropped > self.dropped => {
                // Readings were lost since the last mark: what follows is seen afresh.
                self.since = Some(now_ms());
                self.dropped = dropped;
            }
            Some(since) => {
                let to = now_ms() - MARK_BEHIND_MS;
                if let (true, Some(w)) = (to > since, record.writer()) {
                    w.mark_covered(&self.source, since, to);
                }
            }
        }
    }
}

async fn run(
    mut events: tokio::sync::broadcast::Receiver<LinkEvent>,
    mut state: watch::Receiver<LinkState>,
    record: DeskRecord,
    memory: FillMemory,
    source: watch::Receiver<String>,
) {
    let mut seen = Seen {
        source: source.borrow().clone(),
        since: None,
        dropped: 0,
        connected: state.borrow_and_update().is_connected(),
    };
    let mut mark = tokio::time::interval(MARK_EVERY);
    mark.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(LinkEvent::Readings { readings }) => {
                    let batch: Vec<Reading> = readings
                        .iter()
                        .filter_map(|t| {
                            Some(Reading {
                                endpoint: t.endpoint_id.to_string(),
                                t_ms: t.timestamp.unix_millis(),
                                value: t.value.as_reading()?,
                            })
                        })
                        .collect();
                    if !batch.is_empty() {
                        record.record(&seen.source, batch);
                    }
                }
                Ok(LinkEvent::ServerChanged { .. }) => {
                    seen.mark(&record);
                    seen.source = source.borrow().clone();
                    seen.since = None;
                }
                // Synced again: the server may serve history now (or again).
                Ok(LinkEvent::Synced { .. }) => memory.forget(&seen.source),
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    // Readings were lost on the way here: the seen time starts afresh (marks
                    // stayed behind now, so none of them was claimed).
                    tracing::warn!(missed, "the recorder fell behind the link: some readings are not recorded");
                    seen.since = None;
                }
                Err(RecvError::Closed) => break,
            },
            changed = state.changed() => {
                if changed.is_err() {
                    break;
                }
                let up = state.borrow_and_update().is_connected();
                if seen.connected && !up {
                    seen.mark(&record);
                }
                seen.connected = up;
                if !up {
                    seen.since = None;
                }
            }
            _ = mark.tick() => seen.mark(&record),
        }
    }
    seen.mark(&record);
}
