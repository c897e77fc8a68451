//! The link against a real plant through the fault proxy, one fault at a time: each kind of
//! network failure is survived, and loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_faults::{FaultProxy, Faults};
use brewdeck_link::{CommandDraft, CommandPhase, Delivery, Link, LinkEvent, LinkState};
use brewdeck_plant::RunningPlant;
use brewdeck_protocol::{Action, EndpointId, Value};
use common::*;
use std::time::Duration;
use tokio::sync::broadcast;

struct Rig {
    plant: RunningPlant,
    proxy: FaultProxy,
    link: Link,
    events: broadcast::Receiver<LinkEvent>,
}

/// A plant, the proxy in front of it, and a synced link following the catalog through it.
async fn rig() -> Rig {
    let plant = plant().await;
    let proxy = FaultProxy::start(plant.local_addr()).await.unwrap();
    let (link, mut events) = following(&format!("ws://{}/ws", proxy.addr())).await;
    synced(&link, &mut events).await;
    Rig {
        plant,
        proxy,
        link,
        events,
    }
}

impl Rig {
    async fn connections(&self) -> u64 {
        self.link.snapshot().await.unwrap().counters.connections
    }

    /// Raises an alarm and waits for it, once; returns how it came.
    async fn alarm_arrives_once(&mut self, message: &str) -> Delivery {
        let seq = raise_alarm(&self.plant, message).await;
        let via = Rig::alarm_via(&mut self.events, seq).await;
        let snap = self.link.snapshot().await.unwrap();
        let copies = snap.alarms.iter().filter(|a| a.seq == Some(seq)).count();
        assert_eq!(copies, 1, "{message} is in the model once");
        via
    }

    /// Waits for the alarm numbered `seq`; returns how it came.
    async fn alarm_via(events: &mut broadcast::Receiver<LinkEvent>, seq: u64) -> Delivery {
        let e = next_event(
            events,
            |e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(seq)),
        )
        .await;
        let LinkEvent::Alarm { via, .. } = e else {
            unreachable!()
        };
        via
    }

    async fn setpoint(&self) -> EndpointId {
        let snap = self.link.snapshot().await.unwrap();
        snap.catalog
            .iter()
            .find(|e| e.name == "Fermenter 3 setpoint")
            .unwrap()
            .id
            .clone()
    }

    /// Sends a setpoint and waits for it to end; returns its final phase.
    async fn command_ends(&mut self, value: f64) -> CommandPhase {
        let view = self
            .link
            .send_command(CommandDraft {
                endpoint_id: self.setpoint().await,
                action: Action::Set,
                value: Some(Value::Number(value)),
            })
            .await
            .unwrap();
        let id = view.command_id.clone();
        let e = next_event(&mut self.events, |e| {
            matches!(e, LinkEvent::Command { command, .. } if command.command_id == id && command.phase.is_final())
        })
        .await;
        let LinkEvent::Command { command, .. } = e else {
            unreachable!()
        };
        let runs = stats(&self.plant).await["executions"][&id.0]
            .as_u64()
            .unwrap_or(0);
        assert!(runs <= 1, "{id} ran {runs} times");
        command.phase
    }

    async fn finish(self) {
        self.link.shutdown().await;
        drop(self.proxy);
        self.plant.shutdown().await;
    }
}

#[tokio::test]
async fn a_cut_and_a_reset_each_bring_a_resync_that_loses_nothing() {
    let mut rig = rig().await;
    rig.proxy.cut();
    synced(&rig.link, &mut rig.events).await;
    rig.alarm_arrives_once("After a cut").await;
    rig.proxy.reset();
    synced(&rig.link, &mut rig.events).await;
    rig.alarm_arrives_once("After a reset").await;
    assert_eq!(rig.connections().await, 3);
    let c = rig.proxy.counters();
    assert_eq!((c.cuts, c.resets), (1, 1), "{c:?}");
    rig.finish().await;
}

#[tokio::test]
async fn a_half_open_link_is_declared_dead_left_and_replayed_when_it_heals() {
    let mut rig = rig().await;
    rig.proxy.update(|f| f.blackhole = true);
    // The plant sends it; the half-open link swallows it.
    let seq = raise_alarm(&rig.plant, "Raised into a half-open link").await;
    // Pings go unanswered: the link gives the connection up by itself.
    let state = wait_state(&rig.link, |s| matches!(s, LinkState::Reconnecting { .. })).await;
    let LinkState::Reconnecting { last_error, .. } = state else {
        unreachable!()
    };
    assert!(
        last_error.contains("the connection is dead"),
        "{last_error}"
    );
    // While the path stays dead, each new handshake is swallowed too and times out.
    let state = wait_state(&rig.link, |s| {
        matches!(s, LinkState::Reconnecting { last_error, .. } if last_error.contains("did not complete"))
    })
    .await;
    assert!(!state.is_connected());
    assert!(rig.proxy.counters().swallowed > 0);
    rig.proxy.clear();
    let via = Rig::alarm_via(&mut rig.events, seq).await;
    assert!(matches!(via, Delivery::Replay | Delivery::Live), "{via:?}");
    synced(&rig.link, &mut rig.events).await;
    rig.alarm_arrives_once("After the half-open link").await;
    rig.finish().await;
}

#[tokio::test]
async fn a_stranded_connection_is_found_dead_and_replaced_by_a_new_one() {
    let mut rig = rig().await;
    rig.proxy.strand();
    let seq = raise_alarm(&rig.plant, "Raised into a stranded connection").await;
    // The old path is silent; the link notices on its own, and a new path works at once.
    let via = Rig::alarm_via(&mut rig.events, seq).await;
    assert_eq!(via, Delivery::Replay);
    assert_eq!(rig.connections().await, 2);
    assert!(rig.proxy.counters().swallowed > 0);
    rig.alarm_arrives_once("On the new path").await;
    rig.finish().await;
}

#[tokio::test]
async fn a_host_that_refuses_is_retried_until_it_is_back() {
    let mut rig = rig().await;
    rig.proxy.update(|f| f.refuse = true);
    rig.proxy.reset();
    let state = wait_state(
        &rig.link,
        |s| matches!(s, LinkState::Reconnecting { attempt, .. } if *attempt >= 3),
    )
    .await;
    assert!(!state.is_connected());
    let seq = raise_alarm(&rig.plant, "Raised while the host was down").await;
    rig.proxy.clear();
    Rig::alarm_via(&mut rig.events, seq).await;
    assert_eq!(rig.command_ends(55.0).await, CommandPhase::Succeeded);
    rig.finish().await;
}

#[tokio::test]
async fn latency_and_jitter_keep_every_event_in_order_on_one_connection() {
    let mut rig = rig().await;
    rig.proxy.set(Faults {
        latency: Duration::from_millis(60),
        jitter: Duration::from_millis(60),
        ..Faults::none()
    });
    let mut raised = Vec::new();
    for i in 0..20 {
        raised.push(raise_alarm(&rig.plant, &format!("Slow path {i}")).await);
    }
    let mut arrived = Vec::new();
    while arrived.len() < raised.len() {
        if let LinkEvent::Alarm { alarm, .. } =
            next_event(&mut rig.events, |e| matches!(e, LinkEvent::Alarm { .. })).await
        {
            arrived.extend(alarm.seq);
        }
    }
    assert_eq!(arrived, raised);
    assert_eq!(rig.command_ends(56.0).await, CommandPhase::Succeeded);
    // Slow, not dead: the link kept its connection throughout.
    assert_eq!(rig.connections().await, 1);
    rig.finish().await;
}

#[tokio::test]
async fn frames_sliced_to_single_bytes_arrive_whole() {
    let mut rig = rig().await;
    rig.proxy.update(|f| f.slice = Some(1));
    // The handshake, the snapshot and everything after go a byte at a time.
    rig.proxy.cut();
    synced(&rig.link, &mut rig.events).await;
    next_event(&mut rig.events, |e| matches!(e, LinkEvent::Readings { .. })).await;
    rig.alarm_arrives_once("Sliced").await;
    assert_eq!(rig.command_ends(57.0).await, CommandPhase::Succeeded);
    let counters = rig.link.snapshot().await.unwrap().counters;
    assert_eq!(counters.bad_frames, 0, "{counters:?}");
    assert_eq!(counters.connections, 2, "{counters:?}");
    let c = rig.proxy.counters();
    assert!(c.writes > 1_000, "{c:?}");
    rig.finish().await;
}

#[tokio::test]
async fn a_thin_pipe_slows_the_link_but_does_not_break_it() {
    let mut rig = rig().await;
    rig.proxy.update(|f| f.bandwidth = Some(16 * 1024));
    rig.proxy.cut();
    synced(&rig.link, &mut rig.events).await;
    rig.alarm_arrives_once("Through a thin pipe").await;
    assert_eq!(rig.command_ends(58.0).await, CommandPhase::Succeeded);
    assert_eq!(rig.connections().await, 2);
    rig.finish().await;
}
