//! A control room: 200 desks on one plant (100 links at level 1, 100 plain level-0 clients
//! that reconnect on their own), and the plant restarted under them. All come back, resumed,
//! and the plant refuses none of them for its own limits. The time it takes is printed; the
//! recovery bench measures it (tests assert outcomes, not speed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{Link, LinkConfig, LinkEvent, LinkState, MemoryTokenStore, ServerUrl};
use brewdeck_plant::RunningPlant;
use brewdeck_protocol::Token;
use common::*;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const LINKS: usize = 100;
const PLAIN: usize = 100;

/// The plant as a site would run it for a control room. The desks come from one address
/// here, where a site's come from one each: the per-address limit is raised to let them in.
fn room_plant_config(addr: std::net::SocketAddr) -> brewdeck_plant::PlantConfig {
    let mut c = plant_config();
    c.listen = addr;
    c.limits.max_connections_per_ip = LINKS + PLAIN + 16;
    c
}

/// A level-0 client as a simple third-party screen is written: connect, read until the socket
/// ends, try again about once a second. Counts its connections and any refusal.
async fn plain_client(
    url: String,
    connected: Arc<watch::Sender<usize>>,
    refused: Arc<AtomicUsize>,
) {
    let mut rng = fastrand::Rng::new();
    loop {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((mut ws, _)) => {
                // The `connected` greeting: this client is served.
                if matches!(ws.next().await, Some(Ok(_))) {
                    connected.send_modify(|n| *n += 1);
                }
                while let Some(Ok(_)) = ws.next().await {}
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                refused.fetch_add(1, Ordering::SeqCst);
                eprintln!("a plain client was refused: {}", response.status());
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(500..1500))).await;
    }
}

async fn synced_all(events: &mut [broadcast::Receiver<LinkEvent>]) {
    for rx in events.iter_mut() {
        tokio::time::timeout(WAIT, async {
            loop {
                match rx.recv().await {
                    Ok(LinkEvent::Synced { .. }) => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("events ended: {e}"),
                }
            }
        })
        .await
        .expect("every link synced again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_desks_come_back_after_a_plant_restart_and_none_is_refused() {
    let plant: RunningPlant =
        brewdeck_plant::start(room_plant_config("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
    let addr = plant.local_addr();
    let url = plant.ws_url();

    // The links, with the production timings: what an operator's desk runs.
    let mut links: Vec<Link> = Vec::new();
    let mut events = Vec::new();
    for _ in 0..LINKS {
        let mut config = LinkConfig::new(ServerUrl::parse(&url, false).unwrap());
        config.connect_on_start = false;
        let link = Link::spawn(config, Arc::new(MemoryTokenStore::new(Token::new(TOKEN)))).unwrap();
        link.follow_catalog(true).await.unwrap();
        events.push(link.events());
        link.connect().await.unwrap();
        links.push(link);
    }
    // A link the plant turns away (503, over its limits) shows it in its state as it retries.
    let links_refused = Arc::new(AtomicUsize::new(0));
    let watchers: Vec<_> = links
        .iter()
        .map(|link| {
            let mut state = link.watch_state();
            let refused = links_refused.clone();
            tokio::spawn(async move {
                while state.changed().await.is_ok() {
                    let now = state.borrow_and_update().clone();
                    if let LinkState::Reconnecting { last_error, .. } = now {
                        if last_error.contains("503") || last_error.contains("busy") {
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    let (count, plain_connected) = watch::channel(0usize);
    let count = Arc::new(count);
    let refused = Arc::new(AtomicUsize::new(0));
    let plain: Vec<_> = (0..PLAIN)
        .map(|_| tokio::spawn(plain_client(url.clone(), count.clone(), refused.clone())))
        .collect();
    synced_all(&mut events).await;
    let mut plain_seen = plain_connected.clone();
    tokio::time::timeout(WAIT, plain_seen.wait_for(|n| *n >= PLAIN))
        .await
        .expect("every plain client connected")
        .unwrap();
    assert_eq!(plant.connections(), LINKS + PLAIN);

    // Restarted: every client told to come back (`reconnect`), the plant gone, then back.
    plant.shutdown().await;
    let plant = brewdeck_plant::start(room_plant_config(addr))
        .await
        .unwrap();
    let back = Instant::now();
    synced_all(&mut events).await;
    let links_back = back.elapsed();
    tokio::time::timeout(WAIT, plain_seen.wait_for(|n| *n >= 2 * PLAIN))
        .await
        .expect("every plain client connected again")
        .unwrap();
    println!(
        "200 desks: the links synced {:.2} s and the plain clients {:.2} s after the plant was back",
        links_back.as_secs_f64(),
        back.elapsed().as_secs_f64()
    );
    assert_eq!(refused.load(Ordering::SeqCst), 0, "plain clients refused");
    assert_eq!(links_refused.load(Ordering::SeqCst), 0, "links refused");
    for link in &links {
        let state = link.state();
        assert!(
            matches!(state, LinkState::Connected { .. }),
            "a link is {state:?}"
        );
        let snap = link.snapshot().await.unwrap();
        // Refused by the plant would show as a 503 in the last error or an `error` counted.
        assert_eq!(snap.counters.server_errors, 0, "{:?}", snap.counters);
    }
    assert_eq!(plant.connections(), LINKS + PLAIN);

    for task in plain.into_iter().chain(watchers) {
        task.abort();
    }
    for link in links {
        link.shutdown().await;
    }
    plant.shutdown().await;
}
