//! The recorder: one task that follows the link and puts every reading it receives into the
//! desk's record, under the source the desk is on, and marks the time it was connected as
//! seen, so a trend asks the plant only for what the desk missed.

use super::desk_record::DeskRecord;
use super::fill::FillMemory;
use brewdeck_link::{Link, LinkEvent, LinkState};
use brewdeck_protocol::Timestamp;
use brewdeck_store::Reading;
use std::time::Duration;
use tokio::sync::{broadcast::error::RecvError, watch};

/// How often the time connected is marked as seen.
pub const MARK_EVERY: Duration = Duration::from_secs(1);

/// Starts the recorder. `source` names what the desk is connected to (`demo`, or the server's
/// URL): readings and seen time go under it, and a change of server starts afresh.
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

async fn run(
    mut events: tokio::sync::broadcast::Receiver<LinkEvent>,
    mut state: watch::Receiver<LinkState>,
    record: DeskRecord,
    memory: FillMemory,
    mut source: watch::Receiver<String>,
) {
    let mut current = source.borrow_and_update().clone();
    // Since when the desk has seen everything of `current`, while it has.
    let mut seen_since = state.borrow_and_update().is_connected().then(now_ms);
    let mut mark = tokio::time::interval(MARK_EVERY);
    mark.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mark_seen = |record: &DeskRecord, source: &str, since: Option<i64>| {
        if let (Some(since), Some(w)) = (since, record.writer()) {
            w.mark_covered(source, since, now_ms());
        }
    };
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
                        record.record(&current, batch);
                    }
                }
                // Synced again: the server may serve history now (or again).
                Ok(LinkEvent::Synced { .. }) => memory.forget(&current),
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    // Readings were lost on the way here: what was not marked yet is not seen,
                    // and the plant will be asked for it.
                    tracing::warn!(missed, "the recorder fell behind the link: some readings are not recorded");
                    seen_since = seen_since.map(|_| now_ms());
                }
                Err(RecvError::Closed) => break,
            },
            changed = state.changed() => {
                if changed.is_err() {
                    break;
                }
                let up = state.borrow_and_update().is_connected();
                match (up, seen_since) {
                    (true, None) => seen_since = Some(now_ms()),
                    (false, Some(_)) => {
                        mark_seen(&record, &current, seen_since);
                        seen_since = None;
                    }
                    _ => {}
                }
            }
            changed = source.changed() => {
                if changed.is_err() {
                    break;
                }
                mark_seen(&record, &current, seen_since);
                current = source.borrow_and_update().clone();
                seen_since = state.borrow().is_connected().then(now_ms);
            }
            _ = mark.tick() => mark_seen(&record, &current, seen_since),
        }
    }
    mark_seen(&record, &current, seen_since);
}
