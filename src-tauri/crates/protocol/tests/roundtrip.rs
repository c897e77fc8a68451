//! Every message type, both directions, both levels, round-trips through its JSON.
#![allow(clippy::unwrap_used)]

use brewdeck_protocol::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn alarm() -> Alarm {
    Alarm {
        alarm_id: 7.into(),
        severity: Severity::High,
        message: "Fermenter 2 temperature high".into(),
        timestamp: t("2026-11-22T10:00:00.250Z"),
        endpoint_id: Some(31.into()),
        state: Some(AlarmState::Active),
        acked: Some(true),
        acked_by: Some("operator-2".into()),
        acked_at: Some(t("2026-11-22T10:00:05Z")),
        ack_note: Some("lid open".into()),
        shelved: Some(Shelved {
            until: t("2026-11-22T10:30:00Z"),
            by: "ana".into(),
            reason: "probe being replaced".into(),
        }),
        seq: Some(12),
    }
}

fn endpoint() -> Endpoint {
    Endpoint {
        id: 3.into(),
        name: "HLT heater".into(),
        area: "Hot liquor tank".into(),
        kind: EndpointKind::Heater,
        unit: None,
        writable: true,
        critical: true,
        actions: vec![Action::On, Action::Off],
        limits: None,
    }
}

fn record() -> CommandRecord {
    CommandRecord {
        command_id: "5b1f0f5e-8a44-4e0f-9f51-2f0b8d6f3a10".into(),
        endpoint_id: 4.into(),
        action: Action::Set,
        value: Some(Value::Number(168.0)),
        status: CommandState::Acked,
        issued_at: t("2026-11-22T10:00:00Z"),
        expires_at: t("2026-11-22T10:00:30Z"),
        actual_value: None,
        completed_at: None,
        reason: None,
        seq: Some(3),
    }
}

fn server_messages() -> Vec<ServerMessage> {
    use ServerMessage as S;
    vec![
        S::Connected(Connected {
            client_id: "c-1".into(),
            protocols: Some(vec![PROTOCOL_V1.into()]),
            server_time: Some(t("2026-11-22T10:00:00Z")),
            plant: Some("Demo brewery".into()),
            last_seq: Some(41),
            features: Some(vec![FEATURE_HISTORY.into()]),
            operator: Some(Operator {
                name: "ana".into(),
                role: Role::Supervisor,
            }),
        }),
        S::Connected(Connected {
            client_id: "c-2".into(),
            protocols: None,
            server_time: None,
            plant: None,
            last_seq: None,
            features: None,
            operator: None,
        }),
        S::Telemetry(Telemetry {
            endpoint_id: "hlt-temp".into(),
            value: Value::Number(152.25),
            timestamp: t("2026-11-22T10:00:00.125Z"),
            quality: Some(Quality::Uncertain),
        }),
        S::Telemetry(Telemetry {
            endpoint_id: 5.into(),
            value: Value::Bool(false),
            timestamp: t("2026-11-22T10:00:00Z"),
            quality: None,
        }),
        S::Telemetry(Telemetry {
            endpoint_id: 6.into(),
            value: Value::Text("open".into()),
            timestamp: t("2026-11-22T10:00:00Z"),
            quality: Some(Quality::Bad),
        }),
        S::CommandStatus(CommandStatus {
            command_id: "x".into(),
            status: CommandState::Rejected,
            actual_value: None,
            completed_at: Some(t("2026-11-22T10:00:01Z")),
            reason: Some("interlock: HLT heater needs level ≥ 20 %".into()),
            endpoint_id: Some(3.into()),
            action: Some(Action::On),
            seq: Some(9),
        }),
        S::Alarm(alarm()),
        S::Pong(Pong {
            timestamp: Some(t("2026-11-22T10:00:00Z")),
        }),
        S::Pong(Pong { timestamp: None }),
        S::Heartbeat(Heartbeat {
            timestamp: t("2026-11-22T10:00:00Z"),
            active_streams: Some(2),
        }),
        S::Error(ServerError {
            message: "too many messages".into(),
            code: Some(ErrorCode::RateLimited.as_str().into()),
            recoverable: Some(true),
            timestamp: None,
            request_id: None,
        }),
        S::Error(ServerError {
            message: "maxPoints must be 1 to 5000".into(),
            code: Some(ErrorCode::BadRequest.as_str().into()),
            recoverable: None,
            timestamp: None,
            request_id: Some("q-7".into()),
        }),
        S::History(History {
            request_id: "q-7".into(),
            from: t("2026-11-22T10:00:00Z"),
            to: t("2026-11-22T11:00:00Z"),
            bucket_ms: 60_000,
            series: vec![HistorySeries {
                endpoint_id: "hlt-temp".into(),
                points: vec![HistoryPoint {
                    t: t("2026-11-22T10:00:00Z"),
                    min: 151.5,
                    max: 152.25,
                    last: 152.0,
                    n: 240,
                }],
            }],
            complete: false,
        }),
        S::Journal(Journal {
            request_id: "j-1".into(),
            entries: vec![JournalEntry {
                seq: 88,
                at: t("2026-11-22T10:01:00Z"),
                by: "ana".into(),
                kind: JournalKind::AlarmShelved,
                text: "FV-3 probe uncertain".into(),
                severity: Some(Severity::Medium),
                alarm_id: Some(7.into()),
                endpoint_ids: vec![31.into()],
                command_id: None,
                action: None,
                value: None,
                status: None,
                reason: None,
                note: Some("probe being replaced".into()),
                until: Some(t("2026-11-22T10:31:00Z")),
                note_id: None,
            }],
            more: true,
        }),
        S::Note(Note {
            note_id: 4,
            seq: 90,
            at: t("2026-11-22T10:02:00Z"),
            by: "ana".into(),
            text: "dry hopped".into(),
            endpoint_ids: vec![31.into()],
        }),
        S::Done(Done {
            request_id: "s-1".into(),
        }),
        S::Reconnect(Reconnect {
            reason: Some("restart".into()),
            retry_after: Some(2.0),
        }),
        S::Snapshot(Snapshot {
            catalog: vec![endpoint()],
            values: vec![Telemetry {
                endpoint_id: 1.into(),
                value: Value::Number(150.0),
                timestamp: t("2026-11-22T10:00:00Z"),
                quality: Some(Quality::Good),
            }],
            alarms: vec![alarm()],
            commands: vec![record()],
            seq: 12,
            plant: Some("Demo brewery".into()),
        }),
        S::Resumed(Resumed {
            from_seq: 5,
            to_seq: 12,
            complete: false,
        }),
    ]
}

fn client_messages() -> Vec<ClientMessage> {
    use ClientMessage as C;
    vec![
        C::Subscribe(Subscription::Telemetry {
            endpoint_ids: vec![1.into(), "x".into()],
        }),
        C::Subscribe(Subscription::Alarms),
        C::Subscribe(Subscription::Commands {
            command_ids: vec!["a".into()],
        }),
        C::Unsubscribe(Subscription::Commands {
            command_ids: vec![],
        }),
        C::Ping,
        C::Hello(Hello {
            protocol: PROTOCOL_V1.into(),
            last_seq: Some(40),
        }),
        C::Hello(Hello {
            protocol: PROTOCOL_V1.into(),
            last_seq: None,
        }),
        C::Command(Command {
            command_id: "5b1f0f5e-8a44-4e0f-9f51-2f0b8d6f3a10".into(),
            endpoint_id: 4.into(),
            action: Action::Set,
            value: Some(Value::Number(168.0)),
            issued_at: t("2026-11-22T10:00:00Z"),
            expires_at: t("2026-11-22T10:00:30Z"),
        }),
        C::AlarmAck(AlarmAck {
            alarm_id: 7.into(),
            note: None,
            request_id: None,
        }),
        C::AlarmAck(AlarmAck {
            alarm_id: 7.into(),
            note: Some("lid open".into()),
            request_id: Some("a-1".into()),
        }),
        C::AlarmShelve(AlarmShelve {
            request_id: Some("s-1".into()),
            alarm_id: 7.into(),
            minutes: 30,
            reason: "probe being replaced".into(),
        }),
        C::AlarmUnshelve(AlarmUnshelve {
            request_id: None,
            alarm_id: "a7".into(),
        }),
        C::Note(NoteRequest {
            request_id: Some("n-1".into()),
            text: "dry hopped".into(),
            endpoint_ids: Some(vec![3.into()]),
        }),
        C::JournalQuery(JournalQuery {
            request_id: "j-1".into(),
            from: Some(t("2026-11-22T10:00:00Z")),
            to: None,
            kinds: Some(vec![JournalKind::AlarmShelved, JournalKind::Note]),
            severities: Some(vec![Severity::Critical]),
            text: Some("FV-3".into()),
            before_seq: Some(99),
            limit: Some(50),
        }),
        C::HistoryQuery(HistoryQuery {
            request_id: "q-7".into(),
            endpoint_ids: vec!["hlt-temp".into(), 3.into()],
            from: t("2026-11-22T10:00:00Z"),
            to: t("2026-11-22T11:00:00Z"),
            max_points: Some(600),
        }),
    ]
}

#[test]
fn server_messages_round_trip() {
    for m in server_messages() {
        let text = encode(&m).unwrap();
        assert_eq!(decode_server(&text).unwrap(), m, "{text}");
    }
}

#[test]
fn client_messages_round_trip() {
    for m in client_messages() {
        let text = encode(&m).unwrap();
        assert_eq!(decode_client(&text).unwrap(), m, "{text}");
    }
}

#[test]
fn wire_names_are_the_protocols() {
    let text = encode(&server_messages()[5]).unwrap();
    assert!(
        text.starts_with(r#"{"type":"command_status","commandId":"x","status":"rejected""#),
        "{text}"
    );
    let text = encode(&ClientMessage::AlarmAck(AlarmAck {
        alarm_id: 7.into(),
        note: None,
        request_id: None,
    }))
    .unwrap();
    assert_eq!(text, r#"{"type":"alarm_ack","alarmId":7}"#);
    let text = encode(&ClientMessage::Subscribe(Subscription::Alarms)).unwrap();
    assert_eq!(text, r#"{"type":"subscribe","channel":"alarms"}"#);
    let text = encode(&ClientMessage::Ping).unwrap();
    assert_eq!(text, r#"{"type":"ping"}"#);
}

#[test]
fn unknown_types_and_fields_are_ignored() {
    assert_eq!(
        decode_server(r#"{"type":"weather","x":1}"#).unwrap(),
        ServerMessage::Unknown
    );
    assert_eq!(
        decode_client(r#"{"type":"dance"}"#).unwrap(),
        ClientMessage::Unknown
    );
    let m = decode_server(r#"{"type":"pong","extra":{"deep":[1,2]}}"#).unwrap();
    assert_eq!(m, ServerMessage::Pong(Pong { timestamp: None }));
}

#[test]
fn ids_keep_their_json_kind() {
    let m = decode_server(r#"{"type":"alarm","alarmId":"A-9","severity":"low","message":"m","timestamp":"2026-01-01T00:00:00Z"}"#).unwrap();
    let text = encode(&m).unwrap();
    assert!(text.contains(r#""alarmId":"A-9""#), "{text}");
}

#[test]
fn bad_frames_are_errors_not_panics() {
    for bad in [
        "",
        "not json",
        "[1,2,3]",
        r#"{"no":"type"}"#,
        r#"{"type":"telemetry"}"#,
        r#"{"type":"telemetry","endpointId":1,"value":{"x":1},"timestamp":"2026-01-01T00:00:00Z"}"#,
        r#"{"type":"telemetry","endpointId":1,"value":1e999,"timestamp":"2026-01-01T00:00:00Z"}"#,
        r#"{"type":"alarm","alarmId":1,"severity":"apocalyptic","message":"m","timestamp":"2026-01-01T00:00:00Z"}"#,
        r#"{"type":"heartbeat","timestamp":"yesterday"}"#,
        r#"{"type":"heartbeat","timestamp":1e300}"#,
        r#"{"type":"pong""#,
    ] {
        let err = decode_server(bad).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("malformed message"), "{bad}: {text}");
        assert!(text.len() < 300, "error text stays short: {text}");
    }
}

#[test]
fn error_text_never_echoes_a_long_input() {
    let secret_like = "s".repeat(10_000);
    let err =
        decode_server(&format!(r#"{{"type":"alarm","alarmId":"{secret_like}"}}"#)).unwrap_err();
    assert!(!err.to_string().contains(&secret_like[..200]));
}

#[test]
fn seq_is_read_from_alarm_and_command_status_only() {
    let m = server_messages();
    assert_eq!(m[5].seq(), Some(9));
    assert_eq!(m[6].seq(), Some(12));
    assert_eq!(m[0].seq(), None);
}

#[test]
fn command_states_know_which_are_final() {
    assert!(CommandState::Succeeded.is_final());
    assert!(CommandState::Rejected.is_final());
    assert!(!CommandState::Acked.is_final());
}
