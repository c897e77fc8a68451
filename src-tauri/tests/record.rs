//! The desk's record through the real IPC path: what the desk receives is recorded and still
//! there after a restart; a range it did not see is asked of the plant, kept, and announced;
//! an export holds the chart's rows; a damaged or unusable record is said, and the live view
//! carries on.
#![allow(clippy::unwrap_used)]

mod common;

use brewdeck_app::desk::Desk;
use brewdeck_plant::sim::{Brewery, SimConfig};
use brewdeck_protocol::Timestamp;
use brewdeck_station::bridge::events;
use brewdeck_store::{Location, Reading, Store, StoreConfig};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tauri::Manager;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

fn trend(t: &TestApp, endpoint: &Value, from_ms: i64, to_ms: i64, max_points: u32) -> Value {
    t.invoke(
        "trend",
        json!({"query": {"endpointIds": [endpoint], "fromMs": from_ms, "toMs": to_ms, "maxPoints": max_points}}),
    )
    .unwrap()
}

fn points(answer: &Value) -> usize {
    answer["series"][0]["t"].as_array().unwrap().len()
}

/// Asks until the record holds `n` buckets of `endpoint` in the last minute.
fn recorded(t: &TestApp, endpoint: &Value, n: usize) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = now_ms();
        let answer = trend(t, endpoint, now - MINUTE, now + 1000, 600);
        if points(&answer) >= n {
            return answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not recorded: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The catalog's id of `name`, once the plant's snapshot is in (readings flow after it).
fn synced_endpoint(t: &TestApp, name: &str) -> Value {
    t.wait_connected();
    t.events
        .wait_for("readings", |e| e.name == events::PLANT_READINGS);
    endpoint_named(&t.snapshot(), name)
}

fn shut(t: TestApp) {
    tauri::async_runtime::block_on(t.app.state::<Desk>().shutdown());
}

#[test]
fn what_the_desk_receives_is_still_there_after_a_restart() {
    let plant = plant();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    let temp = synced_endpoint(&t, "HLT temperature");
    // Per-second buckets: a few seconds of readings.
    let before = recorded(&t, &temp, 3);
    assert_eq!(before["bucketMs"], 1000);
    let first_t = before["series"][0]["t"][0].as_i64().unwrap();
    let status = t.invoke("record_status", json!({})).unwrap();
    assert_eq!(status["health"], "recording");
    assert!(status["path"]
        .as_str()
        .unwrap()
        .ends_with("brewdeck.sqlite3"));
    assert!(status["written"].as_u64().unwrap() > 0);
    let url = plant.ws_url();
    shut(t);
    drop(plant);

    // Back, on the same server, now gone: the record alone still has that minute.
    let t = app(launch(&dirs, Some(&url), Some(TOKEN)));
    let now = now_ms();
    let after = trend(&t, &temp, now - 10 * MINUTE, now, 600);
    let ts: Vec<i64> = after["series"][0]["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(!ts.is_empty(), "nothing kept: {after}");
    assert!(
        ts.iter().any(|&x| x <= first_t + 1000),
        "the earliest seconds are kept: {ts:?} vs {first_t}"
    );
    shut(t);
}

/// The plant's store with readings of its HLT temperature every `step_ms` over
/// `[end - span, end)`, written as its historian would have, before the plant starts on it.
fn plant_with_history(
    dir: &std::path::Path,
    span_ms: i64,
    step_ms: i64,
    end_ms: i64,
) -> (brewdeck_plant::RunningPlant, String) {
    let catalog = Brewery::new(&SimConfig {
        seed: 1,
        fermenters: 4,
    })
    .catalog()
    .to_vec();
    let temp = catalog
        .iter()
        .find(|e| e.name == "HLT temperature")
        .unwrap()
        .id
        .to_string();
    let mut config = StoreConfig::plant(Location::File(dir.join("plant.sqlite3")));
    // Keep the raw readings: retention must not prune them before the other tiers have them.
    config.fine_retention = Duration::from_secs(8 * 86_400);
    let store = Store::open(config).unwrap().store;
    let readings: Vec<Reading> = (0..span_ms / step_ms)
        .map(|i| Reading {
            endpoint: temp.clone(),
            t_ms: end_ms - span_ms + i * step_ms,
            value: 60.0 + (i % 60) as f64 / 10.0,
        })
        .collect();
    store.writer().record("", readings);
    store.flush().unwrap();
    drop(store);
    let mut c = plant_config();
    c.data_dir = Some(dir.to_owned());
    let plant = tauri::async_runtime::block_on(brewdeck_plant::start(c)).unwrap();
    (plant, temp)
}

#[test]
fn a_recent_stretch_the_desk_missed_is_filled_per_second() {
    let plant_dir = tempfile::tempdir().unwrap();
    // Every second of the last half hour but the last minute and a half.
    let (plant, temp) = plant_with_history(plant_dir.path(), 30 * MINUTE, 1000, now_ms() - 90_000);
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    let _ = synced_endpoint(&t, "HLT temperature");
    let temp = json!(temp);
    let now = now_ms();
    let mark = t.events.len();
    let first = trend(&t, &temp, now - 15 * MINUTE, now, 500);
    assert_eq!(first["filling"], true, "{first}");
    t.events
        .wait_for_after(mark, "the fill", |e| e.name == events::RECORD_FILLED);
    let filled = trend(&t, &temp, now - 15 * MINUTE, now, 500);
    // 15 minutes in 500 points: 2-second buckets, drawn from seconds fetched from the plant.
    assert_eq!(filled["bucketMs"], 2000);
    let n = points(&filled);
    assert!(n >= 350, "{n} buckets of the last quarter hour");
    shut(t);
    drop(plant);
}

/// Seven days of per-minute readings, ending ten minutes ago.
fn plant_with_a_week(dir: &std::path::Path) -> (brewdeck_plant::RunningPlant, String) {
    plant_with_history(dir, 7 * DAY, MINUTE, now_ms() - 10 * MINUTE)
}

#[test]
fn a_week_the_desk_did_not_see_is_filled_from_the_plant() {
    let plant_dir = tempfile::tempdir().unwrap();
    let (plant, temp) = plant_with_a_week(plant_dir.path());
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    t.wait_connected();
    let temp = json!(temp);
    let now = now_ms();
    let mark = t.events.len();
    let first = trend(&t, &temp, now - 7 * DAY, now, 1000);
    assert_eq!(first["filling"], true, "{first}");
    assert!(
        points(&first) < 10,
        "the desk saw none of that week: {}",
        points(&first)
    );
    t.events
        .wait_for_after(mark, "the fill", |e| e.name == events::RECORD_FILLED);

    let filled = trend(&t, &temp, now - 7 * DAY, now, 1000);
    // 7 days in 1000 points: 15-minute buckets; the week has one reading a minute.
    assert_eq!(filled["bucketMs"], 15 * MINUTE);
    let n = points(&filled);
    assert!(n >= 600, "{n} buckets of the week");
    let first_t = filled["series"][0]["t"][0].as_i64().unwrap();
    assert!(
        first_t <= now - 7 * DAY + 30 * MINUTE,
        "from the week's beginning"
    );
    // Asked once: the range is now seen, and no second fill starts.
    let again = trend(&t, &temp, now - 7 * DAY, now - 2 * MINUTE, 1000);
    assert_eq!(again["filling"], false, "{again}");
    shut(t);
    drop(plant);
}

#[test]
fn a_csv_export_holds_the_rows_of_the_chart() {
    let exports = tempfile::tempdir().unwrap();
    std::env::set_var(brewdeck_app::export::EXPORT_DIR_VARIABLE, exports.path());
    let plant = plant();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    let temp = synced_endpoint(&t, "HLT temperature");
    recorded(&t, &temp, 3);
    let now = now_ms();
    let query =
        json!({"endpointIds": [temp], "fromMs": now - MINUTE, "toMs": now, "maxPoints": 600});
    let chart = t.invoke("trend", json!({"query": query})).unwrap();
    let outcome = t
        .invoke("export_trend_csv", json!({"query": query}))
        .unwrap();
    assert_eq!(outcome["saved"], true);
    let name = outcome["fileName"].as_str().unwrap();
    assert!(
        name.starts_with("brewdeck-trend-") && name.ends_with(".csv"),
        "{name}"
    );
    let text = std::fs::read_to_string(exports.path().join(name)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,endpoint_id,endpoint,unit,min,max,last");
    let rows = &lines[1..];
    assert_eq!(outcome["rows"].as_u64().unwrap() as usize, rows.len());
    // Every bucket of the chart is a row (the export may hold a bucket or two more: it
    // was asked a moment later).
    assert!(
        rows.len() >= points(&chart),
        "{} rows, {} points",
        rows.len(),
        points(&chart)
    );
    let last = chart["series"][0]["last"][0].as_f64().unwrap();
    let first_row: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(first_row[2], "HLT temperature");
    assert_eq!(first_row[3], "°F");
    assert_eq!(first_row[6].parse::<f64>().unwrap(), last);

    // A PNG: only a PNG is taken.
    let e = t
        .invoke("export_trend_png", json!({"pngBase64": "R0lGODlh"}))
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    shut(t);
}

#[test]
fn a_damaged_record_is_moved_aside_and_said() {
    let plant = plant();
    let dirs = Dirs::new();
    std::fs::create_dir_all(dirs.data()).unwrap();
    std::fs::write(dirs.data().join("brewdeck.sqlite3"), vec![0x5a; 64 * 1024]).unwrap();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    let status = t.invoke("record_status", json!({})).unwrap();
    assert_eq!(status["health"], "recording");
    let aside = status["movedAside"].as_str().unwrap();
    assert!(aside.contains("brewdeck.sqlite3.corrupt-"), "{aside}");
    assert_eq!(
        std::fs::read(aside).unwrap(),
        vec![0x5a; 64 * 1024],
        "kept as it was"
    );
    t.events.wait_for("the record's status", |e| {
        e.name == events::RECORD_STATUS && e.payload["movedAside"].is_string()
    });
    let temp = synced_endpoint(&t, "HLT temperature");
    recorded(&t, &temp, 2);
    shut(t);
}

#[test]
fn an_unusable_record_folder_is_said_the_link_carries_on_and_recording_starts_when_it_can() {
    let plant = plant();
    let dirs = Dirs::new();
    // The data folder is a file: the record cannot be made there (root ignores permissions,
    // a file in the way stops everyone).
    std::fs::write(dirs.data(), b"in the way").unwrap();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    let status = t.invoke("record_status", json!({})).unwrap();
    assert_eq!(status["health"], "unavailable", "{status}");
    assert!(status["reason"].as_str().is_some_and(|r| !r.is_empty()));
    t.wait_connected();
    // Readings flow while nothing records them.
    let temp = synced_endpoint(&t, "HLT temperature");
    let now = now_ms();
    let refused = t.invoke(
        "trend",
        json!({"query": {"endpointIds": [temp], "fromMs": now - MINUTE, "toMs": now, "maxPoints": 60}}),
    );
    assert_eq!(refused.unwrap_err()["code"], "not_supported");

    // Out of the way: the record opens by itself, and records.
    let mark = t.events.len();
    std::fs::remove_file(dirs.data()).unwrap();
    t.events.wait_for_after(mark, "recording", |e| {
        e.name == events::RECORD_STATUS && e.payload["health"] == "recording"
    });
    recorded(&t, &temp, 2);
    // Bad queries are refused with the field named.
    let e = t
        .invoke(
            "trend",
            json!({"query": {"endpointIds": [], "fromMs": 0, "toMs": 1, "maxPoints": 60}}),
        )
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    let e = t
        .invoke(
            "set_retention",
            json!({"retention": {"minuteDays": 0, "sizeCapMib": 64}}),
        )
        .unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    assert!(e["message"].as_str().unwrap().contains("minuteDays"), "{e}");
    let kept = t
        .invoke(
            "set_retention",
            json!({"retention": {"minuteDays": 90, "sizeCapMib": 2048}}),
        )
        .unwrap();
    assert_eq!(kept["retention"]["minuteDays"], 90);
    shut(t);
}

/// A level-0 server (no `hello`, no history): `connected`, then a reading of endpoint 7
/// every 20 ms, whatever it is asked.
fn level0_server() -> String {
    use futures_util::SinkExt;
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
                if ws.send(hello.into()).await.is_err() {
                    return;
                }
                for i in 0u64.. {
                    let t = Timestamp::now();
                    let m = json!({"type":"telemetry","endpointId":7,"value":20.0 + (i % 10) as f64,"timestamp":t.to_string()});
                    if ws.send(m.to_string().into()).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        }
    });
    format!("ws://{addr}/ws")
}

#[test]
fn a_level0_servers_readings_are_recorded_and_never_asked_of_it() {
    let url = level0_server();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&url), Some(TOKEN)));
    t.wait_connected();
    let endpoint = json!(7);
    let answer = recorded(&t, &endpoint, 3);
    assert_eq!(answer["bucketMs"], 1000);
    let now = now_ms();
    // A day it never saw: a level-0 server has no history to ask.
    let day = trend(&t, &endpoint, now - DAY, now, 1000);
    assert_eq!(day["filling"], false, "{day}");
    shut(t);
}
