//! The link against the real `brewdeck-plant` on loopback: level-1 negotiation, the catalog
//! and live readings, commands to completion, acknowledgement, drops and restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{CommandDraft, CommandPhase, Delivery, LinkEvent, LinkState, ProtocolLevel};
use brewdeck_plant::start;
use brewdeck_protocol::{Action, AlarmState, Value};
use common::*;

fn endpoint_named(
    snap: &brewdeck_link::PlantSnapshot,
    name: &str,
) -> brewdeck_protocol::EndpointId {
    snap.catalog
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no endpoint {name}"))
        .id
        .clone()
}

#[tokio::test]
async fn level_1_catalog_readings_commands_and_acknowledgement() {
    let plant = plant().await;
    let (link, mut events) = following(&plant.ws_url()).await;
    let state = wait_state(&link, LinkState::is_connected).await;
    assert!(
        matches!(
            state,
            LinkState::Connected {
                level: ProtocolLevel::Level1,
                ..
            }
        ),
        "{state:?}"
    );
    let synced = next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    let LinkEvent::Synced { endpoints, .. } = synced else {
        unreachable!()
    };
    assert_eq!(endpoints, 31);
    next_event(&mut events, |e| matches!(e, LinkEvent::Readings { .. })).await;
    let snap = link.snapshot().await.unwrap();
    assert_eq!(snap.subscriptions.len(), 31);
    assert!(snap.readings.len() >= 31, "{}", snap.readings.len());
    assert!(snap.readings.iter().any(|r| !r.stale));

    // A command follows its whole lifecycle.
    let setpoint = endpoint_named(&snap, "Fermenter 1 setpoint");
    let view = link
        .send_command(CommandDraft {
            endpoint_id: setpoint.clone(),
            action: Action::Set,
            value: Some(Value::Number(61.0)),
        })
        .await
        .unwrap();
    let mut phases = vec![];
    while !phases.last().is_some_and(|p: &CommandPhase| p.is_final()) {
        let e = next_event(&mut events, |e| matches!(e, LinkEvent::Command { command, .. } if command.command_id == view.command_id)).await;
        let LinkEvent::Command { command, .. } = e else {
            unreachable!()
        };
        phases.push(command.phase);
    }
    // Issued (queued in the outbox), then every stage the plant reports, its `queued` too.
    assert_eq!(
        phases,
        [
            CommandPhase::Queued,
            CommandPhase::Queued,
            CommandPhase::Sent,
            CommandPhase::Acked,
            CommandPhase::Succeeded
        ]
    );
    // The catalog is checked before anything is sent.
    let err = link
        .send_command(CommandDraft {
            endpoint_id: setpoint,
            action: Action::On,
            value: None,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not accept on"), "{err}");

    // An alarm raised at the plant arrives live; acknowledging it comes back acknowledged.
    let seq = raise_alarm(&plant, "Glycol pressure low").await;
    let e = next_event(
        &mut events,
        |e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(seq)),
    )
    .await;
    let LinkEvent::Alarm { alarm, via } = e else {
        unreachable!()
    };
    assert_eq!(via, Delivery::Live);
    assert_eq!(alarm.state, Some(AlarmState::Active));
    link.acknowledge(alarm.alarm_id.clone(), None)
        .await
        .unwrap();
    let e = next_event(&mut events, |e| matches!(e, LinkEvent::Alarm { alarm: a, .. } if a.alarm_id == alarm.alarm_id && a.acked == Some(true))).await;
    let LinkEvent::Alarm { alarm: acked, .. } = e else {
        unreachable!()
    };
    assert!(acked.acked_by.is_some());
    link.shutdown().await;
    plant.shutdown().await;
}

#[tokio::test]
async fn a_dropped_link_comes_back_and_resubscribes_exactly_once() {
    let plant = plant().await;
    let (link, mut events) = following(&plant.ws_url()).await;
    next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    // An alarm raised while the link is down is replayed, once.
    admin(&plant, "/admin/drop", None).await;
    let seq = raise_alarm(&plant, "Raised during the drop").await;
    let e = next_event(
        &mut events,
        |e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(seq)),
    )
    .await;
    let LinkEvent::Alarm { via, .. } = e else {
        unreachable!()
    };
    assert!(matches!(via, Delivery::Replay | Delivery::Live), "{via:?}");
    next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    let stats = stats(&plant).await;
    let clients = stats["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1, "{stats}");
    let c = &clients[0];
    assert_eq!(c["level"], 1);
    assert_eq!(c["subscribeMessages"]["telemetry"], 1, "{c}");
    assert_eq!(c["subscribeMessages"]["alarms"], 1, "{c}");
    assert_eq!(c["subscribeMessages"]["commands"], 1, "{c}");
    assert_eq!(c["subscriptions"]["telemetry"], 31, "{c}");
    let snap = link.snapshot().await.unwrap();
    assert_eq!(snap.counters.connections, 2);
    assert_eq!(snap.counters.bad_frames, 0);
    link.shutdown().await;
    plant.shutdown().await;
}

#[tokio::test]
async fn a_restarted_server_is_found_again_and_the_gap_is_reported() {
    let plant = plant().await;
    let addr = plant.local_addr();
    let (link, mut events) = following(&plant.ws_url()).await;
    next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    raise_alarm(&plant, "Before the restart").await;
    next_event(&mut events, |e| matches!(e, LinkEvent::Alarm { .. })).await;
    plant.shutdown().await;
    wait_state(&link, |s| !s.is_connected()).await;
    let snap = link.snapshot().await.unwrap();
    assert!(
        snap.readings.iter().all(|r| r.stale),
        "readings are stale while down"
    );
    let mut config = plant_config();
    config.listen = addr;
    let plant = start(config).await.unwrap();
    // A new server's history cannot reach back to the link's last seq.
    next_event(&mut events, |e| {
        matches!(e, LinkEvent::EventsMayBeMissing { .. })
    })
    .await;
    next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    let stats = stats(&plant).await;
    let c = &stats["clients"][0];
    assert_eq!(c["subscribeMessages"]["telemetry"], 1, "{c}");
    assert_eq!(c["subscriptions"]["telemetry"], 31, "{c}");
    link.shutdown().await;
    plant.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let plant = plant().await;
    let (link, _) = link_with(link_config(&plant.ws_url()), "not-the-token");
    let state = wait_state(&link, |s| matches!(s, LinkState::Unauthorized { .. })).await;
    let text = format!("{state:?}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(!text.contains("not-the-token"));
    link.shutdown().await;
    plant.shutdown().await;
}

#[tokio::test]
async fn commands_issued_offline_wait_then_run_once_connected() {
    let plant = plant().await;
    let mut config = link_config(&plant.ws_url());
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    let mut events = link.events();
    // No catalog yet: the plant decides. Endpoint ids in the demo brewery are numbers.
    link.connect().await.unwrap();
    next_event(&mut events, |e| matches!(e, LinkEvent::Synced { .. })).await;
    let snap = link.snapshot().await.unwrap();
    let setpoint = endpoint_named(&snap, "Fermenter 2 setpoint");
    link.disconnect().await.unwrap();
    wait_state(&link, |s| *s == LinkState::Idle).await;
    let view = link
        .send_command(CommandDraft {
            endpoint_id: setpoint,
            action: Action::Set,
            value: Some(Value::Number(58.0)),
        })
        .await
        .unwrap();
    assert_eq!(link.snapshot().await.unwrap().outbox, 1);
    link.connect().await.unwrap();
    next_event(&mut events, |e| matches!(e, LinkEvent::Command { command, .. } if command.command_id == view.command_id && command.phase == CommandPhase::Succeeded)).await;
    let stats = stats(&plant).await;
    assert_eq!(stats["executions"][&view.command_id.0], 1);
    link.shutdown().await;
    plant.shutdown().await;
}
