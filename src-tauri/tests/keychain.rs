//! The token in a real OS keychain: gnome-keyring's Secret Service on a private D-Bus session
//! started here. Stored by the app (through its commands), read by another process
//! (`secret-tool`), forgotten; written by another process and read by the app's keychain
//! entry; and a missing or locked keychain is a clear state with a session-only way on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::TokenStore;
use brewdeck_protocol::Token;
use brewdeck_station::bridge::events;
use brewdeck_station::keychain::KeychainEntry;
use common::bus::PrivateBus;
use common::*;
use serde_json::json;

const SERVICE: &str = "com.brewdeck.desk";

#[test]
fn the_token_lives_in_the_keychain_and_only_there() {
    let bus = PrivateBus::start();
    let keyring = bus.keyring(true);
    let plant = plant();
    let url = plant.ws_url();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&url), None));

    // No token yet: the link waits for one, and the UI knows the keychain works.
    t.events.wait_for("unauthorized", |e| {
        e.name == events::LINK_STATE && e.payload["state"] == "unauthorized"
    });
    let snap = t.snapshot();
    assert_eq!(snap["desk"]["token"]["source"], "none");
    assert_eq!(snap["desk"]["token"]["keychain"]["state"], "available");

    // Stored by the app...
    let status = t
        .invoke("set_token", json!({"token": TOKEN, "remember": true}))
        .unwrap();
    assert_eq!(status["token"]["source"], "keychain");
    t.wait_connected();
    // ...read by another process, under the app's identifier and this server's profile.
    assert_eq!(bus.lookup(SERVICE, &url).as_deref(), Some(TOKEN));
    // Nothing of it in the settings file or the webview's view.
    t.invoke(
        "save_settings",
        json!({"settings": {"serverUrl": url, "theme": "dark"}}),
    )
    .unwrap();
    let settings = std::fs::read_to_string(dirs.config().join("settings.json")).unwrap();
    assert!(!settings.contains(TOKEN));
    assert!(!t.snapshot().to_string().contains(TOKEN));

    // Forgotten: gone from the keychain too.
    let status = t.invoke("forget_token", json!({})).unwrap();
    assert_eq!(status["token"]["source"], "none");
    assert_eq!(bus.lookup(SERVICE, &url), None);

    // Written by another process, read by the app's keychain entry.
    let other_url = brewdeck_link::ServerUrl::parse("wss://other.example/ws", false).unwrap();
    bus.store(SERVICE, other_url.as_str(), "written-elsewhere");
    let other = KeychainEntry::new(SERVICE, other_url.as_str());
    assert_eq!(
        other.load(&other_url).unwrap(),
        Token::new("written-elsewhere")
    );
    // An entry answers for its own server only.
    let plant_url = brewdeck_link::ServerUrl::parse(&url, false).unwrap();
    assert!(matches!(
        other.load(&plant_url),
        Err(brewdeck_link::TokenStoreError::WrongServer(_))
    ));
    other.clear(&other_url).unwrap();
    assert_eq!(other.load(&other_url).unwrap(), None);

    // The keychain goes away: a clear state, no plaintext fallback, and a session-only way on.
    keyring.stop();
    let err = t
        .invoke("set_token", json!({"token": TOKEN, "remember": true}))
        .unwrap_err();
    assert_eq!(err["code"], "keychain_unavailable", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("keychain unavailable"),
        "{err}"
    );
    assert_eq!(
        t.snapshot()["desk"]["token"]["keychain"]["state"],
        "unavailable"
    );
    let mark = t.events.len();
    let status = t
        .invoke("set_token", json!({"token": TOKEN, "remember": false}))
        .unwrap();
    assert_eq!(status["token"]["source"], "session");
    t.events
        .wait_for_after(mark, "connected with the session token", |e| {
            e.name == events::LINK_STATE && e.payload["state"] == "connected"
        });
    // Nothing was written anywhere on disk (config, logs, home) holding the token.
    for root in [dirs.root.path(), bus.home.path()] {
        assert_no_file_holds(root, TOKEN);
    }
}

fn assert_no_file_holds(root: &std::path::Path, secret: &str) {
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_no_file_holds(&path, secret);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(secret), "{} holds the token", path.display());
        }
    }
}
