//! Acknowledgement notes, shelving and unshelving through real sockets, with operators: each
//! change reaches every client as a sequenced `alarm`, `done` follows it, a shelf runs out by
//! itself, and every refusal has its code and the request's id.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;
use std::time::Duration;

fn ack(alarm_id: u64, note: Option<&str>, request_id: Option<&str>) -> ClientMessage {
    ClientMessage::AlarmAck(AlarmAck {
        alarm_id: alarm_id.into(),
        note: note.map(Into::into),
        request_id: request_id.map(Into::into),
    })
}

fn shelve(alarm_id: u64, minutes: u32, reason: &str, request_id: &str) -> ClientMessage {
    ClientMessage::AlarmShelve(AlarmShelve {
        request_id: Some(request_id.into()),
        alarm_id: alarm_id.into(),
        minutes,
        reason: reason.into(),
    })
}

fn unshelve(alarm_id: u64, request_id: &str) -> ClientMessage {
    ClientMessage::AlarmUnshelve(AlarmUnshelve {
        request_id: Some(request_id.into()),
        alarm_id: alarm_id.into(),
    })
}

async fn raise(plant: &brewdeck_plant::RunningPlant) -> u64 {
    raise_alarm(
        plant,
        r#"{"severity":"medium","message":"FV-3 temperature probe uncertain"}"#,
    )
    .await
}

#[tokio::test]
async fn a_shelf_reaches_every_client_and_runs_out_unacknowledged() {
    // One minute of shelving lasts 300 ms here.
    let (plant, _dir) =
        plant_of_operators(|c| c.shelving_minute = Duration::from_millis(300)).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    let (mut sue, _) = Client::level1_as(&plant, SUE).await;
    let id = raise(&plant).await;

    // An acknowledgement with a note: the alarm to both, then `done` to the asker.
    ana.send(&ack(id, Some("lid open for dry hopping"), Some("a-1")))
        .await;
    let mut acked = None;
    ana.until(|m| match m {
        ServerMessage::Alarm(a) if a.alarm_id == id.into() && a.acked == Some(true) => {
            acked = Some(a);
            None
        }
        ServerMessage::Done(d) if d.request_id == "a-1" => Some(()),
        _ => None,
    })
    .await;
    let acked = acked.expect("done follows the event it caused");
    assert_eq!(acked.acked_by.as_deref(), Some("ana"));
    assert_eq!(acked.ack_note.as_deref(), Some("lid open for dry hopping"));
    let seen = sue.alarm(id, |a| a.acked == Some(true)).await;
    assert_eq!(seen.ack_note.as_deref(), Some("lid open for dry hopping"));

    let asked = Timestamp::now();
    ana.send(&shelve(id, 1, "probe being replaced", "s-1"))
        .await;
    let shelved = sue.alarm(id, |a| a.shelved.is_some()).await;
    let shelf = shelved.shelved.clone().unwrap();
    assert_eq!(shelf.by, "ana");
    assert_eq!(shelf.reason, "probe being replaced");
    let length = shelf.until.0 - asked.0;
    assert!(
        length >= chrono::Duration::milliseconds(250) && length <= chrono::Duration::seconds(5),
        "until is one (short) minute away: {length}"
    );
    assert!(shelved.seq.is_some());
    ana.done("s-1").await;

    // Still active when the shelf runs out: back, unacknowledged, to both.
    for c in [&mut ana, &mut sue] {
        let back = c.alarm(id, |a| a.shelved.is_none()).await;
        assert_eq!(back.acked, Some(false));
        assert_eq!(back.acked_by, None);
        assert_eq!(back.ack_note, None);
        assert_eq!(back.state, Some(AlarmState::Active));
    }

    // The other operator reads who did what in the journal.
    let j = sue
        .journal(JournalQuery {
            kinds: Some(vec![
                JournalKind::AlarmAcked,
                JournalKind::AlarmShelved,
                JournalKind::AlarmUnshelved,
            ]),
            ..journal_query("j-1")
        })
        .await;
    let kinds: Vec<(JournalKind, &str)> =
        j.entries.iter().map(|e| (e.kind, e.by.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (JournalKind::AlarmUnshelved, "plant"),
            (JournalKind::AlarmShelved, "ana"),
            (JournalKind::AlarmAcked, "ana"),
        ]
    );
    let acked = &j.entries[2];
    assert_eq!(acked.note.as_deref(), Some("lid open for dry hopping"));
    assert_eq!(acked.alarm_id, Some(id.into()));
    assert_eq!(acked.severity, Some(Severity::Medium));
    assert_eq!(acked.text, "FV-3 temperature probe uncertain");
    let shelved = &j.entries[1];
    assert_eq!(shelved.note.as_deref(), Some("probe being replaced"));
    assert_eq!(shelved.until, Some(shelf.until));
}

#[tokio::test]
async fn a_shelved_alarm_stays_in_the_snapshot_and_is_replayed_on_resume() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, before) = Client::level1_as(&plant, ANA).await;
    let id = raise(&plant).await;
    ana.send(&shelve(id, 60, "probe being replaced", "s-1"))
        .await;
    ana.done("s-1").await;

    let (_, snapshot) = Client::level1_as(&plant, BEN).await;
    let held = snapshot
        .alarms
        .iter()
        .find(|a| a.alarm_id == id.into())
        .unwrap();
    assert_eq!(held.shelved.as_ref().unwrap().by, "ana");

    let mut back = try_connect(&plant.ws_url(), Some(SUE)).await.unwrap();
    back.expect_connected().await;
    back.hello(Some(before.seq)).await;
    let replayed = back.alarm(id, |a| a.shelved.is_some()).await;
    assert_eq!(replayed.shelved.unwrap().reason, "probe being replaced");
    let resumed = back
        .until(|m| match m {
            ServerMessage::Resumed(r) => Some(r),
            _ => None,
        })
        .await;
    assert!(resumed.complete);
}

#[tokio::test]
async fn each_refusal_has_its_code_and_the_requests_id() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    let (mut ben, _) = Client::level1_as(&plant, BEN).await;
    let (mut sue, _) = Client::level1_as(&plant, SUE).await;
    let id = raise(&plant).await;
    let code = |e: ServerError| e.code.unwrap_or_default();

    // Beyond the operator's limit, within the supervisor's.
    ana.send(&shelve(id, 61, "probe being replaced", "s-61"))
        .await;
    let refused = ana.refusal("s-61").await;
    assert!(refused.message.contains("60"), "{}", refused.message);
    assert_eq!(code(refused), "forbidden");
    ana.send(&shelve(id, 60, "probe being replaced", "s-60"))
        .await;
    ana.done("s-60").await;
    sue.send(&shelve(id, 481, "probe being replaced", "s-481"))
        .await;
    assert_eq!(code(sue.refusal("s-481").await), "forbidden");
    sue.send(&shelve(id, 480, "night shift: probe out", "s-480"))
        .await;
    sue.done("s-480").await;
    let by_sue = ana
        .alarm(id, |a| a.shelved.as_ref().is_some_and(|s| s.by == "sue"))
        .await;
    assert_eq!(by_sue.shelved.unwrap().reason, "night shift: probe out");

    // Out of bounds: bad_request.
    ana.send(&shelve(id, 0, "probe", "s-0")).await;
    assert_eq!(code(ana.refusal("s-0").await), "bad_request");
    ana.send(&shelve(id, 10, "", "s-no-reason")).await;
    assert_eq!(code(ana.refusal("s-no-reason").await), "bad_request");
    ana.send(&shelve(id, 10, &"r".repeat(201), "s-201")).await;
    assert_eq!(code(ana.refusal("s-201").await), "bad_request");
    ana.send(&shelve(id, 10, &"r".repeat(200), "s-200")).await;
    ana.done("s-200").await;
    ana.send(&ack(id, Some(&"n".repeat(501)), Some("a-501")))
        .await;
    assert_eq!(code(ana.refusal("a-501").await), "bad_request");

    // An alarm the plant does not hold.
    ana.send(&shelve(999_999, 10, "probe", "s-unknown")).await;
    assert_eq!(code(ana.refusal("s-unknown").await), "unknown_alarm");
    ana.send(&unshelve(999_999, "u-unknown")).await;
    assert_eq!(code(ana.refusal("u-unknown").await), "unknown_alarm");
    ana.send(&ack(999_999, None, Some("a-unknown"))).await;
    assert_eq!(code(ana.refusal("a-unknown").await), "unknown_alarm");

    // An invalid requestId: bad_request, and never echoed.
    let long = "x".repeat(65);
    ana.send(&shelve(id, 10, "probe", &long)).await;
    let e = ana
        .until(|m| match m {
            ServerMessage::Error(e) if e.code.as_deref() == Some("bad_request") => Some(e),
            _ => None,
        })
        .await;
    assert_eq!(e.request_id, None);

    // An operator unshelves only what they shelved; a supervisor anything.
    ben.send(&unshelve(id, "u-ben")).await;
    assert_eq!(code(ben.refusal("u-ben").await), "forbidden");
    sue.send(&unshelve(id, "u-sue")).await;
    sue.done("u-sue").await;
    let back = ben.alarm(id, |a| a.shelved.is_none()).await;
    assert_eq!(back.state, Some(AlarmState::Active));
    // Not shelved: done, nothing changes.
    ben.send(&unshelve(id, "u-again")).await;
    ben.done("u-again").await;

    // The socket is still open and answering.
    ben.send(&ClientMessage::Ping).await;
    ben.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
}
