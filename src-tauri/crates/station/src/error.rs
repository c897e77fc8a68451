//! The one error type of this crate.

use brewdeck_link::TokenStoreError;

#[derive(Debug, thiserror::Error)]
pub enum StationError {
    /// The settings could not be written; the previous file is intact.
    #[error("could not save the settings to {path}: {reason}")]
    SettingsWrite { path: String, reason: String },
    /// A setting the operator entered is not valid; nothing was saved.
    #[error("{field}: {reason}")]
    InvalidSetting { field: &'static str, reason: String },
    #[error(transparent)]
    Keychain(#[from] TokenStoreError),
}
