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
    /// The record could not answer (a query it could not read).
    #[error("the record could not be read: {0}")]
    Record(#[from] brewdeck_store::StoreError),
    /// The record is not open (a read-only folder, a locked file): why.
    #[error("the record is not available: {0}")]
    RecordUnavailable(String),
    /// An export could not be written; nothing was left half-written under its name.
    #[error("could not export to {file}: {reason}")]
    Export { file: String, reason: String },
}
