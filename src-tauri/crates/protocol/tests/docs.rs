//! `docs/protocol.md` names every message type and error code this crate knows, and each of
//! its JSON examples is a message as this crate writes it.
//!
//! The lists come from the code: one value of each message variant, serialised for its `type`
//! (a variant missing from `every_variant!` below does not compile), and `ErrorCode::ALL`.

use brewdeck_protocol::*;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../docs/protocol.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a valid time")
}

/// One sample per variant of `$enum`, `None` for a variant that is not a message on the wire.
/// The `match` is exhaustive, so a new variant does not compile until it is listed here; each
/// sample is checked to be of the variant it is listed under.
macro_rules! every_variant {
    ($enum:ident { $($variant:ident => $sample:expr),* $(,)? }) => {{
        fn _exhaustive(message: &$enum) {
            match message {
                $($enum::$variant { .. } => {})*
            }
        }
        let mut samples: Vec<$enum> = Vec::new();
        $(
            let sample: Option<$enum> = $sample;
            if let Some(sample) = sample {
                assert!(
                    matches!(sample, $enum::$variant { .. }),
                    "the sample listed under {} is {sample:?}",
                    stringify!($variant)
                );
                samples.push(sample);
            }
        )*
        samples
    }};
}

fn server_samples() -> Vec<ServerMessage> {
    let now = t("2026-03-14T09:30:00Z");
    let alarm = Alarm {
        alarm_id: 3.into(),
        severity: Severity::High,
        message: "HLT temperature high".into(),
        timestamp: now,
        endpoint_id: None,
        state: None,
        acked: None,
        acked_by: None,
        acked_at: None,
        ack_note: None,
        shelved: None,
        seq: None,
    };
    every_variant!(ServerMessage {
        Connected => Some(ServerMessage::Connected(Connected {
            client_id: "client-1".into(),
            protocols: None,
            server_time: None,
            plant: None,
            last_seq: None,
            features: None,
            operator: None,
        })),
        Telemetry => Some(ServerMessage::Telemetry(Telemetry {
            endpoint_id: 1.into(),
            value: Value::Number(152.25),
            timestamp: now,
            quality: None,
        })),
        CommandStatus => Some(ServerMessage::CommandStatus(CommandStatus {
            command_id: "c-1".into(),
            status: CommandState::Queued,
            actual_value: None,
            completed_at: None,
            reason: None,
            endpoint_id: None,
            action: None,
            seq: None,
        })),
        Alarm => Some(ServerMessage::Alarm(alarm.clone())),
        Pong => Some(ServerMessage::Pong(Pong { timestamp: None })),
        Heartbeat => Some(ServerMessage::Heartbeat(Heartbeat {
            timestamp: now,
            active_streams: None,
        })),
        Error => Some(ServerMessage::Error(ServerError {
            message: "bad".into(),
            code: None,
            recoverable: None,
            timestamp: None,
            request_id: None,
        })),
        Reconnect => Some(ServerMessage::Reconnect(Reconnect {
            reason: None,
            retry_after: None,
        })),
        Snapshot => Some(ServerMessage::Snapshot(Snapshot {
            catalog: Vec::new(),
            values: Vec::new(),
            alarms: vec![alarm],
            commands: Vec::new(),
            seq: 1,
            plant: None,
        })),
        Resumed => Some(ServerMessage::Resumed(Resumed {
            from_seq: 1,
            to_seq: 2,
            complete: true,
        })),
        History => Some(ServerMessage::History(History {
            request_id: "q-1".into(),
            from: now,
            to: now,
            bucket_ms: 60_000,
            series: Vec::new(),
            complete: true,
        })),
        Journal => Some(ServerMessage::Journal(Journal {
            request_id: "j-1".into(),
            entries: Vec::new(),
            more: false,
        })),
        Note => Some(ServerMessage::Note(Note {
            note_id: 1,
            seq: 9,
            at: now,
            by: "ana".into(),
            text: "yeast pitched".into(),
            endpoint_ids: Vec::new(),
        })),
        Done => Some(ServerMessage::Done(Done {
            request_id: "s-1".into(),
        })),
        // What an unknown type decodes to: not a message anyone sends.
        Unknown => None,
    })
}

fn client_samples() -> Vec<ClientMessage> {
    let now = t("2026-03-14T09:30:00Z");
    every_variant!(ClientMessage {
        Subscribe => Some(ClientMessage::Subscribe(Subscription::Alarms)),
        Unsubscribe => Some(ClientMessage::Unsubscribe(Subscription::Alarms)),
        Ping => Some(ClientMessage::Ping),
        Hello => Some(ClientMessage::Hello(Hello {
            protocol: PROTOCOL_V1.into(),
            last_seq: None,
        })),
        Command => Some(ClientMessage::Command(Command {
            command_id: "c-1".into(),
            endpoint_id: 4.into(),
            action: Action::Set,
            value: Some(Value::Number(168.0)),
            issued_at: now,
            expires_at: now,
        })),
        AlarmAck => Some(ClientMessage::AlarmAck(AlarmAck {
            alarm_id: 3.into(),
            note: None,
            request_id: None,
        })),
        JournalQuery => Some(ClientMessage::JournalQuery(JournalQuery {
            request_id: "j-1".into(),
            ..JournalQuery::default()
        })),
        AlarmShelve => Some(ClientMessage::AlarmShelve(AlarmShelve {
            request_id: None,
            alarm_id: 3.into(),
            minutes: 30,
            reason: "sensor being replaced".into(),
        })),
        AlarmUnshelve => Some(ClientMessage::AlarmUnshelve(AlarmUnshelve {
            request_id: None,
            alarm_id: 3.into(),
        })),
        Note => Some(ClientMessage::Note(NoteRequest {
            request_id: None,
            text: "yeast pitched".into(),
            endpoint_ids: None,
        })),
        HistoryQuery => Some(ClientMessage::HistoryQuery(HistoryQuery {
            request_id: "q-1".into(),
            endpoint_ids: vec![1.into()],
            from: now,
            to: now,
            max_points: None,
        })),
        // What an unknown type decodes to: not a message anyone sends.
        Unknown => None,
    })
}

/// The `type` field of a message as this crate writes it.
fn wire_type<T: serde::Serialize + std::fmt::Debug>(message: &T) -> String {
    let value = serde_json::to_value(message).expect("a message encodes");
    value
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("{message:?} has no `type`"))
        .to_owned()
}

fn missing_from_doc(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let doc = doc();
    names
        .into_iter()
        .filter(|name| !doc.contains(&format!("`{name}`")))
        .collect()
}

#[test]
fn every_server_message_type_is_documented() {
    let types: Vec<String> = server_samples().iter().map(wire_type).collect();
    let missing = missing_from_doc(types);
    assert!(
        missing.is_empty(),
        "server message types missing from docs/protocol.md: {missing:?}"
    );
}

#[test]
fn every_client_message_type_is_documented() {
    let types: Vec<String> = client_samples().iter().map(wire_type).collect();
    let missing = missing_from_doc(types);
    assert!(
        missing.is_empty(),
        "client message types missing from docs/protocol.md: {missing:?}"
    );
}

#[test]
fn every_error_code_is_documented() {
    let codes = ErrorCode::ALL.iter().map(|c| c.as_str().to_owned());
    let missing = missing_from_doc(codes);
    assert!(
        missing.is_empty(),
        "error codes missing from docs/protocol.md: {missing:?}"
    );
}

/// The bodies of the doc's fenced ```json blocks.
fn json_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence.trim_end() == "```json" => {
                current = Some(String::new());
            }
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "a ```json block is not closed");
    blocks
}

#[test]
fn every_json_example_is_a_message_as_this_crate_writes_it() {
    let doc = doc();
    let blocks = json_blocks(&doc);
    assert!(blocks.len() >= 16, "only {} ```json examples", blocks.len());
    let mut seen = std::collections::BTreeSet::new();
    for block in blocks {
        let written: serde_json::Value =
            serde_json::from_str(&block).unwrap_or_else(|e| panic!("not JSON ({e}):\n{block}"));
        // Whichever direction knows the type; then written back exactly as in the doc, so a
        // misspelt field or a value in another form than the one sent fails here.
        let again = match (decode_server(&block), decode_client(&block)) {
            (Ok(m), _) if m != ServerMessage::Unknown => serde_json::to_value(&m),
            (_, Ok(m)) if m != ClientMessage::Unknown => serde_json::to_value(&m),
            (Err(e), _) | (_, Err(e)) => panic!("does not decode ({e}):\n{block}"),
            _ => panic!("not a known message type:\n{block}"),
        }
        .expect("a message encodes");
        assert_eq!(again, written, "not as this crate writes it:\n{block}");
        seen.insert(written["type"].as_str().unwrap_or_default().to_owned());
    }
    // And every type has at least one example.
    let types: Vec<String> = server_samples()
        .iter()
        .map(wire_type)
        .chain(client_samples().iter().map(wire_type))
        .collect();
    let without: Vec<String> = types.into_iter().filter(|t| !seen.contains(t)).collect();
    assert!(
        without.is_empty(),
        "types without a ```json example: {without:?}"
    );
}
