//! Decoding arbitrary input never panics, and encoding then decoding is the identity. Bad
//! input from a server (huge numbers, deep nesting, long strings, a wrong type in any field of
//! any message kind) is refused with a short error, never coerced and never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

// ---------------------------------------------------------------------------------------------
// Every field of every server message kind, with a wrong type.

/// What a field holds, so the values that are wrong for it can be listed.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `EndpointId`/`AlarmId`: a non-negative integer or a string.
    Id,
    /// A `u64` (`seq`, `lastSeq`, `activeStreams`).
    Count,
    Text,
    Flag,
    /// RFC 3339 text or Unix seconds.
    Time,
    /// A reading: number, bool or string.
    Reading,
    /// `retryAfter` seconds.
    Seconds,
    /// One of these names.
    Named(&'static [&'static str]),
    /// An endpoint kind: any string (unknown ones read as `other`).
    AnyName,
    /// A list of strings (`protocols`).
    Names,
    /// A list of actions (`actions`).
    Actions,
    /// A list of objects (the snapshot's catalog, values, alarms, commands).
    Objects,
    /// `limits`: an object of optional numbers.
    Limits,
}

const SEVERITIES: &[&str] = &["critical", "high", "medium", "low"];
const ALARM_STATES: &[&str] = &["active", "cleared"];
const QUALITIES: &[&str] = &["good", "uncertain", "bad"];
const COMMAND_STATES: &[&str] = &["queued", "sent", "acked", "succeeded", "failed", "rejected"];
const ACTIONS: &[&str] = &["set", "on", "off", "open", "close"];

/// 2^64 + 5: one past what a `u64` holds, as text (serde_json reads it as a float).
const PAST_U64: &str = "18446744073709551621";

fn three_hundred_digits() -> String {
    format!("1{}", "7".repeat(299))
}

impl Shape {
    /// JSON texts that are wrong for this shape whether or not the field is optional.
    fn wrong(self) -> Vec<String> {
        let mut v: Vec<String> = match self {
            Shape::Id => vec!["-1", "1.5", "true", "{}", "[]", "[5]", PAST_U64, "1e400"],
            Shape::Count => vec![
                "-1", "1.5", "\"7\"", "true", "{}", "[]", PAST_U64, "1e400", "-0.0",
            ],
            Shape::Text => vec!["1", "true", "{}", "[]", "[\"x\"]", "1e400"],
            Shape::Flag => vec!["\"true\"", "1", "0", "{}", "[]"],
            Shape::Time => vec![
                "true",
                "\"hot\"",
                "\"2026-13-45T99:00:00Z\"",
                "{}",
                "[]",
                "1e400",
                "-1e300",
                PAST_U64,
            ],
            Shape::Reading => vec!["{}", "[]", "[1.5]", "{\"value\":1}", "1e400", "-1e400"],
            Shape::Seconds => vec!["\"5\"", "true", "{}", "[]", "1e400"],
            Shape::Named(names) => {
                let shout = names[0].to_uppercase();
                return ["\"HOT\"", "\"\"", "1", "true", "{}", "[]", "[\"on\"]"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([format!("\"{shout}\"")])
                    .collect();
            }
            Shape::AnyName => vec!["1", "true", "{}", "[]"],
            Shape::Names => vec!["\"brewdeck.v1\"", "[1]", "[null]", "{}", "true"],
            Shape::Actions => vec!["\"on\"", "[\"explode\"]", "[1]", "{}", "true"],
            Shape::Objects => vec!["{}", "\"x\"", "[1]", "[\"x\"]", "true", "[null]"],
            Shape::Limits => vec!["\"x\"", "true", "1", "{\"min\":\"1\"}", "{\"max\":1e400}"],
        }
        .into_iter()
        .map(str::to_owned)
        .collect();
        if matches!(self, Shape::Count | Shape::Id | Shape::Time) {
            v.push(three_hundred_digits());
        }
        v
    }
}

/// A field: its name, shape, and whether `null` and absence are accepted.
struct Field {
    name: &'static str,
    shape: Shape,
    null_ok: bool,
    missing_ok: bool,
}

const fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        null_ok: false,
        missing_ok: false,
    }
}

const fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        null_ok: true,
        missing_ok: true,
    }
}

/// Defaulted when absent, but `null` is not a value of it.
const fn defaulted(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        null_ok: false,
        missing_ok: true,
    }
}

const T: &str = "2026-11-23T06:00:00Z";

fn endpoint_doc() -> serde_json::Value {
    serde_json::json!({"id":5,"name":"HLT temperature","area":"Hot liquor tank","kind":"temperature","unit":"°C","writable":true,"critical":false,"actions":["set"],"limits":{"min":0.0,"max":100.0}})
}

fn telemetry_doc() -> serde_json::Value {
    serde_json::json!({"endpointId":5,"value":1.5,"timestamp":T,"quality":"good"})
}

fn alarm_doc() -> serde_json::Value {
    serde_json::json!({"alarmId":9,"severity":"critical","message":"HLT over temperature","timestamp":T,"endpointId":5,"state":"active","acked":false,"ackedBy":"op","ackedAt":T,"seq":8})
}

fn record_doc() -> serde_json::Value {
    serde_json::json!({"commandId":"c-1","endpointId":5,"action":"set","value":65.0,"status":"succeeded","issuedAt":T,"expiresAt":T,"actualValue":65.0,"completedAt":T,"reason":"done","seq":7})
}

fn telemetry_fields() -> Vec<Field> {
    vec![
        req("endpointId", Shape::Id),
        req("value", Shape::Reading),
        req("timestamp", Shape::Time),
        opt("quality", Shape::Named(QUALITIES)),
    ]
}

fn alarm_fields() -> Vec<Field> {
    vec![
        req("alarmId", Shape::Id),
        req("severity", Shape::Named(SEVERITIES)),
        req("message", Shape::Text),
        req("timestamp", Shape::Time),
        opt("endpointId", Shape::Id),
        opt("state", Shape::Named(ALARM_STATES)),
        opt("acked", Shape::Flag),
        opt("ackedBy", Shape::Text),
        opt("ackedAt", Shape::Time),
        opt("seq", Shape::Count),
    ]
}

/// Every server message kind (and every object nested in a snapshot): a valid document, where
/// in it the fields are, and the fields.
fn kinds() -> Vec<(&'static str, serde_json::Value, &'static str, Vec<Field>)> {
    let with_type = |kind: &str, mut doc: serde_json::Value| {
        doc["type"] = kind.into();
        doc
    };
    let snapshot = serde_json::json!({"type":"snapshot","catalog":[endpoint_doc()],"values":[telemetry_doc()],"alarms":[alarm_doc()],"commands":[record_doc()],"seq":10,"plant":"Test brewery"});
    vec![
        (
            "connected",
            serde_json::json!({"type":"connected","clientId":"c1","protocols":["brewdeck.v1"],"serverTime":T,"plant":"Test brewery","lastSeq":5}),
            "",
            vec![
                req("clientId", Shape::Text),
                opt("protocols", Shape::Names),
                opt("serverTime", Shape::Time),
                opt("plant", Shape::Text),
                opt("lastSeq", Shape::Count),
            ],
        ),
        (
            "telemetry",
            with_type("telemetry", telemetry_doc()),
            "",
            telemetry_fields(),
        ),
        (
            "command_status",
            serde_json::json!({"type":"command_status","commandId":"c-1","status":"succeeded","actualValue":true,"completedAt":T,"reason":"done","endpointId":5,"action":"on","seq":7}),
            "",
            vec![
                req("commandId", Shape::Text),
                req("status", Shape::Named(COMMAND_STATES)),
                opt("actualValue", Shape::Reading),
                opt("completedAt", Shape::Time),
                opt("reason", Shape::Text),
                opt("endpointId", Shape::Id),
                opt("action", Shape::Named(ACTIONS)),
                opt("seq", Shape::Count),
            ],
        ),
        ("alarm", with_type("alarm", alarm_doc()), "", alarm_fields()),
        (
            "pong",
            serde_json::json!({"type":"pong","timestamp":T}),
            "",
            vec![opt("timestamp", Shape::Time)],
        ),
        (
            "heartbeat",
            serde_json::json!({"type":"heartbeat","timestamp":T,"activeStreams":3}),
            "",
            vec![
                req("timestamp", Shape::Time),
                opt("activeStreams", Shape::Count),
            ],
        ),
        (
            "error",
            serde_json::json!({"type":"error","message":"slow down","code":"rate_limited","recoverable":true,"timestamp":T}),
            "",
            vec![
                req("message", Shape::Text),
                opt("code", Shape::Text),
                opt("recoverable", Shape::Flag),
                opt("timestamp", Shape::Time),
            ],
        ),
        (
            "reconnect",
            serde_json::json!({"type":"reconnect","reason":"restart","retryAfter":2.5}),
            "",
            vec![
                opt("reason", Shape::Text),
                opt("retryAfter", Shape::Seconds),
            ],
        ),
        (
            "snapshot",
            snapshot.clone(),
            "",
            vec![
                req("catalog", Shape::Objects),
                req("values", Shape::Objects),
                req("alarms", Shape::Objects),
                req("commands", Shape::Objects),
                req("seq", Shape::Count),
                opt("plant", Shape::Text),
            ],
        ),
        (
            "snapshot catalog endpoint",
            snapshot.clone(),
            "/catalog/0",
            vec![
                req("id", Shape::Id),
                req("name", Shape::Text),
                req("area", Shape::Text),
                req("kind", Shape::AnyName),
                opt("unit", Shape::Text),
                defaulted("writable", Shape::Flag),
                defaulted("critical", Shape::Flag),
                defaulted("actions", Shape::Actions),
                opt("limits", Shape::Limits),
            ],
        ),
        (
            "snapshot value",
            snapshot.clone(),
            "/values/0",
            telemetry_fields(),
        ),
        (
            "snapshot alarm",
            snapshot.clone(),
            "/alarms/0",
            alarm_fields(),
        ),
        (
            "snapshot command",
            snapshot,
            "/commands/0",
            vec![
                req("commandId", Shape::Text),
                req("endpointId", Shape::Id),
                req("action", Shape::Named(ACTIONS)),
                opt("value", Shape::Reading),
                req("status", Shape::Named(COMMAND_STATES)),
                req("issuedAt", Shape::Time),
                req("expiresAt", Shape::Time),
                opt("actualValue", Shape::Reading),
                opt("completedAt", Shape::Time),
                opt("reason", Shape::Text),
                opt("seq", Shape::Count),
            ],
        ),
        (
            "resumed",
            serde_json::json!({"type":"resumed","fromSeq":1,"toSeq":2,"complete":true}),
            "",
            vec![
                req("fromSeq", Shape::Count),
                req("toSeq", Shape::Count),
                req("complete", Shape::Flag),
            ],
        ),
    ]
}

/// A marker string put where the raw JSON goes (some texts, like `1e400`, are not values
/// serde_json can hold).
const MARK: &str = "@@raw@@";

/// The document with `field` (under `at`) set to the raw JSON `raw`, or removed if `None`.
fn with_field(doc: &serde_json::Value, at: &str, field: &str, raw: Option<&str>) -> String {
    let mut doc = doc.clone();
    let object = doc
        .pointer_mut(at)
        .and_then(serde_json::Value::as_object_mut)
        .expect("the pointer names an object");
    match raw {
        Some(_) => {
            object.insert(field.to_owned(), MARK.into());
        }
        None => {
            object.remove(field);
        }
    }
    let text = doc.to_string();
    match raw {
        Some(raw) => text.replacen(&format!("\"{MARK}\""), raw, 1),
        None => text,
    }
}

/// The error's text is short and quotes no more than a snippet of the input.
fn assert_short(e: &ProtocolError) {
    let text = e.to_string();
    assert!(text.len() < 300, "error too long: {} chars", text.len());
}

#[test]
fn every_field_of_every_server_message_refuses_a_wrong_type() {
    let mut checked = 0;
    for (kind, doc, at, fields) in kinds() {
        let valid = decode_server(&doc.to_string())
            .unwrap_or_else(|e| panic!("{kind}: the valid document is refused: {e}"));
        assert!(!matches!(valid, ServerMessage::Unknown), "{kind}");
        for field in &fields {
            for raw in field.shape.wrong() {
                let text = with_field(&doc, at, field.name, Some(&raw));
                match decode_server(&text) {
                    Ok(m) => panic!("{kind}.{} = {raw} was accepted as {m:?}", field.name),
                    Err(e) => assert_short(&e),
                }
                checked += 1;
            }
            let null = decode_server(&with_field(&doc, at, field.name, Some("null")));
            assert_eq!(null.is_ok(), field.null_ok, "{kind}.{} = null", field.name);
            let missing = decode_server(&with_field(&doc, at, field.name, None));
            assert_eq!(
                missing.is_ok(),
                field.missing_ok,
                "{kind}.{} missing",
                field.name
            );
        }
    }
    // A guard against the table going empty by mistake.
    assert!(checked > 500, "{checked}");
}

#[test]
fn a_type_tag_that_is_not_a_string_is_refused_and_an_unknown_one_ignored() {
    for raw in ["1", "null", "{}", "[]", "true", "[\"alarm\"]"] {
        let text = format!(r#"{{"type":{raw},"message":"x"}}"#);
        assert!(decode_server(&text).is_err(), "{text}");
    }
    assert!(decode_server(r#"{"message":"x"}"#).is_err(), "no type");
    let unknown = decode_server(r#"{"type":"brew_recipe","grain":[1,2,{"malt":"pils"}]}"#);
    assert_eq!(unknown.unwrap(), ServerMessage::Unknown);
}

#[test]
fn strings_that_look_right_for_ids_and_readings_are_what_the_protocol_allows() {
    // Level-0 servers use string ids and string readings: these are values, not bad input.
    let m = decode_server(
        r#"{"type":"telemetry","endpointId":"x","value":"hot","timestamp":"2026-11-23T06:00:00Z"}"#,
    )
    .unwrap();
    let ServerMessage::Telemetry(t) = m else {
        panic!("{m:?}")
    };
    assert_eq!(t.endpoint_id, EndpointId::from("x"));
    assert_eq!(t.value, Value::Text("hot".into()));
}

// ---------------------------------------------------------------------------------------------
// Huge numbers.

/// JSON number literals, mostly far beyond `u64` and `f64`: long digit strings, signs,
/// fractions and large exponents.
fn number_literal() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop_oneof!["0", "[1-9][0-9]{0,400}"],
        prop::option::of("[0-9]{1,40}"),
        prop::option::of((
            prop::sample::select(vec!["e", "E"]),
            prop::sample::select(vec!["", "+", "-"]),
            0u32..100_000,
        )),
    )
        .prop_map(|(negative, int, frac, exp)| {
            let mut s = String::new();
            if negative {
                s.push('-');
            }
            s.push_str(&int);
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some((e, sign, n)) = exp {
                s.push_str(&format!("{e}{sign}{n}"));
            }
            s
        })
}

/// The numeric fields of the server messages, each in a valid document.
fn numeric_fields() -> Vec<(serde_json::Value, &'static str, Shape)> {
    let t = |kind: &str| {
        kinds()
            .into_iter()
            .find(|k| k.0 == kind && k.2.is_empty())
            .expect("kind")
            .1
    };
    vec![
        (t("alarm"), "seq", Shape::Count),
        (t("alarm"), "alarmId", Shape::Id),
        (t("alarm"), "timestamp", Shape::Time),
        (t("telemetry"), "endpointId", Shape::Id),
        (t("telemetry"), "value", Shape::Reading),
        (t("command_status"), "seq", Shape::Count),
        (t("command_status"), "actualValue", Shape::Reading),
        (t("snapshot"), "seq", Shape::Count),
        (t("resumed"), "fromSeq", Shape::Count),
        (t("resumed"), "toSeq", Shape::Count),
        (t("connected"), "lastSeq", Shape::Count),
        (t("heartbeat"), "activeStreams", Shape::Count),
        (t("heartbeat"), "timestamp", Shape::Time),
        (t("reconnect"), "retryAfter", Shape::Seconds),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// A counter takes exactly the integers a `u64` holds; a reading or a delay exactly the
    /// numbers an `f64` holds finitely (never infinity, never a wrapped or truncated integer).
    #[test]
    fn huge_numbers_are_refused_or_read_exactly(literal in number_literal(), which in 0usize..14) {
        let fields = numeric_fields();
        let (doc, field, shape) = &fields[which % fields.len()];
        let text = with_field(doc, "", field, Some(&literal));
        let decoded = decode_server(&text);
        if let Err(e) = &decoded {
            assert_short(e);
        }
        let as_u64 = literal.parse::<u64>().ok();
        let as_f64 = literal.parse::<f64>().ok().filter(|f| f.is_finite());
        match shape {
            Shape::Count | Shape::Id => {
                prop_assert_eq!(decoded.is_ok(), as_u64.is_some(), "{}", literal);
                if let Some(n) = as_u64 {
                    let m = decoded.unwrap();
                    let got = match (&m, *field) {
                        (ServerMessage::Alarm(a), "seq") => a.seq,
                        (ServerMessage::Alarm(a), "alarmId") => Some(match &a.alarm_id.0 { Id::Number(n) => *n, Id::Text(_) => u64::MAX - 1 }),
                        (ServerMessage::Telemetry(t), _) => Some(match &t.endpoint_id.0 { Id::Number(n) => *n, Id::Text(_) => u64::MAX - 1 }),
                        (ServerMessage::CommandStatus(c), _) => c.seq,
                        (ServerMessage::Snapshot(s), _) => Some(s.seq),
                        (ServerMessage::Resumed(r), "fromSeq") => Some(r.from_seq),
                        (ServerMessage::Resumed(r), _) => Some(r.to_seq),
                        (ServerMessage::Connected(c), _) => c.last_seq,
                        (ServerMessage::Heartbeat(h), _) => h.active_streams,
                        _ => None,
                    };
                    prop_assert_eq!(got, Some(n));
                }
            }
            Shape::Reading | Shape::Seconds => {
                prop_assert_eq!(decoded.is_ok(), as_f64.is_some(), "{}", literal);
                if let Some(f) = as_f64 {
                    let got = match decoded.unwrap() {
                        ServerMessage::Telemetry(t) => t.value.as_f64(),
                        ServerMessage::CommandStatus(c) => c.actual_value.and_then(|v| v.as_f64()),
                        ServerMessage::Reconnect(r) => r.retry_after,
                        m => panic!("{m:?}"),
                    };
                    prop_assert_eq!(got, Some(f));
                }
            }
            _ => {
                // A time: Unix seconds within what a date holds, else refused; never a panic.
                if let Ok(m) = decoded {
                    let again = encode(&m).unwrap();
                    prop_assert_eq!(decode_server(&again).unwrap(), m);
                }
            }
        }
    }
}

#[test]
fn the_largest_counter_is_read_and_one_more_is_refused() {
    let alarm = |seq: &str| {
        format!(
            r#"{{"type":"alarm","alarmId":1,"severity":"low","message":"m","timestamp":"{T}","seq":{seq}}}"#
        )
    };
    assert_eq!(
        decode_server(&alarm("18446744073709551615")).unwrap().seq(),
        Some(u64::MAX)
    );
    for seq in [
        "18446744073709551616",
        PAST_U64,
        &three_hundred_digits(),
        "1e400",
        "-1",
    ] {
        assert!(decode_server(&alarm(seq)).is_err(), "{seq}");
    }
}

// ---------------------------------------------------------------------------------------------
// Deep nesting.

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn a_hundred_thousand_brackets_are_refused_without_overflowing_the_stack() {
    let open = "[".repeat(100_000);
    let objects = r#"{"a":"#.repeat(100_000);
    let mut texts = vec![open.clone(), nested(100_000), objects.clone()];
    // The same, where a message's field (or a field nobody reads) should be.
    for (kind, doc, at, fields) in kinds() {
        if at.is_empty() {
            if let Some(f) = fields.first() {
                texts.push(with_field(&doc, at, f.name, Some(&open)));
            }
            texts.push(with_field(&doc, at, "unknownField", Some(&nested(100_000))));
            let _ = kind;
        }
    }
    for text in &texts {
        let e = decode_server(text).expect_err("refused");
        assert_short(&e);
        assert!(decode_client(text).is_err());
        // Only for logging; it skips what it does not read without recursing, so a valid
        // document with a deep unknown field may still name its type.
        let _ = peek_type(text);
    }
    assert_eq!(peek_type(&open), None);
}

#[test]
fn nesting_a_plant_could_send_is_read_and_ignored_where_unknown() {
    // An unknown field nested a little is skipped, as the protocol says unknown fields are.
    let text = format!(
        r#"{{"type":"heartbeat","timestamp":"{T}","vendor":{}}}"#,
        nested(100)
    );
    assert!(matches!(
        decode_server(&text).unwrap(),
        ServerMessage::Heartbeat(_)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any nesting of arrays and objects in any field: never a panic; past serde_json's limit
    /// (128) always refused.
    #[test]
    fn any_nesting_in_any_field_never_panics(
        opens in prop::collection::vec(prop_oneof![Just("["), Just("{\"k\":")], 0..400),
        close in any::<bool>(),
        kind in 0usize..14,
        field in 0usize..12,
    ) {
        let all = kinds();
        let (_, doc, at, fields) = &all[kind % all.len()];
        let name = fields.get(field % fields.len().max(1)).map_or("extra", |f| f.name);
        let mut raw: String = opens.concat();
        if close {
            raw.push('0');
            for o in opens.iter().rev() {
                raw.push(if *o == "[" { ']' } else { '}' });
            }
        }
        let text = with_field(doc, at, name, Some(&raw));
        let decoded = decode_server(&text);
        if opens.len() > 128 || !close {
            prop_assert!(decoded.is_err());
        }
        if let Err(e) = decoded {
            assert_short(&e);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Long strings.

#[test]
fn a_long_string_is_kept_whole_and_never_echoed_in_an_error() {
    let long = "x".repeat(4 << 20);
    let ok = format!(r#"{{"type":"error","message":"{long}"}}"#);
    let ServerMessage::Error(e) = decode_server(&ok).unwrap() else {
        panic!("an error message")
    };
    assert_eq!(e.message.len(), long.len());
    // A long string where a name should be: refused, and the error quotes a snippet at most.
    let bad = format!(
        r#"{{"type":"alarm","alarmId":1,"severity":"{long}","message":"m","timestamp":"{T}"}}"#
    );
    let e = decode_server(&bad).unwrap_err();
    assert_short(&e);
    assert!(!e.to_string().contains(&"x".repeat(200)));
}

/// JSON string bodies: plain text, escapes, control characters, astral characters, and
/// escapes that are not valid (lone surrogates, bad hex, raw control characters).
fn string_body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{0,64}",
        "\\PC{0,32}".prop_map(|s| s.replace(['"', '\\'], "")),
        prop::sample::select(vec![
            r"\n",
            r"\t",
            r#"\""#,
            r"\\",
            r"\/",
            r"\u00e9",
            r"\ud83c\udf7a",
            r"\u0000",
            // Not valid JSON strings:
            r"\ud800",
            r"\udc00x",
            r"\u12",
            r"\x41",
            "\u{1}",
            "\n",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any string in any text field: decoded as serde_json reads it, or refused; never a panic;
    /// what decodes re-encodes to the same message.
    #[test]
    fn any_string_in_any_text_field(body in string_body(), kind in 0usize..14, field in 0usize..12) {
        let all = kinds();
        let (name, doc, at, fields) = &all[kind % all.len()];
        let texts: Vec<&Field> = fields.iter().filter(|f| matches!(f.shape, Shape::Text | Shape::AnyName)).collect();
        prop_assume!(!texts.is_empty());
        let f = texts[field % texts.len()];
        let raw = format!("\"{body}\"");
        let text = with_field(doc, at, f.name, Some(&raw));
        let expected = serde_json::from_str::<String>(&raw);
        match decode_server(&text) {
            Ok(m) => {
                prop_assert!(expected.is_ok(), "{}.{} = {} accepted", name, f.name, raw);
                let again = encode(&m).unwrap();
                prop_assert_eq!(decode_server(&again).unwrap(), m);
            }
            Err(e) => {
                prop_assert!(expected.is_err(), "{}.{} = {} refused: {}", name, f.name, raw, e);
                assert_short(&e);
            }
        }
    }
}
