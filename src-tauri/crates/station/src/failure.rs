//! The error the webview receives from any app command: `{ code, message }`. The codes are a
//! closed set, and one exists only where the UI does something different for it.

use crate::error::StationError;
use brewdeck_link::{LinkError, TokenStoreError};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// Something the operator entered is wrong: shown beside the form field.
    InvalidInput,
    /// The OS keychain is locked or missing: the UI offers "use for this session only".
    KeychainUnavailable,
    /// The link is down: the control stays blocked until it is back.
    NotConnected,
    /// The plant server speaks level 0, which cannot do this.
    NotSupported,
    /// The plant does not know the endpoint or alarm, or the endpoint refuses the action.
    Refused,
    /// The operator's role does not allow it (the plant said `forbidden`).
    Forbidden,
    /// The app is shutting down.
    Stopped,
    /// Anything else (a file that could not be written): shown as is.
    Internal,
}

impl FailureCode {
    /// Every code, for the generated TypeScript (so the UI never lists them by hand).
    pub const ALL: &'static [FailureCode] = &[
        FailureCode::InvalidInput,
        FailureCode::KeychainUnavailable,
        FailureCode::NotConnected,
        FailureCode::NotSupported,
        FailureCode::Refused,
        FailureCode::Forbidden,
        FailureCode::Stopped,
        FailureCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::InvalidInput => "invalid_input",
            FailureCode::KeychainUnavailable => "keychain_unavailable",
            FailureCode::NotConnected => "not_connected",
            FailureCode::NotSupported => "not_supported",
            FailureCode::Refused => "refused",
            FailureCode::Forbidden => "forbidden",
            FailureCode::Stopped => "stopped",
            FailureCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

fn keychain(e: &TokenStoreError) -> Failure {
    if let TokenStoreError::WrongServer(_) = e {
        // A bug guarded against, not a keychain state the operator can change.
        return Failure::new(FailureCode::Internal, e.to_string());
    }
    Failure::new(
        FailureCode::KeychainUnavailable,
        format!("keychain unavailable: {e}"),
    )
}

impl From<&LinkError> for Failure {
    fn from(e: &LinkError) -> Self {
        let code = match e {
            LinkError::BadUrl { .. } | LinkError::BadCaFile { .. } => FailureCode::InvalidInput,
            LinkError::TokenStore(inner) => return keychain(inner),
            LinkError::NotConnected => FailureCode::NotConnected,
            LinkError::NeedsLevel1(_) | LinkError::Unsupported(_) => FailureCode::NotSupported,
            LinkError::Refused { code, .. } if code == "forbidden" => FailureCode::Forbidden,
            LinkError::Refused { .. } => FailureCode::Refused,
            LinkError::Busy => FailureCode::Internal,
            LinkError::UnknownEndpoint(_)
            | LinkError::NotAllowed { .. }
            | LinkError::UnknownAlarm(_) => FailureCode::Refused,
            LinkError::Stopped => FailureCode::Stopped,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<&StationError> for Failure {
    fn from(e: &StationError) -> Self {
        match e {
            StationError::InvalidSetting { .. } => {
                Failure::new(FailureCode::InvalidInput, e.to_string())
            }
            StationError::Keychain(inner) => keychain(inner),
            StationError::SettingsWrite { .. }
            | StationError::Record(_)
            | StationError::Export { .. } => Failure::new(FailureCode::Internal, e.to_string()),
            StationError::RecordUnavailable(_) => {
                Failure::new(FailureCode::NotSupported, e.to_string())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_under_its_wire_name() {
        for code in FailureCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        // A new variant must be added to ALL: this match fails to compile otherwise.
        match FailureCode::Internal {
            FailureCode::InvalidInput
            | FailureCode::KeychainUnavailable
            | FailureCode::NotConnected
            | FailureCode::NotSupported
            | FailureCode::Refused
            | FailureCode::Forbidden
            | FailureCode::Stopped
            | FailureCode::Internal => assert_eq!(FailureCode::ALL.len(), 8),
        }
    }

    #[test]
    fn the_json_is_code_and_message() {
        let f = Failure::from(&LinkError::NotConnected);
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"code": "not_connected", "message": "not connected to the plant"})
        );
        let f = Failure::from(&StationError::Keychain(TokenStoreError::Locked));
        assert_eq!(f.code, FailureCode::KeychainUnavailable);
        assert!(
            f.message.starts_with("keychain unavailable: "),
            "{}",
            f.message
        );
    }
}
