//! [`Vault`]: the link's token store in the app. It holds the token for the current server
//! profile either in the keychain (remembered) or in memory for this session only (chosen by
//! the operator when the keychain is unavailable, given in `BREWDECK_TOKEN`, or the demo
//! plant's one-time token). It never writes a token anywhere else, and never hands it out
//! except to the link.

use brewdeck_link::{ServerUrl, TokenStore, TokenStoreError};
use brewdeck_protocol::Token;
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard};
use ts_rs::TS;

/// Where the token in use comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// No token is set for this server.
    None,
    Keychain,
    /// Set by the operator for this session only.
    Session,
    /// `BREWDECK_TOKEN`, for this run only.
    Environment,
    /// The embedded demo plant's one-time token.
    Demo,
}

/// What the UI may know of the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeychainState {
    /// Not asked yet.
    Unknown,
    Available,
    Locked,
    Unavailable {
        reason: String,
    },
}

/// What the UI may know of the token: where it comes from, never what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TokenPresence {
    pub source: TokenSource,
    pub keychain: KeychainState,
}

struct Slots {
    /// The server whose token this vault holds now: it refuses to load, save or clear any
    /// other's.
    server: ServerUrl,
    keychain: Option<Arc<dyn TokenStore>>,
    keychain_state: KeychainState,
    /// A token that is not in the keychain, and why.
    session: Option<(Token, TokenSource)>,
    /// Whether the keychain held a token when last asked.
    stored: bool,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("server", &self.server.as_str())
            .field("keychain", &self.keychain.is_some())
            .field("keychain_state", &self.keychain_state)
            .field("session", &self.session.as_ref().map(|(_, source)| source))
            .field("stored", &self.stored)
            .finish()
    }
}

/// The token store the app gives the link. Calls may block on the keychain: make them on a
/// blocking thread.
#[derive(Debug, Clone)]
pub struct Vault {
    slots: Arc<Mutex<Slots>>,
}

/// How [`Vault::writer`] keeps a token it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// In the keychain; fails when the keychain is unavailable (no plaintext fallback).
    Remember,
    /// In memory until the app quits.
    SessionOnly,
}

fn wrong_server(asked: &ServerUrl) -> TokenStoreError {
    // Also seen, harmlessly, by a dial that began just before a move: the link dials again.
    tracing::warn!(server = %asked, "refused: a token asked for another server than the vault's");
    TokenStoreError::WrongServer(asked.as_str().to_owned())
}

impl Vault {
    /// A vault for one server profile: `keychain` is its entry, `None` for the demo plant.
    pub fn new(server: ServerUrl, keychain: Option<Arc<dyn TokenStore>>) -> Self {
        Vault {
            slots: Arc::new(Mutex::new(Slots {
                server,
                keychain,
                keychain_state: KeychainState::Unknown,
                session: None,
                stored: false,
            })),
        }
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        // The slots stay consistent across a panic elsewhere (each write is one assignment).
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server whose token this vault holds.
    pub fn server(&self) -> ServerUrl {
        self.slots().server.clone()
    }

    /// Moves to another server profile: its keychain entry, and no session token (a token
    /// given for one server is never offered to another). One step: no caller sees a vault
    /// half on one server and half on another.
    /// `session` is a token for this run only that comes with the new profile (the demo
    /// plant's).
    pub fn switch_profile(
        &self,
        server: ServerUrl,
        keychain: Option<Arc<dyn TokenStore>>,
        session: Option<(Token, TokenSource)>,
    ) {
        let mut s = self.slots();
        s.server = server;
        s.keychain = keychain;
        s.session = session;
        s.stored = false;
        s.keychain_state = KeychainState::Unknown;
    }

    /// Uses `token` for this run without storing it (environment, demo, session choice).
    pub fn use_for_session(&self, token: Token, source: TokenSource) {
        self.slots().session = Some((token, source));
    }

    /// Asks the keychain whether it is reachable and holds a token for this profile (blocking),
    /// even while a session token is in use, and says what the UI may know.
    pub fn probe(&self) -> TokenPresence {
        let (server, keychain) = {
            let s = self.slots();
            (s.server.clone(), s.keychain.clone())
        };
        if let Some(keychain) = keychain {
            let _ = self.ask(&server, keychain.as_ref());
        }
        self.presence()
    }

    /// Reads the keychain, remembering what the UI may know of it (reachable, holds a token).
    fn ask(
        &self,
        server: &ServerUrl,
        keychain: &dyn TokenStore,
    ) -> Result<Option<Token>, TokenStoreError> {
        let loaded = keychain.load(server);
        self.record(&loaded.as_ref().map(|_| ()).map_err(Clone::clone));
        if let Ok(token) = &loaded {
            let mut s = self.slots();
            // The profile may have moved while the keychain answered: then this is old news.
            if s.server == *server {
                s.stored = token.is_some();
            }
        }
        loaded
    }

    /// Where the token comes from, as last seen.
    pub fn presence(&self) -> TokenPresence {
        let s = self.slots();
        let source = match (&s.session, s.stored) {
            (Some((_, source)), _) => *source,
            (None, true) => TokenSource::Keychain,
            (None, false) => TokenSource::None,
        };
        TokenPresence {
            source,
            keychain: s.keychain_state.clone(),
        }
    }

    fn record(&self, outcome: &Result<(), TokenStoreError>) {
        let state = match outcome {
            Ok(()) => KeychainState::Available,
            Err(TokenStoreError::Locked) => KeychainState::Locked,
            Err(TokenStoreError::Unavailable(reason)) => KeychainState::Unavailable {
                reason: reason.clone(),
            },
            // Says nothing about the keychain.
            Err(TokenStoreError::WrongServer(_)) => return,
        };
        self.slots().keychain_state = state;
    }

    /// A store the link's `set_token` writes through, keeping the token as asked.
    pub fn writer(&self, keep: Keep) -> Arc<dyn TokenStore> {
        Arc::new(Writer {
            vault: self.clone(),
            keep,
        })
    }

    /// The keychain entry of `server`, if it is this vault's server (else refused).
    fn keychain_of(
        &self,
        server: &ServerUrl,
    ) -> Result<Option<Arc<dyn TokenStore>>, TokenStoreError> {
        let s = self.slots();
        if s.server != *server {
            return Err(wrong_server(server));
        }
        Ok(s.keychain.clone())
    }
}

impl TokenStore for Vault {
    fn load(&self, server: &ServerUrl) -> Result<Option<Token>, TokenStoreError> {
        let keychain = {
            let s = self.slots();
            if s.server != *server {
                return Err(wrong_server(server));
            }
            if let Some((token, _)) = &s.session {
                return Ok(Some(token.clone()));
            }
            match &s.keychain {
                Some(k) => k.clone(),
                None => return Ok(None),
            }
        };
        self.ask(server, keychain.as_ref())
    }

    fn save(&self, server: &ServerUrl, token: &Token) -> Result<(), TokenStoreError> {
        self.writer(Keep::Remember).save(server, token)
    }

    fn clear(&self, server: &ServerUrl) -> Result<(), TokenStoreError> {
        self.writer(Keep::Remember).clear(server)
    }
}

struct Writer {
    vault: Vault,
    keep: Keep,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("keep", &self.keep).finish()
    }
}

impl TokenStore for Writer {
    fn load(&self, server: &ServerUrl) -> Result<Option<Token>, TokenStoreError> {
        self.vault.load(server)
    }

    fn save(&self, server: &ServerUrl, token: &Token) -> Result<(), TokenStoreError> {
        match self.keep {
            Keep::SessionOnly => {
                // Checked and kept under one lock: a switch cannot slip in between.
                let mut s = self.vault.slots();
                if s.server != *server {
                    return Err(wrong_server(server));
                }
                s.session = Some((token.clone(), TokenSource::Session));
                Ok(())
            }
            Keep::Remember => {
                let keychain = self.vault.keychain_of(server)?.ok_or_else(|| {
                    TokenStoreError::Unavailable(
                        "the demo plant's token is not stored: set a server first".to_owned(),
                    )
                })?;
                let saved = keychain.save(server, token);
                self.vault.record(&saved);
                saved?;
                let mut s = self.vault.slots();
                if s.server == *server {
                    s.session = None;
                    s.stored = true;
                }
                Ok(())
            }
        }
    }

    /// Forgets the token everywhere: the session's at once, the keychain's if it can.
    fn clear(&self, server: &ServerUrl) -> Result<(), TokenStoreError> {
        let keychain = {
            let mut s = self.vault.slots();
            if s.server != *server {
                return Err(wrong_server(server));
            }
            s.session = None;
            s.keychain.clone()
        };
        let Some(keychain) = keychain else {
            return Ok(());
        };
        let cleared = keychain.clear(server);
        self.vault.record(&cleared);
        cleared?;
        let mut s = self.vault.slots();
        if s.server == *server {
            s.stored = false;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_link::MemoryTokenStore;

    /// A keychain that is locked: every call fails.
    struct Locked;
    impl TokenStore for Locked {
        fn load(&self, _: &ServerUrl) -> Result<Option<Token>, TokenStoreError> {
            Err(TokenStoreError::Locked)
        }
        fn save(&self, _: &ServerUrl, _: &Token) -> Result<(), TokenStoreError> {
            Err(TokenStoreError::Locked)
        }
        fn clear(&self, _: &ServerUrl) -> Result<(), TokenStoreError> {
            Err(TokenStoreError::Locked)
        }
    }

    fn token(t: &str) -> Token {
        Token::new(t).unwrap()
    }

    fn url(u: &str) -> ServerUrl {
        ServerUrl::parse(u, false).unwrap()
    }

    fn b() -> ServerUrl {
        url("wss://b.example/ws")
    }

    fn c() -> ServerUrl {
        url("wss://c.example/ws")
    }

    #[test]
    fn remembered_tokens_go_to_the_keychain_and_session_ones_do_not() {
        let keychain = Arc::new(MemoryTokenStore::default());
        let vault = Vault::new(b(), Some(keychain.clone()));
        assert_eq!(vault.probe().source, TokenSource::None);
        assert_eq!(vault.presence().keychain, KeychainState::Available);

        vault
            .writer(Keep::SessionOnly)
            .save(&b(), &token("s"))
            .unwrap();
        assert_eq!(keychain.load(&b()).unwrap(), None);
        assert_eq!(vault.presence().source, TokenSource::Session);
        assert_eq!(vault.load(&b()).unwrap(), Some(token("s")));

        vault
            .writer(Keep::Remember)
            .save(&b(), &token("k"))
            .unwrap();
        assert_eq!(keychain.load(&b()).unwrap(), Some(token("k")));
        assert_eq!(vault.presence().source, TokenSource::Keychain);
        assert_eq!(vault.load(&b()).unwrap(), Some(token("k")));

        vault.writer(Keep::Remember).clear(&b()).unwrap();
        assert_eq!(keychain.load(&b()).unwrap(), None);
        assert_eq!(vault.probe().source, TokenSource::None);
    }

    #[test]
    fn a_locked_keychain_is_a_state_and_a_session_token_still_works() {
        let vault = Vault::new(b(), Some(Arc::new(Locked)));
        assert_eq!(vault.load(&b()), Err(TokenStoreError::Locked));
        assert_eq!(vault.presence().keychain, KeychainState::Locked);
        // Remembering is refused: no plaintext fallback anywhere.
        assert_eq!(
            vault.writer(Keep::Remember).save(&b(), &token("k")),
            Err(TokenStoreError::Locked)
        );
        assert_eq!(vault.presence().source, TokenSource::None);
        // The operator chooses this session only.
        vault
            .writer(Keep::SessionOnly)
            .save(&b(), &token("s"))
            .unwrap();
        assert_eq!(vault.load(&b()).unwrap(), Some(token("s")));
        assert_eq!(vault.presence().source, TokenSource::Session);
        // Forgetting drops the session token even though the keychain cannot be cleared.
        assert!(vault.writer(Keep::Remember).clear(&b()).is_err());
        assert_eq!(vault.presence().source, TokenSource::None);
    }

    #[test]
    fn switching_profile_drops_the_session_token() {
        let vault = Vault::new(b(), Some(Arc::new(MemoryTokenStore::default())));
        vault.use_for_session(token("env"), TokenSource::Environment);
        assert_eq!(vault.presence().source, TokenSource::Environment);
        // The keychain is still asked about, so the UI knows whether remembering would work.
        assert_eq!(vault.probe().keychain, KeychainState::Available);
        let other = Arc::new(MemoryTokenStore::new(Some(token("other"))));
        vault.switch_profile(c(), Some(other), None);
        assert_eq!(vault.load(&c()).unwrap(), Some(token("other")));
        assert_eq!(vault.presence().source, TokenSource::Keychain);
    }

    /// However the app's steps are ordered, a vault on one server never hands out, stores or
    /// forgets another's token.
    #[test]
    fn a_vault_refuses_every_call_for_another_server() {
        let c_keychain = Arc::new(MemoryTokenStore::new(Some(token("token-of-c"))));
        let vault = Vault::new(c(), Some(c_keychain.clone()));
        let wrong = Err(TokenStoreError::WrongServer(b().as_str().to_owned()));
        assert_eq!(vault.load(&b()), wrong);
        for keep in [Keep::Remember, Keep::SessionOnly] {
            assert_eq!(
                vault.writer(keep).save(&b(), &token("token-of-b")),
                wrong.clone().map(|_| ())
            );
            assert_eq!(vault.writer(keep).clear(&b()), wrong.clone().map(|_| ()));
        }
        // C's entry untouched, and the refusals say nothing about the keychain.
        assert_eq!(c_keychain.load(&c()).unwrap(), Some(token("token-of-c")));
        assert_eq!(vault.load(&c()).unwrap(), Some(token("token-of-c")));
        assert_eq!(vault.presence().keychain, KeychainState::Available);
        // A session token of C is not offered to B either.
        vault.use_for_session(token("session-of-c"), TokenSource::Session);
        assert_eq!(vault.load(&b()), wrong);
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let vault = Vault::new(b(), None);
        vault.use_for_session(token("very-secret-value"), TokenSource::Demo);
        let shown = format!("{vault:?} {:?}", vault.presence());
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }
}
