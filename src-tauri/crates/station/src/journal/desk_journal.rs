//! The task that keeps this desk's own journal: it follows the link and writes what
//! [`JournalBook`] makes of each event into the desk's record, under the server's source,
//! and reads it back for the journal view.

use super::book::JournalBook;
use crate::error::StationError;
use crate::operator::DeskOperator;
use crate::record::DeskRecord;
use brewdeck_link::{Link, LinkEvent};
use brewdeck_protocol::{JournalEntry, JournalKind, JournalQuery, Timestamp};
use std::collections::HashMap;
use tokio::sync::{broadcast::error::RecvError, watch};

/// Starts the desk's journal. `source` names what the desk is connected to; it is read when
/// the link says it changed server, in the event stream, like the recorder does.
pub fn spawn_desk_journal(
    link: &Link,
    record: DeskRecord,
    source: watch::Receiver<String>,
) -> tokio::task::JoinHandle<()> {
    let events = link.events();
    tokio::spawn(run(link.downgrade(), events, record, source))
}

async fn run(
    link: brewdeck_link::WeakLink,
    mut events: tokio::sync::broadcast::Receiver<LinkEvent>,
    record: DeskRecord,
    source: watch::Receiver<String>,
) {
    let mut book = JournalBook::new();
    let mut me = "this desk".to_owned();
    let mut current = source.borrow().clone();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "the desk's journal fell behind the link; some transitions may be missing from it");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        match &event {
            LinkEvent::ServerChanged { .. } => current = source.borrow().clone(),
            LinkEvent::Synced { .. } => {
                if let Some(plant) = match link.upgrade() {
                    Some(l) => l.snapshot().await.ok(),
                    None => return,
                } {
                    me = DeskOperator::of(&plant).signature();
                    book.set_names(
                        plant
                            .catalog
                            .iter()
                            .map(|e| (e.id.clone(), e.name.clone()))
                            .collect::<HashMap<_, _>>(),
                    );
                }
            }
            _ => {}
        }
        let written = book.on_event(&event, &me, Timestamp::now());
        if written.is_empty() {
            continue;
        }
        let (record, source) = (record.clone(), current.clone());
        // The duplicate check reads the file: off the runtime.
        let _ = tokio::task::spawn_blocking(move || {
            for w in written {
                if w.maybe_known && already_kept(&record, &source, &w.entry) {
                    continue;
                }
                if let Some(writer) = record.writer() {
                    writer.journal(&source, w.entry);
                }
            }
        })
        .await;
    }
}

/// Whether an alarm transition first seen in a snapshot is already in the journal (this desk
/// saw it before a restart): same kind, same alarm, same time.
fn already_kept(record: &DeskRecord, source: &str, entry: &JournalEntry) -> bool {
    let Some(reader) = record.reader() else {
        return false;
    };
    let query = JournalQuery {
        request_id: "desk".to_owned(),
        from: Some(entry.at),
        to: Some(entry.at),
        kinds: Some(vec![entry.kind]),
        limit: Some(50),
        ..JournalQuery::default()
    };
    reader
        .journal(source, &query)
        .map(|(found, _)| found.iter().any(|e| e.alarm_id == entry.alarm_id))
        .unwrap_or(false)
}

/// A note kept by this desk alone (its server keeps no shift log).
pub fn keep_note(
    record: &DeskRecord,
    source: &str,
    by: &str,
    text: String,
    endpoint_ids: Vec<brewdeck_protocol::EndpointId>,
) -> Result<(), StationError> {
    let writer = record.writer().ok_or_else(|| {
        StationError::RecordUnavailable("the desk's record is not open".to_owned())
    })?;
    let mut e = super::book::note_entry(&brewdeck_protocol::Note {
        note_id: 0,
        seq: 0,
        at: Timestamp::now(),
        by: by.to_owned(),
        text,
        endpoint_ids,
    });
    e.note_id = None;
    writer.journal(source, e);
    Ok(())
}

/// A page of this desk's journal, with what it wrote until now visible.
pub fn read_page(
    record: &DeskRecord,
    source: &str,
    query: &JournalQuery,
) -> Result<(Vec<JournalEntry>, bool), StationError> {
    record.flush()?;
    let reader = record.reader().ok_or_else(|| {
        StationError::RecordUnavailable("the desk's record is not open".to_owned())
    })?;
    Ok(reader.journal(source, query)?)
}

/// Every kind, for a filter that names none.
pub fn all_kinds() -> Vec<JournalKind> {
    JournalKind::ALL.to_vec()
}
