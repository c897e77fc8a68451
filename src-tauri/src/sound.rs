//! Audible alarms, wired: the station's annunciator task follows the link, plays natively (so
//! alarms sound while the window is hidden), and the webview follows what it plays.

use crate::desk::Desk;
use brewdeck_station::alarm_sounds::spawn_alarm_sounds;
use brewdeck_station::bridge::events;
use tauri::{AppHandle, Emitter, Runtime};

pub fn start<R: Runtime>(app: &AppHandle<R>, desk: &Desk) {
    let (handle, _task) = tauri::async_runtime::block_on(async {
        spawn_alarm_sounds(&desk.link, desk.alarm_sounds.subscribe())
    });
    let (mut view, mut device) = (handle.watch(), handle.status());
    let emitted = handle.clone();
    if desk.sounds.set(handle).is_err() {
        tracing::warn!("alarm sounds were already started");
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::select! {
                changed = view.changed() => if changed.is_err() { break },
                changed = device.changed() => if changed.is_err() { break },
            }
            if let Err(e) = app.emit(events::ALARM_SOUND, emitted.sound_view()) {
                tracing::debug!(error = %e, "alarm sound view not emitted");
            }
        }
    });
}

impl Desk {
    /// Stops the alarm sound; acknowledges nothing.
    pub fn silence_alarms(&self) {
        if let Some(sounds) = self.sounds.get() {
            sounds.silence();
        }
    }

    pub fn alarm_sound(&self) -> Option<brewdeck_station::alarm_sounds::AlarmSoundView> {
        self.sounds.get().map(|s| s.sound_view())
    }
}
