//! The operator's record through the link: shelving, acknowledgement notes, notes and the
//! journal go out as requests with the link's `requestId`, and each caller gets its own
//! answer (`done`, `journal`) or the `error` that refused it. A server that does not list a
//! feature is never asked for it; `connected.operator` is who the desk is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{Delivery, LinkError, LinkEvent};
use brewdeck_protocol::{AlarmId, JournalKind, JournalQuery, Role};
use common::scripted::{self, read_until, say, Answer, Ws};
use common::{link_config, link_with, WAIT};
use serde_json::{json, Value};

const EVERYTHING: [&str; 5] = ["history", "operators", "journal", "shelving", "notes"];

/// `connected` with these features and operator, then the snapshot (alarm 1 active) at `seq` 1.
async fn greet(ws: &mut Ws, features: &[&str]) {
    say(
        ws,
        json!({"type":"connected","clientId":"r1","protocols":["brewdeck.v1"],"features":features,
            "operator":{"name":"ana","role":"operator"}})
        .to_string(),
    )
    .await;
    read_until(ws, |m| m["type"] == "hello").await.unwrap();
    say(ws, scripted::snapshot(&[1], 1)).await;
}

async fn next_request(ws: &mut Ws, kind: &str) -> Value {
    read_until(ws, |m| m["type"] == kind).await.unwrap()
}

async fn done(ws: &mut Ws, request: &Value) {
    say(
        ws,
        json!({"type":"done","requestId":request["requestId"]}).to_string(),
    )
    .await;
}

async fn refuse(ws: &mut Ws, request: &Value, code: &str, message: &str) {
    say(
        ws,
        json!({"type":"error","code":code,"message":message,"recoverable":true,
            "requestId":request["requestId"]})
        .to_string(),
    )
    .await;
}

async fn ready(
    url: &str,
) -> (
    brewdeck_link::Link,
    tokio::sync::broadcast::Receiver<LinkEvent>,
) {
    let mut config = link_config(url);
    config.connect_on_start = false;
    let (link, _store) = link_with(config, "t");
    let mut rx = link.events();
    link.connect().await.unwrap();
    common::synced(&link, &mut rx).await;
    (link, rx)
}

#[tokio::test]
async fn shelving_acknowledging_with_a_note_and_notes_get_the_servers_answer() {
    let server = scripted::serve(
        |_| Answer::Upgrade,
        |_, mut ws: Ws| async move {
            greet(&mut ws, &EVERYTHING).await;
            let shelve = next_request(&mut ws, "alarm_shelve").await;
            assert_eq!(shelve["alarmId"], 1);
            assert_eq!(shelve["minutes"], 30);
            assert_eq!(shelve["reason"], "probe being replaced");
            say(&mut ws, json!({"type":"alarm","alarmId":1,"severity":"critical","message":"HLT over temperature (1)",
                "timestamp":"2026-11-23T06:00:00Z","state":"active","acked":false,
                "shelved":{"until":"2026-11-23T06:30:00Z","by":"ana","reason":"probe being replaced"},"seq":2}).to_string()).await;
            done(&mut ws, &shelve).await;
            let too_long = next_request(&mut ws, "alarm_shelve").await;
            assert_ne!(too_long["requestId"], shelve["requestId"], "each request has its own id");
            refuse(&mut ws, &too_long, "forbidden", "an operator shelves for at most 60 minutes").await;
            let ack = next_request(&mut ws, "alarm_ack").await;
            assert_eq!(ack["note"], "lid open for dry hopping");
            assert!(ack["requestId"].is_string());
            done(&mut ws, &ack).await;
            let note = next_request(&mut ws, "note").await;
            assert_eq!(note["text"], "FV-3 dry hopped");
            assert_eq!(note["endpointIds"], json!([12]));
            say(&mut ws, json!({"type":"note","noteId":1,"seq":3,"at":"2026-11-23T06:01:00Z","by":"ana",
                "text":"FV-3 dry hopped","endpointIds":[12]}).to_string()).await;
            done(&mut ws, &note).await;
            let unshelve = next_request(&mut ws, "alarm_unshelve").await;
            assert_eq!(unshelve["alarmId"], 1);
            done(&mut ws, &unshelve).await;
            read_until(&mut ws, |_| false).await;
        },
    )
    .await;
    let (link, mut rx) = ready(&server.url).await;
    let snapshot = link.snapshot().await.unwrap();
    assert_eq!(
        snapshot.operator.as_ref().map(|o| o.role),
        Some(Role::Operator)
    );
    assert_eq!(snapshot.operator.unwrap().name, "ana");

    let shelved = tokio::time::timeout(
        WAIT,
        link.shelve(AlarmId::from(1), 30, "probe being replaced".into()),
    )
    .await
    .unwrap();
    assert_eq!(shelved, Ok(()));
    // `done` comes after the events it caused: the alarm is already marked.
    let alarms = link.snapshot().await.unwrap().alarms;
    assert_eq!(alarms[0].shelved.as_ref().unwrap().by, "ana");

    let refused = link.shelve(AlarmId::from(1), 600, "all shift".into()).await;
    assert_eq!(
        refused,
        Err(LinkError::Refused {
            code: "forbidden".into(),
            message: "an operator shelves for at most 60 minutes".into()
        })
    );
    let acked = link
        .acknowledge(AlarmId::from(1), Some("lid open for dry hopping".into()))
        .await;
    assert_eq!(acked, Ok(()));
    let noted = link.note("FV-3 dry hopped".into(), vec![12.into()]).await;
    assert_eq!(noted, Ok(()));
    let note = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(LinkEvent::Note { note, via }) = rx.recv().await {
                return (note, via);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(note.0.text, "FV-3 dry hopped");
    assert_eq!(note.1, Delivery::Live);
    // A note is numbered like alarms: the resume point moves past it.
    assert_eq!(link.snapshot().await.unwrap().last_seq, Some(3));
    assert_eq!(link.unshelve(AlarmId::from(1)).await, Ok(()));
}

#[tokio::test]
async fn the_journal_is_asked_and_answered_by_request_id() {
    let server = scripted::serve(
        |_| Answer::Upgrade,
        |_, mut ws: Ws| async move {
            greet(&mut ws, &EVERYTHING).await;
            let q = next_request(&mut ws, "journal_query").await;
            assert_eq!(q["kinds"], json!(["note"]));
            assert_eq!(q["limit"], 50);
            assert_ne!(q["requestId"], "mine", "the link chooses the id");
            say(&mut ws, json!({"type":"journal","requestId":q["requestId"],"entries":[
                {"seq":4,"at":"2026-11-23T06:01:00Z","by":"ana","kind":"note","text":"FV-3 dry hopped"}],
                "more":true}).to_string()).await;
            let q2 = next_request(&mut ws, "journal_query").await;
            refuse(&mut ws, &q2, "bad_request", "limit is 1 to 500 entries, not 0").await;
            read_until(&mut ws, |_| false).await;
        },
    )
    .await;
    let (link, _rx) = ready(&server.url).await;
    let journal = link
        .journal(JournalQuery {
            request_id: "mine".into(),
            kinds: Some(vec![JournalKind::Note]),
            limit: Some(50),
            ..JournalQuery::default()
        })
        .await
        .unwrap();
    assert!(journal.more);
    assert_eq!(journal.entries[0].by, "ana");
    let refused = link
        .journal(JournalQuery {
            limit: Some(0),
            ..JournalQuery::default()
        })
        .await;
    assert!(
        matches!(&refused, Err(LinkError::Refused { code, .. }) if code == "bad_request"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_server_without_the_features_is_never_asked_and_a_plain_ack_still_goes() {
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let server = scripted::serve(
        |_| Answer::Upgrade,
        move |_, mut ws: Ws| {
            let asked_tx = asked_tx.clone();
            async move {
                greet(&mut ws, &["history"]).await;
                while let Some(m) = read_until(&mut ws, |_| true).await {
                    let _ = asked_tx.send(m);
                }
            }
        },
    )
    .await;
    let (link, _rx) = ready(&server.url).await;
    let id = AlarmId::from(1);
    // Shelving is this desk's own then: marked here, never sent.
    assert_eq!(link.shelve(id.clone(), 10, "why".into()).await, Ok(()));
    let shelved = link.snapshot().await.unwrap().alarms[0]
        .shelved
        .clone()
        .unwrap();
    assert_eq!(shelved.by, brewdeck_link::BY_THIS_DESK);
    assert_eq!(link.unshelve(id.clone()).await, Ok(()));
    assert_eq!(
        link.note("hello".into(), vec![]).await,
        Err(LinkError::Unsupported("notes"))
    );
    assert_eq!(
        link.journal(JournalQuery::default()).await,
        Err(LinkError::Unsupported("journal"))
    );
    assert_eq!(
        link.acknowledge(id.clone(), Some("a note".into())).await,
        Err(LinkError::Unsupported("acknowledgement notes"))
    );
    // Without a note, the acknowledgement goes as it always did: no requestId, no wait.
    assert_eq!(link.acknowledge(id, None).await, Ok(()));
    let ack = tokio::time::timeout(WAIT, async {
        loop {
            let m = asked.recv().await.unwrap();
            if m["type"] != "subscribe" {
                return m;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        ack,
        json!({"type":"alarm_ack","alarmId":1}),
        "nothing else was sent first"
    );
}

#[tokio::test]
async fn a_request_waiting_when_the_line_drops_is_told_not_connected() {
    let server = scripted::serve(
        |_| Answer::Upgrade,
        |_, mut ws: Ws| async move {
            greet(&mut ws, &EVERYTHING).await;
            next_request(&mut ws, "alarm_shelve").await;
            // Hang up without answering.
        },
    )
    .await;
    let (link, _rx) = ready(&server.url).await;
    let dropped = tokio::time::timeout(WAIT, link.shelve(AlarmId::from(1), 5, "why".into()))
        .await
        .unwrap();
    assert_eq!(dropped, Err(LinkError::NotConnected));
}
