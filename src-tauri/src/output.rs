//! [`DeskOutput`]: where the bridge delivers, in Tauri. Link output becomes events for the
//! webview, native notifications and the tray's look.

use crate::desk::Desk;
use brewdeck_link::{LinkEvent, LinkState};
use brewdeck_station::bridge::{events, AlarmTally, Output};
use brewdeck_station::notice_text::DesktopText;
use brewdeck_station::notices::Notice;
use brewdeck_station::readings::ReadingBatch;
use brewdeck_station::vault::TokenPresence;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

pub struct DeskOutput<R: Runtime> {
    // (Debug is below: AppHandle has none worth printing.)
    app: AppHandle<R>,
    link: LinkState,
    alarms: AlarmTally,
    token: Option<TokenPresence>,
}

impl<R: Runtime> std::fmt::Debug for DeskOutput<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOutput")
            .field("link", &self.link)
            .field("alarms", &self.alarms)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> DeskOutput<R> {
    pub fn new(app: AppHandle<R>) -> Self {
        DeskOutput {
            app,
            link: LinkState::Idle,
            alarms: AlarmTally::default(),
            token: None,
        }
    }

    fn emit<S: Serialize + Clone>(&self, event: &str, payload: S) {
        if let Err(e) = self.app.emit(event, payload) {
            tracing::debug!(event, error = %e, "event not emitted");
        }
    }
}

impl<R: Runtime> Output for DeskOutput<R> {
    fn link_state(&mut self, state: &LinkState) {
        self.link = state.clone();
        self.emit(events::LINK_STATE, state);
        crate::shell::show_tray_status(&self.app, &self.link, self.alarms);
        // A connection attempt reads the keychain: what the UI knows of it may have changed.
        if let Some(desk) = self.app.try_state::<Desk>() {
            let status = desk.status();
            if self.token.as_ref() != Some(&status.token) {
                self.token = Some(status.token.clone());
                self.emit(events::DESK_STATUS, status);
            }
        }
    }

    fn plant_event(&mut self, event: &LinkEvent) {
        if let Some(name) = events::for_link_event(event) {
            self.emit(name, event);
        }
    }

    fn readings(&mut self, batches: &[ReadingBatch]) {
        for batch in batches {
            self.emit(events::PLANT_READINGS, batch);
        }
    }

    fn notify(&mut self, notice: &Notice) {
        let text = DesktopText::of(notice);
        tracing::info!(kind = ?notice.kind, title = %text.title, urgent = notice.urgent, "notification");
        #[cfg(target_os = "linux")]
        if notice.urgent {
            urgent::show(&self.app, text);
            return;
        }
        let shown = self
            .app
            .notification()
            .builder()
            .title(&text.title)
            .body(&text.body)
            .show();
        if let Err(e) = shown {
            tracing::warn!(error = %e, "notification not shown");
        }
    }

    fn alarms(&mut self, tally: AlarmTally) {
        self.alarms = tally;
        crate::shell::show_tray_status(&self.app, &self.link, self.alarms);
    }

    fn resync(&mut self) {
        self.emit(events::DESK_RESYNC, ());
    }
}

/// A critical alarm's notification on a freedesktop desktop: `urgency` critical and no
/// expiry, so it stays on screen until dismissed where the desktop allows it.
#[cfg(target_os = "linux")]
mod urgent {
    use brewdeck_station::notice_text::DesktopText;
    use tauri::{AppHandle, Runtime};

    pub fn show<R: Runtime>(app: &AppHandle<R>, text: DesktopText) {
        let name = app
            .config()
            .product_name
            .clone()
            .unwrap_or_else(|| "Brewdeck".to_owned());
        // A D-Bus round trip: never on the bridge's task.
        std::thread::spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname(&name)
                .summary(&text.title)
                .body(&text.body)
                .urgency(notify_rust::Urgency::Critical)
                .timeout(notify_rust::Timeout::Never)
                .show();
            if let Err(e) = shown {
                tracing::warn!(error = %e, "notification not shown");
            }
        });
    }
}
