//! The token in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows) through `keyring`. One entry per server profile; the service name is the app's
//! identifier, so builds with different identifiers never share secrets.

use brewdeck_link::{ServerUrl, TokenStore, TokenStoreError};
use brewdeck_protocol::Token;

/// The profile a server's token is kept under: its URL as normalised when parsed, so one server
/// written two ways shares one entry and two servers never do.
pub fn profile_of(server: &ServerUrl) -> &str {
    server.as_str()
}

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

    /// The entry of `server`'s token, under the app's `service`.
    pub fn for_server(service: impl Into<String>, server: &ServerUrl) -> Self {
        KeychainEntry::new(service, profile_of(server))
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The entry, only for the server it holds the token of.
    fn entry(&self, server: &ServerUrl) -> Result<keyring::Entry, TokenStoreError> {
        if profile_of(server) != self.profile {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(text: &str) -> ServerUrl {
        ServerUrl::parse(text, false).unwrap()
    }

    #[test]
    fn one_profile_per_server_however_it_is_written() {
        let a = url("wss://plant.example");
        assert_eq!(profile_of(&a), "wss://plant.example:443/ws");
        assert_eq!(
            profile_of(&a),
            profile_of(&url("wss://plant.example:443/ws"))
        );
        assert_ne!(
            profile_of(&a),
            profile_of(&url("wss://plant.example:8443/ws"))
        );
        let entry = KeychainEntry::for_server("com.brewdeck.desk", &a);
        assert_eq!(entry, KeychainEntry::new("com.brewdeck.desk", a.as_str()));
        assert_eq!(entry.service(), "com.brewdeck.desk");
    }

    #[test]
    fn an_entry_refuses_another_server_before_asking_the_keychain() {
        let entry = KeychainEntry::for_server("com.brewdeck.desk", &url("wss://a.example/ws"));
        let other = url("wss://b.example/ws");
        assert!(matches!(
            entry.load(&other),
            Err(TokenStoreError::WrongServer(s)) if s == other.as_str()
        ));
    }
}
