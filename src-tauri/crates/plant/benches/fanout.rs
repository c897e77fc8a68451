//! Fan-out of the plant server: telemetry messages delivered per second to N subscribed
//! clients in flood mode. Prints figures; asserts nothing about speed.
//!
//! cargo bench -p brewdeck-plant --bench fanout -- [--clients 100] [--endpoints 500]
//!     [--rate 20] [--secs 10]
#![allow(clippy::unwrap_used)]

use brewdeck_plant::{start, ClientLimits, Flood, PlantConfig};
use brewdeck_protocol::{encode, ClientMessage, EndpointId, Subscription, Token};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = arg("--clients", 100.0) as usize;
    let endpoints = arg("--endpoints", 500.0) as usize;
    let rate = arg("--rate", 20.0);
    let secs = arg("--secs", 10.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(clients, endpoints, rate, secs));
}

async fn run(clients: usize, endpoints: usize, rate: f64, secs: f64) {
    let token = Token::new("bench-token").unwrap();
    let mut config = PlantConfig::new("127.0.0.1:0".parse().unwrap(), token);
    config.flood = Some(Flood {
        endpoints,
        rate_hz: rate,
    });
    config.limits = ClientLimits {
        max_connections: clients + 8,
        // Every bench client comes from loopback.
        max_connections_per_ip: clients + 8,
        ..ClientLimits::default()
    };
    let plant = start(config).await.unwrap();
    let url = plant.ws_url();
    // Flood endpoints follow the simulated plant's in the catalog: subscribe to all ids.
    let ids: Vec<EndpointId> = (1..=(endpoints as u64 + 200))
        .map(EndpointId::from)
        .collect();
    let subscribe = encode(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: ids,
    }))
    .unwrap();

    let counting = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let mut per_client = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Authorization", "Bearer bench-token".parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        ws.send(Message::text(subscribe.clone())).await.unwrap();
        let mine = Arc::new(AtomicU64::new(0));
        per_client.push(mine.clone());
        let (counting, total) = (counting.clone(), total.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(frame) = ws.next().await {
                match frame {
                    Ok(Message::Text(t))
                        if counting.load(Ordering::Relaxed)
                            && t.as_str().starts_with(r#"{"type":"telemetry""#) =>
                    {
                        mine.fetch_add(1, Ordering::Relaxed);
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    _ => {}
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // warm-up, not a synchronisation
    counting.store(true, Ordering::Relaxed);
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let delivered = total.load(Ordering::Relaxed) as f64;
    let mut rates: Vec<f64> = per_client
        .iter()
        .map(|c| c.load(Ordering::Relaxed) as f64 / elapsed)
        .collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    let still_connected = plant.connections();
    plant.shutdown().await;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    let offered = endpoints as f64 * rate;
    println!(
        "plant fan-out (flood mode, in-process clients, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("  clients                  {clients}");
    println!("  offered telemetry        {offered:.0} msg/s ({endpoints} endpoints x {rate} Hz)");
    println!(
        "  delivered, all clients   {:.0} msg/s ({:.1} % of offered x clients)",
        delivered / elapsed,
        100.0 * delivered / elapsed / (offered * clients as f64)
    );
    println!(
        "  per client min/median/max {:.0} / {:.0} / {:.0} msg/s",
        rates.first().unwrap_or(&0.0),
        rates.get(rates.len() / 2).unwrap_or(&0.0),
        rates.last().unwrap_or(&0.0)
    );
    println!(
        "  closed as slow consumers {} of {clients}",
        clients.saturating_sub(still_connected)
    );
}
