//! The operator's settings: the server profile and choices, in `settings.json` in the app's
//! config folder. Written atomically (a temporary file, synced, then renamed), so a crash never
//! leaves half a file; a file that cannot be read is moved aside, reported, and replaced by
//! defaults, never a crash.

use crate::annunciator::AlarmSounds;
use crate::error::StationError;
use brewdeck_link::ServerUrl;
use brewdeck_protocol::Severity;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// Larger than any real settings file: such a file is treated as corrupt, not read whole.
const MAX_FILE_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The plant control server (`wss://host/ws`). `None`: the embedded demo plant.
    pub server_url: Option<String>,
    /// A PEM file of the site's certificate authority, for a server signed by it.
    pub site_ca_file: Option<String>,
    pub notifications: NotificationChoices,
    pub theme: Theme,
    /// Which alarms sound, per severity. Defaulted alone, so a file from before it loads.
    #[serde(default)]
    pub alarm_sounds: AlarmSounds,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server_url: None,
            site_ca_file: None,
            notifications: NotificationChoices::default(),
            theme: Theme::System,
            alarm_sounds: AlarmSounds::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationChoices {
    /// Alarms of these severities raise a native notification.
    pub severities: Vec<Severity>,
    /// This desktop's commands notify when they end (succeeded, failed, rejected, expired).
    pub command_completions: bool,
}

impl Default for NotificationChoices {
    fn default() -> Self {
        NotificationChoices {
            severities: vec![Severity::Critical],
            command_completions: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    System,
}

impl Settings {
    /// The server this profile names, checked; `None` for the demo plant.
    pub fn server(&self) -> Result<Option<ServerUrl>, StationError> {
        match self.server_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => {
                ServerUrl::parse(text, false)
                    .map(Some)
                    .map_err(|e| StationError::InvalidSetting {
                        field: "serverUrl",
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// The site CA file, checked to exist; the link checks its contents.
    pub fn site_ca(&self) -> Result<Option<PathBuf>, StationError> {
        match self.site_ca_file.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => {
                let path = PathBuf::from(text);
                if !path.is_absolute() {
                    return Err(StationError::InvalidSetting {
                        field: "siteCaFile",
                        reason: "give the full path of the CA file".to_owned(),
                    });
                }
                if !path.is_file() {
                    return Err(StationError::InvalidSetting {
                        field: "siteCaFile",
                        reason: format!("{} is not a readable file", path.display()),
                    });
                }
                Ok(Some(path))
            }
        }
    }

    /// Everything checkable without the network; the form's errors come from here.
    pub fn validate(&self) -> Result<(), StationError> {
        self.server()?;
        self.site_ca()?;
        Ok(())
    }
}

/// What loading found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    /// Set when the file was unreadable and defaults are in use: say it to the operator.
    pub problem: Option<String>,
}

/// The settings file.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    pub fn in_dir(dir: &Path) -> Self {
        SettingsFile {
            path: dir.join("settings.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the settings. A missing file gives the defaults; an unreadable one is renamed to
    /// `settings.json.corrupt` (kept for diagnosis), reported, and replaced by the defaults.
    pub fn load(&self) -> Loaded {
        let fresh = |problem| Loaded {
            settings: Settings::default(),
            problem,
        };
        let read = match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return fresh(None),
            Err(e) => Err(e.to_string()),
            Ok(m) if m.len() > MAX_FILE_BYTES => Err(format!("it is {} bytes long", m.len())),
            Ok(_) => std::fs::read(&self.path).map_err(|e| e.to_string()),
        };
        let parsed = read.and_then(|bytes| {
            serde_json::from_slice::<Settings>(&bytes).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(settings) => Loaded {
                settings,
                problem: None,
            },
            Err(reason) => {
                let aside = self.path.with_extension("json.corrupt");
                let kept = match std::fs::rename(&self.path, &aside) {
                    Ok(()) => format!("it was kept as {}", aside.display()),
                    Err(e) => format!("it could not be moved aside: {e}"),
                };
                let problem = format!(
                    "The settings file {} could not be read ({reason}); defaults are in use and {kept}.",
                    self.path.display()
                );
                tracing::warn!(path = %self.path.display(), %reason, "settings file unreadable, using defaults");
                fresh(Some(problem))
            }
        }
    }

    /// Writes the settings atomically: the old file stays whole until the new one is.
    pub fn save(&self, settings: &Settings) -> Result<(), StationError> {
        let fail = |reason: String| StationError::SettingsWrite {
            path: self.path.display().to_string(),
            reason,
        };
        let dir = self
            .path
            .parent()
            .ok_or_else(|| fail("the settings path has no folder".to_owned()))?;
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let text = serde_json::to_vec_pretty(settings).map_err(|e| fail(e.to_string()))?;
        write_atomically(&self.path, &text).map_err(|e| fail(e.to_string()))?;
        tracing::info!(path = %self.path.display(), "settings saved");
        Ok(())
    }
}

/// Writes a file atomically: the old one stays whole until the new one is, and a failed write
/// leaves nothing behind under a temporary name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename itself is durable only once the folder is synced.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok::<(), std::io::Error>(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_gives_defaults_without_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = SettingsFile::in_dir(dir.path()).load();
        assert_eq!(loaded.settings, Settings::default());
        assert_eq!(loaded.problem, None);
    }

    #[test]
    fn saved_settings_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(&dir.path().join("nested"));
        let settings = Settings {
            server_url: Some("wss://plant.example/ws".into()),
            site_ca_file: None,
            notifications: NotificationChoices {
                severities: vec![Severity::Critical, Severity::High],
                command_completions: false,
            },
            theme: Theme::Dark,
            alarm_sounds: AlarmSounds {
                high: crate::annunciator::SoundMode::Repeat,
                ..AlarmSounds::default()
            },
        };
        file.save(&settings).unwrap();
        assert_eq!(file.load().settings, settings);
        // Nothing but the file itself is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["settings.json".to_owned()]);
    }

    #[test]
    fn a_corrupt_file_is_reported_moved_aside_and_replaced_by_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        std::fs::write(file.path(), b"{\"serverUrl\": \"wss://half").unwrap();
        let loaded = file.load();
        assert_eq!(loaded.settings, Settings::default());
        let problem = loaded.problem.unwrap();
        assert!(problem.contains("could not be read"), "{problem}");
        assert!(dir.path().join("settings.json.corrupt").is_file());
        // The next start is clean, and saving works again.
        assert_eq!(file.load().problem, None);
        file.save(&Settings::default()).unwrap();
        assert_eq!(file.load().problem, None);
    }

    #[test]
    fn an_oversized_file_is_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        std::fs::write(file.path(), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        let loaded = file.load();
        assert!(loaded.problem.unwrap().contains("bytes long"));
    }

    #[test]
    fn unknown_fields_and_missing_ones_load_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        std::fs::write(file.path(), br#"{"theme":"dark","future":1}"#).unwrap();
        let loaded = file.load();
        assert_eq!(loaded.problem, None);
        assert_eq!(loaded.settings.theme, Theme::Dark);
        assert_eq!(
            loaded.settings.notifications,
            NotificationChoices::default()
        );
    }

    #[test]
    fn a_settings_file_from_before_alarm_sounds_loads_with_their_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        let old = br#"{"serverUrl":"wss://plant.example/ws","siteCaFile":null,
            "notifications":{"severities":["high"],"commandCompletions":false},"theme":"dark"}"#;
        std::fs::write(file.path(), old).unwrap();
        let loaded = file.load();
        assert_eq!(loaded.problem, None);
        assert_eq!(loaded.settings.alarm_sounds, AlarmSounds::default());
        assert_eq!(loaded.settings.theme, Theme::Dark);
        assert_eq!(
            loaded.settings.notifications.severities,
            vec![Severity::High]
        );
        // And the new field is saved under its camelCase name.
        file.save(&loaded.settings).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains(r#""alarmSounds""#), "{text}");
    }

    #[test]
    fn a_failed_save_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::in_dir(dir.path());
        file.save(&Settings::default()).unwrap();
        // A folder where the temporary file would go makes the write fail.
        let temp = dir
            .path()
            .join(format!(".settings.json.{}.tmp", std::process::id()));
        std::fs::create_dir(&temp).unwrap();
        let changed = Settings {
            theme: Theme::Light,
            ..Settings::default()
        };
        assert!(matches!(
            file.save(&changed),
            Err(StationError::SettingsWrite { .. })
        ));
        assert_eq!(file.load().settings, Settings::default());
    }

    #[test]
    fn validation_names_the_field() {
        let bad = Settings {
            server_url: Some("http://plant.example".into()),
            ..Settings::default()
        };
        match bad.validate() {
            Err(StationError::InvalidSetting { field, .. }) => assert_eq!(field, "serverUrl"),
            other => panic!("{other:?}"),
        }
        let ca = Settings {
            site_ca_file: Some("relative.pem".into()),
            ..Settings::default()
        };
        assert!(matches!(
            ca.validate(),
            Err(StationError::InvalidSetting {
                field: "siteCaFile",
                ..
            })
        ));
        let blank = Settings {
            server_url: Some("  ".into()),
            ..Settings::default()
        };
        assert_eq!(blank.server().unwrap(), None);
    }
}
