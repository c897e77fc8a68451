//! Drops under load: the link is cut 50 times while the plant raises alarms and runs its
//! commands; every alarm and command status arrives exactly once and no command runs twice.
//! And 100 reconnects leave no task behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{CommandDraft, CommandPhase, LinkEvent};
use brewdeck_protocol::{Action, CommandId, Value};
use common::*;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::watch;

#[derive(Default, Clone)]
struct Seen {
    seqs: Vec<u64>,
    synced: usize,
    first_seq: Option<u64>,
    finals: HashMap<CommandId, CommandPhase>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_drops_lose_nothing_and_run_nothing_twice() {
    let plant = plant().await;
    let mut config = link_config(&plant.ws_url());
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    let mut events = link.events();
    let (seen_tx, mut seen) = watch::channel(Seen::default());
    // Follows every event; a lag would be a test failure, not a skipped check.
    let collector = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(LinkEvent::Synced { last_seq, .. }) => seen_tx.send_modify(|s| {
                    s.synced += 1;
                    s.first_seq.get_or_insert(last_seq.unwrap_or(0));
                }),
                Ok(LinkEvent::Alarm { alarm, .. }) => {
                    if let Some(seq) = alarm.seq {
                        seen_tx.send_modify(|s| s.seqs.push(seq));
                    }
                }
                Ok(LinkEvent::Command { command, .. }) => seen_tx.send_modify(|s| {
                    if let Some(seq) = command.seq {
                        s.seqs.push(seq);
                    }
                    if command.mine && command.phase.is_final() {
                        s.finals.insert(command.command_id.clone(), command.phase);
                    }
                }),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                Err(e) => panic!("collector: {e}"),
            }
        }
    });
    link.connect().await.unwrap();
    tokio::time::timeout(WAIT, seen.wait_for(|s| s.synced == 1))
        .await
        .expect("first sync")
        .unwrap();
    let snap = link.snapshot().await.unwrap();
    let setpoint = snap
        .catalog
        .iter()
        .find(|e| e.name == "Fermenter 3 setpoint")
        .unwrap()
        .id
        .clone();

    let mut issued = Vec::new();
    for round in 0..50u32 {
        for k in 0..2u32 {
            let view = link
                .send_command(CommandDraft {
                    endpoint_id: setpoint.clone(),
                    action: Action::Set,
                    value: Some(Value::Number(50.0 + f64::from(round % 10) + f64::from(k))),
                })
                .await
                .unwrap();
            issued.push(view.command_id);
        }
        raise_alarm(&plant, &format!("Chaos alarm {round}")).await;
        admin(&plant, "/admin/drop", None).await;
        raise_alarm(&plant, &format!("Raised while down {round}")).await;
        let target = round as usize + 2;
        tokio::time::timeout(WAIT, seen.wait_for(|s| s.synced >= target))
            .await
            .unwrap_or_else(|_| panic!("no resync after drop {round}"))
            .unwrap();
    }
    // Every command reaches an end.
    let all = issued.len();
    tokio::time::timeout(
        WAIT,
        seen.wait_for(|s| issued.iter().all(|id| s.finals.contains_key(id))),
    )
    .await
    .unwrap_or_else(|_| panic!("not all {all} commands ended"))
    .unwrap();
    // Everything the plant numbered has arrived.
    let last = stats(&plant).await["lastSeq"].as_u64().unwrap();
    tokio::time::timeout(WAIT, seen.wait_for(|s| s.seqs.iter().any(|q| *q >= last)))
        .await
        .expect("caught up with the plant")
        .unwrap();
    let s = seen.borrow().clone();
    let first = s.first_seq.unwrap();
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for q in &s.seqs {
        *counts.entry(*q).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let missing: Vec<u64> = (first + 1..=last)
        .filter(|q| !counts.contains_key(q))
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?} of {first}..={last}");

    let stats = stats(&plant).await;
    let mut succeeded = 0;
    for id in &issued {
        let runs = stats["executions"][&id.0].as_u64().unwrap_or(0);
        assert!(runs <= 1, "{id} ran {runs} times");
        if s.finals[id] == CommandPhase::Succeeded {
            assert_eq!(runs, 1, "{id} succeeded without running");
            succeeded += 1;
        }
    }
    assert!(
        succeeded > 50,
        "only {succeeded} of {all} commands succeeded"
    );
    let snap = link.snapshot().await.unwrap();
    assert_eq!(snap.counters.connections, 51);
    assert!(snap.missed_events.is_none());
    link.shutdown().await;
    collector.await.unwrap();
    plant.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_reconnects_leave_no_task_behind() {
    // The plant on a runtime of its own, so that this test's runtime counts the link's tasks only.
    let site = brewdeck_faults::Site::start(plant_config());
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let (link, mut events) = following(&site.direct_ws_url()).await;
    let mut state = link.watch_state();
    synced(&link, &mut events).await;
    assert!(metrics.num_alive_tasks() > baseline, "the actor counts");
    for _ in 0..100 {
        let (status, _) = site.admin("/admin/drop", None).await;
        assert_eq!(status, 200);
        synced(&link, &mut events).await;
    }
    assert_eq!(link.snapshot().await.unwrap().counters.connections, 101);
    drop(events);
    drop(link);
    state
        .wait_for(|s| *s == brewdeck_link::LinkState::Stopped)
        .await
        .unwrap();
    // The actor's task finishes just after publishing `stopped`.
    brewdeck_faults::gauges::tasks_back_to(baseline, WAIT)
        .await
        .unwrap();
}
