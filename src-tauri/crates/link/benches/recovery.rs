//! Time to recover, with the production timings (a ping every 15 s, dead after 40 s of
//! silence, backoff from 0.5 s):
//! - after a plant restart: from the new plant listening to the link synced with it again
//!   (the plant was down 5 s, having told the link to come back after 2 s as it went);
//! - after a half-open link: from the connection going silent for good (the fault proxy
//!   strands it; new connections pass) to the link synced on a new one. Detection dominates.
//!
//! `cargo bench -p brewdeck-link --bench recovery`; writes `target/bench/recovery.json`.
//! `RECOVERY_RUNS` sets the number of restarts (default 5) and half-open runs (default 3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/figures.rs"]
mod figures;

use brewdeck_faults::FaultProxy;
use brewdeck_link::{Link, LinkConfig, LinkEvent, MemoryTokenStore, ServerUrl};
use brewdeck_plant::{PlantConfig, RunningPlant};
use brewdeck_protocol::Token;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

const TOKEN: &str = "recovery-bench-token";
/// Longer than the 2 s the plant announces as it goes, as a real restart is: the link's first
/// try finds nobody and it backs off.
const DOWNTIME: Duration = Duration::from_secs(5);
const STABLE: Duration = Duration::from_secs(11);

async fn plant_on(addr: SocketAddr) -> RunningPlant {
    let mut config = PlantConfig::new(addr, Token::new(TOKEN).unwrap());
    config.admin = true;
    brewdeck_plant::start(config).await.unwrap()
}

async fn link_to(url: &str) -> (Link, broadcast::Receiver<LinkEvent>) {
    let mut config = LinkConfig::new(ServerUrl::parse(url, false).unwrap());
    config.connect_on_start = false;
    let link = Link::spawn(config, Arc::new(MemoryTokenStore::new(Token::new(TOKEN)))).unwrap();
    link.follow_catalog(true).await.unwrap();
    let events = link.events();
    link.connect().await.unwrap();
    (link, events)
}

async fn synced(events: &mut broadcast::Receiver<LinkEvent>) {
    tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            match events.recv().await {
                Ok(LinkEvent::Synced { .. }) => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the link stopped"),
            }
        }
    })
    .await
    .expect("synced within 2 minutes");
}

fn stats(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    (mean, samples[samples.len() / 2], samples[samples.len() - 1])
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RECOVERY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (restarts, halfopens) = if runs > 0 { (runs, runs) } else { (5, 3) };

    println!(
        "recovery: plant restart ({restarts} runs, {} s down each)",
        DOWNTIME.as_secs()
    );
    let mut plant = plant_on(SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = plant.local_addr();
    let (link, mut events) = link_to(&plant.ws_url()).await;
    synced(&mut events).await;
    let mut restart = Vec::new();
    for run in 0..restarts {
        // A connection counts as stable after 10 s, and only then does the backoff start
        // again from its base: each run is a first failure, not a flapping plant.
        tokio::time::sleep(STABLE).await;
        plant.shutdown().await;
        tokio::time::sleep(DOWNTIME).await;
        plant = plant_on(addr).await;
        let back = Instant::now();
        synced(&mut events).await;
        let s = back.elapsed().as_secs_f64();
        println!("  run {run}: synced {s:.3} s after the plant was back");
        restart.push(s);
    }
    link.shutdown().await;

    println!("recovery: half-open link ({halfopens} runs)");
    let proxy = FaultProxy::start(addr).await.unwrap();
    let (link, mut events) = link_to(&format!("ws://{}/ws", proxy.addr())).await;
    synced(&mut events).await;
    let mut halfopen = Vec::new();
    for run in 0..halfopens {
        proxy.strand();
        let silent = Instant::now();
        synced(&mut events).await;
        let s = silent.elapsed().as_secs_f64();
        println!("  run {run}: synced on a new connection {s:.2} s after the old one went silent");
        halfopen.push(s);
    }
    link.shutdown().await;
    plant.shutdown().await;

    let (r_mean, r_median, r_max) = stats(&mut restart);
    let (h_mean, h_median, h_max) = stats(&mut halfopen);
    println!("  restart: mean {r_mean:.3} s, median {r_median:.3} s, max {r_max:.3} s");
    println!("  half-open: mean {h_mean:.2} s, median {h_median:.2} s, max {h_max:.2} s (dead after 40 s by design)");
    figures::write(
        "recovery",
        &serde_json::json!({
            "recover_restart_s": r_median,
            "recover_restart_max_s": r_max,
            "recover_restart_runs": restarts,
            "recover_halfopen_s": h_median,
            "recover_halfopen_max_s": h_max,
            "recover_halfopen_runs": halfopens,
        }),
    );
}
