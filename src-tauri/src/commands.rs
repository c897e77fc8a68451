//! The commands the webview may invoke (exactly those in `command_names.rs`). No logic here:
//! each delegates to the [`Console`] and emits the new desk status when it changed.

use crate::console::Console;
use crate::error::AppError;
use brewdeck_link::{CommandDraft, CommandView};
use brewdeck_protocol::{AlarmId, EndpointId};
use brewdeck_station::bridge::events;
use brewdeck_station::settings::Settings;
use brewdeck_station::status::{DeskSnapshot, DeskStatus, UpdateCheck};
use tauri::{AppHandle, Emitter, Runtime, State};

fn announce<R: Runtime>(app: &AppHandle<R>, status: &DeskStatus) {
    if let Err(e) = app.emit(events::DESK_STATUS, status) {
        tracing::debug!(error = %e, "desk status not emitted");
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn snapshot(console: State<'_, Console>) -> Result<DeskSnapshot, AppError> {
    console.snapshot().await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn connect(console: State<'_, Console>) -> Result<(), AppError> {
    Ok(console.link.connect().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn disconnect(console: State<'_, Console>) -> Result<(), AppError> {
    Ok(console.link.disconnect().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn retry_now(console: State<'_, Console>) -> Result<(), AppError> {
    Ok(console.link.retry_now().await?)
}

/// `token` is never logged: `skip_all`, and only `remember` is recorded.
#[tauri::command]
#[tracing::instrument(skip_all, fields(remember), err(Debug))]
pub async fn set_token<R: Runtime>(
    app: AppHandle<R>,
    console: State<'_, Console>,
    token: String,
    remember: bool,
) -> Result<DeskStatus, AppError> {
    tracing::Span::current().record("remember", remember);
    let status = console.set_token(token, remember).await?;
    announce(&app, &status);
    Ok(status)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn forget_token<R: Runtime>(
    app: AppHandle<R>,
    console: State<'_, Console>,
) -> Result<DeskStatus, AppError> {
    let status = console.forget_token().await?;
    announce(&app, &status);
    Ok(status)
}

#[tauri::command]
#[tracing::instrument(skip(app, console), err(Debug))]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    console: State<'_, Console>,
    settings: Settings,
) -> Result<DeskStatus, AppError> {
    let status = console.save_settings(settings).await?;
    if let Some(window) = crate::shell::main_window(&app) {
        let _ = window.set_title(crate::shell::title(status.demo));
    }
    announce(&app, &status);
    Ok(status)
}

#[tauri::command]
#[tracing::instrument(skip(console), err(Debug))]
pub async fn send_command(
    console: State<'_, Console>,
    draft: CommandDraft,
) -> Result<CommandView, AppError> {
    console.send_command(draft).await
}

#[tauri::command]
#[tracing::instrument(skip(console), err(Debug))]
pub async fn acknowledge_alarm(
    console: State<'_, Console>,
    alarm_id: AlarmId,
) -> Result<(), AppError> {
    console.acknowledge_alarm(alarm_id).await
}

#[tauri::command]
#[tracing::instrument(skip(console), err(Debug))]
pub async fn subscribe(
    console: State<'_, Console>,
    endpoints: Vec<EndpointId>,
) -> Result<(), AppError> {
    console.subscribe(endpoints).await
}

#[tauri::command]
#[tracing::instrument(skip(console), err(Debug))]
pub async fn unsubscribe(
    console: State<'_, Console>,
    endpoints: Vec<EndpointId>,
) -> Result<(), AppError> {
    console.unsubscribe(endpoints).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub fn open_log_folder(console: State<'_, Console>) -> Result<(), AppError> {
    console.open_log_folder()
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn check_for_updates<R: Runtime>(app: AppHandle<R>) -> Result<UpdateCheck, AppError> {
    crate::updates::check(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(Debug))]
pub async fn install_update<R: Runtime>(app: AppHandle<R>) -> Result<(), AppError> {
    crate::updates::install(&app).await
}
