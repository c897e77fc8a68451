//! Property tests of the link's frame handling, on paused time over the in-memory socket: any
//! sequence of frames a server can send (text garbage, valid JSON of the wrong shape, binary,
//! ping and pong, unknown types) interleaved with valid messages never panics, never corrupts
//! the model (every valid alarm, reading and server error lands exactly once, in order), is
//! counted, and leaves the link up. Only the frames the design says end a session (close,
//! over the size limit, not UTF-8, a WebSocket protocol violation, `reconnect`, a hang-up) end
//! it, with a reason that says which, and the link resumes where it left off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::events::LinkEvent;
use crate::state::LinkState;
use crate::testing::{config, connected, harness, snapshot, Harness, Peer};
use brewdeck_protocol::{decode_server, AlarmId, ClientMessage, Hello, Resumed, ServerMessage};
use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// One frame from the server. Valid messages are numbered as they are sent.
#[derive(Debug, Clone)]
enum Frame {
    Alarm,
    Reading,
    /// A valid `error` message: an event and a count, the link goes on.
    ServerError,
    /// A valid message the link has nothing to do with.
    Heartbeat,
    /// Text that does not decode at all.
    Garbage(String),
    /// A valid message with one field of the wrong type.
    WrongType(String),
    /// A well-formed message of a type the link does not know.
    Unknown(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

impl Frame {
    fn is_bad(&self) -> bool {
        matches!(
            self,
            Frame::Garbage(_) | Frame::WrongType(_) | Frame::Binary(_)
        )
    }
}

/// A frame that ends the session, as the design says it must.
#[derive(Debug, Clone, Copy)]
enum Ender {
    Close,
    Oversized,
    NotUtf8,
    ProtocolViolation,
    Reconnect,
    HangUp,
}

impl Ender {
    /// What the link's state says about it.
    fn reason(self) -> &'static str {
        match self {
            Ender::Close => "the server closed the connection (1001 maintenance)",
            Ender::Oversized => "over the 1048576 byte limit",
            Ender::NotUtf8 => "not valid UTF-8",
            Ender::ProtocolViolation => "broke the WebSocket protocol",
            Ender::Reconnect => "asked the link to reconnect: maintenance",
            Ender::HangUp => "the server closed the connection",
        }
    }
}

/// What the link must publish for the valid frames, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Alarm(u64),
    Reading(f64),
    ServerError,
}

const KNOWN: &[&str] = &[
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
];

/// Alarm `id`; with a `seq` on a level-1 link (numbered apart from the ids, so the numbers run
/// without gaps as a level-1 server sends them).
fn alarm_json(id: u64, seq: Option<u64>) -> String {
    let mut v = serde_json::json!({"type":"alarm","alarmId":id,"severity":"high","message":format!("HLT alarm {id}"),"timestamp":"2026-11-23T06:00:00Z"});
    if let Some(seq) = seq {
        v["seq"] = seq.into();
    }
    v.to_string()
}

fn reading_json(n: u64) -> String {
    serde_json::json!({"type":"telemetry","endpointId":n % 5,"value":n as f64,"timestamp":"2026-11-23T06:00:00Z"}).to_string()
}

/// Text that is not a message: random text, a valid message cut short, JSON that is not an
/// object, deep nesting, a byte-order mark.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,64}",
        (0usize..200).prop_map(|cut| {
            let full = alarm_json(1, Some(1));
            full[..cut.min(full.len() - 1)].to_owned()
        }),
        prop::sample::select(vec!["[1,2,3]", "42", "null", "\"alarm\"", "{}", "true", ""])
            .prop_map(str::to_owned),
        (129usize..5000).prop_map(|n| "[".repeat(n)),
        Just(format!("\u{feff}{}", alarm_json(1, Some(1)))),
    ]
    .prop_filter("does not decode", |t| decode_server(t).is_err())
}

/// A valid alarm or reading with one field of a type the protocol does not allow.
fn wrong_type() -> impl Strategy<Value = String> {
    let wrong = prop::sample::select(vec![
        "-1", "1.5", "true", "{}", "[]", "null", "1e400", "\"HOT\"", "[[1]]",
    ]);
    let field = prop::sample::select(vec![
        ("alarm", "alarmId"),
        ("alarm", "severity"),
        ("alarm", "message"),
        ("alarm", "timestamp"),
        ("alarm", "seq"),
        ("telemetry", "endpointId"),
        ("telemetry", "value"),
        ("telemetry", "timestamp"),
        ("telemetry", "quality"),
    ]);
    (field, wrong)
        .prop_map(|((kind, field), wrong)| {
            let base = if kind == "alarm" {
                alarm_json(1, Some(1))
            } else {
                reading_json(1)
            };
            let mut v: serde_json::Value = serde_json::from_str(&base).unwrap();
            v[field] = "@@".into();
            v.to_string().replacen("\"@@\"", wrong, 1)
        })
        .prop_filter("does not decode", |t| decode_server(t).is_err())
}

fn unknown_type() -> impl Strategy<Value = String> {
    ("[a-z_]{1,16}", any::<u32>())
        .prop_filter("not a known type", |(t, _)| !KNOWN.contains(&t.as_str()))
        .prop_map(|(t, n)| serde_json::json!({"type":t,"batch":n}).to_string())
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        4 => Just(Frame::Alarm),
        4 => Just(Frame::Reading),
        1 => Just(Frame::ServerError),
        1 => Just(Frame::Heartbeat),
        3 => garbage().prop_map(Frame::Garbage),
        3 => wrong_type().prop_map(Frame::WrongType),
        1 => unknown_type().prop_map(Frame::Unknown),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Frame::Binary),
        1 => prop::collection::vec(any::<u8>(), 0..125).prop_map(Frame::Ping),
        1 => prop::collection::vec(any::<u8>(), 0..125).prop_map(Frame::Pong),
    ]
}

fn ender() -> impl Strategy<Value = Option<Ender>> {
    prop::option::of(prop::sample::select(vec![
        Ender::Close,
        Ender::Oversized,
        Ender::NotUtf8,
        Ender::ProtocolViolation,
        Ender::Reconnect,
        Ender::HangUp,
    ]))
}

/// Greets the link; for level 1, returns the `lastSeq` its `hello` carried.
async fn greet(peer: &mut Peer, level1: bool, seq: u64) -> Option<u64> {
    peer.send(&connected(level1));
    if !level1 {
        return None;
    }
    let Some(ClientMessage::Hello(Hello { last_seq, .. })) = peer.next_message().await else {
        panic!("hello first")
    };
    if last_seq.is_some() {
        peer.send(&ServerMessage::Resumed(Resumed {
            from_seq: last_seq.unwrap_or(0),
            to_seq: seq,
            complete: true,
        }));
    }
    peer.send(&snapshot(seq));
    last_seq
}

/// The valid events the link publishes, flattened, until alarm `last` arrives.
async fn seen_until(h: &mut Harness, last: u64) -> Vec<Seen> {
    let mut seen = Vec::new();
    loop {
        match h.event(|_| true).await {
            LinkEvent::Readings { readings } => seen.extend(
                readings
                    .iter()
                    .map(|t| Seen::Reading(t.value.as_f64().unwrap())),
            ),
            LinkEvent::Alarm { alarm, .. } => {
                let brewdeck_protocol::Id::Number(n) = alarm.alarm_id.0 else {
                    panic!("{alarm:?}")
                };
                seen.push(Seen::Alarm(n));
                if n == last {
                    return seen;
                }
            }
            LinkEvent::ServerError { .. } => seen.push(Seen::ServerError),
            _ => {}
        }
    }
}

async fn scenario(
    frames: Vec<Frame>,
    level1: bool,
    ender: Option<Ender>,
) -> Result<(), TestCaseError> {
    // Jitter at its ceiling: the wait before a redial is never zero, so the reconnecting
    // state can be read before it passes.
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    greet(&mut peer, level1, 0).await;
    let mut expected = Vec::new();
    let mut n = 0;
    let mut seq = 0;
    let mut next_seq = || {
        seq += 1;
        level1.then_some(seq)
    };
    for frame in &frames {
        n += 1;
        match frame {
            Frame::Alarm => {
                peer.send_text(&alarm_json(n, next_seq()));
                expected.push(Seen::Alarm(n));
            }
            Frame::Reading => {
                peer.send_text(&reading_json(n));
                expected.push(Seen::Reading(n as f64));
            }
            Frame::ServerError => {
                peer.send_text(r#"{"type":"error","message":"slow down","code":"rate_limited"}"#);
                expected.push(Seen::ServerError);
            }
            Frame::Heartbeat => {
                peer.send_text(r#"{"type":"heartbeat","timestamp":"2026-11-23T06:00:00Z"}"#)
            }
            Frame::Garbage(t) | Frame::WrongType(t) | Frame::Unknown(t) => peer.send_text(t),
            Frame::Binary(b) => peer.send_raw(Ok(Message::binary(b.clone()))),
            Frame::Ping(b) => peer.send_raw(Ok(Message::Ping(Bytes::from(b.clone())))),
            Frame::Pong(b) => peer.send_raw(Ok(Message::Pong(Bytes::from(b.clone())))),
        }
    }
    // A last alarm marks the end of the input: once it is out, everything before it was read.
    n += 1;
    let last = n;
    let last_seq = next_seq();
    peer.send_text(&alarm_json(last, last_seq));
    expected.push(Seen::Alarm(last));
    let seen = seen_until(&mut h, last).await;
    prop_assert_eq!(&seen, &expected);

    let snap = h.link.snapshot().await.unwrap();
    let bad = frames.iter().filter(|f| f.is_bad()).count() as u64;
    let unknown = frames
        .iter()
        .filter(|f| matches!(f, Frame::Unknown(_)))
        .count() as u64;
    prop_assert_eq!(snap.counters.bad_frames, bad);
    prop_assert_eq!(snap.counters.unknown_messages, unknown);
    prop_assert_eq!(snap.counters.duplicates, 0);
    prop_assert_eq!(
        snap.counters.server_errors,
        expected.iter().filter(|s| **s == Seen::ServerError).count() as u64
    );
    prop_assert_eq!(snap.counters.connections, 1);
    prop_assert!(snap.link.is_connected(), "{:?}", snap.link);
    // Every alarm is in the model once; each endpoint holds the last reading sent for it.
    let alarms: Vec<u64> = expected
        .iter()
        .filter_map(|s| match s {
            Seen::Alarm(n) => Some(*n),
            _ => None,
        })
        .collect();
    prop_assert_eq!(snap.alarms.len(), alarms.len());
    for n in &alarms {
        prop_assert!(snap.alarms.iter().any(|a| a.alarm_id == AlarmId::from(*n)));
    }
    for r in &snap.readings {
        let brewdeck_protocol::Id::Number(e) = r.endpoint_id.0 else {
            panic!("{r:?}")
        };
        let latest = expected.iter().rev().find_map(|s| match s {
            Seen::Reading(v) if (*v as u64) % 5 == e => Some(*v),
            _ => None,
        });
        prop_assert_eq!(r.value.as_f64(), latest);
    }
    prop_assert_eq!(snap.last_seq, last_seq);

    let Some(ender) = ender else {
        // Nothing asked for another connection.
        prop_assert!(h.dials.try_recv().is_err(), "the link redialled");
        h.link.shutdown().await;
        return Ok(());
    };
    match ender {
        Ender::Close => peer.send_raw(Ok(Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "maintenance".into(),
        })))),
        Ender::Oversized => peer.send_raw(Err(WsError::Capacity(CapacityError::MessageTooLong {
            size: 2 << 20,
            max_size: 1 << 20,
        }))),
        Ender::NotUtf8 => peer.send_raw(Err(WsError::Utf8("invalid utf-8".into()))),
        Ender::ProtocolViolation => {
            peer.send_raw(Err(WsError::Protocol(ProtocolError::MaskedFrameFromServer)))
        }
        Ender::Reconnect => peer.send_text(r#"{"type":"reconnect","reason":"maintenance"}"#),
        Ender::HangUp => {}
    }
    if matches!(ender, Ender::HangUp) {
        peer.hang_up();
    } else {
        // The link closes its end; what it sent before (pings, a close) does not matter here.
        drop(peer);
    }
    let state = h
        .wait_state(|s| matches!(s, LinkState::Reconnecting { .. }))
        .await;
    let LinkState::Reconnecting { last_error, .. } = &state else {
        unreachable!()
    };
    prop_assert!(
        last_error.contains(ender.reason()),
        "{:?}: {}",
        ender,
        last_error
    );
    let mut peer = h.dial().await.accept();
    let resumed_from = greet(&mut peer, level1, last_seq.unwrap_or(0)).await;
    // It resumes after the last alarm it applied: nothing is asked twice, nothing skipped.
    prop_assert_eq!(resumed_from, last_seq);
    let after = last + 1;
    peer.send_text(&alarm_json(after, last_seq.map(|s| s + 1)));
    let seen = seen_until(&mut h, after).await;
    prop_assert_eq!(seen, vec![Seen::Alarm(after)]);
    let snap = h.link.snapshot().await.unwrap();
    prop_assert_eq!(snap.counters.connections, 2);
    prop_assert_eq!(
        snap.counters.oversized_frames,
        u64::from(matches!(ender, Ender::Oversized))
    );
    prop_assert_eq!(
        snap.counters.bad_frames,
        bad + u64::from(matches!(ender, Ender::NotUtf8))
    );
    h.link.shutdown().await;
    Ok(())
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_frames_between_valid_messages_lose_nothing_and_keep_the_link_up(
        frames in prop::collection::vec(frame(), 0..120),
        level1 in any::<bool>(),
        ender in ender(),
    ) {
        paused_runtime().block_on(scenario(frames, level1, ender))?;
    }
}

/// The largest `seq` there is, reached by a counter that got there: applied, and the link
/// survives what follows it (a snapshot covering it, a reconnect) instead of overflowing its
/// count. (A jump there from far below is another epoch: `actor_tests`.)
#[tokio::test(start_paused = true)]
async fn the_largest_seq_is_survived() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    greet(&mut peer, true, u64::MAX - 10).await;
    for seq in [u64::MAX - 1, u64::MAX] {
        peer.send_text(&alarm_json(seq, Some(seq)));
    }
    peer.send(&snapshot(u64::MAX));
    h.event(|e| {
        matches!(
            e,
            LinkEvent::Synced {
                last_seq: Some(u64::MAX),
                ..
            }
        )
    })
    .await;
    drop(peer);
    h.wait_state(|s| matches!(s, LinkState::Reconnecting { .. }))
        .await;
    let mut peer = h.dial().await.accept();
    assert_eq!(greet(&mut peer, true, u64::MAX).await, Some(u64::MAX));
    h.wait_state(LinkState::is_connected).await;
    let snap = h.link.snapshot().await.unwrap();
    assert_eq!(snap.last_seq, Some(u64::MAX));
    assert_eq!(snap.counters.connections, 2);
    h.link.shutdown().await;
}
