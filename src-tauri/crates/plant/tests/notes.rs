//! Notes through real sockets: to every level-1 client live, sequenced with the alarms and
//! replayed on resume, numbered from 1, kept in the journal; each bad one refused.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;

fn note(text: &str, endpoints: Vec<EndpointId>, request_id: &str) -> ClientMessage {
    ClientMessage::Note(NoteRequest {
        request_id: Some(request_id.into()),
        text: text.into(),
        endpoint_ids: Some(endpoints),
    })
}

async fn next_note(c: &mut Client) -> Note {
    c.until(|m| match m {
        ServerMessage::Note(n) => Some(n),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_note_reaches_the_other_client_live_and_again_after_a_reconnect() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, snapshot) = Client::level1_as(&plant, ANA).await;
    let (mut ben, before) = Client::level1_as(&plant, BEN).await;
    let fv3 = find(&snapshot, "Fermenter 3 temperature").id.clone();

    ana.send(&note(
        "FV-3 dry hopped, 4 kg Citra",
        vec![fv3.clone()],
        "n-1",
    ))
    .await;
    let mut own = None;
    ana.until(|m| match m {
        ServerMessage::Note(n) => {
            own = Some(n);
            None
        }
        ServerMessage::Done(d) if d.request_id == "n-1" => Some(()),
        _ => None,
    })
    .await;
    let own = own.expect("the note before its done");
    let live = next_note(&mut ben).await;
    assert_eq!(live, own);
    assert_eq!(live.note_id, 1, "noteIds count from 1");
    assert_eq!(live.by, "ana");
    assert_eq!(live.text, "FV-3 dry hopped, 4 kg Citra");
    assert_eq!(live.endpoint_ids, vec![fv3]);
    assert!(live.seq > before.seq);

    ana.send(&note("second", vec![], "n-2")).await;
    assert_eq!(next_note(&mut ben).await.note_id, 2);

    // Reconnecting after the snapshot it had: both notes replayed, in order, as first sent.
    drop(ben);
    let mut ben = try_connect(&plant.ws_url(), Some(BEN)).await.unwrap();
    ben.expect_connected().await;
    ben.hello(Some(before.seq)).await;
    let replayed = next_note(&mut ben).await;
    assert_eq!(replayed, live);
    assert_eq!(next_note(&mut ben).await.text, "second");

    // A level-0 client has no notes.
    let mut old = try_connect(&plant.ws_url(), Some(VIC)).await.unwrap();
    old.expect_connected().await;
    old.send(&ClientMessage::Subscribe(Subscription::Alarms))
        .await;
    ana.send(&note("third", vec![], "n-3")).await;
    ana.done("n-3").await;
    let raised = raise_alarm(&plant, r#"{"message":"after the note"}"#).await;
    let first = old
        .until(|m| match m {
            ServerMessage::Note(n) => Some(Err(n)),
            ServerMessage::Alarm(a) if a.alarm_id == raised.into() => Some(Ok(a)),
            _ => None,
        })
        .await;
    assert!(first.is_ok(), "a note reached a level-0 client: {first:?}");
}

#[tokio::test]
async fn a_bad_note_is_refused_with_its_id_and_nothing_is_sent() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    let code = |e: ServerError| e.code.unwrap_or_default();

    ana.send(&note(&"n".repeat(2001), vec![], "long")).await;
    let e = ana.refusal("long").await;
    assert!(e.message.contains("2001"), "{}", e.message);
    assert_eq!(code(e), "bad_request");
    ana.send(&note("  ", vec![], "blank")).await;
    assert_eq!(code(ana.refusal("blank").await), "bad_request");
    let wide: Vec<EndpointId> = (0..21u64).map(Into::into).collect();
    ana.send(&note("wide", wide, "wide")).await;
    assert_eq!(code(ana.refusal("wide").await), "bad_request");

    // The first note carried out is still note 1: nothing was sent for the refused ones.
    ana.send(&note(&"n".repeat(2000), vec![], "ok")).await;
    assert_eq!(next_note(&mut ana).await.note_id, 1);
    ana.done("ok").await;
}
