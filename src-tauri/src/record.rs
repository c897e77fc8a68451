//! The record's tasks beside the desk: the recorder, the upkeep that reopens the record and
//! follows its health, and the event that tells the webview when that health changes.

use crate::desk::Desk;
use brewdeck_station::bridge::events;
use brewdeck_station::record::spawn_recorder;
use tauri::{AppHandle, Emitter, Runtime};

pub fn start<R: Runtime>(app: &AppHandle<R>, desk: &Desk) {
    tauri::async_runtime::spawn(desk.record.clone().upkeep());
    let link = desk.link.clone();
    let (record, fills, source) = (
        desk.record.clone(),
        desk.fills.clone(),
        desk.source.subscribe(),
    );
    let (journal_record, journal_source) = (desk.record.clone(), desk.source.subscribe());
    tauri::async_runtime::spawn(async move {
        let journal =
            brewdeck_station::journal::spawn_desk_journal(&link, journal_record, journal_source);
        let _ = spawn_recorder(&link, record, fills, source).await;
        let _ = journal.await;
    });
    let mut health = desk.record.watch();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let view = health.borrow_and_update().clone();
            if let Err(e) = app.emit(events::RECORD_STATUS, &view) {
                tracing::debug!(error = %e, "record status not emitted");
            }
            if health.changed().await.is_err() {
                break;
            }
        }
    });
}
