//! `journal_query` through real sockets: who did what (commands over the socket and over
//! HTTP, acknowledgements, notes), paged back with `beforeSeq`, each bad query refused with
//! its id, queries over the rate answered by id, and the journal kept across a restart of a
//! plant with `--data-dir`.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;

fn note(text: &str, request_id: &str) -> ClientMessage {
    ClientMessage::Note(NoteRequest {
        request_id: Some(request_id.into()),
        text: text.into(),
        endpoint_ids: None,
    })
}

fn set(id: &str, endpoint: &EndpointId, value: f64) -> ClientMessage {
    let now = Timestamp::now();
    ClientMessage::Command(Command {
        command_id: id.into(),
        endpoint_id: endpoint.clone(),
        action: Action::Set,
        value: Some(Value::Number(value)),
        issued_at: now,
        expires_at: Timestamp(now.0 + chrono::Duration::seconds(30)),
    })
}

async fn ended(c: &mut Client, id: &str) -> CommandStatus {
    c.until(|m| match m {
        ServerMessage::CommandStatus(s) if s.command_id.0 == id && s.status.is_final() => Some(s),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn each_command_is_one_entry_naming_who_sent_it_over_the_socket_or_http() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, snapshot) = Client::level1_as(&plant, ANA).await;
    let setpoint = find(&snapshot, "HLT setpoint").id.clone();

    ana.send(&set("c-ana", &setpoint, 168.0)).await;
    assert_eq!(
        ended(&mut ana, "c-ana").await.status,
        CommandState::Succeeded
    );
    let body = serde_json::json!({
        "commandId": "c-ben", "endpointId": setpoint, "action": "set", "value": 150.0,
    })
    .to_string();
    let (status, _) = http(&plant, "POST", "/api/os/command", Some(&body), Some(BEN)).await;
    assert_eq!(status, 202);
    assert_eq!(
        ended(&mut ana, "c-ben").await.status,
        CommandState::Succeeded
    );

    let j = ana
        .journal(JournalQuery {
            kinds: Some(vec![JournalKind::Command]),
            ..journal_query("j-1")
        })
        .await;
    assert_eq!(j.entries.len(), 2, "one entry per command: {:?}", j.entries);
    let (ben, ana_entry) = (&j.entries[0], &j.entries[1]);
    assert_eq!(ben.by, "ben");
    assert_eq!(ben.text, "set HLT setpoint to 150: succeeded");
    assert_eq!(ana_entry.by, "ana");
    assert_eq!(ana_entry.text, "set HLT setpoint to 168: succeeded");
    assert_eq!(ana_entry.command_id, Some("c-ana".into()));
    assert_eq!(ana_entry.endpoint_ids, vec![setpoint]);
    assert_eq!(ana_entry.action, Some(Action::Set));
    assert_eq!(ana_entry.value, Some(Value::Number(168.0)));
    assert_eq!(ana_entry.status, Some(CommandState::Succeeded));
    assert!(!j.more);
    // Found by the operator's name, ignoring case.
    let j = ana
        .journal(JournalQuery {
            text: Some("BEN".into()),
            ..journal_query("j-2")
        })
        .await;
    assert!(j.entries.iter().all(|e| e.by == "ben") && !j.entries.is_empty());
}

#[tokio::test]
async fn an_acknowledgement_with_a_note_is_read_by_the_other_operator() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    let (mut sue, _) = Client::level1_as(&plant, SUE).await;
    let id = raise_alarm(
        &plant,
        r#"{"severity":"high","message":"Glycol pump failed"}"#,
    )
    .await;
    ana.send(&ClientMessage::AlarmAck(AlarmAck {
        alarm_id: id.into(),
        note: Some("restarted it by hand".into()),
        request_id: Some("a-1".into()),
    }))
    .await;
    ana.done("a-1").await;
    let j = sue
        .journal(JournalQuery {
            severities: Some(vec![Severity::High]),
            ..journal_query("j-1")
        })
        .await;
    let kinds: Vec<JournalKind> = j.entries.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [JournalKind::AlarmAcked, JournalKind::AlarmRaised]);
    assert_eq!(j.entries[0].by, "ana");
    assert_eq!(j.entries[0].note.as_deref(), Some("restarted it by hand"));
    assert_eq!(j.entries[0].text, "Glycol pump failed");
    assert_eq!(j.entries[1].by, "plant");
}

#[tokio::test]
async fn paging_back_with_before_seq_sees_each_note_once() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    for i in 0..30 {
        ana.send(&note(&format!("round {i}"), &format!("n-{i}")))
            .await;
        ana.done(&format!("n-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut before = None;
    for page in 0.. {
        let j = ana
            .journal(JournalQuery {
                kinds: Some(vec![JournalKind::Note]),
                before_seq: before,
                limit: Some(7),
                ..journal_query(&format!("p-{page}"))
            })
            .await;
        assert!(j.entries.len() <= 7);
        seen.extend(j.entries.iter().map(|e| (e.seq, e.text.clone(), e.note_id)));
        before = j.entries.last().map(|e| e.seq);
        if !j.more {
            assert_eq!(page, 4);
            break;
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(seen.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    let expected: Vec<(String, Option<u64>)> = (0..30u64)
        .rev()
        .map(|i| (format!("round {i}"), Some(i + 1)))
        .collect();
    let got: Vec<(String, Option<u64>)> = seen.into_iter().map(|(_, t, n)| (t, n)).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn each_bad_query_is_refused_with_its_id() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut vic, _) = Client::level1_as(&plant, VIC).await;
    let code = |e: ServerError| e.code.unwrap_or_default();
    for (id, query) in [
        (
            "zero",
            JournalQuery {
                limit: Some(0),
                ..journal_query("zero")
            },
        ),
        (
            "over",
            JournalQuery {
                limit: Some(501),
                ..journal_query("over")
            },
        ),
        (
            "backwards",
            JournalQuery {
                from: Some(Timestamp::parse("2026-03-14T10:00:00Z").unwrap()),
                to: Some(Timestamp::parse("2026-03-14T09:00:00Z").unwrap()),
                ..journal_query("backwards")
            },
        ),
    ] {
        vic.send(&ClientMessage::JournalQuery(query)).await;
        assert_eq!(code(vic.refusal(id).await), "bad_request", "{id}");
    }
    vic.send_raw(r#"{"type":"journal_query","requestId":"bad-kind","kinds":["nonsense"]}"#)
        .await;
    assert_eq!(code(vic.refusal("bad-kind").await), "bad_request");
    vic.send(&ClientMessage::JournalQuery(journal_query(&"x".repeat(65))))
        .await;
    let e = vic
        .until(|m| match m {
            ServerMessage::Error(e) if e.code.as_deref() == Some("bad_request") => Some(e),
            _ => None,
        })
        .await;
    assert_eq!(e.request_id, None, "an over-long id is not echoed");
    // A viewer reads the journal: it changes nothing.
    let j = vic.journal(journal_query("fine")).await;
    assert!(!j.more || j.entries.len() == 200);
}

#[tokio::test]
async fn queries_over_the_message_rate_are_refused_by_id() {
    let (plant, _dir) = plant_of_operators(|c| {
        c.limits.messages_per_second = 0.5;
        c.limits.message_burst = 2.0;
    })
    .await;
    let mut c = try_connect(&plant.ws_url(), Some(ANA)).await.unwrap();
    c.expect_connected().await;
    c.hello(None).await; // the burst's first message
    c.expect_snapshot().await;
    for id in ["q1", "q2", "q3"] {
        c.send(&ClientMessage::JournalQuery(journal_query(id)))
            .await;
    }
    let answered = c
        .until(|m| match m {
            ServerMessage::Journal(j) if j.request_id == "q1" => Some(j),
            _ => None,
        })
        .await;
    assert_eq!(answered.request_id, "q1");
    assert_eq!(c.refusal("q2").await.code.as_deref(), Some("rate_limited"));
    assert_eq!(c.refusal("q3").await.code.as_deref(), Some("rate_limited"));
}

#[tokio::test]
async fn the_journal_survives_a_restart_with_the_same_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_path_buf();
    let (plant, _ops) = plant_of_operators(|c| c.data_dir = Some(dir.clone())).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    ana.send(&note("before the restart", "n-1")).await;
    ana.done("n-1").await;
    drop(ana);
    plant.shutdown().await;

    let (plant, _ops) = plant_of_operators(|c| c.data_dir = Some(dir.clone())).await;
    let (mut sue, _) = Client::level1_as(&plant, SUE).await;
    let j = sue
        .journal(JournalQuery {
            kinds: Some(vec![JournalKind::Note]),
            ..journal_query("j-1")
        })
        .await;
    let texts: Vec<(&str, &str)> = j
        .entries
        .iter()
        .map(|e| (e.text.as_str(), e.by.as_str()))
        .collect();
    assert_eq!(texts, [("before the restart", "ana")]);
}

#[tokio::test]
async fn a_restarted_plant_numbers_on_above_the_seq_its_store_kept() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_path_buf();
    // Both runs start their counter at 0: only the store can carry the numbering on.
    let (plant, _ops) = plant_of_operators(|c| c.data_dir = Some(dir.clone())).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    ana.send(&note("numbered", "n-1")).await;
    let before = ana
        .until(|m| match m {
            ServerMessage::Note(n) => Some(n.seq),
            _ => None,
        })
        .await;
    drop(ana);
    plant.shutdown().await;

    let (plant, _ops) = plant_of_operators(|c| c.data_dir = Some(dir.clone())).await;
    let mut c = try_connect(&plant.ws_url(), Some(ANA)).await.unwrap();
    let connected = c.expect_connected().await;
    assert!(
        connected.last_seq.unwrap() >= before,
        "{:?} after {before}",
        connected.last_seq
    );
    c.hello(None).await;
    c.expect_snapshot().await;
    c.send(&note("after the restart", "n-2")).await;
    let after = c
        .until(|m| match m {
            ServerMessage::Note(n) => Some(n.seq),
            _ => None,
        })
        .await;
    assert!(after > before, "{after} after {before}");
}
