//! Brewdeck, the desktop app: a thin Tauri shell over `brewdeck-link` (the plant connection)
//! and `brewdeck-station` (settings, keychain, notifications, telemetry batches, and the
//! decisions: where to connect, what the tray says).
//!
//! - [`desk`]: the app's state ([`desk::Desk`]), which the commands ([`commands`], from the
//!   table in `command_table.rs`) act on;
//! - [`output`]: where the bridge delivers (events, notifications, the tray);
//! - [`shell`]: the tray, the window and a second launch; [`demo`]: the demo plant.
//!
//! [`run`] starts the real app; [`run_app`] configures a builder for any runtime, so tests
//! drive the same commands through `tauri::test::mock_builder()`.

// Before the modules that expand it (`macro_rules!` are in scope from where they are defined).
include!("command_table.rs");

pub mod bindings;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod desk;
pub mod error;
pub mod export;
pub mod journal;
pub mod logs;
pub mod output;
pub mod record;
pub mod shell;
pub mod sound;
pub mod updates;

pub use commands::COMMAND_NAMES;

use crate::cli::Launch;
use crate::desk::Desk;
use crate::output::DeskOutput;
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
                    if let Some(desk) = app.try_state::<Desk>() {
                        tauri::async_runtime::block_on(desk.shutdown());
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

/// The app on any runtime: plugins, commands, and the setup that starts the desk, the
/// bridge and (with `launch.desktop_shell`) the tray.
pub fn run_app<R: Runtime>(builder: Builder<R>, launch: Launch) -> Builder<R> {
    brewdeck_link::install_crypto_provider();
    let shell = launch.desktop_shell;
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updates::PendingUpdate::new(launch.update_endpoint.clone()))
        .invoke_handler(commands::handler())
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
    let data_dir = match &launch.data_dir {
        Some(dir) => dir.clone(),
        None => paths.app_data_dir()?,
    };
    if let Some(guard) = logs::init(&log_dir) {
        app.manage(LogGuard(guard));
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Brewdeck starting");
    let service = app.config().identifier.clone();
    let (desk, bridge) = tauri::async_runtime::block_on(Desk::start(
        &launch, config_dir, data_dir, log_dir, service,
    ))?;
    let demo = desk.is_demo();
    let link = desk.link.clone();
    record::start(app, &desk);
    // The real desktop only: tests on the mock runtime never play on a developer's speakers.
    if launch.desktop_shell {
        sound::start(app, &desk);
    }
    app.manage(desk);
    shell::show_title(app, demo);
    if launch.desktop_shell {
        shell::install_tray(app)?;
    }
    tauri::async_runtime::spawn(bridge.run(DeskOutput::new(app.clone())));
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        // What the keychain holds is known once asked; the UI learns it by event.
        if let Some(desk) = handle.try_state::<Desk>() {
            let status = desk.probe_keychain().await;
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
