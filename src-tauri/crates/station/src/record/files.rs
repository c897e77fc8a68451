//! The record's files besides the store: its retention (`record.json` beside the settings)
//! and exports, written atomically where the operator chose in a native dialog.

use super::view::Retention;
use crate::error::StationError;
use crate::settings::write_atomically;
use std::path::Path;

const RETENTION_FILE: &str = "record.json";
/// The largest chart a webview may hand over for export.
pub const MAX_PNG_BYTES: usize = 32 << 20;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The saved retention; the defaults when there is none or it is unreadable (said in the log).
pub fn load_retention(config_dir: &Path) -> Retention {
    let path = config_dir.join(RETENTION_FILE);
    let Ok(bytes) = std::fs::read(&path) else {
        return Retention::default();
    };
    match serde_json::from_slice::<Retention>(&bytes) {
        Ok(r) if r.check().is_ok() => r,
        _ => {
            tracing::warn!(path = %path.display(), "the record's retention file is unreadable: defaults are in use");
            Retention::default()
        }
    }
}

pub fn save_retention(config_dir: &Path, retention: &Retention) -> Result<(), StationError> {
    let path = config_dir.join(RETENTION_FILE);
    let fail = |reason: String| StationError::SettingsWrite {
        path: path.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(config_dir).map_err(|e| fail(e.to_string()))?;
    let text = serde_json::to_vec_pretty(retention).map_err(|e| fail(e.to_string()))?;
    write_atomically(&path, &text).map_err(|e| fail(e.to_string()))
}

/// The chart the webview drew, as PNG bytes: base64 of at most 32 MiB that is a PNG.
pub fn png_from_base64(text: &str) -> Result<Vec<u8>, StationError> {
    use base64::Engine;
    let bad = |reason: &str| StationError::InvalidSetting {
        field: "pngBase64",
        reason: reason.to_owned(),
    };
    if text.len() > MAX_PNG_BYTES / 3 * 4 + 4 {
        return Err(bad("the image is over 32 MiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| bad("not base64"))?;
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(bad("not a PNG image"));
    }
    Ok(bytes)
}

/// Writes an export where the operator chose; the file is whole or absent.
pub fn write_export(path: &Path, bytes: &[u8]) -> Result<(), StationError> {
    write_atomically(path, bytes).map_err(|e| StationError::Export {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retention_round_trips_and_a_bad_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_retention(dir.path()), Retention::default());
        let r = Retention {
            minute_days: 90,
            size_cap_mib: 4096,
        };
        save_retention(dir.path(), &r).unwrap();
        assert_eq!(load_retention(dir.path()), r);
        std::fs::write(dir.path().join(RETENTION_FILE), b"{not json").unwrap();
        assert_eq!(load_retention(dir.path()), Retention::default());
        std::fs::write(
            dir.path().join(RETENTION_FILE),
            br#"{"minuteDays":0,"sizeCapMib":64}"#,
        )
        .unwrap();
        assert_eq!(
            load_retention(dir.path()),
            Retention::default(),
            "out of range"
        );
    }

    #[test]
    fn only_a_png_is_taken() {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let png = [PNG_SIGNATURE, b"rest"].concat();
        assert_eq!(png_from_base64(&b64(&png)).unwrap(), png);
        assert!(png_from_base64("%%%").is_err());
        assert!(png_from_base64(&b64(b"GIF89a")).is_err());
        assert!(png_from_base64(&"A".repeat(MAX_PNG_BYTES / 3 * 4 + 8)).is_err());
    }

    #[test]
    fn an_export_to_a_missing_folder_says_so_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("trend.csv");
        let e = write_export(&path, b"x").unwrap_err();
        assert!(e.to_string().contains("trend.csv"), "{e}");
        assert!(!path.exists());
    }
}
