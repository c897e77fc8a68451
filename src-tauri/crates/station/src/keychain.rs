//! The token in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows) through `keyring`. One entry per server profile; the service name is the app's
//! identifier, so builds with different identifiers never share secrets.

use brewdeck_link::{ServerUrl, TokenStore, TokenStoreError};
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

    /// The entry, only for the server it holds the token of.
    fn entry(&self, server: &ServerUrl) -> Result<keyring::Entry, TokenStoreError> {
        if server.as_str() != self.profile {
            return Err(TokenStoreError::WrongServer(server.as_str().to_owned()));
        }
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
    fn load(&self, server: &ServerUrl) -> Result<Option<Token>, TokenStoreError> {
        match self.entry(server)?.get_password() {
            Ok(text) => Ok(Token::new(text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn save(&self, server: &ServerUrl, token: &Token) -> Result<(), TokenStoreError> {
        self.entry(server)?
            .set_password(token.expose())
            .map_err(unavailable)?;
        tracing::info!(profile = %self.profile, "token stored in the keychain");
        Ok(())
    }

    fn clear(&self, server: &ServerUrl) -> Result<(), TokenStoreError> {
        match self.entry(server)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {
                tracing::info!(profile = %self.profile, "token removed from the keychain");
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
