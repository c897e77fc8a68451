//! The chaos soak: two operators' links against a real plant through the fault proxy, under a
//! seeded random schedule of cuts, resets, half-open links, refusals, latency, slicing and thin
//! pipes, while the plant raises and clears alarms and the operators acknowledge them and send
//! commands. At the end: every alarm and command status reached each link once and in order,
//! nothing was lost between them, no command ran twice, each client holds one subscription per
//! key, and the test process's tasks, descriptors and memory are where they were.
//!
//! `BREWDECK_SOAK_SECS` (default 45) sets the length and `BREWDECK_SOAK_SEED` the schedule; the
//! seed is printed, so a failure can be run again exactly. A long run:
//! `BREWDECK_SOAK_SECS=1800 cargo test --release -p brewdeck-link --test soak -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod support {
    pub mod operator;
}

use brewdeck_faults::gauges::{rss_mib, tasks_back_to, Footprint};
use brewdeck_faults::{AlarmWork, Schedule, Site};
use brewdeck_link::{CommandPhase, Delivery, Link, LinkEvent};
use brewdeck_protocol::{AlarmState, CommandId, EndpointId};
use common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use support::operator::operate;
use tokio::sync::watch;
use tokio::time::Instant;

/// What one link told its follower.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// Every sequenced alarm and command event, in arrival order: (seq, is an alarm).
    seqs: Vec<(u64, bool)>,
    synced: usize,
    first_seq: Option<u64>,
    /// The last phase seen per command of this link.
    phases: HashMap<CommandId, CommandPhase>,
    lagged: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Follows a link's events into a `Seen`, until the link goes.
fn collect(link: &Link) -> (watch::Receiver<Seen>, tokio::task::JoinHandle<()>) {
    let mut events = link.events();
    let (tx, rx) = watch::channel(Seen::default());
    let task = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(LinkEvent::Synced { last_seq, .. }) => tx.send_modify(|s| {
                    s.synced += 1;
                    s.first_seq.get_or_insert(last_seq.unwrap_or(0));
                }),
                Ok(LinkEvent::Alarm { alarm, via }) => {
                    if let (Some(seq), false) = (alarm.seq, via == Delivery::Snapshot) {
                        tx.send_modify(|s| s.seqs.push((seq, true)));
                    }
                }
                Ok(LinkEvent::Command { command, via }) => tx.send_modify(|s| {
                    if let (Some(seq), false) = (command.seq, via == Delivery::Snapshot) {
                        s.seqs.push((seq, false));
                    }
                    if command.mine {
                        s.phases.insert(command.command_id.clone(), command.phase);
                    }
                }),
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tx.send_modify(|s| s.lagged += n);
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    (rx, task)
}

async fn operator(url: &str) -> Link {
    let mut config = link_config(url);
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    link.follow_catalog(true).await.unwrap();
    link
}

/// The plant at work: alarms of every severity, raised and some of them cleared.
const ALARM_WORK: AlarmWork<'static> = AlarmWork {
    pause_ms: 100..=350,
    clear_one_in: 2,
    severities: &["critical", "high", "medium", "low"],
    label: "Soak alarm",
};

async fn wait_until<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(t) = probe().await {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within 60 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_lose_nothing_and_run_nothing_twice_under_random_faults() {
    let secs = env_u64("BREWDECK_SOAK_SECS").unwrap_or(45);
    let seed = env_u64("BREWDECK_SOAK_SEED").unwrap_or_else(|| fastrand::u64(..));
    println!("soak: {secs} s, seed {seed} (BREWDECK_SOAK_SEED={seed} runs this schedule again)");
    let site = Site::start(plant_config());
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();

    let a = operator(&site.ws_url()).await;
    let b = operator(&site.ws_url()).await;
    let (mut seen_a, collector_a) = collect(&a);
    let (mut seen_b, collector_b) = collect(&b);
    a.connect().await.unwrap();
    b.connect().await.unwrap();
    for seen in [&mut seen_a, &mut seen_b] {
        tokio::time::timeout(WAIT, seen.wait_for(|s| s.synced >= 1))
            .await
            .expect("first sync")
            .unwrap();
    }
    let setpoints: Vec<EndpointId> = a
        .snapshot()
        .await
        .unwrap()
        .catalog
        .iter()
        .filter(|e| e.name.ends_with("setpoint"))
        .map(|e| e.id.clone())
        .collect();
    assert!(!setpoints.is_empty());
    let linked = Footprint::now();

    // Warm up the allocator and the plant's history before taking the memory baseline.
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let proxy = site.proxy().clone();
    let network = tokio::spawn(async move { Schedule::new(seed).drive(&proxy, until).await });
    let op_a = tokio::spawn(operate(
        a.clone(),
        setpoints.clone(),
        150..=500,
        seed ^ 0xA,
        until,
    ));
    let op_b = tokio::spawn(operate(
        b.clone(),
        setpoints.clone(),
        150..=500,
        seed ^ 0xB,
        until,
    ));
    let mut rss = Vec::new();
    let plant_work = async {
        let raised = site.raise_and_clear(&ALARM_WORK, seed ^ 0xC, until).await;
        raised
    };
    let sampling = async {
        while Instant::now() < until {
            rss.push((started.elapsed().as_secs(), rss_mib()));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    let (raised, ()) = tokio::join!(plant_work, sampling);
    let faults = network.await.unwrap();
    let issued_a = op_a.await.unwrap();
    let issued_b = op_b.await.unwrap();

    // The network is whole again: both links come back, and every command ends.
    site.proxy().clear();
    for (link, seen, issued) in [(&a, &mut seen_a, &issued_a), (&b, &mut seen_b, &issued_b)] {
        wait_state(link, |s| s.is_connected()).await;
        tokio::time::timeout(
            Duration::from_secs(60),
            seen.wait_for(|s| {
                issued
                    .iter()
                    .all(|id| s.phases.get(id).is_some_and(|p| p.is_final()))
            }),
        )
        .await
        .unwrap_or_else(|_| panic!("not every command ended: {:?}", link.state()))
        .unwrap();
    }
    // One last alarm, which both must see: it closes the range to check.
    let (_, last) = site
        .admin(
            "/admin/alarm",
            Some(r#"{"severity":"low","message":"Soak over"}"#),
        )
        .await;
    let last_seq = last["seq"].as_u64().unwrap();
    for seen in [&mut seen_a, &mut seen_b] {
        tokio::time::timeout(
            WAIT,
            seen.wait_for(|s| s.seqs.iter().any(|(q, _)| *q == last_seq)),
        )
        .await
        .expect("the last alarm arrived")
        .unwrap();
    }

    // Exactly once and in order, per link; nothing lost between them.
    let a_seen = seen_a.borrow().clone();
    let b_seen = seen_b.borrow().clone();
    assert_eq!((a_seen.lagged, b_seen.lagged), (0, 0), "a follower lagged");
    let from = a_seen.first_seq.unwrap().max(b_seen.first_seq.unwrap());
    for (name, s) in [("A", &a_seen), ("B", &b_seen)] {
        let out_of_order: Vec<_> = s.seqs.windows(2).filter(|w| w[1].0 <= w[0].0).collect();
        assert!(
            out_of_order.is_empty(),
            "link {name} got events twice or out of order: {out_of_order:?}"
        );
    }
    let alarms = |s: &Seen| -> BTreeSet<u64> {
        s.seqs
            .iter()
            // The simulator raises alarms of its own: one may land after the last.
            .filter(|(q, alarm)| *alarm && (from + 1..=last_seq).contains(q))
            .map(|(q, _)| *q)
            .collect()
    };
    assert_eq!(
        alarms(&a_seen),
        alarms(&b_seen),
        "the two operators saw different alarms"
    );
    let all: BTreeSet<u64> = a_seen
        .seqs
        .iter()
        .chain(&b_seen.seqs)
        .map(|(q, _)| *q)
        .collect();
    let lost: Vec<u64> = (from + 1..=last_seq).filter(|q| !all.contains(q)).collect();
    assert!(
        lost.is_empty(),
        "lost {} of {from}..={last_seq}: {lost:?}",
        lost.len()
    );

    // Both models come to agree on the alarms. Not at one instant: an event the plant numbered
    // after the last alarm (the simulator's own, an acknowledgement still in flight) may have
    // reached one link and not yet the other. They must converge once the plant is quiet.
    let view =
        |s: &brewdeck_link::PlantSnapshot| -> BTreeMap<String, (Option<AlarmState>, Option<bool>)> {
            s.alarms
                .iter()
                .map(|a| (a.alarm_id.to_string(), (a.state, a.acked)))
                .collect()
        };
    let agreed = tokio::time::timeout(WAIT, async {
        loop {
            let (sa, sb) = (a.snapshot().await.unwrap(), b.snapshot().await.unwrap());
            if view(&sa) == view(&sb) {
                return (sa, sb);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let (snap_a, snap_b) = match agreed {
        Ok(both) => both,
        Err(_) => {
            let (sa, sb) = (a.snapshot().await.unwrap(), b.snapshot().await.unwrap());
            panic!(
                "the two models never agreed: A {:?} ({:?}, {:?}, {:?}) B {:?} ({:?}, {:?}, {:?})",
                view(&sa),
                sa.link,
                sa.counters,
                sa.missed_events,
                view(&sb),
                sb.link,
                sb.counters,
                sb.missed_events
            )
        }
    };
    assert!(snap_a.missed_events.is_none() && snap_b.missed_events.is_none());

    // No command ran twice; every success ran once.
    let stats = site.admin("/admin/stats", None).await.1;
    let mut succeeded = 0;
    for (issued, s) in [(&issued_a, &a_seen), (&issued_b, &b_seen)] {
        for id in issued {
            let runs = stats["executions"][&id.0].as_u64().unwrap_or(0);
            assert!(runs <= 1, "{id} ran {runs} times");
            if s.phases[id] == CommandPhase::Succeeded {
                assert_eq!(runs, 1, "{id} succeeded without running");
                succeeded += 1;
            }
        }
    }
    let executions = stats["executions"].as_object().unwrap();
    assert!(
        executions.values().all(|n| n.as_u64() == Some(1)),
        "{executions:?}"
    );

    // One fresh connection each: one subscription message per channel, one per endpoint.
    let before = (seen_a.borrow().synced, seen_b.borrow().synced);
    site.proxy().cut();
    for (seen, before) in [(&mut seen_a, before.0), (&mut seen_b, before.1)] {
        tokio::time::timeout(WAIT, seen.wait_for(|s| s.synced > before))
            .await
            .expect("resynced after the last cut")
            .unwrap();
    }
    let catalog = snap_a.catalog.len() as u64;
    let stats = wait_until("two clients, each subscribed once", async || {
        let stats = site.admin("/admin/stats", None).await.1;
        let clients = stats["clients"].as_array()?;
        let ok = clients.len() == 2
            && clients.iter().all(|c| {
                c["subscriptions"]["telemetry"].as_u64() == Some(catalog)
                    && c["subscribeMessages"]["telemetry"].as_u64() == Some(1)
                    && c["subscribeMessages"]["alarms"].as_u64() == Some(1)
                    && c["subscribeMessages"]["commands"].as_u64().unwrap_or(0) <= 1
            });
        ok.then_some(stats)
    })
    .await;
    assert_eq!(stats["connections"], 2, "{stats}");

    // Flat: the links' tasks and the process's descriptors are back where they were.
    wait_until("the proxy's dead connections gone", async || {
        (site.proxy().counters().open == 2).then_some(())
    })
    .await;
    let end = Footprint::now();
    let third = rss.len() / 3;
    let rss_mid = rss[third].1;
    let connections = (snap_a.counters.connections, snap_b.counters.connections);
    println!(
        "soak: seed {seed}, {secs} s; faults {faults:?}; {raised} alarms raised; commands A {} B {}, {succeeded} succeeded; \
         connections A {} B {}; seq {from}..={last_seq}; tasks {} -> {}; fds {} -> {}; \
         RSS {:.1} MiB at {} s -> {:.1} MiB",
        issued_a.len(),
        issued_b.len(),
        connections.0,
        connections.1,
        linked.tasks,
        end.tasks,
        linked.fds,
        end.fds,
        rss_mid,
        rss[third].0,
        end.rss_mib,
    );
    assert!(
        connections.0 > 3 && connections.1 > 3,
        "the schedule hardly broke anything: {connections:?}"
    );
    end.assert_flat_since(&linked, rss_mid);

    // And when the links go, so do their tasks.
    a.shutdown().await;
    b.shutdown().await;
    drop((a, b));
    collector_a.await.unwrap();
    collector_b.await.unwrap();
    tasks_back_to(tasks_before, WAIT).await.unwrap();
}
