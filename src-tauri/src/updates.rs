//! "Check for updates": the updater plugin asks the release channel (`plugins.updater` in
//! tauri.conf.json) for a newer version, verified against the release key's public half. An
//! update found is kept here until the operator chooses to install it; the app then restarts.

use crate::error::AppError;
use brewdeck_station::status::{AvailableUpdate, UpdateCheck};
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};

/// A check gives up after this.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The update found by the last check, waiting for the operator; and where to look.
pub struct PendingUpdate {
    found: Mutex<Option<Update>>,
    /// Instead of the configured release channel (tests).
    pub endpoint: Option<tauri::Url>,
}

impl std::fmt::Debug for PendingUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingUpdate")
    }
}

impl PendingUpdate {
    pub fn new(endpoint: Option<tauri::Url>) -> Self {
        PendingUpdate {
            found: Mutex::new(None),
            endpoint,
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Update>> {
        self.found.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Only a newer release is offered: never the running version again, never an older one (a
/// channel serving an old, vulnerable release must not be able to downgrade the desk).
pub fn is_upgrade(current: &semver::Version, offered: &semver::Version) -> bool {
    offered > current
}

pub async fn check<R: Runtime>(app: &AppHandle<R>) -> Result<UpdateCheck, AppError> {
    let current = app.package_info().version.to_string();
    let not_set_up = |e: tauri_plugin_updater::Error| {
        AppError::Internal(format!("the updater is not set up: {e}"))
    };
    let mut builder = app
        .updater_builder()
        .timeout(CHECK_TIMEOUT)
        .version_comparator(|current, offered| is_upgrade(&current, &offered.version));
    if let Some(url) = app
        .try_state::<PendingUpdate>()
        .and_then(|p| p.endpoint.clone())
    {
        builder = builder.endpoints(vec![url]).map_err(not_set_up)?;
    }
    let found = builder
        .build()
        .map_err(not_set_up)?
        .check()
        .await
        .map_err(|e| AppError::Internal(format!("could not check for updates: {e}")))?;
    let available = found.as_ref().map(|u| AvailableUpdate {
        version: u.version.clone(),
        notes: u.body.clone(),
        date: u.date.map(|d| d.to_string()),
    });
    tracing::info!(%current, available = ?available.as_ref().map(|a| &a.version), "checked for updates");
    if let Some(pending) = app.try_state::<PendingUpdate>() {
        *pending.slot() = found;
    }
    Ok(UpdateCheck { current, available })
}

/// Downloads, verifies and installs the update found by the last check, then restarts.
pub async fn install<R: Runtime>(app: &AppHandle<R>) -> Result<(), AppError> {
    let update = app
        .try_state::<PendingUpdate>()
        .and_then(|p| p.slot().take())
        .ok_or_else(|| {
            AppError::Invalid("no update to install: check for updates first".to_owned())
        })?;
    tracing::info!(version = %update.version, "installing an update");
    update
        .download_and_install(|_, _| {}, || {})
        .await
        .map_err(|e| AppError::Internal(format!("the update could not be installed: {e}")))?;
    app.restart();
}

#[cfg(test)]
mod tests {
    use super::is_upgrade;

    fn v(text: &str) -> semver::Version {
        semver::Version::parse(text).expect("a version")
    }

    #[test]
    fn only_a_newer_version_is_an_update() {
        assert!(is_upgrade(&v("1.2.3"), &v("1.2.4")));
        assert!(is_upgrade(&v("1.2.3"), &v("2.0.0")));
        assert!(is_upgrade(&v("1.3.0-rc.1"), &v("1.3.0")));
        assert!(!is_upgrade(&v("1.2.3"), &v("1.2.3")), "the same version");
        assert!(!is_upgrade(&v("1.2.3"), &v("1.2.2")), "a downgrade");
        assert!(
            !is_upgrade(&v("1.3.0"), &v("1.3.0-rc.1")),
            "a pre-release of it"
        );
    }
}
