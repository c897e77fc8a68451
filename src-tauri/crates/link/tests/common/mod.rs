//! Helpers for the link's integration tests: a real plant on loopback, scripted raw servers,
//! a tiny HTTP client for the plant's admin API, and waits bounded by a timeout.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod scripted;

use brewdeck_link::{Link, LinkConfig, LinkEvent, LinkState, MemoryTokenStore, ServerUrl, Timings};
use brewdeck_plant::{start, PlantConfig, RunningPlant};
use brewdeck_protocol::Token;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub const TOKEN: &str = "link-test-token-8d2e";
/// Every wait here is on an event or a state, bounded by this.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn plant_config() -> PlantConfig {
    let mut c = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new(TOKEN).unwrap());
    c.admin = true;
    c.tick = Duration::from_millis(20);
    c
}

pub async fn plant() -> RunningPlant {
    start(plant_config()).await.unwrap()
}

/// Timings scaled down so unpaused tests finish fast; the shape is the production one.
pub fn fast_timings() -> Timings {
    Timings {
        ping_interval: Duration::from_millis(200),
        dead_after: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(10),
        quick_retries_for: Duration::from_secs(1),
        backoff_cap: Duration::from_millis(100),
        stable_after: Duration::from_secs(2),
        write_timeout: Duration::from_secs(2),
        stale_after: Duration::from_secs(5),
        max_server_delay: Duration::from_secs(30),
    }
}

pub fn link_config(url: &str) -> LinkConfig {
    let mut c = LinkConfig::new(ServerUrl::parse(url, false).unwrap());
    c.timings = fast_timings();
    c
}

pub fn link_with(config: LinkConfig, token: &str) -> (Link, Arc<MemoryTokenStore>) {
    let store = Arc::new(MemoryTokenStore::new(Token::new(token)));
    let link = Link::spawn(config, store.clone()).unwrap();
    (link, store)
}

pub async fn wait_state(link: &Link, pred: impl Fn(&LinkState) -> bool) -> LinkState {
    let mut rx = link.watch_state();
    let state = tokio::time::timeout(WAIT, rx.wait_for(|s| pred(s)))
        .await
        .unwrap_or_else(|_| panic!("state not reached; now {:?}", link.state()))
        .expect("link alive");
    state.clone()
}

pub async fn connected(link: &Link) {
    wait_state(link, LinkState::is_connected).await;
}

pub async fn next_event(
    rx: &mut broadcast::Receiver<LinkEvent>,
    pred: impl Fn(&LinkEvent) -> bool,
) -> LinkEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => panic!("lagged by {n}"),
                Err(e) => panic!("events ended: {e}"),
            }
        }
    })
    .await
    .expect("event within the wait")
}

/// A one-shot HTTP/1.1 exchange with the test token: status and JSON body.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let (status, json) = brewdeck_faults::site::http(addr, method, path, body, Some(TOKEN)).await;
    assert_ne!(status, 0, "{method} {path}: no answer from {addr}");
    (status, json)
}

pub async fn admin(plant: &RunningPlant, path: &str, body: Option<&str>) -> serde_json::Value {
    let method = if path == "/admin/stats" {
        "GET"
    } else {
        "POST"
    };
    let (status, json) = http(plant.local_addr(), method, path, body).await;
    assert!(status < 300, "{path}: {status} {json}");
    json
}

pub async fn stats(plant: &RunningPlant) -> serde_json::Value {
    admin(plant, "/admin/stats", None).await
}

/// Raises a manual alarm; returns its seq.
pub async fn raise_alarm(plant: &RunningPlant, message: &str) -> u64 {
    let body = serde_json::json!({"severity":"critical","message":message}).to_string();
    admin(plant, "/admin/alarm", Some(&body)).await["seq"]
        .as_u64()
        .unwrap()
}

/// Waits for the next `synced` (a level-1 connection is up and its snapshot applied); on
/// timeout, says where the link is.
pub async fn synced(link: &Link, rx: &mut broadcast::Receiver<LinkEvent>) {
    let got = tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(LinkEvent::Synced { .. }) => return,
                Ok(_) => {}
                Err(e) => panic!("events: {e}"),
            }
        }
    })
    .await;
    if got.is_err() {
        panic!(
            "no resync: {:?} {:?}",
            link.state(),
            link.snapshot().await.map(|s| s.counters)
        );
    }
}

/// A link following the whole catalog, with its event receiver taken before it connects, so
/// that no event (the first `synced`) can be missed.
pub async fn following(url: &str) -> (Link, broadcast::Receiver<LinkEvent>) {
    let mut config = link_config(url);
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    link.follow_catalog(true).await.unwrap();
    let events = link.events();
    link.connect().await.unwrap();
    (link, events)
}
