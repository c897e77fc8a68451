//! Every example message of the seed documents 003 and 004 decodes verbatim.
#![allow(clippy::unwrap_used)]

use brewdeck_protocol::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn server(name: &str) -> ServerMessage {
    decode_server(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn client(name: &str) -> ClientMessage {
    decode_client(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[test]
fn seed003_data_is_an_unknown_type_not_an_error() {
    assert_eq!(server("seed003-data.json"), ServerMessage::Unknown);
    assert_eq!(
        peek_type(&fixture("seed003-data.json")).as_deref(),
        Some("data")
    );
}

#[test]
fn seed003_heartbeat_with_snake_case_and_no_offset() {
    let ServerMessage::Heartbeat(h) = server("seed003-heartbeat.json") else {
        panic!()
    };
    assert_eq!(h.active_streams, Some(3));
    assert_eq!(h.timestamp.to_string(), "2024-01-01T12:00:00.000Z");
}

#[test]
fn seed003_error() {
    let ServerMessage::Error(e) = server("seed003-error.json") else {
        panic!()
    };
    assert_eq!(e.message, "Hardware temporarily unavailable");
    assert_eq!(e.recoverable, Some(true));
    assert_eq!(e.code, None);
    assert_eq!(e.timestamp, Some(ts("2024-01-01T12:00:00Z")));
}

#[test]
fn seed003_reconnect_retry_after_snake_case() {
    let ServerMessage::Reconnect(r) = server("seed003-reconnect.json") else {
        panic!()
    };
    assert_eq!(r.retry_after, Some(5.0));
    assert_eq!(r.reason.as_deref(), Some("Server maintenance"));
    let camel = decode_server(r#"{"type":"reconnect","retryAfter":2.5}"#).unwrap();
    assert_eq!(
        camel,
        ServerMessage::Reconnect(Reconnect {
            reason: None,
            retry_after: Some(2.5)
        })
    );
}

#[test]
fn seed003_and_004_pong() {
    let ServerMessage::Pong(p) = server("seed003-pong.json") else {
        panic!()
    };
    assert_eq!(p.timestamp, Some(ts("2024-01-01T12:00:00Z")));
    assert_eq!(
        server("seed004-pong.json"),
        ServerMessage::Pong(Pong { timestamp: None })
    );
}

#[test]
fn seed004_connected_is_level_0() {
    let ServerMessage::Connected(c) = server("seed004-connected.json") else {
        panic!()
    };
    assert_eq!(c.client_id, "client-1735279200000-k3j9x8a2b");
    assert_eq!(c.protocols, None);
}

#[test]
fn seed004_telemetry_both_time_forms() {
    for name in ["seed004-telemetry.json", "seed004-telemetry-broadcast.json"] {
        let ServerMessage::Telemetry(t) = server(name) else {
            panic!()
        };
        assert_eq!(t.endpoint_id, EndpointId::from(59));
        assert_eq!(t.value, Value::Number(180.5));
        assert_eq!(t.timestamp, ts("2025-12-27T06:00:00Z"));
        assert_eq!(t.quality, None);
    }
}

#[test]
fn seed004_command_status() {
    let ServerMessage::CommandStatus(c) = server("seed004-command-status.json") else {
        panic!()
    };
    assert_eq!(c.command_id, CommandId::from("uuid-123"));
    assert_eq!(c.status, CommandState::Succeeded);
    assert_eq!(c.actual_value, Some(Value::Bool(true)));
    assert_eq!(c.completed_at, Some(ts("2025-12-27T06:00:01Z")));
    assert_eq!(c.seq, None);
    let ServerMessage::CommandStatus(f) = server("seed004-command-status-failed.json") else {
        panic!()
    };
    assert_eq!(f.status, CommandState::Failed);
    assert_eq!(f.actual_value, None);
}

#[test]
fn seed004_alarm() {
    let ServerMessage::Alarm(a) = server("seed004-alarm.json") else {
        panic!()
    };
    assert_eq!(a.alarm_id, AlarmId::from(42));
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.message, "HLT temperature exceeded 212°F");
    assert_eq!(a.state, None);
}

#[test]
fn seed004_client_messages() {
    assert_eq!(
        client("seed004-subscribe-telemetry.json"),
        ClientMessage::Subscribe(Subscription::Telemetry {
            endpoint_ids: vec![59.into(), 60.into(), 61.into()]
        })
    );
    assert_eq!(
        client("seed004-subscribe-alarms.json"),
        ClientMessage::Subscribe(Subscription::Alarms)
    );
    assert_eq!(
        client("seed004-subscribe-commands.json"),
        ClientMessage::Subscribe(Subscription::Commands {
            command_ids: vec!["uuid-1".into(), "uuid-2".into()]
        })
    );
    assert_eq!(
        client("seed004-unsubscribe-telemetry.json"),
        ClientMessage::Unsubscribe(Subscription::Telemetry {
            endpoint_ids: vec![59.into()]
        })
    );
    assert_eq!(client("seed004-ping.json"), ClientMessage::Ping);
}

#[test]
fn every_fixture_is_covered() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        let text = fixture(&name);
        let decoded = decode_server(&text).is_ok() || decode_client(&text).is_ok();
        assert!(
            decoded,
            "{name} decodes neither as a server nor as a client message"
        );
        n += 1;
    }
    assert_eq!(n, 17);
}
