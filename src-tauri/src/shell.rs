//! The desktop around the window: the tray (its icon and tooltip follow the connection and the
//! alarms; Show, Retry now, Quit), hide-on-close so notifications keep coming, and focusing the
//! running instance when a second one is launched. What they say is `brewdeck_station::shell`.

use crate::desk::Desk;
use brewdeck_link::LinkState;
use brewdeck_station::bridge::AlarmTally;
use brewdeck_station::shell::{
    tray_icon, tray_tooltip, window_title, TrayIcon, TrayItem, TOOLTIP_STARTING,
};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, WebviewWindow};

pub const MAIN_WINDOW: &str = "main";
const TRAY: &str = "main";

const ICON_NORMAL: &[u8] = include_bytes!("../icons/tray-normal.png");
const ICON_ALARM: &[u8] = include_bytes!("../icons/tray-alarm.png");
const ICON_OFFLINE: &[u8] = include_bytes!("../icons/tray-offline.png");

pub fn main_window<R: Runtime>(app: &AppHandle<R>) -> Option<WebviewWindow<R>> {
    app.get_webview_window(MAIN_WINDOW)
}

/// Titles the window: DEMO on the demo plant.
pub fn show_title<R: Runtime>(app: &AppHandle<R>, demo: bool) {
    if let Some(window) = main_window(app) {
        let _ = window.set_title(window_title(demo));
    }
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
    let item = |i: TrayItem| MenuItem::with_id(app, i.id(), i.label(), true, None::<&str>);
    let show = item(TrayItem::Show)?;
    let retry = item(TrayItem::RetryNow)?;
    let silence = item(TrayItem::Silence)?;
    let quit = item(TrayItem::Quit)?;
    let menu = Menu::with_items(app, &[&show, &retry, &silence, &quit])?;
    TrayIconBuilder::with_id(TRAY)
        .icon(Image::from_bytes(ICON_OFFLINE)?)
        .tooltip(TOOLTIP_STARTING)
        .menu(&menu)
        .on_menu_event(|app, event| match TrayItem::from_id(event.id().as_ref()) {
            Some(TrayItem::Show) => show_main(app),
            Some(TrayItem::RetryNow) => {
                if let Some(desk) = app.try_state::<Desk>() {
                    let link = desk.link.clone();
                    tauri::async_runtime::spawn(async move {
                        let _ = link.retry_now().await;
                    });
                }
            }
            Some(TrayItem::Silence) => {
                if let Some(desk) = app.try_state::<Desk>() {
                    desk.silence_alarms();
                }
            }
            Some(TrayItem::Quit) => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            None => {}
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
    let icon = match tray_icon(link, alarms) {
        TrayIcon::Normal => ICON_NORMAL,
        TrayIcon::Alarm => ICON_ALARM,
        TrayIcon::Offline => ICON_OFFLINE,
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(tray_tooltip(link, alarms)));
}
