//! Decoding arbitrary input never panics, and encoding then decoding is the identity.
#![allow(clippy::unwrap_used)]

use brewdeck_protocol::*;
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        "[a-z_]{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const TYPES: &[&str] = &[
    "connected",
    "telemetry",
    "command_status",
    "alarm",
    "pong",
    "heartbeat",
    "error",
    "reconnect",
    "snapshot",
    "resumed",
    "subscribe",
    "unsubscribe",
    "ping",
    "hello",
    "command",
    "alarm_ack",
    "other",
];
const FIELDS: &[&str] = &[
    "clientId",
    "endpointId",
    "value",
    "timestamp",
    "quality",
    "commandId",
    "status",
    "alarmId",
    "severity",
    "message",
    "seq",
    "retryAfter",
    "retry_after",
    "channel",
    "endpointIds",
    "catalog",
    "values",
    "alarms",
    "commands",
    "fromSeq",
    "toSeq",
    "complete",
    "lastSeq",
];

/// Objects that look like protocol messages with random field values: the shapes that get
/// deepest into the decoder.
fn message_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(TYPES),
        prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..8),
    )
        .prop_map(|(kind, fields)| {
            let mut obj = serde_json::Map::new();
            obj.insert("type".into(), serde_json::Value::String(kind.into()));
            for (k, v) in fields {
                obj.insert(k.into(), v);
            }
            serde_json::Value::Object(obj).to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = decode_server(&text);
        let _ = decode_client(&text);
        let _ = peek_type(&text);
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let text = v.to_string();
        let _ = decode_server(&text);
        let _ = decode_client(&text);
    }

    #[test]
    fn message_like_objects_never_panic_and_reencode(text in message_like()) {
        if let Ok(m) = decode_server(&text) {
            let again = encode(&m).unwrap();
            prop_assert_eq!(decode_server(&again).unwrap(), m);
        }
        if let Ok(m) = decode_client(&text) {
            let again = encode(&m).unwrap();
            prop_assert_eq!(decode_client(&again).unwrap(), m);
        }
    }

    #[test]
    fn telemetry_round_trips(
        id in prop_oneof![any::<u64>().prop_map(EndpointId::from), "[a-z0-9-]{1,16}".prop_map(|s| EndpointId::from(s.as_str()))],
        value in prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Number),
            ".{0,32}".prop_map(Value::Text),
        ],
        ms in 0i64..4_102_444_800_000,
    ) {
        let m = ServerMessage::Telemetry(Telemetry {
            endpoint_id: id,
            value,
            timestamp: Timestamp::from_unix_millis(ms).unwrap(),
            quality: None,
        });
        let text = encode(&m).unwrap();
        prop_assert_eq!(decode_server(&text).unwrap(), m);
    }
}
