//! The token in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows) through `keyring`. One entry per server profile; the service name is the app's
//! identifier, so builds with different identifiers never share secrets.

use brewdeck_link::{TokenStore, TokenStoreError};
use brewdeck_protocol::Token;

/// The keychain entry holding one server profile's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainEntry {
    service: String,
    profile: String,
}

impl KeychainEntry {
    /// `service` is the app identifier; `profile` names the server (its URL).
    pub fn new(service: impl Into<String>, profile: impl Into<String>) -> Self {
        KeychainEntry {
            service: service.into(),
            profile: profile.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    fn entry(&self) -> Result<keyring::Entry, TokenStoreError> {
        keyring::Entry::new(&self.service, &self.profile).map_err(unavailable)
    }
}

/// Translates a keychain error for the operator. Never includes secret bytes (`BadEncoding`
/// carries them).
fn unavailable(e: keyring::Error) -> TokenStoreError {
    match e {
        keyring::Error::NoStorageAccess(_) => TokenStoreError::Locked,
        keyring::Error::PlatformFailure(inner) => {
            let text = inner.to_string();
            tracing::debug!(error = %text, "keychain platform failure");
            let reason =
                if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
                    "no keychain service (Secret Service) is running".to_owned()
                } else if text.contains("autolaunch") || text.contains("DBUS_SESSION_BUS_ADDRESS") {
                    "no desktop session bus to reach the keychain".to_owned()
                } else {
                    text
                };
            TokenStoreError::Unavailable(reason)
        }
        keyring::Error::BadEncoding(_) => {
            TokenStoreError::Unavailable("the stored token is not valid text".to_owned())
        }
        keyring::Error::TooLong(what, max) => {
            TokenStoreError::Unavailable(format!("the {what} is longer than {max}"))
        }
        keyring::Error::Invalid(what, why) => {
            TokenStoreError::Unavailable(format!("invalid {what}: {why}"))
        }
        keyring::Error::Ambiguous(_) => TokenStoreError::Unavailable(
            "the keychain holds several tokens for this server: remove them and set it again"
                .to_owned(),
        ),
        other => TokenStoreError::Unavailable(other.to_string()),
    }
}

impl TokenStore for KeychainEntry {
    fn load(&self) -> Result<Option<Token>, TokenStoreError> {
        match self.entry()?.get_password() {
            Ok(text) => Ok(Token::new(text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn save(&self, token: &Token) -> Result<(), TokenStoreError> {
        self.entry()?
            .set_password(token.expose())
            .map_err(unavailable)?;
        tracing::info!(profile = %self.profile, "token stored in the keychain");
        Ok(())
    }

    fn clear(&self) -> Result<(), TokenStoreError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {
                tracing::info!(profile = %self.profile, "token removed from the keychain");
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
