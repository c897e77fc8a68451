//! Filling the record from the plant: the parts of a trend's range the desk did not see (it
//! was closed, or not yet installed) are asked of a level-1 server that serves `history`,
//! imported, and marked as seen so they are asked once. Recent gaps are asked per second (the
//! plant keeps every reading for two hours), older ones per minute; newest first, and no
//! further back than the plant's history begins.

use super::desk_record::DeskRecord;
use brewdeck_link::{HistoryRequest, Link, LinkError};
use brewdeck_protocol::{EndpointId, Timestamp, HISTORY_MAX_ENDPOINTS, HISTORY_MAX_POINTS};
use brewdeck_store::Point;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const MINUTE_MS: i64 = 60_000;
const SECOND_MS: i64 = 1_000;
/// Gaps this recent are asked per second, what the desk itself keeps for its recent past.
const SECONDS_WITHIN_MS: i64 = 2 * 3_600_000;
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

/// The gaps of `[from, to)` worth asking, each with the endpoints of `wanted` that lack it:
/// not seen under the source, nor fetched for that endpoint alone.
fn wanted_gaps(
    reader: &brewdeck_store::Reader,
    source: &str,
    from_ms: i64,
    to_ms: i64,
    wanted: &[EndpointId],
) -> Vec<(i64, i64, Vec<EndpointId>)> {
    let gaps = reader.gaps(source, from_ms, to_ms).unwrap_or_default();
    gaps.into_iter()
        .filter(|(a, b)| b - a >= SMALLEST_GAP_MS)
        .filter_map(|(a, b)| {
            let lacking: Vec<EndpointId> = wanted
                .iter()
                .filter(|e| {
                    reader
                        .gaps(&endpoint_key(source, e), a, b)
                        .is_ok_and(|g| g.iter().any(|(x, y)| y - x >= SMALLEST_GAP_MS))
                })
                .cloned()
                .collect();
            (!lacking.is_empty()).then_some((a, b, lacking))
        })
        .collect()
}

fn settled(to_ms: i64, now_ms: i64) -> i64 {
    to_ms.min(now_ms.saturating_sub(SETTLED_MS))
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
    let to_ms = settled(to_ms, now_ms);
    if to_ms.saturating_sub(from_ms) < SMALLEST_GAP_MS {
        return Vec::new();
    }
    wanted_gaps(&reader, source, from_ms, to_ms, wanted)
        .into_iter()
        .map(|(a, b, lacking)| {
            if catalog.len() <= WHOLE_CATALOG && !catalog.is_empty() {
                // The whole catalog, so the range is asked once for every endpoint.
                Piece {
                    from_ms: a,
                    to_ms: b,
                    endpoints: catalog.to_vec(),
                    seen_as: vec![source.to_owned()],
                }
            } else {
                // Too many (or no catalog yet): those asked, each seen under its own key.
                Piece {
                    from_ms: a,
                    to_ms: b,
                    seen_as: lacking.iter().map(|e| endpoint_key(source, e)).collect(),
                    endpoints: lacking,
                }
            }
        })
        .collect()
}

/// Whether the record lacks some of `[from, to)` worth asking for these endpoints (blocking,
/// cheap: it reads the seen ranges only). A trend asks this first, and for the catalog only
/// when it is true.
pub fn worth_asking(
    record: &DeskRecord,
    memory: &FillMemory,
    source: &str,
    from_ms: i64,
    to_ms: i64,
    wanted: &[EndpointId],
) -> bool {
    if !memory.may_try(source) {
        return false;
    }
    let to_ms = settled(to_ms, Timestamp::now().unix_millis());
    if to_ms.saturating_sub(from_ms) < SMALLEST_GAP_MS {
        return false;
    }
    record
        .reader()
        .is_some_and(|r| !wanted_gaps(&r, source, from_ms, to_ms, wanted).is_empty())
}

/// Points one answer may hold and still fit a client's frame (1 MiB): a point is about 90
/// bytes of JSON. Past it the plant would answer coarser than asked.
const POINTS_PER_ANSWER: i64 = 8000;

/// The next request of a group, going back from `to`: its start and the buckets it asks for,
/// at `width` per bucket, at most 8000 points for the group and 4999 buckets (a span on whole
/// widths touches no more buckets than it has; one more is allowed for).
fn next_span(start: i64, to: i64, width: i64, group: usize) -> (i64, u32) {
    let buckets =
        (POINTS_PER_ANSWER / group.max(1) as i64).clamp(1, i64::from(HISTORY_MAX_POINTS) - 1);
    let from = to.saturating_sub(buckets.saturating_mul(width)).max(start);
    let asked = (to - from + width - 1) / width + 1;
    (
        from,
        u32::try_from(asked.min(i64::from(HISTORY_MAX_POINTS))).unwrap_or(HISTORY_MAX_POINTS),
    )
}

/// Starts filling what the record lacks of a trend's range, unless a fill is running, the
/// source cannot answer, or nothing is missing. Returns whether a fill is under way: then
/// `done` is called when it ends, with whether anything was kept.
#[allow(clippy::too_many_arguments)]
pub async fn start_fill(
    link: Link,
    record: DeskRecord,
    memory: FillMemory,
    source: watch::Receiver<String>,
    from_ms: i64,
    to_ms: i64,
    wanted: Vec<EndpointId>,
    catalog: Vec<EndpointId>,
    done: impl FnOnce(bool) + Send + 'static,
) -> bool {
    if record.filling().load(Ordering::Acquire) {
        return true;
    }
    let name = source.borrow().clone();
    if !memory.may_try(&name) {
        return false;
    }
    let now_ms = Timestamp::now().unix_millis();
    let pieces = {
        let (record, name) = (record.clone(), name.clone());
        tokio::task::spawn_blocking(move || {
            missing(&record, &name, from_ms, to_ms, &wanted, &catalog, now_ms)
        })
        .await
        .unwrap_or_default()
    };
    if pieces.is_empty() || record.filling().swap(true, Ordering::AcqRel) {
        return !pieces.is_empty();
    }
    tokio::spawn(async move {
        let fill = Fill {
            link: &link,
            record: &record,
            memory: &memory,
            source: &source,
            name: &name,
        };
        let mut kept = fill.pieces(pieces, now_ms).await;
        let flushed = record.clone();
        let written = tokio::task::spawn_blocking(move || flushed.flush()).await;
        if !matches!(written, Ok(Ok(()))) {
            // Not written (a full disk): not kept, and not asked again at once.
            memory.failed(&name, false);
            kept = false;
        }
        record.filling().store(false, Ordering::Release);
        done(kept);
    });
    true
}

struct Fill<'a> {
    link: &'a Link,
    record: &'a DeskRecord,
    memory: &'a FillMemory,
    source: &'a watch::Receiver<String>,
    name: &'a str,
}

impl Fill<'_> {
    /// Newest piece first: the recent past is what an operator looks at.
    async fn pieces(&self, mut pieces: Vec<Piece>, now_ms: i64) -> bool {
        pieces.sort_by_key(|p| std::cmp::Reverse(p.to_ms));
        let mut kept = false;
        for piece in pieces {
            match self.piece(&piece, now_ms).await {
                Some(any) => kept |= any,
                None => break,
            }
        }
        kept
    }

    /// Asks one piece, group by group, newest first; marks it seen when every group is in.
    /// `None` when the fill must stop (the server moved or cannot answer).
    async fn piece(&self, piece: &Piece, now_ms: i64) -> Option<bool> {
        let res = if piece.from_ms >= now_ms - SECONDS_WITHIN_MS {
            SECOND_MS
        } else {
            MINUTE_MS
        };
        let start = piece.from_ms.div_euclid(res) * res;
        let end = piece.to_ms.saturating_add(res - 1).div_euclid(res) * res;
        let mut kept = false;
        for group in piece.endpoints.chunks(HISTORY_MAX_ENDPOINTS) {
            let mut to = end;
            // Widens to what the plant answers at (per minute or per hour further back).
            let mut width = res;
            while to > start {
                let (from, max_points) = next_span(start, to, width, group.len());
                let (Some(f), Some(t)) = (
                    Timestamp::from_unix_millis(from),
                    Timestamp::from_unix_millis(to),
                ) else {
                    return None;
                };
                let request = HistoryRequest {
                    endpoint_ids: group.to_vec(),
                    from: f,
                    to: t,
                    max_points: Some(max_points),
                };
                let answer =
                    match tokio::time::timeout(ANSWER_WAIT, self.link.history(request)).await {
                        Ok(Ok(answer)) => answer,
                        Ok(Err(LinkError::Unsupported(_))) => {
                            self.memory.failed(self.name, true);
                            return None;
                        }
                        Ok(Err(e)) => {
                            tracing::info!(error = %e, "history from the plant: not now");
                            self.memory.failed(self.name, false);
                            return None;
                        }
                        Err(_) => {
                            tracing::info!("history from the plant: no answer in time");
                            self.memory.failed(self.name, false);
                            return None;
                        }
                    };
                if *self.source.borrow() != self.name {
                    // The desk moved to another server meanwhile: this answer is not its.
                    return None;
                }
                let writer = self.record.writer()?;
                let bucket_ms = i64::try_from(answer.bucket_ms)
                    .unwrap_or(MINUTE_MS)
                    .max(res);
                tracing::info!(
                    from = %answer.from,
                    to = %answer.to,
                    bucket_ms,
                    points = answer.series.iter().map(|s| s.points.len()).sum::<usize>(),
                    complete = answer.complete,
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
                        kept = true;
                        writer.import(
                            self.name,
                            &series.endpoint_id.to_string(),
                            bucket_ms,
                            points,
                        );
                    }
                }
                if !answer.complete {
                    // The plant's history begins after `from`: nothing older to ask.
                    break;
                }
                width = bucket_ms;
                to = from;
            }
        }
        // Every group asked and answered: what the plant has of it is here now, whatever it
        // had, so it is not asked again. (A piece cut short is asked again next time; imports
        // never count a bucket twice.)
        let writer = self.record.writer()?;
        for key in &piece.seen_as {
            writer.mark_covered(key, piece.from_ms, piece.to_ms);
        }
        Some(kept)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn spans_go_back_in_whole_widths_and_fit_a_frame() {
        let start = 1_699_999_980_000;
        let week = 7 * 86_400_000;
        for (group, width) in [
            (20usize, MINUTE_MS),
            (11, MINUTE_MS),
            (1, MINUTE_MS),
            (20, SECOND_MS),
            (20, 3_600_000),
        ] {
            let mut to = start + week;
            let mut covered = 0;
            let mut asked = 0;
            while to > start {
                let (from, max_points) = next_span(start, to, width, group);
                assert!(from < to && from >= start);
                let buckets = (to - from + width - 1) / width;
                assert!(
                    i64::from(max_points) > buckets,
                    "one bucket more is allowed for"
                );
                assert!(max_points <= HISTORY_MAX_POINTS);
                assert!(
                    buckets * group as i64 <= POINTS_PER_ANSWER.max(group as i64),
                    "fits a frame"
                );
                covered += to - from;
                asked += 1;
                to = from;
            }
            assert_eq!(
                covered, week,
                "the spans cover the week exactly ({group}, {width})"
            );
            assert!(
                asked
                    <= 7 * 86_400_000 / (width * (POINTS_PER_ANSWER / group as i64).min(4999)) + 1
            );
        }
    }
}
