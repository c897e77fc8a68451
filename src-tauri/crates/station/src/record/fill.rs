//! Filling the record from the plant: the parts of a trend's range the desk did not see (it
//! was closed, or not yet installed) are asked of a level-1 server that serves `history`, at
//! per-minute resolution, imported, and marked as seen so they are asked once.

use super::desk_record::DeskRecord;
use brewdeck_link::{HistoryRequest, Link, LinkError};
use brewdeck_protocol::{EndpointId, Timestamp, HISTORY_MAX_ENDPOINTS, HISTORY_MAX_POINTS};
use brewdeck_store::Point;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Per-minute buckets are what the desk asks for.
const MINUTE_MS: i64 = 60_000;
/// The most recent minute is still being recorded: never asked.
const SETTLED_MS: i64 = MINUTE_MS;
/// A hole shorter than this is drawn as a gap rather than asked for.
const SMALLEST_GAP_MS: i64 = MINUTE_MS;
/// A catalog this small is fetched whole, so a range is asked once for every endpoint.
const WHOLE_CATALOG: usize = 100;
/// How long one answer is awaited.
const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// After a failed fill, no other starts for this long (a trend re-asked every second must not
/// hammer a plant that cannot answer).
const AFTER_FAILURE: Duration = Duration::from_secs(30);

/// What the filler remembers between trends: sources that do not serve history (until they
/// sync again), and when the last fill failed.
#[derive(Debug, Default, Clone)]
pub struct FillMemory {
    inner: Arc<Mutex<Memory>>,
}

#[derive(Debug, Default)]
struct Memory {
    unsupported: HashMap<String, ()>,
    failed_at: Option<Instant>,
}

impl FillMemory {
    /// A source synced again: it may serve history now.
    pub fn forget(&self, source: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.unsupported.remove(source);
        m.failed_at = None;
    }

    fn may_try(&self, source: &str) -> bool {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        !m.unsupported.contains_key(source)
            && m.failed_at.is_none_or(|at| at.elapsed() >= AFTER_FAILURE)
    }

    fn failed(&self, source: &str, unsupported: bool) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if unsupported {
            m.unsupported.insert(source.to_owned(), ());
        } else {
            m.failed_at = Some(Instant::now());
        }
    }
}

/// The seen-ranges key of one endpoint, for a catalog too big to fetch whole.
fn endpoint_key(source: &str, endpoint: &EndpointId) -> String {
    format!("{source}\u{1f}{endpoint}")
}

/// One piece of work: a range, the endpoints to ask, and under which key it is then seen.
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    from_ms: i64,
    to_ms: i64,
    endpoints: Vec<EndpointId>,
    seen_as: Vec<String>,
}

/// What the record lacks of `[from, to)` for these endpoints (blocking: reads the record).
fn missing(
    record: &DeskRecord,
    source: &str,
    from_ms: i64,
    to_ms: i64,
    wanted: &[EndpointId],
    catalog: &[EndpointId],
    now_ms: i64,
) -> Vec<Piece> {
    let Some(reader) = record.reader() else {
        return Vec::new();
    };
    let to_ms = to_ms.min(now_ms - SETTLED_MS);
    if to_ms - from_ms < SMALLEST_GAP_MS {
        return Vec::new();
    }
    let gaps = reader.gaps(source, from_ms, to_ms).unwrap_or_default();
    let mut pieces = Vec::new();
    for (g_from, g_to) in gaps.into_iter().filter(|(a, b)| b - a >= SMALLEST_GAP_MS) {
        if catalog.len() <= WHOLE_CATALOG && !catalog.is_empty() {
            pieces.push(Piece {
                from_ms: g_from,
                to_ms: g_to,
                endpoints: catalog.to_vec(),
                seen_as: vec![source.to_owned()],
            });
            continue;
        }
        // Too many to fetch all: only the endpoints asked, each seen under its own key.
        let endpoints: Vec<EndpointId> = wanted
            .iter()
            .filter(|e| {
                reader
                    .gaps(&endpoint_key(source, e), g_from, g_to)
                    .is_ok_and(|g| g.iter().any(|(a, b)| b - a >= SMALLEST_GAP_MS))
            })
            .cloned()
            .collect();
        if !endpoints.is_empty() {
            pieces.push(Piece {
                from_ms: g_from,
                to_ms: g_to,
                seen_as: endpoints.iter().map(|e| endpoint_key(source, e)).collect(),
                endpoints,
            });
        }
    }
    pieces
}

/// Whether the record lacks some of `[from, to)` worth asking for (blocking, cheap: it reads
/// the seen ranges only). A trend asks this first, and the catalog only when it is true.
pub fn worth_asking(
    record: &DeskRecord,
    memory: &FillMemory,
    source: &str,
    from_ms: i64,
    to_ms: i64,
) -> bool {
    if !memory.may_try(source) {
        return false;
    }
    let to_ms = to_ms.min(Timestamp::now().unix_millis() - SETTLED_MS);
    if to_ms - from_ms < SMALLEST_GAP_MS {
        return false;
    }
    record
        .reader()
        .and_then(|r| r.gaps(source, from_ms, to_ms).ok())
        .is_some_and(|g| g.iter().any(|(a, b)| b - a >= SMALLEST_GAP_MS))
}

/// Points one answer may hold and still fit a client's frame (1 MiB) at per-minute
/// resolution: a point is about 90 bytes of JSON. Past it the plant would answer coarser.
const POINTS_PER_ANSWER: i64 = 8000;

/// Splits a piece into requests the plant takes and answers per minute: at most 20 endpoints,
/// 4999 minutes (buckets are aligned on the minute, so a span may touch one more bucket than
/// it has minutes) and about 8000 points each.
fn requests(piece: &Piece) -> Vec<HistoryRequest> {
    let mut out = Vec::new();
    // On whole minutes: the answer's buckets are then exactly the minutes asked.
    let start = piece.from_ms.div_euclid(MINUTE_MS) * MINUTE_MS;
    let end = (piece.to_ms + MINUTE_MS - 1).div_euclid(MINUTE_MS) * MINUTE_MS;
    for group in piece.endpoints.chunks(HISTORY_MAX_ENDPOINTS) {
        let minutes_each =
            (POINTS_PER_ANSWER / group.len() as i64).clamp(1, i64::from(HISTORY_MAX_POINTS) - 1);
        let mut from = start;
        while from < end {
            let to = (from + minutes_each * MINUTE_MS).min(end);
            if let (Some(f), Some(t)) = (
                Timestamp::from_unix_millis(from),
                Timestamp::from_unix_millis(to),
            ) {
                let minutes = (to - from + MINUTE_MS - 1) / MINUTE_MS + 1;
                out.push(HistoryRequest {
                    endpoint_ids: group.to_vec(),
                    from: f,
                    to: t,
                    max_points: u32::try_from(minutes).ok(),
                });
            }
            from = to;
        }
    }
    out
}

/// Starts filling what the record lacks of a trend's range, unless a fill is running, the
/// source cannot answer, or nothing is missing. Returns whether a fill is under way: then
/// `done` is called when it ends, with whether anything was imported.
#[allow(clippy::too_many_arguments)]
pub async fn start_fill(
    link: Link,
    record: DeskRecord,
    memory: FillMemory,
    source: String,
    from_ms: i64,
    to_ms: i64,
    wanted: Vec<EndpointId>,
    catalog: Vec<EndpointId>,
    done: impl FnOnce(bool) + Send + 'static,
) -> bool {
    if record.filling().load(Ordering::Acquire) {
        return true;
    }
    if !memory.may_try(&source) {
        return false;
    }
    let now_ms = Timestamp::now().unix_millis();
    let pieces = {
        let (record, source) = (record.clone(), source.clone());
        tokio::task::spawn_blocking(move || {
            missing(&record, &source, from_ms, to_ms, &wanted, &catalog, now_ms)
        })
        .await
        .unwrap_or_default()
    };
    if pieces.is_empty() || record.filling().swap(true, Ordering::AcqRel) {
        return !pieces.is_empty();
    }
    tokio::spawn(async move {
        let imported = fill(&link, &record, &memory, &source, pieces).await;
        let flushed = record.clone();
        let _ = tokio::task::spawn_blocking(move || flushed.flush()).await;
        record.filling().store(false, Ordering::Release);
        done(imported);
    });
    true
}

async fn fill(
    link: &Link,
    record: &DeskRecord,
    memory: &FillMemory,
    source: &str,
    pieces: Vec<Piece>,
) -> bool {
    let mut imported = false;
    for piece in pieces {
        for request in requests(&piece) {
            let answer = match tokio::time::timeout(ANSWER_WAIT, link.history(request)).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(LinkError::Unsupported(_))) => {
                    memory.failed(source, true);
                    return imported;
                }
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "history from the plant: not now");
                    memory.failed(source, false);
                    return imported;
                }
                Err(_) => {
                    tracing::info!("history from the plant: no answer in time");
                    memory.failed(source, false);
                    return imported;
                }
            };
            let Some(writer) = record.writer() else {
                return imported;
            };
            let bucket_ms = i64::try_from(answer.bucket_ms).unwrap_or(MINUTE_MS);
            tracing::info!(
                from = %answer.from,
                to = %answer.to,
                bucket_ms,
                points = answer.series.iter().map(|s| s.points.len()).sum::<usize>(),
                "history from the plant"
            );
            for series in answer.series {
                let points: Vec<Point> = series
                    .points
                    .iter()
                    .map(|p| Point {
                        t_ms: p.t.unix_millis(),
                        min: p.min,
                        max: p.max,
                        last: p.last,
                        n: p.n,
                    })
                    .collect();
                if !points.is_empty() {
                    imported = true;
                    writer.import(source, &series.endpoint_id.to_string(), bucket_ms, points);
                }
            }
        }
        // Every part asked and answered: what the plant has of it is here now, whatever it
        // had, so it is not asked again. (A piece cut short is asked again next time; imports
        // never count a bucket twice.)
        if let Some(writer) = record.writer() {
            for key in &piece.seen_as {
                writer.mark_covered(key, piece.from_ms, piece.to_ms);
            }
        }
    }
    imported
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_long_piece_is_asked_in_pieces_the_plant_takes() {
        let endpoints: Vec<EndpointId> = (0..45u64).map(Into::into).collect();
        let week = 7 * 86_400_000;
        let piece = Piece {
            from_ms: 1_699_999_980_123,
            to_ms: 1_699_999_980_123 + week,
            endpoints,
            seen_as: vec!["s".into()],
        };
        let asked = requests(&piece);
        let mut covered: HashMap<String, i64> = HashMap::new();
        for r in &asked {
            assert!(r.endpoint_ids.len() <= HISTORY_MAX_ENDPOINTS);
            let (from, to) = (r.from.unix_millis(), r.to.unix_millis());
            assert!(
                from % MINUTE_MS == 0 && to % MINUTE_MS == 0,
                "on whole minutes"
            );
            let minutes = (to - from) / MINUTE_MS;
            assert_eq!(
                r.max_points,
                Some(minutes as u32 + 1),
                "a point a minute, aligned"
            );
            assert!(
                minutes * r.endpoint_ids.len() as i64 <= POINTS_PER_ANSWER,
                "fits a frame"
            );
            for e in &r.endpoint_ids {
                *covered.entry(e.to_string()).or_default() += to - from;
            }
        }
        // Every endpoint's whole week, once, rounded out to whole minutes.
        assert_eq!(covered.len(), 45);
        assert!(
            covered.values().all(|&c| c == week + MINUTE_MS),
            "{covered:?}"
        );
    }
}
