//! The operator's record through the real IPC path, against a real plant with operators:
//! who each desk is and what it may do, shelving seen by another desk, an acknowledgement's
//! note in the other desk's journal, notes live, alarm health and the journal's export; and,
//! against a level-0 server, this desk's own shelving, notes and journal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_app::desk::Desk;
use brewdeck_plant::{Access, PlantConfig};
use brewdeck_station::bridge::events;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tauri::Manager;

const ANA: &str = "ana-token-4b1e";
const VAL: &str = "val-token-9c2d";
const SAM: &str = "sam-token-7a3f";

fn operators_plant(dir: &std::path::Path) -> brewdeck_plant::RunningPlant {
    let file = dir.join("operators");
    std::fs::write(
        &file,
        format!("# who may connect\nana operator {ANA}\nval viewer {VAL}\nsam supervisor {SAM}\n"),
    )
    .unwrap();
    let mut c = PlantConfig::with_access(([127, 0, 0, 1], 0).into(), Access::OperatorsFile(file));
    c.admin = true;
    c.tick = Duration::from_millis(20);
    tauri::async_runtime::block_on(brewdeck_plant::start(c)).unwrap()
}

fn shut(t: TestApp) {
    tauri::async_runtime::block_on(t.app.state::<Desk>().shutdown());
}

fn desk(dirs: &Dirs, plant: &brewdeck_plant::RunningPlant, token: &str) -> TestApp {
    let t = app(launch(dirs, Some(&plant.ws_url()), Some(token)));
    t.wait_connected();
    t
}

/// Raises an alarm through the admin API and waits until `t` holds it; its id.
fn raise(plant: &brewdeck_plant::RunningPlant, t: &TestApp, message: &str) -> Value {
    let mark = t.events.len();
    admin(
        plant,
        "/admin/alarm",
        &json!({"severity": "high", "message": message}).to_string(),
    );
    let e = t.events.wait_for_after(mark, "the alarm", |e| {
        e.name == events::PLANT_ALARM && e.payload["alarm"]["message"] == message
    });
    e.payload["alarm"]["alarmId"].clone()
}

fn journal(t: &TestApp, filter: Value) -> Value {
    t.invoke("journal", json!({ "filter": filter })).unwrap()
}

#[test]
fn a_viewer_sees_but_changes_nothing_and_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let plant = operators_plant(dir.path());
    let dirs = Dirs::new();
    let v = desk(&dirs, &plant, VAL);
    let snap = v.snapshot();
    assert_eq!(
        snap["plant"]["operator"],
        json!({"name": "val", "role": "viewer"})
    );
    let operator = &snap["operator"];
    assert_eq!(operator["name"], "val");
    for what in ["command", "acknowledge", "shelve", "note"] {
        assert_eq!(operator[what]["kind"], "denied", "{what}: {operator}");
        assert!(
            operator[what]["reason"]
                .as_str()
                .unwrap()
                .contains("viewer"),
            "{operator}"
        );
    }
    let alarm = raise(&plant, &v, "Viewer test alarm");
    let e = v
        .invoke("acknowledge_alarm", json!({"alarmId": alarm, "note": null}))
        .unwrap_err();
    assert_eq!(e["code"], "forbidden", "{e}");
    let e = v
        .invoke(
            "shelve_alarm",
            json!({"alarmId": alarm, "minutes": 10, "reason": "no"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], "forbidden", "{e}");
    let e = v
        .invoke("write_note", json!({"text": "hello", "endpointIds": []}))
        .unwrap_err();
    assert_eq!(e["code"], "forbidden", "{e}");
    // A command the button would not offer: the plant refuses it anyway.
    let setpoint = endpoint_named(&v.snapshot(), "Fermenter 2 setpoint");
    let mark = v.events.len();
    v.invoke(
        "send_command",
        json!({"draft": {"endpointId": setpoint, "action": "set", "value": 60.0}}),
    )
    .unwrap();
    let rejected = v.events.wait_for_after(mark, "the refusal", |e| {
        e.name == events::PLANT_COMMAND && e.payload["command"]["phase"] == "rejected"
    });
    assert_eq!(rejected.payload["command"]["reason"], "forbidden: viewer");
    shut(v);
}

#[test]
fn two_operators_shelving_notes_and_the_journal_across_desks() {
    let dir = tempfile::tempdir().unwrap();
    let plant = operators_plant(dir.path());
    let (dirs_a, dirs_s) = (Dirs::new(), Dirs::new());
    let a = desk(&dirs_a, &plant, ANA);
    let s = desk(&dirs_s, &plant, SAM);
    assert_eq!(a.snapshot()["operator"]["shelveLimitMinutes"], 60);
    assert_eq!(s.snapshot()["operator"]["shelveLimitMinutes"], 480);

    // Ana shelves; Sam's desk sees who, why and until when.
    let alarm = raise(&plant, &a, "FV-3 probe uncertain");
    let too_long = a
        .invoke(
            "shelve_alarm",
            json!({"alarmId": alarm, "minutes": 61, "reason": "probe swap"}),
        )
        .unwrap_err();
    assert_eq!(too_long["code"], "invalid_input", "{too_long}");
    let mark = s.events.len();
    a.invoke(
        "shelve_alarm",
        json!({"alarmId": alarm, "minutes": 30, "reason": "probe swap"}),
    )
    .unwrap();
    let seen = s.events.wait_for_after(mark, "the shelving", |e| {
        e.name == events::PLANT_ALARM && e.payload["alarm"]["shelved"]["by"] == "ana"
    });
    assert_eq!(seen.payload["alarm"]["shelved"]["reason"], "probe swap");
    assert!(seen.payload["alarm"]["shelved"]["until"].is_string());

    // Ana acknowledges another alarm with a note: Sam's journal view has it, by name.
    let other = raise(&plant, &a, "FV-5 level high");
    a.invoke(
        "acknowledge_alarm",
        json!({"alarmId": other, "note": "lid open for dry hopping"}),
    )
    .unwrap();
    let page = journal(&s, json!({"kinds": ["alarm_acked"], "limit": 10}));
    assert_eq!(page["source"], "plant", "{page}");
    let acked = &page["entries"][0];
    assert_eq!(acked["by"], "ana", "{page}");
    assert_eq!(acked["note"], "lid open for dry hopping");
    assert_eq!(acked["text"], "FV-5 level high");

    // A note reaches the other desk live, and the journal; text search finds it.
    let mark = s.events.len();
    a.invoke(
        "write_note",
        json!({"text": "FV-3 dry hopped, 4 kg Citra", "endpointIds": []}),
    )
    .unwrap();
    let note = s
        .events
        .wait_for_after(mark, "the note", |e| e.name == events::PLANT_NOTE);
    assert_eq!(note.payload["note"]["by"], "ana");
    let found = journal(&s, json!({"text": "citra"}));
    assert_eq!(found["entries"][0]["kind"], "note", "{found}");
    let e = a
        .invoke(
            "write_note",
            json!({"text": "x".repeat(2001), "endpointIds": []}),
        )
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input");

    // Acknowledge all, with one note: Sam acknowledges what is left, not the shelved one.
    let third = raise(&plant, &s, "HLT level low");
    let all = s
        .invoke("acknowledge_all", json!({"note": "end of shift check"}))
        .unwrap();
    assert!(all["acknowledged"].as_u64().unwrap() >= 1, "{all}");
    assert_eq!(all["refused"], Value::Null);
    let page = journal(
        &a,
        json!({"kinds": ["alarm_acked"], "text": "end of shift"}),
    );
    let acked_third = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["alarmId"] == third && e["by"] == "sam");
    assert!(acked_third, "{page}");
    let shelved_acked = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["alarmId"] == alarm);
    assert!(!shelved_acked, "a shelved alarm is left alone: {page}");

    // Sam, a supervisor, unshelves Ana's shelving.
    s.invoke("unshelve_alarm", json!({"alarmId": alarm}))
        .unwrap();
    let page = journal(&a, json!({"kinds": ["alarm_unshelved"]}));
    assert_eq!(page["entries"][0]["by"], "sam", "{page}");

    // Alarm health counts what was raised; paging goes back by seq.
    let health = a.invoke("alarm_health", json!({})).unwrap();
    assert!(health["raised"].as_u64().unwrap() >= 3, "{health}");
    assert_eq!(health["perTenMinutes"].as_array().unwrap().len(), 144);
    let first = journal(&a, json!({"limit": 2}));
    assert_eq!(first["more"], true);
    let last_seq = first["entries"][1]["seq"].as_u64().unwrap();
    let older = journal(&a, json!({"limit": 2, "beforeSeq": last_seq}));
    assert!(older["entries"][0]["seq"].as_u64().unwrap() < last_seq);
    // Bad filters: a clear refusal.
    let e = a
        .invoke("journal", json!({"filter": {"limit": 0}}))
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input", "{e}");
    let e = a
        .invoke("journal", json!({"filter": {"fromMs": 2000, "toMs": 1000}}))
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input", "{e}");
    shut(a);
    shut(s);
}

#[test]
fn the_journal_exports_as_csv_through_the_save_dialog() {
    let exports = tempfile::tempdir().unwrap();
    std::env::set_var(brewdeck_app::export::EXPORT_DIR_VARIABLE, exports.path());
    let dir = tempfile::tempdir().unwrap();
    let plant = operators_plant(dir.path());
    let dirs = Dirs::new();
    let a = desk(&dirs, &plant, ANA);
    raise(&plant, &a, "Export me");
    a.invoke(
        "write_note",
        json!({"text": "=cmd|' /C calc'!A0", "endpointIds": []}),
    )
    .unwrap();
    let outcome = a
        .invoke("export_journal_csv", json!({"filter": {}}))
        .unwrap();
    assert_eq!(outcome["saved"], true, "{outcome}");
    let text = std::fs::read_to_string(exports.path().join(outcome["fileName"].as_str().unwrap()))
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], brewdeck_station::journal::csv::HEADER);
    assert_eq!(outcome["rows"].as_u64().unwrap() as usize, lines.len() - 1);
    assert!(text.contains("\"Export me\""), "{text}");
    // A formula someone typed stays text.
    assert!(text.contains("\"'=cmd|' /C calc'!A0\""), "{text}");
    shut(a);
}

#[test]
fn a_level0_server_gets_this_desks_own_shelving_notes_and_journal() {
    let url = level0_server_with_an_alarm();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&url), Some(TOKEN)));
    t.events.wait_for("the alarm", |e| {
        e.name == events::PLANT_ALARM && e.payload["alarm"]["alarmId"] == 42
    });
    let alarm = json!(42);
    let operator = t.snapshot()["operator"].clone();
    assert_eq!(operator["shelvingIsLocal"], true, "{operator}");
    assert_eq!(operator["journalIsLocal"], true);
    t.invoke(
        "shelve_alarm",
        json!({"alarmId": alarm, "minutes": 15, "reason": "gauge being replaced"}),
    )
    .unwrap();
    let snap = t.snapshot();
    assert_eq!(
        snap["plant"]["alarms"][0]["shelved"]["by"],
        brewdeck_link::BY_THIS_DESK
    );
    t.invoke(
        "write_note",
        json!({"text": "boiler gauge ordered", "endpointIds": []}),
    )
    .unwrap();
    let page = journal(&t, json!({}));
    assert_eq!(page["source"], "desk", "{page}");
    assert!(
        page["notice"].as_str().unwrap().contains("this desk"),
        "{page}"
    );
    let kinds: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"note"), "{page}");
    assert!(kinds.contains(&"alarm_raised"), "{page}");
    assert!(kinds.contains(&"alarm_shelved"), "{page}");
    shut(t);
}

/// A level-0 server: `connected`, one critical alarm (id 42), then it only listens.
fn level0_server_with_an_alarm() -> String {
    use futures_util::{SinkExt, StreamExt};
    let listener =
        tauri::async_runtime::block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    tauri::async_runtime::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tauri::async_runtime::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let hello = r#"{"type":"connected","clientId":"legacy-1"}"#;
                let alarm = json!({"type":"alarm","alarmId":42,"severity":"critical",
                    "message":"Level-0 boiler pressure","timestamp":"2026-11-30T10:00:00Z"});
                if ws.send(hello.into()).await.is_err()
                    || ws.send(alarm.to_string().into()).await.is_err()
                {
                    return;
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    format!("ws://{addr}/ws")
}
