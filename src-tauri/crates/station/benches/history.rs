//! History's figures (issue 15), written to `$BENCH_DIR/history.json` (default
//! `target/bench/history.json`). Prints figures; asserts nothing about speed.
//!
//! - `history_query_30d_ms`: a plant whose store holds 30 days of 500 endpoints at 1 Hz (filled
//!   by `brewdeck_store::fill`, kept in target/bench/ and reused) answers 200 `history_query` of
//!   one endpoint, 30 days, 1000 points, over a real socket: p99 of the round trip.
//! - `desk_trend_30d_ms`: the same query from a desk's record (per-second fine tier), through
//!   `DeskRecord::trend` as the app's `trend` command runs it: p99.
//! - `history_ingest_per_s`: a plant with a store on disk floods 500 endpoints × 100 Hz
//!   (50 000 readings/s) for 60 s while a client follows every one: readings stored per second
//!   (counted in the store afterwards), and `history_fanout_per_s`, readings the client got.
//! - `store_bytes_per_endpoint_day_1hz`: a desk's record of a month of 1 Hz readings, per
//!   endpoint and day (its 24 h of per-second buckets included).
//! - The demo plant (31 endpoints at 4 Hz): a record of 2 days and one of 30; the difference is
//!   what each further day costs (`store_bytes_per_endpoint_day_demo`, per-minute and per-hour
//!   buckets), the rest is the fixed cost of the last 24 h per second (`store_fixed_demo_mb`).
//!   `store_cap_days_demo`: days the default size cap holds, counting every day at per-minute
//!   resolution (the record keeps per-minute buckets 35 days only: a lower bound).
//!
//! cargo bench -p brewdeck-station --bench history   (HISTORY_INGEST_S shortens the flood)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use brewdeck_plant::{start, Flood, PlantConfig};
use brewdeck_protocol::*;
use brewdeck_station::record::desk_record::DEFAULT_SIZE_CAP_MIB;
use brewdeck_station::record::view::{Retention, TrendQuery};
use brewdeck_station::record::DeskRecord;
use brewdeck_store::fill::{bulk_fill, FillSpec};
use brewdeck_store::{Fine, Location, Query, Store, StoreConfig};
use futures_util::{SinkExt, StreamExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const ENDPOINTS: usize = 500;
const DAYS: f64 = 30.0;
const QUERIES: usize = 200;
const DAY_MS: i64 = 86_400_000;
const TOKEN: &str = "bench-history-token";

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .unwrap()
        .ancestors()
        .nth(3)
        .unwrap()
        .to_path_buf()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Opens a store once and prunes it to its retention, so a reused file is measured in its
/// steady state (a store opened after a while away first deletes what expired meanwhile).
fn pruned(config: StoreConfig) {
    let store = Store::open(config).unwrap().store;
    store.prune().unwrap();
}

/// A filled store at `path`, made once: (seconds filling took, or 0 when reused).
fn filled(path: &Path, fine: Fine, endpoints: usize, days: f64, hz: f64, source: &str) -> f64 {
    if path.exists() {
        return 0.0;
    }
    let mut spec = FillSpec::new(fine, endpoints, days, hz);
    spec.source = source.to_owned();
    let report = bulk_fill(path, &spec).unwrap();
    println!(
        "filled {} ({} endpoints x {days} d x {hz} Hz = {} readings) in {:.1} s: {:.0} MB",
        path.display(),
        endpoints,
        report.readings,
        report.seconds,
        report.bytes as f64 / 1e6
    );
    report.seconds
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn client(url: &str) -> Ws {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = ClientMessage::Hello(Hello {
        protocol: PROTOCOL_V1.into(),
        last_seq: None,
    });
    ws.send(Message::text(encode(&hello).unwrap()))
        .await
        .unwrap();
    ws
}

async fn answer(ws: &mut Ws, id: &str) -> History {
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            match decode_server(t.as_str()).unwrap() {
                ServerMessage::History(h) if h.request_id == id => return h,
                ServerMessage::Error(e) if e.request_id.as_deref() == Some(id) => panic!("{e:?}"),
                _ => {}
            }
        }
    }
}

fn plant_config(data_dir: &Path) -> PlantConfig {
    let mut c = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new(TOKEN).unwrap());
    c.data_dir = Some(data_dir.to_owned());
    // The bench asks back to back: no rate limit in the way.
    c.limits.messages_per_second = 10_000.0;
    c.limits.message_burst = 10_000.0;
    c
}

async fn plant_queries(bench: &Path) -> (f64, f64, f64) {
    let dir = bench.join("history-plant-30d");
    std::fs::create_dir_all(&dir).unwrap();
    let fill_s = filled(
        &dir.join("plant.sqlite3"),
        Fine::EveryReading,
        ENDPOINTS,
        DAYS,
        1.0,
        "",
    );
    pruned(StoreConfig::plant(Location::File(
        dir.join("plant.sqlite3"),
    )));
    let plant = start(plant_config(&dir)).await.unwrap();
    let mut ws = client(&plant.ws_url()).await;
    let mut times = Vec::new();
    let mut rng = 7u64;
    for i in 0..QUERIES {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let endpoint = FillSpec::endpoint((rng >> 33) as usize % ENDPOINTS);
        let now = Timestamp::now().unix_millis();
        let id = format!("b{i}");
        let query = ClientMessage::HistoryQuery(HistoryQuery {
            request_id: id.clone(),
            endpoint_ids: vec![endpoint.as_str().into()],
            from: Timestamp::from_unix_millis(now - 30 * DAY_MS).unwrap(),
            to: Timestamp::from_unix_millis(now).unwrap(),
            max_points: Some(1000),
        });
        let began = Instant::now();
        ws.send(Message::text(encode(&query).unwrap()))
            .await
            .unwrap();
        let h = answer(&mut ws, &id).await;
        times.push(began.elapsed().as_secs_f64() * 1000.0);
        assert!(
            h.series[0].points.len() > 600,
            "{} points",
            h.series[0].points.len()
        );
    }
    times.sort_by(f64::total_cmp);
    plant.shutdown().await;
    (percentile(&times, 0.99), percentile(&times, 0.5), fill_s)
}

fn desk_trends(bench: &Path) -> (f64, f64, u64) {
    let dir = bench.join("history-desk-30d");
    std::fs::create_dir_all(&dir).unwrap();
    filled(
        &dir.join("brewdeck.sqlite3"),
        Fine::PerSecond,
        ENDPOINTS,
        DAYS,
        1.0,
        "bench",
    );
    let mut config = StoreConfig::desk(Location::File(dir.join("brewdeck.sqlite3")));
    config.size_cap_bytes = 64 << 30;
    pruned(config);
    let record = DeskRecord::open(
        &dir,
        Retention {
            minute_days: 35,
            size_cap_mib: 64 * 1024,
        },
    );
    let mut times = Vec::new();
    for i in 0..QUERIES {
        let now = Timestamp::now().unix_millis();
        let q = TrendQuery {
            endpoint_ids: vec![FillSpec::endpoint((i * 37) % ENDPOINTS).as_str().into()],
            from_ms: now - 30 * DAY_MS,
            to_ms: now,
            max_points: 1000,
        };
        let began = Instant::now();
        let a = record.trend("bench", &q).unwrap();
        times.push(began.elapsed().as_secs_f64() * 1000.0);
        assert!(a.series[0].t.len() > 600);
    }
    times.sort_by(f64::total_cmp);
    let bytes = record.view().bytes;
    record.close();
    (percentile(&times, 0.99), percentile(&times, 0.5), bytes)
}

/// The file size of a desk's record of `days` of `endpoints` at `hz`.
fn record_bytes(bench: &Path, name: &str, endpoints: usize, days: f64, hz: f64) -> f64 {
    let path = bench.join(name);
    let _ = std::fs::remove_file(&path);
    filled(&path, Fine::PerSecond, endpoints, days, hz, "bench");
    let bytes = std::fs::metadata(&path).unwrap().len();
    let _ = std::fs::remove_file(&path);
    bytes as f64
}

async fn ingest(seconds: u64) -> (f64, f64, u64) {
    let dir = tempfile::tempdir_in(target_dir()).unwrap();
    let mut config = plant_config(dir.path());
    config.flood = Some(Flood {
        endpoints: ENDPOINTS,
        rate_hz: 100.0,
    });
    let plant = start(config).await.unwrap();
    let mut ws = client(&plant.ws_url()).await;
    let ids: Vec<EndpointId> = loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            if let Ok(ServerMessage::Snapshot(s)) = decode_server(t.as_str()) {
                break s
                    .catalog
                    .into_iter()
                    .filter(|e| e.area == "Flood")
                    .map(|e| e.id)
                    .collect();
            }
        }
    };
    assert_eq!(ids.len(), ENDPOINTS);
    let sub = ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: ids.clone(),
    });
    ws.send(Message::text(encode(&sub).unwrap())).await.unwrap();
    let began_ms = Timestamp::now().unix_millis();
    let began = Instant::now();
    let mut received = 0u64;
    while began.elapsed() < Duration::from_secs(seconds) {
        if let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::from_secs(1), ws.next()).await
        {
            if t.as_str().starts_with("{\"type\":\"telemetry\"") {
                received += 1;
            }
        }
    }
    let ended_ms = Timestamp::now().unix_millis();
    let elapsed = began.elapsed().as_secs_f64();
    drop(ws);
    plant.shutdown().await;
    // Count what the store kept of the window: one bucket per endpoint over it.
    let store = Store::open(StoreConfig::plant(Location::File(
        dir.path().join("plant.sqlite3"),
    )))
    .unwrap()
    .store;
    let reader = store.reader();
    let mut stored = 0u64;
    for chunk in ids.chunks(50) {
        let a = reader
            .query(&Query {
                source: String::new(),
                endpoints: chunk.iter().map(ToString::to_string).collect(),
                from_ms: began_ms,
                to_ms: ended_ms,
                max_points: 5000,
                min_bucket_ms: 0,
            })
            .unwrap();
        stored += a
            .series
            .iter()
            .flat_map(|s| &s.points)
            .map(|p| p.n)
            .sum::<u64>();
    }
    let dropped = store.status().borrow().dropped;
    (stored as f64 / elapsed, received as f64 / elapsed, dropped)
}

#[tokio::main]
async fn main() {
    let bench = target_dir().join("bench");
    std::fs::create_dir_all(&bench).unwrap();
    let out = std::env::var("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| bench.clone());
    let seconds: u64 = std::env::var("HISTORY_INGEST_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);

    let (plant_p99, plant_p50, fill_s) = plant_queries(&bench).await;
    println!("history_query_30d: p99 {plant_p99:.1} ms, p50 {plant_p50:.1} ms");
    let (desk_p99, desk_p50, desk_bytes) = desk_trends(&bench);
    println!(
        "desk_trend_30d: p99 {desk_p99:.1} ms, p50 {desk_p50:.1} ms ({:.0} MB record)",
        desk_bytes as f64 / 1e6
    );
    let per_day_1hz =
        record_bytes(&bench, "history-bytes-1hz.sqlite3", 100, DAYS, 1.0) / (100.0 * DAYS);
    // The demo plant: 31 endpoints, every value at 4 Hz.
    let short = record_bytes(&bench, "history-bytes-demo-2d.sqlite3", 31, 2.0, 4.0);
    let long = record_bytes(&bench, "history-bytes-demo-30d.sqlite3", 31, DAYS, 4.0);
    let per_day = (long - short) / (DAYS - 2.0);
    let fixed = short - 2.0 * per_day;
    let per_day_demo = per_day / 31.0;
    let cap = (u64::from(DEFAULT_SIZE_CAP_MIB) << 20) as f64;
    let cap_days = (cap - fixed) / per_day;
    println!("store bytes per endpoint-day: {per_day_1hz:.0} at 1 Hz; the demo plant: {per_day_demo:.0} a further day, {:.0} MB fixed (24 h per second); the default cap holds at least {cap_days:.0} days of it", fixed / 1e6);
    let (ingest_per_s, fanout_per_s, dropped) = ingest(seconds).await;
    println!("ingest: {ingest_per_s:.0} readings/s stored, {fanout_per_s:.0}/s to the client, {dropped} dropped");

    let figures = serde_json::json!({
        "history_query_30d_ms": plant_p99,
        "history_query_30d_p50_ms": plant_p50,
        "history_fill_s": fill_s,
        "desk_trend_30d_ms": desk_p99,
        "desk_trend_30d_p50_ms": desk_p50,
        "history_ingest_per_s": ingest_per_s,
        "history_fanout_per_s": fanout_per_s,
        "history_ingest_dropped": dropped,
        "store_bytes_per_endpoint_day_1hz": per_day_1hz,
        "store_bytes_per_endpoint_day_demo": per_day_demo,
        "store_cap_days_demo": cap_days,
        "store_fixed_demo_mb": fixed / 1e6,
    });
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("history.json"),
        serde_json::to_string_pretty(&figures).unwrap(),
    )
    .unwrap();
    println!("wrote {}", out.join("history.json").display());
}
