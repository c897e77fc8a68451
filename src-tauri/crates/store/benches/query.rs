//! Query speed on a month of history: 30 days × 500 endpoints × 1 Hz, desk-style (per-second
//! fine tier) and plant-style (every reading). Fills `target/bench/store-30d.sqlite3` and
//! `target/bench/store-30d-plant.sqlite3` once (reused while present), runs 200 30-day
//! queries of one random endpoint at 1000 points (and at 5000) through `Reader::query`, and
//! writes `target/bench/store.json`. Prints figures; asserts nothing about speed.
//!
//! cargo bench -p brewdeck-store --bench query
//! (BREWDECK_STORE_BENCH_ENDPOINTS / _DAYS shrink it for a quick look; other file names.)
#![allow(clippy::unwrap_used)]

use brewdeck_store::fill::{bulk_fill, FillSpec};
use brewdeck_store::{Fine, Location, Query, Store, StoreConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

const QUERIES: usize = 200;

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/query-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

struct Figures {
    fill_s: f64,
    bytes: u64,
    p50: f64,
    p99: f64,
    p99_5000: f64,
}

fn main() {
    let endpoints = env_num("BREWDECK_STORE_BENCH_ENDPOINTS", 500.0) as usize;
    let days = env_num("BREWDECK_STORE_BENCH_DAYS", 30.0);
    let dir = target_dir().join("bench");
    let suffix = if endpoints == 500 && days == 30.0 {
        String::new()
    } else {
        format!("-{endpoints}x{days}")
    };
    let desk_path = dir.join(format!("store-30d{suffix}.sqlite3"));
    let plant_path = dir.join(format!("store-30d-plant{suffix}.sqlite3"));
    let desk = run(&desk_path, Fine::PerSecond, endpoints, days);
    let plant = run(&plant_path, Fine::EveryReading, endpoints, days);
    let per_endpoint_day = desk.bytes as f64 / (endpoints as f64 * days);
    let json = serde_json::json!({
        "store_query_30d_p99_ms": desk.p99.max(plant.p99),
        "store_query_30d_p50_ms": desk.p50.max(plant.p50),
        "store_fill_s": desk.fill_s,
        "store_bytes_per_endpoint_day_1hz": per_endpoint_day,
        "store_query_30d_5000pts_p99_ms": desk.p99_5000.max(plant.p99_5000),
        "store_query_30d_p99_ms_desk": desk.p99,
        "store_query_30d_p99_ms_plant": plant.p99,
        "store_query_30d_5000pts_p99_ms_desk": desk.p99_5000,
        "store_query_30d_5000pts_p99_ms_plant": plant.p99_5000,
        "store_fill_s_plant": plant.fill_s,
        "store_bytes_per_endpoint_day_1hz_plant": plant.bytes as f64 / (endpoints as f64 * days),
        "store_bench_endpoints": endpoints,
        "store_bench_days": days,
    });
    let out = dir.join(format!("store{suffix}.json"));
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&json).unwrap());
    println!("wrote {}", out.display());
}

fn run(path: &Path, fine: Fine, endpoints: usize, days: f64) -> Figures {
    let fill_s = if path.exists() {
        let conn = rusqlite::Connection::open(path).unwrap();
        let ms: i64 = conn
            .query_row("SELECT value FROM meta WHERE key = 'fill_ms'", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        println!(
            "reusing {} (filled in {:.1} s)",
            path.display(),
            ms as f64 / 1000.0
        );
        ms as f64 / 1000.0
    } else {
        let spec = FillSpec::new(fine, endpoints, days, 1.0);
        let report = bulk_fill(path, &spec).unwrap();
        println!(
            "filled {} in {:.1} s: {} readings, {} bytes",
            path.display(),
            report.seconds,
            report.readings,
            report.bytes
        );
        report.seconds
    };
    let mut config = match fine {
        Fine::PerSecond => StoreConfig::desk(Location::File(path.to_path_buf())),
        Fine::EveryReading => StoreConfig::plant(Location::File(path.to_path_buf())),
    };
    // Measure, never prune a bench file to a cap.
    config.size_cap_bytes = u64::MAX;
    let store = Store::open(config).unwrap().store;
    let reader = store.reader();
    let bytes = std::fs::metadata(path).unwrap().len();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut time = |max_points: usize| {
        let mut ms = Vec::with_capacity(QUERIES);
        for _ in 0..QUERIES {
            let to = now_ms();
            let q = Query {
                source: String::new(),
                endpoints: vec![FillSpec::endpoint(rng.usize(0..endpoints))],
                from_ms: to - (days * 86_400_000.0) as i64,
                to_ms: to,
                max_points,
                min_bucket_ms: 0,
            };
            let started = Instant::now();
            let answer = reader.query(&q).unwrap();
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(!answer.series[0].points.is_empty());
            assert!(answer.series[0].points.len() <= max_points);
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
        (at(0.5), at(0.99))
    };
    let (p50, p99) = time(1000);
    let (p50_5000, p99_5000) = time(5000);
    println!(
        "{:?}: 1000 points p50 {p50:.2} ms p99 {p99:.2} ms; 5000 points p50 {p50_5000:.2} ms p99 {p99_5000:.2} ms; {bytes} bytes",
        fine
    );
    Figures {
        fill_s,
        bytes,
        p50,
        p99,
        p99_5000,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
