//! Brewdeck, the desktop app: a thin Tauri shell over `brewdeck-link` (the plant connection)
//! and `brewdeck-station` (settings, keychain, notifications, telemetry batches).
//!
//! [`run`] starts the real app; [`run_app`] configures a builder for any runtime, so tests
//! drive the same commands through `tauri::test::mock_builder()`.

pub mod cli;
pub mod commands;
pub mod console;
pub mod demo;
pub mod desk;
pub mod error;
pub mod logs;
pub mod shell;
pub mod updates;

include!("command_names.rs");

use crate::cli::Launch;
use crate::console::Console;
use crate::desk::TauriDesk;
use tauri::{Builder, Manager, Runtime, WindowEvent};

/// Runs the app; returns the process exit code.
pub fn run() -> i32 {
    let launch = match Launch::from_process() {
        Ok(launch) => launch,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let builder = Builder::default()
        // First, so a second launch only focuses this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("second launch: showing the running instance");
            shell::show_main(app);
        }));
    match run_app(builder, launch).build(tauri::generate_context!()) {
        Ok(app) => {
            app.run(|app, event| {
                if let tauri::RunEvent::Exit = event {
                    if let Some(console) = app.try_state::<Console>() {
                        tauri::async_runtime::block_on(console.shutdown());
                    }
                }
            });
            0
        }
        Err(e) => {
            eprintln!("Brewdeck could not start: {e}");
            1
        }
    }
}

/// The app on any runtime: plugins, commands, and the setup that starts the console, the
/// bridge and (with `launch.desktop_shell`) the tray.
pub fn run_app<R: Runtime>(builder: Builder<R>, launch: Launch) -> Builder<R> {
    brewdeck_link::install_crypto_provider();
    let shell = launch.desktop_shell;
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updates::PendingUpdate::new(launch.update_endpoint.clone()))
        .invoke_handler(tauri::generate_handler![
            commands::snapshot,
            commands::connect,
            commands::disconnect,
            commands::retry_now,
            commands::set_token,
            commands::forget_token,
            commands::save_settings,
            commands::send_command,
            commands::acknowledge_alarm,
            commands::subscribe,
            commands::unsubscribe,
            commands::open_log_folder,
            commands::check_for_updates,
            commands::install_update,
        ])
        .on_window_event(move |window, event| {
            // Closing hides to the tray: alarms must keep notifying. Quit is in the tray menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if shell && window.label() == shell::MAIN_WINDOW {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .setup(move |app| {
            setup(app.handle(), launch)?;
            Ok(())
        })
}

fn setup<R: Runtime>(
    app: &tauri::AppHandle<R>,
    launch: Launch,
) -> Result<(), Box<dyn std::error::Error>> {
    let paths = app.path();
    let log_dir = match &launch.log_dir {
        Some(dir) => dir.clone(),
        None => paths.app_log_dir()?,
    };
    let config_dir = match &launch.config_dir {
        Some(dir) => dir.clone(),
        None => paths.app_config_dir()?,
    };
    if let Some(guard) = logs::init(&log_dir) {
        app.manage(LogGuard(guard));
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Brewdeck starting");
    let service = app.config().identifier.clone();
    let (console, bridge) =
        tauri::async_runtime::block_on(Console::start(&launch, config_dir, log_dir, service))?;
    let demo = console.is_demo();
    let link = console.link.clone();
    app.manage(console);
    if let Some(window) = shell::main_window(app) {
        let _ = window.set_title(shell::title(demo));
    }
    if launch.desktop_shell {
        shell::install_tray(app)?;
    }
    tauri::async_runtime::spawn(bridge.run(TauriDesk::new(app.clone())));
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        // What the keychain holds is known once asked; the UI learns it by event.
        if let Some(console) = handle.try_state::<Console>() {
            let status = console.probe_keychain().await;
            let _ = tauri::Emitter::emit(
                &handle,
                brewdeck_station::bridge::events::DESK_STATUS,
                status,
            );
        }
        let _ = link.connect().await;
    });
    Ok(())
}

/// Keeps the log file's writer flushing until the app ends.
struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);
