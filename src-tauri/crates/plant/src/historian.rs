//! The plant's historian: every reading goes to a `brewdeck-store` (a file under `--data-dir`,
//! or memory), and `history_query` is answered from it.

use crate::error::PlantError;
use brewdeck_protocol::Value;
use brewdeck_store::{Location, Reader, Reading, RecordState, Store, StoreConfig, Writer};
use std::path::Path;

/// The store's file name inside `--data-dir`.
pub(crate) const STORE_FILE: &str = "plant.sqlite3";

/// The plant records readings under this source name: it has one.
pub(crate) const SOURCE: &str = "";
/// The plant's latest `seq` is kept under this name, so a restart numbers on above it.
const SEQ_KEY: &str = "plant.seq";

/// The plant's journal entries are kept under this source (the desk keeps each server's
/// under its own key, in the same kind of table).
pub(crate) const JOURNAL_SOURCE: &str = "plant";

#[derive(Debug)]
pub(crate) struct Historian {
    /// Owns the writer thread; dropped last, which flushes it.
    store: Store,
    pub writer: Writer,
    pub reader: Reader,
}

impl Historian {
    pub fn open(data_dir: Option<&Path>) -> Result<Self, PlantError> {
        let location = match data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| PlantError::DataDir {
                    dir: dir.to_owned(),
                    reason: e.to_string(),
                })?;
                Location::File(dir.join(STORE_FILE))
            }
            None => Location::Memory,
        };
        let opened =
            Store::open(StoreConfig::plant(location)).map_err(|e| PlantError::DataDir {
                dir: data_dir.map(Path::to_owned).unwrap_or_default(),
                reason: e.to_string(),
            })?;
        if let Some(aside) = &opened.moved_aside {
            tracing::warn!(moved_to = %aside.display(), "the plant's history was corrupt: it was moved aside and a new one begun");
        }
        let store = opened.store;
        Ok(Historian {
            writer: store.writer(),
            reader: store.reader(),
            store,
        })
    }

    /// Says in the log when recording pauses (a full disk, a read-only folder) and when it
    /// resumes by itself; the live stream carries on meanwhile. Ends when the store does.
    pub fn watch_recording(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut status = self.store.status();
        async move {
            let mut paused = false;
            while status.changed().await.is_ok() {
                let now = status.borrow_and_update().clone();
                match (&now.state, paused) {
                    (RecordState::Paused { reason }, false) => {
                        paused = true;
                        tracing::warn!(%reason, dropped = now.dropped, "history recording paused: readings are not kept until it can write again");
                    }
                    (RecordState::Recording, true) => {
                        paused = false;
                        tracing::info!(dropped = now.dropped, "history recording resumed");
                    }
                    _ => {}
                }
            }
        }
    }

    /// The latest `seq` a previous run of this plant kept, if any.
    pub fn last_seq(&self) -> Option<u64> {
        match self.reader.remembered(SEQ_KEY) {
            Ok(seq) => seq.and_then(|s| u64::try_from(s).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "the plant's last seq could not be read");
                None
            }
        }
    }

    /// Keeps the latest `seq`, committed with the next batch.
    pub fn keep_seq(writer: &Writer, seq: u64) {
        writer.remember(SEQ_KEY, i64::try_from(seq).unwrap_or(i64::MAX));
    }

    /// Waits until everything recorded so far is on disk (tests, shutdown).
    pub fn flush(&self) {
        if let Err(e) = self.store.flush() {
            tracing::warn!(error = %e, "the plant's history could not be flushed");
        }
    }
}

/// Readings gathered under the state's lock, sent to the writer in one batch per step.
#[derive(Debug, Default)]
pub(crate) struct Pending(Vec<Reading>);

impl Pending {
    pub fn push(&mut self, endpoint: &str, t_ms: i64, value: &Value) {
        if let Some(v) = value.as_reading() {
            self.0.push(Reading {
                endpoint: endpoint.to_owned(),
                t_ms,
                value: v,
            });
        }
    }

    pub fn send(&mut self, writer: &Writer) {
        if !self.0.is_empty() {
            writer.record(SOURCE, std::mem::take(&mut self.0));
        }
    }
}
