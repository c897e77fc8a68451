//! Ingest rate: telemetry messages per second decoded and applied to the link's model, beside
//! a bare tokio-tungstenite + serde_json read loop over the same stream. Prints both and the
//! ratio (target: the link at 0.8 or more of the bare loop).
//!
//! `cargo bench -p brewdeck-link --bench ingest` (release). `INGEST_MESSAGES` sets the stream
//! length (default 400 000). The figures also go to `target/bench/ingest.json` (for
//! `benches/run.sh`; `BENCH_DIR` overrides the folder).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/figures.rs"]
mod figures;

use brewdeck_link::{Link, LinkConfig, LinkEvent, MemoryTokenStore, ServerUrl};
use brewdeck_protocol::{decode_server, EndpointId, ServerMessage, Token};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const ENDPOINTS: u64 = 100;
const TOKEN: &str = "bench-token";

/// The stream every client gets: `connected` (level 0), the telemetry, then an `error` frame
/// that marks the end.
fn stream(messages: usize) -> Arc<Vec<Utf8Bytes>> {
    let mut frames = Vec::with_capacity(messages + 2);
    frames.push(Utf8Bytes::from(
        r#"{"type":"connected","clientId":"bench"}"#,
    ));
    for i in 0..messages {
        let id = (i as u64 % ENDPOINTS) + 1;
        let value = 60.0 + (i % 1000) as f64 / 100.0;
        frames.push(Utf8Bytes::from(format!(
            r#"{{"type":"telemetry","endpointId":{id},"value":{value},"timestamp":"2026-11-23T06:00:00.000Z","quality":"good"}}"#
        )));
    }
    frames.push(Utf8Bytes::from(
        r#"{"type":"error","message":"end of stream"}"#,
    ));
    Arc::new(frames)
}

/// A server on its own thread and runtime, so it does not share the client's scheduler.
fn server(frames: Arc<Vec<Utf8Bytes>>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("ws://{}/ws", listener.local_addr().unwrap()))
                .unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                let frames = frames.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    for f in frames.iter() {
                        if ws.feed(Message::Text(f.clone())).await.is_err() {
                            return;
                        }
                    }
                    let _ = ws.flush().await;
                    // Hold the socket until the client leaves.
                    while let Some(Ok(_)) = ws.next().await {}
                });
            }
        });
    });
    rx.recv().unwrap()
}

async fn bare(url: &str, messages: usize) -> Duration {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut count = 0usize;
    let mut start = None;
    while let Some(Ok(frame)) = ws.next().await {
        if let Message::Text(text) = frame {
            match decode_server(text.as_str()).unwrap() {
                ServerMessage::Telemetry(t) => {
                    start.get_or_insert_with(Instant::now);
                    std::hint::black_box(t);
                    count += 1;
                }
                ServerMessage::Error(_) => break,
                _ => {}
            }
        }
    }
    assert_eq!(count, messages);
    start.unwrap().elapsed()
}

async fn link(url: &str, messages: usize) -> Duration {
    let mut config = LinkConfig::new(ServerUrl::parse(url, false).unwrap());
    config.connect_on_start = false;
    let link = Link::spawn(config, Arc::new(MemoryTokenStore::new(Token::new(TOKEN)))).unwrap();
    link.subscribe((1..=ENDPOINTS).map(EndpointId::from).collect())
        .await
        .unwrap();
    let mut events = link.events();
    link.connect().await.unwrap();
    let mut count = 0usize;
    let mut start = None;
    loop {
        match events.recv().await {
            Ok(LinkEvent::Readings { readings }) => {
                start.get_or_insert_with(Instant::now);
                count += readings.len();
            }
            Ok(LinkEvent::ServerError { .. }) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let elapsed = start.unwrap().elapsed();
    let snapshot = link.snapshot().await.unwrap();
    assert_eq!(snapshot.readings.len(), ENDPOINTS as usize);
    assert_eq!(count, messages);
    link.shutdown().await;
    elapsed
}

fn rate(messages: usize, d: Duration) -> f64 {
    messages as f64 / d.as_secs_f64()
}

fn main() {
    brewdeck_link::install_crypto_provider();
    let messages: usize = std::env::var("INGEST_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000);
    let url = server(stream(messages));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut bare_rates = Vec::new();
    let mut link_rates = Vec::new();
    rt.block_on(async {
        // Warm up both paths once, then alternate so drift hits both alike.
        bare(&url, messages).await;
        link(&url, messages).await;
        for _ in 0..5 {
            bare_rates.push(rate(messages, bare(&url, messages).await));
            link_rates.push(rate(messages, link(&url, messages).await));
        }
    });
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let b = median(&mut bare_rates);
    let l = median(&mut link_rates);
    println!("ingest: {messages} telemetry messages, {ENDPOINTS} endpoints, median of 5 runs");
    println!("  bare tokio-tungstenite + serde_json: {:>12.0} msg/s", b);
    println!("  brewdeck-link (decode, model, event): {:>12.0} msg/s", l);
    println!("  ratio link/bare: {:.2} (target >= 0.80)", l / b);
    figures::write(
        "ingest",
        &serde_json::json!({
            "ingest_ratio": l / b,
            "ingest_link_msg_per_s": l,
            "ingest_bare_msg_per_s": b,
            "ingest_messages": messages,
        }),
    );
}
