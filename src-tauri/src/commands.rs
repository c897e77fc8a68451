//! The commands the webview may invoke: one function here per row of `command_table.rs`, taking
//! the app, the [`Desk`] and the row's arguments. No logic: each delegates to the desk and emits
//! the new desk status when it changed.
//!
//! The Tauri commands themselves are made from the table (at the end of this file), so the
//! argument keys the webview sends are the table's, and a function here that no longer takes a
//! row's arguments and returns its type does not compile.

use crate::bindings::{CommandRow, TsType};
use crate::desk::Desk;
use crate::error::AppError;
use brewdeck_link::{CommandDraft, CommandView};
use brewdeck_protocol::{AlarmId, EndpointId};
use brewdeck_station::alarm_sounds::AlarmSoundView;
use brewdeck_station::bridge::events;
use brewdeck_station::journal::{AckAllOutcome, AlarmHealth, JournalFilter, JournalPage};
use brewdeck_station::record::view::{
    ExportOutcome, RecordView, Retention, TrendAnswer, TrendQuery,
};
use brewdeck_station::settings::Settings;
use brewdeck_station::status::{DeskSnapshot, DeskStatus, UpdateCheck};
use tauri::{AppHandle, Emitter, Runtime};

fn announce<R: Runtime>(app: &AppHandle<R>, status: &DeskStatus) {
    if let Err(e) = app.emit(events::DESK_STATUS, status) {
        tracing::debug!(error = %e, "desk status not emitted");
    }
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn snapshot<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
) -> Result<DeskSnapshot, AppError> {
    desk.snapshot().await
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn connect<R: Runtime>(_app: &AppHandle<R>, desk: &Desk) -> Result<(), AppError> {
    Ok(desk.link.connect().await?)
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn disconnect<R: Runtime>(_app: &AppHandle<R>, desk: &Desk) -> Result<(), AppError> {
    Ok(desk.link.disconnect().await?)
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn retry_now<R: Runtime>(_app: &AppHandle<R>, desk: &Desk) -> Result<(), AppError> {
    Ok(desk.link.retry_now().await?)
}

/// `token` is never logged: `skip_all`, and only `remember` is recorded.
#[tracing::instrument(skip_all, fields(remember), err(Debug))]
pub async fn set_token<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    token: String,
    remember: bool,
) -> Result<DeskStatus, AppError> {
    tracing::Span::current().record("remember", remember);
    let status = desk.set_token(token, remember).await?;
    announce(app, &status);
    Ok(status)
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn forget_token<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
) -> Result<DeskStatus, AppError> {
    let status = desk.forget_token().await?;
    announce(app, &status);
    Ok(status)
}

#[tracing::instrument(skip(app, desk), err(Debug))]
pub async fn save_settings<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    settings: Settings,
) -> Result<DeskStatus, AppError> {
    let status = desk.save_settings(settings).await?;
    crate::shell::show_title(app, status.demo);
    announce(app, &status);
    Ok(status)
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn send_command<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    draft: CommandDraft,
) -> Result<CommandView, AppError> {
    desk.send_command(draft).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn acknowledge_alarm<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    alarm_id: AlarmId,
    note: Option<String>,
) -> Result<(), AppError> {
    desk.acknowledge_alarm(alarm_id, note).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn acknowledge_all<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    note: Option<String>,
) -> Result<AckAllOutcome, AppError> {
    desk.acknowledge_all(note).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn shelve_alarm<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    alarm_id: AlarmId,
    minutes: u32,
    reason: String,
) -> Result<(), AppError> {
    desk.shelve_alarm(alarm_id, minutes, reason).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn unshelve_alarm<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    alarm_id: AlarmId,
) -> Result<(), AppError> {
    desk.unshelve_alarm(alarm_id).await
}

#[tracing::instrument(skip(_app, desk, text), err(Debug))]
pub async fn write_note<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    text: String,
    endpoint_ids: Vec<EndpointId>,
) -> Result<(), AppError> {
    desk.write_note(text, endpoint_ids).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn journal<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    filter: JournalFilter,
) -> Result<JournalPage, AppError> {
    desk.journal(filter).await
}

#[tracing::instrument(skip(app, desk), err(Debug))]
pub async fn export_journal_csv<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    filter: JournalFilter,
) -> Result<ExportOutcome, AppError> {
    desk.export_journal_csv(app, filter).await
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn silence_alarms<R: Runtime>(_app: &AppHandle<R>, desk: &Desk) -> Result<(), AppError> {
    desk.silence_alarms();
    Ok(())
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn alarm_sound<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
) -> Result<Option<AlarmSoundView>, AppError> {
    Ok(desk.alarm_sound())
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn alarm_health<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
) -> Result<AlarmHealth, AppError> {
    desk.alarm_health().await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn subscribe<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    endpoints: Vec<EndpointId>,
) -> Result<(), AppError> {
    desk.subscribe(endpoints).await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn unsubscribe<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    endpoints: Vec<EndpointId>,
) -> Result<(), AppError> {
    desk.unsubscribe(endpoints).await
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn open_log_folder<R: Runtime>(_app: &AppHandle<R>, desk: &Desk) -> Result<(), AppError> {
    desk.open_log_folder()
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn check_for_updates<R: Runtime>(
    app: &AppHandle<R>,
    _desk: &Desk,
) -> Result<UpdateCheck, AppError> {
    crate::updates::check(app).await
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn install_update<R: Runtime>(app: &AppHandle<R>, _desk: &Desk) -> Result<(), AppError> {
    crate::updates::install(app).await
}

#[tracing::instrument(skip(app, desk), err(Debug))]
pub async fn trend<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    query: TrendQuery,
) -> Result<TrendAnswer, AppError> {
    let app = app.clone();
    desk.trend(query, move || {
        if let Err(e) = app.emit(events::RECORD_FILLED, ()) {
            tracing::debug!(error = %e, "record filled not emitted");
        }
    })
    .await
}

#[tracing::instrument(skip_all, err(Debug))]
pub async fn record_status<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
) -> Result<RecordView, AppError> {
    desk.record_status().await
}

#[tracing::instrument(skip(_app, desk), err(Debug))]
pub async fn set_retention<R: Runtime>(
    _app: &AppHandle<R>,
    desk: &Desk,
    retention: Retention,
) -> Result<RecordView, AppError> {
    desk.set_retention(retention).await
}

#[tracing::instrument(skip(app, desk), err(Debug))]
pub async fn export_trend_csv<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    query: TrendQuery,
) -> Result<ExportOutcome, AppError> {
    desk.export_trend_csv(app, query).await
}

/// The image's bytes are not logged.
#[tracing::instrument(skip_all, err(Debug))]
pub async fn export_trend_png<R: Runtime>(
    app: &AppHandle<R>,
    desk: &Desk,
    png_base64: String,
) -> Result<ExportOutcome, AppError> {
    desk.export_trend_png(app, png_base64).await
}

/// From the table: a Tauri command per row (taking exactly the row's arguments and calling the
/// function of the same name above), the handler, the names and the rows for TypeScript.
macro_rules! commands_from_table {
    ($($(#[doc = $doc:literal])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// The Tauri commands. Private: a public `#[tauri::command]` gets a `#[macro_export]`
        /// helper, which code expanded from a macro cannot refer to by path.
        mod tauri_commands {
            use super::*;
            use tauri::State;

            $(
                $(#[doc = $doc])*
                #[tauri::command]
                async fn $name<R: Runtime>(
                    app: AppHandle<R>,
                    desk: State<'_, Desk>,
                    $($arg: $ty),*
                ) -> Result<$ret, AppError> {
                    super::$name(&app, &desk, $($arg),*).await
                }
            )*

            /// What `run_app` installs: exactly the table's commands.
            pub fn handler<R: Runtime>(
            ) -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
                tauri::generate_handler![$($name),*]
            }
        }
        pub use tauri_commands::handler;

        /// The commands' names, in the table's order.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Each row with its TypeScript types, for `generated/app/commands.ts`.
        pub fn rows(cfg: &ts_rs::Config) -> Vec<CommandRow> {
            vec![$(
                CommandRow {
                    name: stringify!($name),
                    docs: &[$($doc),*],
                    args: vec![$((stringify!($arg), TsType::of::<$ty>(cfg))),*],
                    returns: TsType::of::<$ret>(cfg),
                },
            )*]
        }
    };
}

with_command_table!(commands_from_table);
