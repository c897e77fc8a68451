//! Level-1 sessions through a real WebSocket client: snapshot, resume, commands, alarms.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;

fn command(id: &str, endpoint: &EndpointId, action: Action, value: Option<Value>) -> ClientMessage {
    let now = Timestamp::now();
    ClientMessage::Command(Command {
        command_id: id.into(),
        endpoint_id: endpoint.clone(),
        action,
        value,
        issued_at: now,
        expires_at: Timestamp(now.0 + chrono::Duration::seconds(30)),
    })
}

async fn status_of(c: &mut Client, id: &str, want: CommandState) -> CommandStatus {
    let id = CommandId::from(id);
    c.until(|m| match m {
        ServerMessage::CommandStatus(s) if s.command_id == id && s.status == want => Some(s),
        ServerMessage::CommandStatus(s) if s.command_id == id && s.status.is_final() => {
            panic!(
                "command ended {:?} ({:?}), wanted {want:?}",
                s.status, s.reason
            )
        }
        _ => None,
    })
    .await
}

#[tokio::test]
async fn hello_gets_a_snapshot_of_the_whole_plant() {
    let plant = plant().await;
    let mut c = Client::connect(&plant).await;
    let connected = c.expect_connected().await;
    assert_eq!(connected.protocols, Some(vec![PROTOCOL_V1.to_owned()]));
    assert_eq!(connected.plant.as_deref(), Some("Brewdeck demo brewery"));
    c.hello(None).await;
    // Without lastSeq: the snapshot first, no replay.
    let ServerMessage::Snapshot(s) = c.next().await else {
        panic!("snapshot first")
    };
    assert!(
        s.catalog.len() >= 20,
        "catalog has {} endpoints",
        s.catalog.len()
    );
    assert_eq!(
        s.values.len(),
        s.catalog.len(),
        "a value for every endpoint"
    );
    for area in [
        "Hot liquor tank",
        "Mash tun",
        "Boil kettle",
        "Fermenters",
        "Glycol chiller",
    ] {
        assert!(
            s.catalog.iter().any(|e| e.area == area),
            "no endpoint in {area}"
        );
    }
    assert!(s
        .catalog
        .iter()
        .any(|e| e.kind == EndpointKind::Heater && e.critical && e.writable));
    assert!(s
        .catalog
        .iter()
        .filter(|e| e.writable)
        .all(|e| !e.actions.is_empty()));
    assert_eq!(s.plant.as_deref(), Some("Brewdeck demo brewery"));
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_alarms_and_command_statuses() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let setpoint = find(&snap, "HLT setpoint").id.clone();
    raise_alarm(&plant, r#"{"severity":"high","message":"first"}"#).await;
    let seen = c
        .until(|m| match m {
            ServerMessage::Alarm(a) if a.message == "first" => a.seq,
            _ => None,
        })
        .await;
    drop(c);

    // While this client is away: two alarms and a command's whole life.
    raise_alarm(&plant, r#"{"message":"second"}"#).await;
    let (status, _) = http(
        &plant,
        "POST",
        "/api/os/command",
        Some(&format!(
            r#"{{"commandId":"away-1","endpointId":{},"action":"set","value":160}}"#,
            setpoint
        )),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 202);
    let (mut watcher, _) = Client::level1(&plant).await;
    status_of(&mut watcher, "away-1", CommandState::Succeeded).await;
    raise_alarm(&plant, r#"{"message":"third"}"#).await;
    let last = admin_json(&plant, "GET", "/admin/stats", None).await["lastSeq"]
        .as_u64()
        .unwrap();

    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(Some(seen)).await;
    let mut replayed = Vec::new();
    let resumed = loop {
        match c.next().await {
            ServerMessage::Resumed(r) => break r,
            m => replayed.push(m),
        }
    };
    assert!(resumed.complete);
    assert_eq!(resumed.from_seq, seen + 1);
    assert!(resumed.to_seq >= last);
    let seqs: Vec<u64> = replayed
        .iter()
        .map(|m| m.seq().expect("only seq'd events are replayed"))
        .collect();
    let expected: Vec<u64> = (seen + 1..=resumed.to_seq).collect();
    assert_eq!(seqs, expected, "every missed event once, in order");
    let messages: Vec<String> = replayed
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Alarm(a) => Some(a.message.clone()),
            _ => None,
        })
        .collect();
    assert!(messages.contains(&"second".to_owned()) && messages.contains(&"third".to_owned()));
    assert!(
        !messages.contains(&"first".to_owned()),
        "nothing already seen"
    );
    let lifecycle: Vec<CommandState> = replayed
        .iter()
        .filter_map(|m| match m {
            ServerMessage::CommandStatus(s) if s.command_id.0 == "away-1" => Some(s.status),
            _ => None,
        })
        .collect();
    use CommandState::*;
    assert_eq!(lifecycle, vec![Queued, Sent, Acked, Succeeded]);
    let ServerMessage::Snapshot(s) = c.next().await else {
        panic!("snapshot after resumed")
    };
    assert_eq!(
        s.seq, resumed.to_seq,
        "the snapshot is taken where the replay ends"
    );
    // Live events continue exactly after it.
    raise_alarm(&plant, r#"{"message":"fourth"}"#).await;
    let next_seq = c.until(|m| m.seq()).await;
    assert_eq!(next_seq, s.seq + 1);
}

#[tokio::test]
async fn resume_from_beyond_the_history_says_incomplete() {
    let plant = plant_with(|c| c.history = 4).await;
    for i in 0..10 {
        raise_alarm(&plant, &format!(r#"{{"message":"a{i}"}}"#)).await;
    }
    let last = admin_json(&plant, "GET", "/admin/stats", None).await["lastSeq"]
        .as_u64()
        .unwrap();
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(Some(1)).await;
    let mut replayed = 0;
    let resumed = loop {
        match c.next().await {
            ServerMessage::Resumed(r) => break r,
            _ => replayed += 1,
        }
    };
    assert!(!resumed.complete, "seq 2.. fell out of a history of 4");
    assert_eq!(replayed, 4, "what is left is still replayed");
    assert_eq!(resumed.from_seq, last - 3);

    // A lastSeq the server never reached (another server's, or before a reset).
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(Some(last + 1000)).await;
    let ServerMessage::Resumed(r) = c.next().await else {
        panic!("resumed with nothing replayed")
    };
    assert!(!r.complete);
}

#[tokio::test]
async fn a_repeated_command_id_is_executed_once() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let setpoint = find(&snap, "HLT setpoint").id.clone();
    let cmd = command("dup-1", &setpoint, Action::Set, Some(Value::Number(165.0)));
    // Twice back to back (in flight), then again after it finished, then over HTTP.
    c.send(&cmd).await;
    c.send(&cmd).await;
    let done = status_of(&mut c, "dup-1", CommandState::Succeeded).await;
    assert_eq!(done.actual_value, Some(Value::Number(165.0)));
    c.send(&cmd).await;
    let again = c
        .until(|m| match m {
            ServerMessage::CommandStatus(s) if s.command_id.0 == "dup-1" => Some(s),
            _ => None,
        })
        .await;
    assert_eq!(again.status, CommandState::Succeeded);
    // An answer to the asker, not an event of the stream: no seq, so a client that
    // deduplicates by seq cannot mistake it for one (and skip an event numbered below it).
    assert_eq!(again.seq, None, "the same status, not a new event");
    let (status, body) = http(
        &plant,
        "POST",
        "/api/os/command",
        Some(&format!(
            r#"{{"commandId":"dup-1","endpointId":{setpoint},"action":"set","value":170}}"#
        )),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"succeeded""#), "{body}");
    let stats = admin_json(&plant, "GET", "/admin/stats", None).await;
    assert_eq!(stats["executions"]["dup-1"], 1);
}

#[tokio::test]
async fn an_expired_command_is_rejected() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let setpoint = find(&snap, "HLT setpoint").id.clone();
    let past = Timestamp(Timestamp::now().0 - chrono::Duration::seconds(1));
    c.send(&ClientMessage::Command(Command {
        command_id: "late-1".into(),
        endpoint_id: setpoint,
        action: Action::Set,
        value: Some(Value::Number(150.0)),
        issued_at: past,
        expires_at: past,
    }))
    .await;
    let s = status_of(&mut c, "late-1", CommandState::Rejected).await;
    assert_eq!(s.reason.as_deref(), Some("expired"));
    let stats = admin_json(&plant, "GET", "/admin/stats", None).await;
    assert!(stats["executions"].get("late-1").is_none());
}

#[tokio::test]
async fn a_command_that_breaks_an_interlock_is_rejected_with_its_name() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let valve = find(&snap, common::XFER1_VALVE).id.clone();
    let pump = find(&snap, common::XFER1_PUMP).id.clone();
    // Make sure the valve is closed, then ask for the pump.
    c.send(&command("close-1", &valve, Action::Close, None))
        .await;
    status_of(&mut c, "close-1", CommandState::Succeeded).await;
    c.send(&command("pump-1", &pump, Action::On, None)).await;
    let s = status_of(&mut c, "pump-1", CommandState::Rejected).await;
    let reason = s.reason.unwrap();
    assert!(reason.starts_with("interlock"), "{reason}");
    assert!(
        reason.to_lowercase().contains("valve"),
        "the reason names the interlock: {reason}"
    );
    // With the valve open the same pump starts.
    c.send(&command("open-1", &valve, Action::Open, None)).await;
    status_of(&mut c, "open-1", CommandState::Succeeded).await;
    c.send(&command("pump-2", &pump, Action::On, None)).await;
    let s = status_of(&mut c, "pump-2", CommandState::Succeeded).await;
    assert_eq!(s.actual_value, Some(Value::Bool(true)));
}

#[tokio::test]
async fn commands_go_through_their_whole_lifecycle() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let setpoint = find(&snap, "HLT setpoint").id.clone();
    c.send(&command(
        "life-1",
        &setpoint,
        Action::Set,
        Some(Value::Number(158.0)),
    ))
    .await;
    let mut seen = Vec::new();
    while seen.last() != Some(&CommandState::Succeeded) {
        if let ServerMessage::CommandStatus(s) = c.next().await {
            if s.command_id.0 == "life-1" {
                assert_eq!(s.endpoint_id.as_ref(), Some(&setpoint));
                seen.push(s.status);
            }
        }
    }
    use CommandState::*;
    assert_eq!(seen, vec![Queued, Sent, Acked, Succeeded]);
    // Telemetry follows only subscriptions: subscribe, then see the new setpoint.
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: vec![setpoint.clone()],
    }))
    .await;
    let v = c
        .until(|m| match m {
            ServerMessage::Telemetry(t) if t.endpoint_id == setpoint => Some(t.value),
            _ => None,
        })
        .await;
    assert_eq!(v, Value::Number(158.0));
}

#[tokio::test]
async fn an_acknowledgement_reaches_every_client() {
    let plant = plant().await;
    let (mut a, _) = Client::level1(&plant).await;
    let (mut b, _) = Client::level1(&plant).await;
    let raised = raise_alarm(
        &plant,
        r#"{"severity":"critical","message":"Glycol pump failed"}"#,
    )
    .await;
    let id = AlarmId::from(raised);
    let a_id = a
        .until(|m| match m {
            ServerMessage::Alarm(x) if x.alarm_id == id => Some(x.alarm_id),
            _ => None,
        })
        .await;
    a.send(&ClientMessage::AlarmAck(AlarmAck {
        alarm_id: a_id,
        note: None,
        request_id: None,
    }))
    .await;
    let acked = b
        .until(|m| match m {
            ServerMessage::Alarm(x) if x.alarm_id == id && x.acked == Some(true) => Some(x),
            _ => None,
        })
        .await;
    // The operator's name (`--token` names one operator, `operator`), not the connection.
    assert_eq!(acked.acked_by.as_deref(), Some("operator"));
    assert!(acked.acked_at.is_some());
    assert_eq!(acked.state, Some(AlarmState::Active));
    // An unknown alarm is answered, not ignored.
    a.send(&ClientMessage::AlarmAck(AlarmAck {
        alarm_id: 999_999.into(),
        note: None,
        request_id: None,
    }))
    .await;
    let code = a
        .until(|m| match m {
            ServerMessage::Error(e) => e.code,
            _ => None,
        })
        .await;
    assert_eq!(code, "unknown_alarm");
    // Cleared and acknowledged: gone from the next snapshot.
    admin_json(
        &plant,
        "POST",
        &format!("/admin/alarm/{raised}/clear"),
        None,
    )
    .await;
    let (_, snap) = Client::level1(&plant).await;
    assert!(snap.alarms.iter().all(|x| x.alarm_id != id));
}

#[tokio::test]
async fn an_absurd_last_seq_is_incomplete_not_a_crash() {
    let plant = plant().await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(Some(u64::MAX)).await;
    let ServerMessage::Resumed(r) = c.next().await else {
        panic!("resumed")
    };
    assert!(!r.complete);
    c.expect_snapshot().await;
    // The server is still whole.
    Client::level1(&plant).await;
}

#[tokio::test]
async fn heartbeats_arrive_on_their_period_with_the_stream_count() {
    let plant = plant_with(|c| c.heartbeat = std::time::Duration::from_millis(100)).await;
    let (mut c, _) = Client::level1(&plant).await;
    let (_other, _) = Client::level1(&plant).await;
    // The first heartbeat may predate the second client: wait for two that count both.
    for _ in 0..2 {
        c.until(|m| match m {
            ServerMessage::Heartbeat(h) if h.active_streams == Some(2) => Some(h),
            _ => None,
        })
        .await;
    }
}

#[tokio::test]
async fn flood_mode_adds_endpoints_that_update_on_their_own() {
    let plant = plant_with(|c| {
        c.fermenters = 2;
        c.flood = Some(brewdeck_plant::Flood {
            endpoints: 50,
            rate_hz: 20.0,
        });
    })
    .await;
    let (mut c, snap) = Client::level1(&plant).await;
    let flood: Vec<EndpointId> = snap
        .catalog
        .iter()
        .filter(|e| e.area == "Flood")
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(flood.len(), 50);
    let fermenters = snap
        .catalog
        .iter()
        .filter(|e| e.area == "Fermenters")
        .count();
    assert_eq!(
        fermenters,
        2 * 3,
        "temperature, setpoint, cooling valve each"
    );
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: flood.clone(),
    }))
    .await;
    // Every flood endpoint is heard from, more than once: the current value, then updates.
    let mut heard = std::collections::HashMap::new();
    while heard.len() < flood.len() || heard.values().any(|n| *n < 2) {
        if let ServerMessage::Telemetry(t) = c.next().await {
            assert!(flood.contains(&t.endpoint_id), "only what was subscribed");
            *heard.entry(t.endpoint_id).or_insert(0) += 1;
        }
    }
}

#[tokio::test]
async fn a_command_valid_for_too_long_is_rejected() {
    let plant = plant().await;
    let (mut c, snap) = Client::level1(&plant).await;
    let setpoint = find(&snap, "HLT setpoint").id.clone();
    let now = Timestamp::now();
    c.send(&ClientMessage::Command(Command {
        command_id: "forever-1".into(),
        endpoint_id: setpoint,
        action: Action::Set,
        value: Some(Value::Number(150.0)),
        issued_at: now,
        expires_at: Timestamp(now.0 + chrono::Duration::days(365)),
    }))
    .await;
    let s = status_of(&mut c, "forever-1", CommandState::Rejected).await;
    assert!(s.reason.unwrap().contains("more than 10 minutes"));
}
