//! Every text the plant takes and keeps has a cap, and so has the number of alarms it holds:
//! what it keeps reaches every client's snapshot. Real sockets on loopback.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;

/// Raises an alarm with this JSON body: (status, body as JSON).
async fn raise(plant: &brewdeck_plant::RunningPlant, body: &str) -> (u16, serde_json::Value) {
    let (status, body) = http(plant, "POST", "/admin/alarm", Some(body), None).await;
    (status, serde_json::from_str(&body).unwrap_or_default())
}

fn alarm_body(message: &str) -> String {
    serde_json::json!({ "message": message }).to_string()
}

#[tokio::test]
async fn an_over_long_or_multi_line_alarm_message_is_refused_not_raised() {
    let plant = plant().await;
    let (mut watcher, _) = Client::level1(&plant).await;
    let (status, body) = raise(&plant, &alarm_body(&"é".repeat(513))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "bad_request");
    assert!(
        body["message"].as_str().unwrap().contains("at most 1024"),
        "{body}"
    );
    let (status, body) = raise(&plant, &alarm_body("refused\nsecond line")).await;
    assert_eq!(status, 400, "{body}");
    // A body far over anything an alarm needs is not even read.
    let huge = alarm_body(&"refused".repeat(3000));
    let (status, body) = raise(&plant, &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 16384"),
        "{body}"
    );

    let at_cap = format!("marker{}", "é".repeat(509));
    assert_eq!(at_cap.len(), 1024);
    let (status, body) = raise(&plant, &alarm_body(&at_cap)).await;
    assert_eq!(status, 201, "{body}");
    watcher
        .until(|m| match m {
            ServerMessage::Alarm(a) if a.message.starts_with("refused") => {
                panic!("a refused alarm was raised")
            }
            ServerMessage::Alarm(a) if a.message.len() > 1024 => panic!("an over-long alarm"),
            ServerMessage::Alarm(a) if a.message == at_cap => Some(()),
            _ => None,
        })
        .await;
}

#[tokio::test]
async fn past_256_held_alarms_the_admin_api_raises_no_more() {
    let plant = plant().await;
    let (mut operator, _) = Client::level1(&plant).await;
    let mut raised = Vec::new();
    let refusal = loop {
        let (status, body) = raise(&plant, &alarm_body("held")).await;
        match status {
            201 => raised.push(body["alarmId"].as_u64().unwrap()),
            409 => break body,
            other => panic!("{other}: {body}"),
        }
        assert!(raised.len() <= 256, "no cap");
    };
    assert_eq!(refusal["code"], "too_many_alarms");
    assert!(
        refusal["message"].as_str().unwrap().contains("256"),
        "{refusal}"
    );
    let held = admin_json(&plant, "GET", "/admin/stats", None).await["activeAlarms"]
        .as_u64()
        .unwrap();
    // The simulator's alarms count too, and are always raised.
    assert!(held >= 256, "{held} held");

    // Cleared but not acknowledged, an alarm is still held (and in every snapshot)...
    let first = raised[0];
    admin_json(&plant, "POST", &format!("/admin/alarm/{first}/clear"), None).await;
    assert_eq!(raise(&plant, &alarm_body("held")).await.0, 409);
    // ...until an operator acknowledges it.
    operator
        .send(&ClientMessage::AlarmAck(AlarmAck {
            alarm_id: first.into(),
            note: None,
            request_id: None,
        }))
        .await;
    operator
        .until(|m| match m {
            ServerMessage::Alarm(a) if a.alarm_id == first.into() && a.acked == Some(true) => {
                Some(())
            }
            _ => None,
        })
        .await;
    let (status, body) = raise(&plant, &alarm_body("room again")).await;
    assert_eq!(status, 201, "{body}");
}

fn command(id: &str, endpoint: &EndpointId, value: Option<Value>) -> ClientMessage {
    let now = Timestamp::now();
    ClientMessage::Command(Command {
        command_id: id.into(),
        endpoint_id: endpoint.clone(),
        action: Action::Set,
        value,
        issued_at: now,
        expires_at: Timestamp(now.0 + chrono::Duration::seconds(30)),
    })
}

/// The next answer to this client that is an error or a status of `id`.
async fn answer(c: &mut Client, id: &str) -> Result<CommandStatus, ServerError> {
    c.until(|m| match m {
        ServerMessage::Error(e) => Some(Err(e)),
        ServerMessage::CommandStatus(s) if s.command_id.0 == id => Some(Ok(s)),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn over_long_ids_and_values_are_refused_as_bad_messages() {
    let plant = plant().await;
    let (mut c, snapshot) = Client::level1(&plant).await;
    let setpoint = find(&snapshot, "HLT setpoint").id.clone();
    let long_id = "i".repeat(129);
    let max_id = "m".repeat(128);
    let long_text = Some(Value::Text("t".repeat(1025)));

    // Over the socket: refused with `bad_message`, and never remembered or run.
    c.send(&command(&long_id, &setpoint, Some(Value::Number(60.0))))
        .await;
    let e = answer(&mut c, &long_id).await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("bad_message"));
    assert_eq!(e.recoverable, Some(true));
    assert!(
        e.message.contains("commandId is 129 bytes"),
        "{}",
        e.message
    );
    c.send(&command("text-value", &setpoint, long_text.clone()))
        .await;
    let e = answer(&mut c, "text-value").await.unwrap_err();
    assert!(e.message.contains("value is 1025 bytes"), "{}", e.message);
    let long_endpoint = EndpointId::from(long_id.as_str());
    c.send(&command("long-endpoint", &long_endpoint, None))
        .await;
    let e = answer(&mut c, "long-endpoint").await.unwrap_err();
    assert!(e.message.contains("endpointId"), "{}", e.message);
    c.send(&ClientMessage::Subscribe(Subscription::Commands {
        command_ids: vec![long_id.as_str().into()],
    }))
    .await;
    let e = answer(&mut c, "none").await.unwrap_err();
    assert_eq!(e.code.as_deref(), Some("bad_message"));
    // At the cap: taken.
    c.send(&command(&max_id, &setpoint, Some(Value::Number(60.0))))
        .await;
    assert_eq!(
        answer(&mut c, &max_id).await.unwrap().status,
        CommandState::Queued
    );

    // Level 0 over HTTP: the same refusal as a 400.
    for body in [
        serde_json::json!({"commandId": long_id, "endpointId": setpoint, "action": "set", "value": 60}),
        serde_json::json!({"commandId": "http-text", "endpointId": setpoint, "action": "set", "value": "t".repeat(1025)}),
    ] {
        let (status, text) = http(
            &plant,
            "POST",
            "/api/os/command",
            Some(&body.to_string()),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("bad_message"), "{text}");
    }
    let stats = admin_json(&plant, "GET", "/admin/stats", None).await;
    let executions = stats["executions"].as_object().unwrap();
    assert!(!executions.contains_key(&long_id));
    // A new client's snapshot holds the command at the cap and none of the refused ones.
    let (_, snapshot) = Client::level1(&plant).await;
    let ids: Vec<&str> = snapshot
        .commands
        .iter()
        .map(|c| c.command_id.0.as_str())
        .collect();
    assert!(ids.contains(&max_id.as_str()), "{ids:?}");
    assert!(
        !ids.iter()
            .any(|id| *id == long_id || *id == "text-value" || *id == "http-text"),
        "{ids:?}"
    );
}
