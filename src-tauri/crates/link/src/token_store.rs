//! Where the link gets its token: the OS keychain in the app, memory in tests and the CLI.

use brewdeck_protocol::Token;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenStoreError {
    /// The keychain exists but is locked; the operator must unlock it.
    #[error("the keychain is locked: unlock it and retry")]
    Locked,
    #[error("the keychain is not available: {0}")]
    Unavailable(String),
}

/// A token store. Calls may block (a keychain talks D-Bus), so the link makes them on a
/// blocking thread.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored token, or `None` when none is set.
    fn load(&self) -> Result<Option<Token>, TokenStoreError>;
    fn save(&self, token: &Token) -> Result<(), TokenStoreError>;
    fn clear(&self) -> Result<(), TokenStoreError>;
}

/// A token kept in memory only.
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
    fn load(&self) -> Result<Option<Token>, TokenStoreError> {
        Ok(self.slot().clone())
    }

    fn save(&self, token: &Token) -> Result<(), TokenStoreError> {
        *self.slot() = Some(token.clone());
        Ok(())
    }

    fn clear(&self) -> Result<(), TokenStoreError> {
        *self.slot() = None;
        Ok(())
    }
}
