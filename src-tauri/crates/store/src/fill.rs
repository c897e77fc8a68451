//! Synthetic history written straight into a new store file, for benchmarks: a smooth sine
//! plus noise per endpoint (deterministic), aggregated to minutes and hours in memory and
//! bulk-inserted in series order, with fine rows only for the last `fine_retention`. Much
//! faster than the writer thread, which merges every bucket as it goes.

use crate::bucket::Acc;
use crate::config::{millis, now_ms, Fine};
use crate::ladder::bucket_start;
use crate::schema::{open_writer, set_meta_i64, Target};
use crate::store::lock;
use crate::StoreError;
use rusqlite::{params, Connection, Statement};
use std::path::Path;
use std::time::{Duration, Instant};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct FillSpec {
    pub fine: Fine,
    pub endpoints: usize,
    pub days: f64,
    /// Readings per second per endpoint.
    pub hz: f64,
    /// The history ends here (now, usually).
    pub end_ms: i64,
    pub fine_retention: Duration,
    pub source: String,
    /// The endpoints' names (ids as the plant sends them); empty: [`FillSpec::endpoint`]'s.
    pub names: Vec<String>,
}

impl FillSpec {
    /// History of `days` ending now, fine rows for the desk's 24 h or the plant's 2 h.
    pub fn new(fine: Fine, endpoints: usize, days: f64, hz: f64) -> FillSpec {
        FillSpec {
            fine,
            endpoints,
            days,
            hz,
            end_ms: now_ms(),
            fine_retention: Duration::from_secs(match fine {
                Fine::PerSecond => 24 * 3600,
                Fine::EveryReading => 2 * 3600,
            }),
            source: String::new(),
            names: Vec::new(),
        }
    }

    /// The name of the `i`th endpoint filled.
    pub fn name(&self, i: usize) -> String {
        self.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| FillSpec::endpoint(i))
    }

    /// The name of endpoint `i`.
    pub fn endpoint(i: usize) -> String {
        format!("bench/tank-{:03}/value", i)
    }
}

/// What filling did.
#[derive(Debug, Clone, PartialEq)]
pub struct FillReport {
    pub seconds: f64,
    pub bytes: u64,
    pub readings: u64,
}

/// Fills a new file at `path` (which must not exist). The store's `born_ms` is the start of
/// the history; the time taken is kept in `meta` as `fill_ms`.
pub fn bulk_fill(path: &Path, spec: &FillSpec) -> Result<FillReport, StoreError> {
    if path.exists() {
        return Err(StoreError::Open {
            path: path.to_path_buf(),
            reason: "a fill needs a new file and this one exists".into(),
        });
    }
    let started = Instant::now();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let _lock = lock(path)?;
    let mut conn = open_writer(&Target::File(path.to_path_buf()))?;
    // A half-written bench file is thrown away, so no journal and no syncs while filling.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )?;
    let step = ((1_000.0 / spec.hz).round() as i64).max(1);
    let span = (spec.days * 86_400_000.0) as i64;
    let start = bucket_start(spec.end_ms - span, 60_000);
    let fine_from = spec.end_ms - millis(spec.fine_retention);
    set_meta_i64(&conn, "born_ms", start)?;
    let mut readings = 0u64;
    for e in 0..spec.endpoints {
        let tx = conn.transaction()?;
        let id = i64::try_from(e).unwrap_or(i64::MAX) + 1;
        tx.execute(
            "INSERT INTO series(id, source, endpoint) VALUES (?1, ?2, ?3)",
            params![id, spec.source, spec.name(e)],
        )?;
        let mut sink = Sink::new(&tx, spec.fine, id)?;
        let mut wave = Wave::new(e as u64, step);
        let mut t = start;
        while t < spec.end_ms {
            let v = wave.next();
            sink.push(t, v, t >= fine_from)?;
            t += step;
            readings += 1;
        }
        sink.finish()?;
        drop(sink);
        tx.commit()?;
    }
    conn.execute_batch("PRAGMA journal_mode = WAL;")?;
    let seconds = started.elapsed().as_secs_f64();
    set_meta_i64(&conn, "fill_ms", (seconds * 1000.0) as i64)?;
    drop(conn);
    Ok(FillReport {
        seconds,
        bytes: std::fs::metadata(path)?.len(),
        readings,
    })
}

/// Where one endpoint's readings go: bucket accumulators written out as each bucket closes.
struct Sink<'c> {
    id: i64,
    fine: Fine,
    raw: Statement<'c>,
    second: Statement<'c>,
    minute: Statement<'c>,
    hour: Statement<'c>,
    open: [Option<(i64, Acc)>; 3],
}

const WIDTHS: [i64; 3] = [1_000, 60_000, 3_600_000];

impl<'c> Sink<'c> {
    fn new(conn: &'c Connection, fine: Fine, id: i64) -> rusqlite::Result<Sink<'c>> {
        let insert = |table: &str| {
            conn.prepare(&format!(
                "INSERT INTO {table}(series, t, min, max, last, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
        };
        Ok(Sink {
            id,
            fine,
            raw: conn.prepare("INSERT INTO raw(series, t, v, n) VALUES (?1, ?2, ?3, 1)")?,
            second: insert("second")?,
            minute: insert("minute")?,
            hour: insert("hour")?,
            open: [None; 3],
        })
    }

    fn push(&mut self, t: i64, v: f64, fine_too: bool) -> rusqlite::Result<()> {
        if fine_too && self.fine == Fine::EveryReading {
            self.raw.execute(params![self.id, t, v])?;
        }
        for (i, width) in WIDTHS.iter().enumerate() {
            if i == 0 && !(fine_too && self.fine == Fine::PerSecond) {
                continue;
            }
            let b = bucket_start(t, *width);
            match &mut self.open[i] {
                Some((held, acc)) if *held == b => acc.add(t, v),
                _ => {
                    self.close(i)?;
                    self.open[i] = Some((b, Acc::one(t, v)));
                }
            }
        }
        Ok(())
    }

    fn close(&mut self, i: usize) -> rusqlite::Result<()> {
        if let Some((b, acc)) = self.open[i].take() {
            let stmt = match i {
                0 => &mut self.second,
                1 => &mut self.minute,
                _ => &mut self.hour,
            };
            stmt.execute(acc.row(self.id, b))?;
        }
        Ok(())
    }

    fn finish(&mut self) -> rusqlite::Result<()> {
        (0..3).try_for_each(|i| self.close(i))
    }
}

/// A smooth sine plus noise, different per endpoint, the same every run. The sine advances
/// by rotation (no `sin` per sample): a month of 500 endpoints is 1.3 billion samples.
struct Wave {
    base: f64,
    amp: f64,
    noise: f64,
    cos: f64,
    sin: f64,
    step_cos: f64,
    step_sin: f64,
    rng: u64,
    count: u32,
}

impl Wave {
    fn new(seed: u64, step_ms: i64) -> Wave {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut unit = || {
            rng = xorshift(rng);
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        let base = 10.0 + 80.0 * unit();
        let amp = 0.5 + 10.0 * unit();
        let period_ms = 600_000.0 + 6.0 * 3_600_000.0 * unit();
        let phase = std::f64::consts::TAU * unit();
        let angle = std::f64::consts::TAU * step_ms as f64 / period_ms;
        Wave {
            base,
            amp,
            noise: amp * 0.02,
            cos: phase.cos(),
            sin: phase.sin(),
            step_cos: angle.cos(),
            step_sin: angle.sin(),
            rng,
            count: 0,
        }
    }

    fn next(&mut self) -> f64 {
        let (c, s) = (self.cos, self.sin);
        self.cos = c * self.step_cos - s * self.step_sin;
        self.sin = s * self.step_cos + c * self.step_sin;
        self.count += 1;
        if self.count.is_multiple_of(4096) {
            let norm = (self.cos * self.cos + self.sin * self.sin).sqrt();
            self.cos /= norm;
            self.sin /= norm;
        }
        self.rng = xorshift(self.rng);
        let noise = ((self.rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 * self.noise;
        // Two decimals, like a real transmitter's resolution.
        ((self.base + self.amp * s + noise) * 100.0).round() / 100.0
    }
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
