//! Where the link gets its token: the OS keychain in the app, memory in tests and the CLI.
//! Every call names the server the token is for, so a store that holds one server's token can
//! refuse to hand it to a link dialing another, whatever order the app's steps ran in.

use crate::config::ServerUrl;
pub use crate::error::TokenStoreError;
use brewdeck_protocol::Token;
use std::sync::{Arc, Mutex};

/// A token store. Calls may block (a keychain talks D-Bus), so the link makes them on a
/// blocking thread. `server` is the server the token is for: a store bound to one server
/// answers [`TokenStoreError::WrongServer`] for any other.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored token for `server`, or `None` when none is set.
    fn load(&self, server: &ServerUrl) -> Result<Option<Token>, TokenStoreError>;
    fn save(&self, server: &ServerUrl, token: &Token) -> Result<(), TokenStoreError>;
    fn clear(&self, server: &ServerUrl) -> Result<(), TokenStoreError>;
}

/// A token kept in memory only, for whichever one server it is used with (the CLI, tests).
#[derive(Debug, Clone, Default)]
pub struct MemoryTokenStore {
    token: Arc<Mutex<Option<Token>>>,
}

impl MemoryTokenStore {
    pub fn new(token: Option<Token>) -> Self {
        MemoryTokenStore {
            token: Arc::new(Mutex::new(token)),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Token>> {
        // A panic elsewhere cannot leave an Option half-written: recover the value.
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, _server: &ServerUrl) -> Result<Option<Token>, TokenStoreError> {
        Ok(self.slot().clone())
    }

    fn save(&self, _server: &ServerUrl, token: &Token) -> Result<(), TokenStoreError> {
        *self.slot() = Some(token.clone());
        Ok(())
    }

    fn clear(&self, _server: &ServerUrl) -> Result<(), TokenStoreError> {
        *self.slot() = None;
        Ok(())
    }
}
