//! A token goes only to its own server, through the app's real commands (Tauri's IPC path),
//! the real keychain (gnome-keyring on a private D-Bus session) and two servers that record
//! the `Authorization` header they receive. Its own test binary: libdbus reads the session
//! bus address once per process.
//!
//! The sequence a review found: save server B (no token yet: the link waits), save server C
//! with a CA file that is not PEM (refused), retry: before the fix, C's token went to B.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_station::bridge::events;
use common::bus::PrivateBus;
use common::*;
use serde_json::json;

const SERVICE: &str = "com.brewdeck.desk";
const TOKEN_B: &str = "token-of-b-7e21";
const TOKEN_C: &str = "token-of-c-93af";

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Every request `server` received carried `token` (and at least `n` arrived).
fn only(server: &Recorder, n: usize, token: &str) {
    let seen = server.wait_for(n);
    assert!(
        seen.iter().all(|auth| *auth == bearer(token)),
        "{} received {seen:?}, not only {token}",
        server.url
    );
}

#[test]
fn a_token_goes_only_to_the_server_it_was_given_for() {
    let bus = PrivateBus::start();
    let _keyring = bus.keyring(true);
    let b = Recorder::start();
    let c = Recorder::start();
    // C's token is in the keychain already (remembered in an earlier session).
    bus.store(SERVICE, &c.url, TOKEN_C);
    let dirs = Dirs::new();
    let t = app(launch(&dirs, None, None));
    assert_eq!(t.snapshot()["desk"]["demo"], true);

    // 1. Save B: it has no token yet, so the link waits without dialing.
    let mark = t.events.len();
    t.invoke("save_settings", json!({"settings": {"serverUrl": b.url}}))
        .unwrap();
    t.events.wait_for_after(mark, "unauthorized on B", |e| {
        e.name == events::LINK_STATE && e.payload["state"] == "unauthorized"
    });

    // 2. Save C with a CA file that is not PEM: refused before anything changes.
    let not_pem = dirs.root.path().join("site-ca.txt");
    std::fs::write(&not_pem, "this is not a certificate").unwrap();
    let err = t
        .invoke(
            "save_settings",
            json!({"settings": {"serverUrl": c.url, "siteCaFile": not_pem}}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("no PEM certificate"),
        "{err}"
    );
    assert_eq!(t.snapshot()["desk"]["server"], b.url.as_str());

    // 3. Retry: still B, still no token for B: nothing is sent anywhere.
    let mark = t.events.len();
    t.invoke("retry_now", json!({})).unwrap();
    t.events.wait_for_after(mark, "unauthorized again", |e| {
        e.name == events::LINK_STATE
            && e.payload["state"] == "unauthorized"
            && e.payload["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no token"))
    });
    assert!(b.seen().is_empty(), "B received {:?}", b.seen());
    assert!(c.seen().is_empty(), "C received {:?}", c.seen());

    // 4. The operator sets B's token: it goes to B's keychain entry and to B only; C's
    //    entry is untouched.
    t.invoke("set_token", json!({"token": TOKEN_B, "remember": true}))
        .unwrap();
    only(&b, 1, TOKEN_B);
    assert_eq!(bus.lookup(SERVICE, &b.url).as_deref(), Some(TOKEN_B));
    assert_eq!(bus.lookup(SERVICE, &c.url).as_deref(), Some(TOKEN_C));

    // 5. A valid move to C: C gets C's token.
    t.invoke("save_settings", json!({"settings": {"serverUrl": c.url}}))
        .unwrap();
    only(&c, 1, TOKEN_C);

    // 6. Saves racing each other, each followed by a retry from another thread: whatever
    //    the interleaving, each server only ever sees its own token.
    let (b_before, c_before) = (b.seen().len(), c.seen().len());
    std::thread::scope(|scope| {
        for round in 0..6 {
            for (url, other) in [(&b.url, &c.url), (&c.url, &b.url)] {
                let window = t.window.clone();
                scope.spawn(move || {
                    let to = if round % 2 == 0 { url } else { other };
                    invoke_on(
                        &window,
                        "save_settings",
                        json!({"settings": {"serverUrl": to}}),
                    )
                    .unwrap();
                    invoke_on(&window, "retry_now", json!({})).unwrap();
                });
            }
        }
    });
    // The last save wins, and the link ends up dialing it with its own token.
    let last = t.snapshot()["desk"]["server"].as_str().unwrap().to_owned();
    let mark = t.events.len();
    t.invoke("retry_now", json!({})).unwrap();
    t.events.wait_for_after(mark, "a dial after the race", |e| {
        e.name == events::LINK_STATE && e.payload["state"] == "unauthorized"
    });
    let (landed, before) = if last == b.url {
        (&b, b_before)
    } else {
        (&c, c_before)
    };
    landed.wait_for(before + 1);
    only(&b, 1, TOKEN_B);
    only(&c, 1, TOKEN_C);

    // 7. Forgetting removes only this server's entry.
    t.invoke("forget_token", json!({})).unwrap();
    let (gone, kept, kept_token) = if last == b.url {
        (&b, &c, TOKEN_C)
    } else {
        (&c, &b, TOKEN_B)
    };
    assert_eq!(bus.lookup(SERVICE, &gone.url), None);
    assert_eq!(bus.lookup(SERVICE, &kept.url).as_deref(), Some(kept_token));
}
