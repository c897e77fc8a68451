//! Where an export goes: the operator picks it in the desktop's native save dialog. The
//! webview never names a path; it only asks for an export.
//!
//! `BREWDECK_EXPORT_DIR` (read from the app's environment, for tests under a display with no
//! one to click) skips the dialog and saves into that folder under the proposed name.

use std::path::PathBuf;
use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

/// The variable that skips the dialog (tests only: debug builds; a release always asks).
pub const EXPORT_DIR_VARIABLE: &str = "BREWDECK_EXPORT_DIR";

/// Asks where to save `proposed` (a file name); `None` when the operator cancels.
pub async fn ask_path<R: Runtime>(
    app: &AppHandle<R>,
    proposed: &str,
    kind: &str,
    extension: &str,
) -> Option<PathBuf> {
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os(EXPORT_DIR_VARIABLE) {
        return Some(PathBuf::from(dir).join(proposed));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_file_name(proposed)
        .add_filter(kind, &[extension])
        .save_file(move |chosen| {
            let _ = tx.send(chosen.and_then(|p| p.into_path().ok()));
        });
    rx.await.ok().flatten()
}

/// `brewdeck-trend-20261201-0930.csv`: when it was made, in the operator's local time.
pub fn proposed_name(extension: &str) -> String {
    let now = chrono::Local::now();
    format!("brewdeck-trend-{}.{extension}", now.format("%Y%m%d-%H%M%S"))
}
