//! The app's commands driven through the real IPC path (`tauri::test`, the app's real context
//! and capabilities) against a running `brewdeck-plant`.

#![allow(clippy::unwrap_used)]

mod common;

use brewdeck_station::bridge::events;
use common::*;
use serde_json::json;

#[test]
fn commands_work_end_to_end_and_the_token_goes_nowhere() {
    // Logs at every level must be free of the token, trace included.
    std::env::set_var("RUST_LOG", "trace");
    let plant = plant();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    t.wait_connected();

    // The snapshot: the plant's catalog and the desk's status, the token's source but not it.
    t.events
        .wait_for("readings", |e| e.name == events::PLANT_READINGS);
    let snap = t.snapshot();
    assert_eq!(snap["plant"]["link"]["state"], "connected");
    assert_eq!(snap["plant"]["catalog"].as_array().unwrap().len(), 31);
    assert_eq!(snap["desk"]["demo"], false);
    assert_eq!(snap["desk"]["serverFromCommandLine"], true);
    assert_eq!(snap["desk"]["token"]["source"], "environment");
    assert!(!snap["plant"]["readings"].as_array().unwrap().is_empty());

    // Readings arrive in small batches.
    let batch = t
        .events
        .wait_for("a readings batch", |e| e.name == events::PLANT_READINGS);
    assert!(batch.raw.len() <= 8 * 1024, "{} bytes", batch.raw.len());
    assert!(!batch.payload["readings"].as_array().unwrap().is_empty());

    // A command follows its lifecycle to succeeded, as events.
    let setpoint = endpoint_named(&snap, "Fermenter 1 setpoint");
    let view = t
        .invoke(
            "send_command",
            json!({"draft": {"endpointId": setpoint, "action": "set", "value": 61.5}}),
        )
        .unwrap();
    assert_eq!(view["mine"], true);
    let id = view["commandId"].clone();
    let done = t.events.wait_for("the command to succeed", |e| {
        e.name == events::PLANT_COMMAND
            && e.payload["command"]["commandId"] == id
            && e.payload["command"]["phase"] == "succeeded"
    });
    assert_eq!(done.payload["kind"], "command");

    // Errors reach the webview as { code, message }.
    assert_eq!(
        t.invoke("acknowledge_alarm", json!({"alarmId": 987654})),
        Err(json!({"code": "refused", "message": "no alarm 987654 is known"}))
    );
    let err = t
        .invoke(
            "send_command",
            json!({"draft": {"endpointId": "no-such-thing", "action": "on"}}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "refused");
    let err = t
        .invoke("set_token", json!({"token": "   ", "remember": false}))
        .unwrap_err();
    assert_eq!(
        err,
        json!({"code": "invalid_input", "message": "the token is empty"})
    );
    let err = t
        .invoke(
            "save_settings",
            json!({"settings": {"serverUrl": "http://plant.example"}}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(
        err["message"].as_str().unwrap().starts_with("serverUrl: "),
        "{err}"
    );

    // Only the app's own commands are callable: a plugin's command is not.
    let refused = t.invoke(
        "plugin:notification|notify",
        json!({"options": {"title": "x"}}),
    );
    assert!(refused.is_err(), "{refused:?}");
    assert!(t.invoke("no_such_command", json!({})).is_err());

    // Subscriptions are commands too. The app follows the whole catalog, so an endpoint
    // dropped from the explicit set is still followed.
    assert_eq!(
        t.invoke("unsubscribe", json!({"endpoints": [setpoint]})),
        Ok(json!(null))
    );
    assert_eq!(
        t.invoke("subscribe", json!({"endpoints": [setpoint]})),
        Ok(json!(null))
    );
    let snap = t.snapshot();
    assert_eq!(snap["plant"]["subscriptions"].as_array().unwrap().len(), 31);

    // Disconnect and connect again.
    let mark = t.events.len();
    t.invoke("disconnect", json!({})).unwrap();
    t.events.wait_for_after(mark, "idle", |e| {
        e.name == events::LINK_STATE && e.payload["state"] == "idle"
    });
    let mark = t.events.len();
    t.invoke("connect", json!({})).unwrap();
    t.events.wait_for_after(mark, "connected again", |e| {
        e.name == events::LINK_STATE && e.payload["state"] == "connected"
    });
    t.invoke("retry_now", json!({})).unwrap();

    // Updates: a release channel that cannot be reached is a clear error, not a hang, and
    // there is then nothing to install.
    let err = t.invoke("check_for_updates", json!({})).unwrap_err();
    assert_eq!(err["code"], "internal", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("could not check for updates: "),
        "{err}"
    );
    assert_eq!(
        t.invoke("install_update", json!({})),
        Err(
            json!({"code": "invalid_input", "message": "no update to install: check for updates first"})
        )
    );

    // A token given through the IPC path (its arguments pass Tauri's IPC tracing) is
    // used like any other: the link dials again with it.
    let mark = t.events.len();
    t.invoke("set_token", json!({"token": TOKEN, "remember": false}))
        .unwrap();
    t.events
        .wait_for_after(mark, "connected with the session token", |e| {
            e.name == events::LINK_STATE && e.payload["state"] == "connected"
        });

    // The token is in no response, no event and no log line.
    for response in t.events.responses.lock().unwrap().iter() {
        assert!(
            !response.contains(TOKEN),
            "a response holds the token: {response}"
        );
    }
    for e in t.events.all() {
        assert!(!e.raw.contains(TOKEN), "event {} holds the token", e.name);
    }
    let logs = std::fs::read_dir(dirs.logs()).unwrap();
    let mut lines = 0;
    for entry in logs {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(TOKEN), "a log line holds the token");
        lines += text.lines().count();
    }
    assert!(lines > 10, "the log file is being written ({lines} lines)");
}

#[test]
fn the_capability_grants_exactly_the_app_commands() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/main.json"),
    )
    .unwrap();
    let cap: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut granted: Vec<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    granted.sort();
    let mut expected: Vec<String> = brewdeck_app::COMMAND_NAMES
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .chain([
            "core:event:allow-listen".into(),
            "core:event:allow-unlisten".into(),
        ])
        .collect();
    expected.sort();
    assert_eq!(granted, expected);
    // And the CSP loads nothing remote.
    let conf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().unwrap();
    assert!(csp.contains("default-src 'self'"));
    for word in csp.split_whitespace().map(|w| w.trim_end_matches(';')) {
        assert!(
            !word.starts_with("http") || word == "http://ipc.localhost",
            "remote source in the CSP: {word}"
        );
        assert_ne!(word, "*");
    }
}
