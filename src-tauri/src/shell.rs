//! The desktop around the window: the tray (its icon and tooltip follow the connection and the
//! alarms; Show, Retry now, Quit), hide-on-close so notifications keep coming, and focusing the
//! running instance when a second one is launched.

use crate::console::Console;
use brewdeck_link::LinkState;
use brewdeck_station::bridge::AlarmTally;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, WebviewWindow};

pub const MAIN_WINDOW: &str = "main";
const TRAY: &str = "main";

const ICON_NORMAL: &[u8] = include_bytes!("../icons/tray-normal.png");
const ICON_ALARM: &[u8] = include_bytes!("../icons/tray-alarm.png");
const ICON_OFFLINE: &[u8] = include_bytes!("../icons/tray-offline.png");

pub fn title(demo: bool) -> &'static str {
    if demo {
        "Brewdeck — DEMO (simulated plant)"
    } else {
        "Brewdeck"
    }
}

pub fn main_window<R: Runtime>(app: &AppHandle<R>) -> Option<WebviewWindow<R>> {
    app.get_webview_window(MAIN_WINDOW)
}

/// Brings the window back from the tray (or from behind other windows).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = main_window(app) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Adds the tray icon and its menu.
pub fn install_tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Brewdeck", true, None::<&str>)?;
    let retry = MenuItem::with_id(app, "retry", "Retry now", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &retry, &quit])?;
    TrayIconBuilder::with_id(TRAY)
        .icon(Image::from_bytes(ICON_OFFLINE)?)
        .tooltip("Brewdeck: starting")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_main(app),
            "retry" => {
                if let Some(console) = app.try_state::<Console>() {
                    let link = console.link.clone();
                    tauri::async_runtime::spawn(async move {
                        let _ = link.retry_now().await;
                    });
                }
            }
            "quit" => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        })
        .build(app)?;
    Ok(())
}

/// What the tray says: the connection, and open alarms (red while a critical one is
/// unacknowledged).
pub fn show_tray_status<R: Runtime>(app: &AppHandle<R>, link: &LinkState, alarms: AlarmTally) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    let connection = match link {
        LinkState::Connected { .. } => "connected".to_owned(),
        LinkState::Reconnecting { attempt, .. } => format!("reconnecting (attempt {attempt})"),
        LinkState::Unauthorized { .. } => "token rejected".to_owned(),
        LinkState::Failed { reason } => format!("failed: {reason}"),
        other => other.name().to_owned(),
    };
    let alarm_text = match (alarms.unacknowledged_critical, alarms.open) {
        (0, 0) => "no alarms".to_owned(),
        (0, open) => format!("{open} open alarm(s)"),
        (critical, open) => format!("{critical} CRITICAL unacknowledged, {open} open"),
    };
    let icon = if alarms.unacknowledged_critical > 0 {
        ICON_ALARM
    } else if link.is_connected() {
        ICON_NORMAL
    } else {
        ICON_OFFLINE
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(format!("Brewdeck: {connection}; {alarm_text}")));
}
