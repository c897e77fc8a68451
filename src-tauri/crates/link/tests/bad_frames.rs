//! Every class of bad frame a plant server can send, against the real link over a loopback
//! socket, each with its expected outcome. Frames no WebSocket library would produce (text
//! that is not UTF-8, masked or reserved-bit frames, lengths that lie) are written byte by
//! byte on the TCP stream after the handshake ([`scripted::RawFrame`]).
//!
//! The server is a scripted level-1 plant: `connected`, `hello`, snapshot, then alarm `seq 1`,
//! the bad input, alarm `seq 2`. On a reconnect it replays what the link's `hello` asks for,
//! then a snapshot and alarm `seq 3`. In every case nothing is lost: alarm 2 reaches the link
//! (live, or replayed after the reconnect) and, after a reconnect, alarm 3 too.
//!
//! | class | what the server sends | outcome | counters |
//! |---|---|---|---|
//! | binary | junk bytes, an empty binary frame, a valid reading as binary | ignored, link stays up | `badFrames` +3 |
//! | truncated JSON | five messages cut short | ignored, link stays up | `badFrames` +5 |
//! | not a message | `[1,2,3]`, `42`, `null`, a string, an empty frame, a BOM before a valid alarm, 300 and 70 000 bytes of text | ignored, link stays up | `badFrames` +8 |
//! | wrong types | `"seq":-1`, `"seq":"7"`, `"endpointId":true`, `"value":{…}`, `"severity":"HOT"`, `"timestamp":"yesterday"`, `"catalog":{}`, `"complete":"yes"` | ignored, link stays up | `badFrames` +8 |
//! | strings where numbers are usual | `"endpointId":"x"`, `"value":"hot"` | applied: the protocol allows string ids and readings | none |
//! | huge numbers | `1e400` as a reading, a time, an id and a delay; `seq` 2^64+5 and 300 digits; `activeStreams` 1e999; endpoint id of 300 digits | ignored, link stays up (a `reconnect` whose delay is 1e400 is refused, so it does not end the session) | `badFrames` +8 |
//! | huge but representable | a reading of 300 digits | applied as the nearest `f64` | none |
//! | deep nesting | 100 000 `[`; an alarm whose message is 100 000 `[` deep; a heartbeat with a 100 000-deep unknown field | ignored, no stack overflow, link stays up | `badFrames` +3 |
//! | unknown type | two messages of types the link does not know | ignored (the protocol says so) | `unknownMessages` +2 |
//! | ping, pong | a ping with a payload; a pong nobody asked for | ping answered with the same payload; pong ignored | none |
//! | flood | 200 000 small garbage frames in one burst | each ignored and counted; no event published for any; link stays up | `badFrames` +200 000 |
//! | invalid UTF-8 | a text frame whose bytes are not UTF-8 | session ended (RFC 6455 §8.1), state says "not valid UTF-8"; reconnect, resume from `seq 1` | `badFrames` +1, `connections` 2 |
//! | WebSocket protocol violation | a masked server frame; a reserved bit; opcode 3; a 200-byte ping | session ended, state says "broke the WebSocket protocol"; reconnect, resume | `connections` 2 |
//! | oversized | a 2 MiB text frame (limit 1 MiB) | refused by the socket, session ended, state says "over the 1048576 byte limit"; reconnect, resume | `oversizedFrames` +1 |
//! | oversized, lying header | a header claiming 2^62 bytes, no payload | refused at the header, before any payload is awaited or buffered, as above | `oversizedFrames` +1 |
//! | oversized in fragments | three 400 KiB fragments of one message | refused when the message passes the limit, as above | `oversizedFrames` +1 |
//! | close | a close frame, 1001 with a reason | session ended, state gives code and reason; reconnect, resume | `connections` 2 |
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{Delivery, Link, LinkEvent, LinkState, PlantSnapshot};
use brewdeck_protocol::{AlarmId, EndpointId, Value};
use common::scripted::{self, opcode, read_all, read_until, say, serve, Answer, RawFrame, Ws};
use common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

const FLOOD: usize = 200_000;

/// A class of bad input, sent between alarms 1 and 2 of the first connection.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bad {
    Binary,
    Truncated,
    NotAMessage,
    WrongTypes,
    StringIdsAndReadings,
    HugeNumbers,
    DeepNesting,
    UnknownTypes,
    PingPong,
    Flood,
    NotUtf8,
    Violation(Violation),
    Oversized,
    OversizedHeader,
    OversizedFragments,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Violation {
    MaskedFrame,
    ReservedBit,
    UnknownOpcode,
    PingTooBig,
}

/// What the link must do with it.
#[derive(Debug)]
enum Outcome {
    /// Ignored and counted; the session goes on.
    Ignored { bad_frames: u64, unknown: u64 },
    /// The session ends with a reason that says why; the link reconnects and resumes.
    Ends {
        reason: &'static str,
        bad_frames: u64,
        oversized: u64,
    },
}

impl Bad {
    fn outcome(self) -> Outcome {
        let ignored = |bad_frames| Outcome::Ignored {
            bad_frames,
            unknown: 0,
        };
        let ends = |reason, bad_frames, oversized| Outcome::Ends {
            reason,
            bad_frames,
            oversized,
        };
        const OVER: &str = "over the 1048576 byte limit";
        match self {
            Bad::Binary => ignored(3),
            Bad::Truncated => ignored(5),
            Bad::NotAMessage => ignored(8),
            Bad::WrongTypes => ignored(8),
            Bad::StringIdsAndReadings => ignored(0),
            Bad::HugeNumbers => ignored(8),
            Bad::DeepNesting => ignored(3),
            Bad::UnknownTypes => Outcome::Ignored {
                bad_frames: 0,
                unknown: 2,
            },
            Bad::PingPong => ignored(0),
            Bad::Flood => ignored(FLOOD as u64),
            Bad::NotUtf8 => ends("not valid UTF-8", 1, 0),
            Bad::Violation(_) => ends("broke the WebSocket protocol", 0, 0),
            Bad::Oversized | Bad::OversizedHeader | Bad::OversizedFragments => ends(OVER, 0, 1),
            Bad::Close => ends(
                "the server closed the connection (1001 plant server restarting)",
                0,
                0,
            ),
        }
    }
}

/// What the scripted server heard from the link.
#[derive(Debug)]
enum Heard {
    /// A `hello` and its `lastSeq`.
    Hello(Option<u64>),
    /// The answer to the server's ping.
    Pong(Vec<u8>),
}

const T: &str = "2026-11-23T06:00:00Z";

fn texts(bad: Bad) -> Vec<String> {
    let alarm_with = |field: &str, raw: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&scripted::alarm(40)).unwrap();
        v[field] = "@@".into();
        v.to_string().replacen("\"@@\"", raw, 1)
    };
    let reading_with = |field: &str, raw: &str| {
        let mut v =
            serde_json::json!({"type":"telemetry","endpointId":5,"value":1.5,"timestamp":T});
        v[field] = "@@".into();
        v.to_string().replacen("\"@@\"", raw, 1)
    };
    let digits = format!("1{}", "7".repeat(299));
    match bad {
        Bad::Truncated => {
            let alarm = scripted::alarm(40);
            vec![
                alarm[..alarm.len() / 2].to_owned(),
                alarm[..alarm.len() - 1].to_owned(),
                "{".to_owned(),
                r#"{"type":"telemetry""#.to_owned(),
                r#""unterminated"#.to_owned(),
            ]
        }
        Bad::NotAMessage => vec![
            "[1,2,3]".to_owned(),
            "42".to_owned(),
            "null".to_owned(),
            r#""alarm""#.to_owned(),
            String::new(),
            format!("\u{feff}{}", scripted::alarm(41)),
            // Long enough for the 16-bit and 64-bit length forms of the raw encoder.
            "x".repeat(300),
            "y".repeat(70_000),
        ],
        Bad::WrongTypes => vec![
            alarm_with("seq", "-1"),
            alarm_with("seq", "\"7\""),
            reading_with("endpointId", "true"),
            reading_with("value", r#"{"deep":1}"#),
            alarm_with("severity", "\"HOT\""),
            alarm_with("timestamp", "\"yesterday\""),
            r#"{"type":"snapshot","catalog":{},"values":[],"alarms":[],"commands":[],"seq":0}"#
                .to_owned(),
            r#"{"type":"resumed","fromSeq":0,"toSeq":0,"complete":"yes"}"#.to_owned(),
        ],
        Bad::StringIdsAndReadings => {
            vec![reading_with("endpointId", "\"x\"").replacen("1.5", "\"hot\"", 1)]
        }
        Bad::HugeNumbers => vec![
            reading_with("value", "1e400"),
            reading_with("timestamp", "1e400"),
            reading_with("endpointId", &digits),
            alarm_with("alarmId", "1e400"),
            alarm_with("seq", "18446744073709551621"),
            alarm_with("seq", &digits),
            format!(r#"{{"type":"heartbeat","timestamp":"{T}","activeStreams":1e999}}"#),
            r#"{"type":"reconnect","reason":"never","retryAfter":1e400}"#.to_owned(),
            // Not bad: the nearest f64, applied.
            reading_with("value", &digits),
        ],
        Bad::DeepNesting => vec![
            "[".repeat(100_000),
            alarm_with("message", &"[".repeat(100_000)),
            format!(
                r#"{{"type":"heartbeat","timestamp":"{T}","vendor":{}{}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ],
        Bad::UnknownTypes => vec![
            r#"{"type":"brew_recipe","grain":"pils"}"#.to_owned(),
            r#"{"type":"fermenter_note","note":{"gravity":1.048}}"#.to_owned(),
        ],
        _ => Vec::new(),
    }
}

/// Sends the bad input of one class.
async fn send_bad(ws: &mut Ws, bad: Bad, heard: &mpsc::UnboundedSender<Heard>) {
    let raw = |frame: RawFrame| frame.encode();
    match bad {
        Bad::Binary => {
            for bytes in [
                vec![0xde, 0xad, 0xbe, 0xef],
                Vec::new(),
                scripted::telemetry(77, 7.0).into_bytes(),
            ] {
                let _ = ws.send(Message::binary(bytes)).await;
            }
        }
        Bad::Truncated
        | Bad::NotAMessage
        | Bad::WrongTypes
        | Bad::StringIdsAndReadings
        | Bad::HugeNumbers
        | Bad::DeepNesting
        | Bad::UnknownTypes => {
            for text in texts(bad) {
                scripted::write_raw(ws, &raw(RawFrame::text(text))).await;
            }
        }
        Bad::PingPong => {
            let _ = ws.send(Message::Pong("unasked".into())).await;
            let _ = ws.send(Message::Ping("are you there".into())).await;
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Pong(payload) = m {
                    if payload.as_ref() == b"are you there" {
                        let _ = heard.send(Heard::Pong(payload.to_vec()));
                        break;
                    }
                }
            }
        }
        Bad::Flood => {
            let mut burst = Vec::with_capacity(FLOOD * 16);
            for i in 0..FLOOD {
                burst.extend(raw(RawFrame::text(format!("not json {i}"))));
            }
            scripted::write_raw(ws, &burst).await;
        }
        Bad::NotUtf8 => {
            // `{"type":"alarm","message":"` then bytes that are no UTF-8 sequence.
            let mut bytes = br#"{"type":"alarm","message":""#.to_vec();
            bytes.extend([0xff, 0xfe, 0xc0, 0xaf]);
            bytes.extend(br#""}"#);
            scripted::write_raw(ws, &raw(RawFrame::text(bytes))).await;
        }
        Bad::Violation(v) => {
            let frame = match v {
                Violation::MaskedFrame => RawFrame {
                    mask: Some([1, 2, 3, 4]),
                    ..RawFrame::text(scripted::alarm(40))
                },
                Violation::ReservedBit => RawFrame {
                    rsv1: true,
                    ..RawFrame::text(scripted::alarm(40))
                },
                Violation::UnknownOpcode => RawFrame::new(0x3, scripted::alarm(40)),
                Violation::PingTooBig => RawFrame::new(opcode::PING, vec![b'p'; 200]),
            };
            scripted::write_raw(ws, &raw(frame)).await;
        }
        Bad::Oversized => {
            let big = format!(r#"{{"type":"error","message":"{}"}}"#, "x".repeat(2 << 20));
            scripted::write_raw(ws, &raw(RawFrame::text(big))).await;
        }
        Bad::OversizedHeader => {
            let lie = RawFrame {
                claimed_len: Some(1 << 62),
                ..RawFrame::text(Vec::new())
            };
            scripted::write_raw(ws, &raw(lie)).await;
        }
        Bad::OversizedFragments => {
            let part = vec![b'x'; 400 << 10];
            let fragments = [
                RawFrame {
                    fin: false,
                    ..RawFrame::text(part.clone())
                },
                RawFrame {
                    fin: false,
                    ..RawFrame::new(opcode::CONTINUATION, part.clone())
                },
                RawFrame::new(opcode::CONTINUATION, part),
            ];
            for f in fragments {
                scripted::write_raw(ws, &raw(f)).await;
            }
        }
        Bad::Close => {
            let _ = ws
                .send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "plant server restarting".into(),
                })))
                .await;
        }
    }
}

/// The scripted level-1 plant (see the module doc).
async fn plant(n: usize, mut ws: Ws, bad: Bad, heard: mpsc::UnboundedSender<Heard>) {
    say(&mut ws, scripted::connected_level1()).await;
    let Some(hello) = read_until(&mut ws, |v| v["type"] == "hello").await else {
        return;
    };
    let last = hello["lastSeq"].as_u64();
    let _ = heard.send(Heard::Hello(last));
    if n == 0 {
        say(&mut ws, scripted::snapshot(&[], 0)).await;
        say(&mut ws, scripted::alarm(1)).await;
        send_bad(&mut ws, bad, &heard).await;
        say(&mut ws, scripted::alarm(2)).await;
    } else {
        let from = last.unwrap_or(0);
        for seq in from + 1..=2 {
            say(&mut ws, scripted::alarm(seq)).await;
        }
        say(&mut ws, scripted::resumed(from, 2)).await;
        say(&mut ws, scripted::snapshot(&[1, 2], 2)).await;
        say(&mut ws, scripted::alarm(3)).await;
    }
    // Reading also answers the link's pings.
    read_all(&mut ws, usize::MAX).await;
}

/// Events up to and including alarm `seq`.
async fn events_through(rx: &mut broadcast::Receiver<LinkEvent>, seq: u64) -> Vec<LinkEvent> {
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let done =
                        matches!(&e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(seq));
                    out.push(e);
                    if done {
                        return;
                    }
                }
                Err(e) => panic!("events: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("alarm {seq} never came; events so far: {out:?}"));
    out
}

fn alarms(events: &[LinkEvent]) -> Vec<(u64, Delivery)> {
    events
        .iter()
        .filter_map(|e| match e {
            LinkEvent::Alarm { alarm, via } => Some((alarm.seq.unwrap(), *via)),
            _ => None,
        })
        .collect()
}

/// What the link did with one class of bad input.
struct Observed {
    link: Link,
    snapshot: PlantSnapshot,
    /// Events between alarm 1 and alarm 2 (exclusive).
    between: Vec<LinkEvent>,
    heard: mpsc::UnboundedReceiver<Heard>,
}

/// Runs one class against a fresh link and asserts its outcome and that nothing was lost.
async fn check(bad: Bad) -> Observed {
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let server = serve(
        |_| Answer::Upgrade,
        move |n, ws| plant(n, ws, bad, heard_tx.clone()),
    )
    .await;
    let mut config = link_config(&server.url);
    config.connect_on_start = false;
    // A reconnect waits (up to) an hour, so its state and reason stay readable until the test
    // says "retry now"; a link that dropped a session it should have kept never gets alarm 2.
    config.timings.backoff_base = Duration::from_secs(3600);
    config.timings.backoff_cap = Duration::from_secs(3600);
    let (link, _) = link_with(config, TOKEN);
    let mut events = link.events();
    link.connect().await.unwrap();
    let first = events_through(&mut events, 1).await;
    assert_eq!(alarms(&first), [(1, Delivery::Live)], "{bad:?}");
    let Some(Heard::Hello(None)) = heard.recv().await else {
        panic!("{bad:?}: a first hello without lastSeq")
    };
    let outcome = bad.outcome();
    let between = match outcome {
        Outcome::Ignored {
            bad_frames,
            unknown,
        } => {
            let mut rest = events_through(&mut events, 2).await;
            let second = rest.pop().unwrap();
            assert_eq!(alarms(&[second]), [(2, Delivery::Live)], "{bad:?}");
            let snap = link.snapshot().await.unwrap();
            let c = snap.counters;
            assert_eq!(
                (c.bad_frames, c.unknown_messages, c.oversized_frames),
                (bad_frames, unknown, 0),
                "{bad:?}: {c:?}"
            );
            assert_eq!(c.connections, 1, "{bad:?}: the session was kept");
            assert!(link.state().is_connected(), "{bad:?}: {:?}", link.state());
            rest
        }
        Outcome::Ends {
            reason,
            bad_frames,
            oversized,
        } => {
            let state = wait_state(&link, |s| matches!(s, LinkState::Reconnecting { .. })).await;
            let LinkState::Reconnecting { last_error, .. } = &state else {
                unreachable!()
            };
            assert!(last_error.contains(reason), "{bad:?}: {last_error}");
            link.retry_now().await.unwrap();
            let Some(Heard::Hello(last_seq)) = heard.recv().await else {
                panic!("{bad:?}: a second hello")
            };
            // It resumes after alarm 1, the last it applied.
            assert_eq!(last_seq, Some(1), "{bad:?}");
            let after = events_through(&mut events, 3).await;
            assert_eq!(
                alarms(&after),
                [(2, Delivery::Replay), (3, Delivery::Live)],
                "{bad:?}"
            );
            let snap = link.snapshot().await.unwrap();
            let c = snap.counters;
            assert_eq!(
                (c.bad_frames, c.oversized_frames, c.connections),
                (bad_frames, oversized, 2),
                "{bad:?}: {c:?}"
            );
            Vec::new()
        }
    };
    let snapshot = link.snapshot().await.unwrap();
    let mut ids: Vec<AlarmId> = snapshot.alarms.iter().map(|a| a.alarm_id.clone()).collect();
    ids.sort();
    let expected: Vec<AlarmId> = match outcome {
        Outcome::Ignored { .. } => vec![1.into(), 2.into()],
        Outcome::Ends { .. } => vec![1.into(), 2.into(), 3.into()],
    };
    assert_eq!(ids, expected, "{bad:?}: every alarm once in the model");
    assert_eq!(snapshot.counters.duplicates, 0, "{bad:?}");
    assert_eq!(
        snapshot.last_seq,
        Some(expected.len() as u64),
        "{bad:?}: resume position"
    );
    drop(server);
    Observed {
        link,
        snapshot,
        between,
        heard,
    }
}

#[tokio::test]
async fn binary_frames_are_ignored_and_counted() {
    let seen = check(Bad::Binary).await;
    // A valid reading in a binary frame is still refused: the protocol is JSON text.
    assert!(
        seen.snapshot.readings.is_empty(),
        "{:?}",
        seen.snapshot.readings
    );
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    seen.link.shutdown().await;
}

#[tokio::test]
async fn truncated_json_is_ignored_and_counted() {
    let seen = check(Bad::Truncated).await;
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    seen.link.shutdown().await;
}

#[tokio::test]
async fn text_that_is_no_message_is_ignored_and_counted() {
    let seen = check(Bad::NotAMessage).await;
    // The alarm behind a byte-order mark (seq 41) was refused, not applied.
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    seen.link.shutdown().await;
}

#[tokio::test]
async fn wrong_types_are_ignored_and_counted() {
    let seen = check(Bad::WrongTypes).await;
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    assert!(seen.snapshot.readings.is_empty());
    seen.link.shutdown().await;
}

#[tokio::test]
async fn string_ids_and_readings_are_values_not_bad_frames() {
    let seen = check(Bad::StringIdsAndReadings).await;
    let reading = seen
        .snapshot
        .readings
        .iter()
        .find(|r| r.endpoint_id == EndpointId::from("x"))
        .expect("the reading of endpoint x");
    assert_eq!(reading.value, Value::Text("hot".into()));
    seen.link.shutdown().await;
}

#[tokio::test]
async fn huge_numbers_are_refused_unless_a_float_holds_them() {
    let seen = check(Bad::HugeNumbers).await;
    // The 300-digit reading is the only one applied; `1e400` never became infinity.
    let readings: Vec<_> = seen
        .snapshot
        .readings
        .iter()
        .map(|r| (r.endpoint_id.clone(), r.value.clone()))
        .collect();
    let digits: f64 = format!("1{}", "7".repeat(299)).parse().unwrap();
    assert_eq!(readings, [(EndpointId::from(5), Value::Number(digits))]);
    // The refused `reconnect` did not end the session (checked by `check`): a delay the link
    // cannot read is no request.
    seen.link.shutdown().await;
}

#[tokio::test]
async fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let seen = check(Bad::DeepNesting).await;
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    seen.link.shutdown().await;
}

#[tokio::test]
async fn unknown_message_types_are_ignored_as_the_protocol_says() {
    let seen = check(Bad::UnknownTypes).await;
    assert!(seen.between.is_empty(), "{:?}", seen.between);
    seen.link.shutdown().await;
}

#[tokio::test]
async fn a_server_ping_is_answered_and_an_unasked_pong_ignored() {
    let mut seen = check(Bad::PingPong).await;
    let pong = tokio::time::timeout(WAIT, seen.heard.recv())
        .await
        .unwrap()
        .unwrap();
    let Heard::Pong(payload) = pong else {
        panic!("{pong:?}")
    };
    assert_eq!(payload, b"are you there");
    seen.link.shutdown().await;
}

#[tokio::test]
async fn a_flood_of_garbage_is_counted_frame_by_frame_and_publishes_nothing() {
    let seen = check(Bad::Flood).await;
    // Followers are not flooded: not one event for 200 000 bad frames.
    assert!(seen.between.is_empty(), "{} events", seen.between.len());
    assert_eq!(seen.snapshot.alarms.len(), 2);
    assert!(seen.snapshot.readings.is_empty());
    seen.link.shutdown().await;
}

#[tokio::test]
async fn text_that_is_not_utf8_ends_the_session_and_the_link_resumes() {
    check(Bad::NotUtf8).await.link.shutdown().await;
}

#[tokio::test]
async fn websocket_protocol_violations_end_the_session_and_the_link_resumes() {
    for v in [
        Violation::MaskedFrame,
        Violation::ReservedBit,
        Violation::UnknownOpcode,
        Violation::PingTooBig,
    ] {
        check(Bad::Violation(v)).await.link.shutdown().await;
    }
}

#[tokio::test]
async fn an_oversized_frame_is_refused_and_the_link_resumes() {
    check(Bad::Oversized).await.link.shutdown().await;
}

/// A link that waited for the payload would instead be left by the silence that follows, with
/// another reason.
#[tokio::test]
async fn a_header_claiming_exabytes_is_refused_before_any_payload() {
    check(Bad::OversizedHeader).await.link.shutdown().await;
}

#[tokio::test]
async fn a_message_over_the_limit_in_small_fragments_is_refused() {
    check(Bad::OversizedFragments).await.link.shutdown().await;
}

#[tokio::test]
async fn a_close_frame_ends_the_session_with_its_code_and_reason() {
    check(Bad::Close).await.link.shutdown().await;
}

/// Level 0 too: garbage is counted, and an oversized frame is refused and survived (the link
/// comes back and reads on). Moved here from `scripted.rs`.
#[tokio::test]
async fn a_level_0_server_garbage_is_counted_and_an_oversized_frame_survived() {
    let server = serve(
        |_| Answer::Upgrade,
        |n, mut ws| async move {
            say(&mut ws, scripted::connected_level0()).await;
            if n == 0 {
                say(&mut ws, "{\"type\":").await;
                say(&mut ws, "[1,2,3]").await;
                say(
                    &mut ws,
                    r#"{"type":"telemetry","endpointId":"x","value":{"deep":1}}"#,
                )
                .await;
                let _ = ws.send(Message::binary(vec![0u8; 10])).await;
                say(&mut ws, scripted::telemetry(5, 1.5)).await;
                // 2 MiB of valid JSON: over the 1 MiB limit.
                let big = format!(r#"{{"type":"error","message":"{}"}}"#, "x".repeat(2 << 20));
                say(&mut ws, big).await;
            } else {
                say(&mut ws, scripted::telemetry(5, 2.5)).await;
            }
            read_all(&mut ws, usize::MAX).await;
        },
    )
    .await;
    let mut config = link_config(&server.url);
    config.timings.stable_after = Duration::from_secs(60);
    let (link, _) = link_with(config, TOKEN);
    link.subscribe(vec![EndpointId::from(5)]).await.unwrap();
    let mut events = link.events();
    // The second connection's reading proves the link came back after the oversized frame.
    next_event(
        &mut events,
        |e| matches!(e, LinkEvent::Readings { readings } if readings.iter().any(|t| t.value.as_f64() == Some(2.5))),
    )
    .await;
    let snap = link.snapshot().await.unwrap();
    assert_eq!(snap.counters.bad_frames, 4, "{:?}", snap.counters);
    assert_eq!(snap.counters.oversized_frames, 1);
    assert_eq!(snap.counters.connections, 2);
    link.shutdown().await;
}

/// The raw encoder writes what tungstenite reads: the three length forms and a mask round-trip.
#[test]
fn the_raw_frame_encoder_follows_rfc_6455() {
    let short = RawFrame::text("hi").encode();
    assert_eq!(short, [0x81, 0x02, b'h', b'i']);
    let medium = RawFrame::text(vec![b'a'; 300]).encode();
    assert_eq!(&medium[..4], &[0x81, 126, 0x01, 0x2c]);
    let long = RawFrame::new(opcode::BINARY, vec![0u8; 70_000]).encode();
    assert_eq!(&long[..2], &[0x82, 127]);
    assert_eq!(&long[2..10], &70_000u64.to_be_bytes());
    let masked = RawFrame {
        mask: Some([1, 2, 3, 4]),
        fin: false,
        ..RawFrame::new(opcode::CLOSE, vec![0u8; 4])
    }
    .encode();
    assert_eq!(masked, [0x08, 0x84, 1, 2, 3, 4, 1, 2, 3, 4]);
}
