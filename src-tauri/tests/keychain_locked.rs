//! A locked keychain (gnome-keyring started without its password, on a private D-Bus session)
//! is reported as locked, not as missing and not silently replaced. Its own test binary: libdbus
//! reads the session bus address once per process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{ServerUrl, TokenStore, TokenStoreError};
use brewdeck_protocol::Token;
use brewdeck_station::keychain::KeychainEntry;
use brewdeck_station::vault::{Keep, KeychainState, Vault};
use common::bus::PrivateBus;
use std::sync::Arc;

#[test]
fn a_locked_keychain_is_reported_as_locked() {
    let bus = PrivateBus::start();
    let _keyring = bus.keyring(false);
    let server = ServerUrl::parse("wss://locked.example/ws", false).unwrap();
    let entry = KeychainEntry::new("com.brewdeck.desk", server.as_str());
    let token = Token::new("locked-test-token").unwrap();
    assert_eq!(entry.save(&server, &token), Err(TokenStoreError::Locked));
    assert_eq!(entry.load(&server), Err(TokenStoreError::Locked));

    // What the UI is told, and the session-only way on.
    let vault = Vault::new(server.clone(), Some(Arc::new(entry)));
    assert_eq!(vault.probe().keychain, KeychainState::Locked);
    assert_eq!(
        vault.writer(Keep::Remember).save(&server, &token),
        Err(TokenStoreError::Locked)
    );
    vault
        .writer(Keep::SessionOnly)
        .save(&server, &token)
        .unwrap();
    assert_eq!(vault.load(&server).unwrap(), Some(token));
}
