//! Time to recover, with the production timings (a ping every 4 s, dead after 12 s of silence,
//! about one attempt a second for the first minute of an outage):
//! - after a plant crash: the `brewdeck-plant` process killed (SIGKILL) and started again on
//!   the same port after 1, 5 and 30 s; from the new plant accepting connections to the link
//!   synced with it again;
//! - after a plant restart it announced (`reconnect { retryAfter: 2 }` as it went), down 5 s;
//! - after a half-open link: from the connection going silent for good (the fault proxy strands
//!   it) to the link synced on a new one, detection dominating; and with every packet dropped
//!   (blackholed), from the silence to the link noticing the path is dead.
//!
//! `cargo build --release -p brewdeck-plant && cargo bench -p brewdeck-link --bench recovery`;
//! writes `target/bench/recovery.json`. `RECOVERY_RUNS` sets the runs per case (default 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/figures.rs"]
mod figures;

use brewdeck_faults::FaultProxy;
use brewdeck_link::{Link, LinkConfig, LinkEvent, MemoryTokenStore, ServerUrl};
use brewdeck_protocol::Token;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::broadcast;
use tokio::time::Instant;

const TOKEN: &str = "recovery-bench-token";
/// A connection counts as a fresh outage once it stayed up this long (the link's 10 s).
const STABLE: Duration = Duration::from_secs(11);
const CRASH_DOWNTIMES: [u64; 3] = [1, 5, 30];
const ANNOUNCED_DOWNTIME: Duration = Duration::from_secs(5);
/// Longer than any detection may take.
const BLACKHOLE: Duration = Duration::from_secs(30);

/// The release plant binary beside this bench's folder (`target/release/brewdeck-plant`).
fn plant_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("brewdeck-plant"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} is missing: cargo build --release -p brewdeck-plant first",
        bin.display()
    );
    bin
}

struct Plant {
    child: Child,
    addr: SocketAddr,
}

/// A plant process listening on `listen`; returns once it accepts connections.
async fn plant(token_file: &std::path::Path, listen: SocketAddr) -> Plant {
    let mut child = Command::new(plant_binary())
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--token-file")
        .arg(token_file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the plant prints its address")
        .unwrap()
        .expect("an address line")
        .parse()
        .unwrap();
    Plant { child, addr }
}

impl Plant {
    async fn crash(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// SIGTERM: every client is told `reconnect { retryAfter: 2 }` as the plant goes.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().await.unwrap();
    }
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

/// Median and worst.
fn stats(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn line(what: &str, samples: &mut [f64]) -> (f64, f64) {
    let (median, worst) = stats(samples);
    println!(
        "  {what}: median {median:.3} s, worst {worst:.3} s ({} runs)",
        samples.len()
    );
    (median, worst)
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RECOVERY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();

    let mut p = plant(&token_file, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = p.addr;
    let (link, mut events) = link_to(&format!("ws://{addr}/ws")).await;
    synced(&mut events).await;

    let mut crash_all = Vec::new();
    let mut by_downtime = Vec::new();
    for down in CRASH_DOWNTIMES {
        println!("recovery: plant killed (SIGKILL), back after {down} s ({runs} runs)");
        let mut samples = Vec::new();
        for run in 0..runs {
            tokio::time::sleep(STABLE).await;
            p.crash().await;
            tokio::time::sleep(Duration::from_secs(down)).await;
            p = plant(&token_file, addr).await;
            let back = Instant::now();
            synced(&mut events).await;
            let s = back.elapsed().as_secs_f64();
            println!("  run {run}: synced {s:.3} s after the plant accepted again");
            samples.push(s);
        }
        crash_all.extend(samples.iter().copied());
        by_downtime.push((down, line(&format!("down {down} s"), &mut samples)));
    }

    println!(
        "recovery: plant stopped with an announcement, back after {} s ({runs} runs)",
        ANNOUNCED_DOWNTIME.as_secs()
    );
    let mut announced = Vec::new();
    for run in 0..runs {
        tokio::time::sleep(STABLE).await;
        p.stop().await;
        tokio::time::sleep(ANNOUNCED_DOWNTIME).await;
        p = plant(&token_file, addr).await;
        let back = Instant::now();
        synced(&mut events).await;
        let s = back.elapsed().as_secs_f64();
        println!("  run {run}: synced {s:.3} s after the plant accepted again");
        announced.push(s);
    }
    link.shutdown().await;

    println!("recovery: half-open link, stranded or blackholed ({runs} runs each)");
    let proxy = FaultProxy::start(addr).await.unwrap();
    let (link, mut events) = link_to(&format!("ws://{}/ws", proxy.addr())).await;
    synced(&mut events).await;
    let mut halfopen = Vec::new();
    for run in 0..runs {
        proxy.strand();
        let silent = Instant::now();
        synced(&mut events).await;
        let s = silent.elapsed().as_secs_f64();
        println!("  run {run}: stranded, synced on a new connection {s:.2} s after it went silent");
        halfopen.push(s);
        proxy.end_stranded();
    }
    let mut blackholed = Vec::new();
    let mut state = link.watch_state();
    for run in 0..runs {
        proxy.update(|f| f.blackhole = true);
        let silent = Instant::now();
        tokio::time::timeout(BLACKHOLE, state.wait_for(|s| !s.is_connected()))
            .await
            .expect("the dead path noticed while blackholed")
            .unwrap();
        let s = silent.elapsed().as_secs_f64();
        println!("  run {run}: blackholed, noticed dead after {s:.2} s");
        blackholed.push(s);
        proxy.clear();
        synced(&mut events).await;
    }
    link.shutdown().await;
    p.crash().await;

    println!("recovery:");
    let (crash_median, crash_worst) = line("after a crash, all downtimes", &mut crash_all);
    let (announced_median, announced_worst) = line("after an announced restart", &mut announced);
    let (halfopen_median, halfopen_worst) = line("half-open (stranded)", &mut halfopen);
    let (blackhole_median, blackhole_worst) = line("blackholed: noticed dead", &mut blackholed);
    let mut figures = serde_json::json!({
        "recover_restart_s": crash_median,
        "recover_restart_worst_s": crash_worst,
        "recover_restart_runs": crash_all.len(),
        "recover_announced_s": announced_median,
        "recover_announced_worst_s": announced_worst,
        "recover_halfopen_s": halfopen_median,
        "recover_halfopen_worst_s": halfopen_worst,
        "recover_blackhole_s": blackhole_median,
        "recover_blackhole_worst_s": blackhole_worst,
    });
    for (down, (median, worst)) in by_downtime {
        figures[format!("recover_crash_{down}s_s")] = median.into();
        figures[format!("recover_crash_{down}s_worst_s")] = worst.into();
    }
    figures::write("recovery", &figures);
}
