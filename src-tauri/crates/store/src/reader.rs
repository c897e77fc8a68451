//! Queries, on their own read connections (a small pool), never the writer's: a long query
//! never delays a commit, and with WAL never sees half a batch.

use crate::bucket::{Acc, Folder};
use crate::config::now_ms;
use crate::coverage;
use crate::journal;
use crate::ladder::bucket_start;
use crate::plan::{plan, Tier};
use crate::prune::first_sql;
use crate::schema::{open_reader, Target};
use crate::shared::Shared;
use crate::{Answer, Query, SeriesPoints, Stats, StoreError};
use brewdeck_protocol::{JournalEntry, JournalQuery};
use rusqlite::{Connection, OptionalExtension};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

/// Idle read connections kept for the next query.
const POOL_KEEP: usize = 4;

/// Answers queries. Cheap to clone; every call blocks on SQLite (async callers use
/// `spawn_blocking`).
#[derive(Debug, Clone)]
pub struct Reader {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: Target,
    shared: Arc<Shared>,
    pool: Mutex<Vec<Connection>>,
}

/// A pooled connection, given back when dropped.
struct Pooled<'a> {
    conn: Option<Connection>,
    inner: &'a Inner,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes it out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.inner.shared.closed.load(Ordering::Acquire) {
                return;
            }
            let mut pool = self
                .inner
                .pool
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if pool.len() < POOL_KEEP {
                pool.push(conn);
            }
        }
    }
}

impl Reader {
    pub(crate) fn new(target: Target, shared: Arc<Shared>) -> Reader {
        Reader {
            inner: Arc::new(Inner {
                target,
                shared,
                pool: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Closes idle connections (the store is going away; an in-memory database must not be
    /// kept alive by them).
    pub(crate) fn close(&self) {
        self.inner.shared.closed.store(true, Ordering::Release);
        self.inner
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        if self.inner.shared.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let held = self
            .inner
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match held {
            Some(conn) => conn,
            None => open_reader(&self.inner.target)?,
        };
        Ok(Pooled {
            conn: Some(conn),
            inner: &self.inner,
        })
    }

    /// When this store was made (or, for a filled one, where its fill began).
    pub fn born_ms(&self) -> i64 {
        self.inner.shared.born_ms
    }

    /// Where the history this store can answer begins: its earliest reading or imported
    /// bucket (which may be older than the store), or, once retention or the size cap cut
    /// its coarsest tier, that cut. A server's `complete` is `begins_ms() <= from`.
    pub fn begins_ms(&self) -> i64 {
        let shared = &self.inner.shared;
        let first = shared
            .born_ms
            .min(
                shared
                    .recorded_from_ms
                    .load(std::sync::atomic::Ordering::Relaxed),
            )
            .min(
                shared
                    .earliest_ms
                    .load(std::sync::atomic::Ordering::Relaxed),
            );
        first.max(shared.pruned_ms[2].load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Buckets of the asked endpoints over `[from_ms, to_ms)`; see [`crate::plan`] for how
    /// the width and tier are chosen. An unknown source or endpoint answers with no points.
    pub fn query(&self, q: &Query) -> Result<Answer, StoreError> {
        if q.from_ms >= q.to_ms {
            return Err(StoreError::BadQuery(format!(
                "the range is empty (from {} is not before to {})",
                q.from_ms, q.to_ms
            )));
        }
        if q.max_points == 0 {
            return Err(StoreError::BadQuery("max_points is 0".into()));
        }
        if q.endpoints.is_empty() {
            return Err(StoreError::BadQuery("no endpoints asked".into()));
        }
        let shared = &self.inner.shared;
        let plan = plan(
            q.from_ms,
            q.to_ms,
            q.max_points,
            q.min_bucket_ms,
            shared.fine,
            shared.floors(now_ms()),
        );
        let conn = self.conn()?;
        let start = bucket_start(q.from_ms, plan.bucket_ms);
        let tiers = [Tier::fine(shared.fine), Tier::Minute, Tier::Hour];
        let mut series = Vec::with_capacity(q.endpoints.len());
        let mut begins: Option<i64> = None;
        for endpoint in &q.endpoints {
            let id: Option<i64> = conn
                .prepare_cached("SELECT id FROM series WHERE source = ?1 AND endpoint = ?2")?
                .query_row([&q.source, endpoint], |r| r.get(0))
                .optional()?;
            let points = match id {
                None => Vec::new(),
                Some(id) => {
                    for tier in tiers {
                        let first: Option<i64> = conn
                            .prepare_cached(&first_sql(tier))?
                            .query_row([id], |r| r.get(0))
                            .optional()?;
                        if let Some(t) = first {
                            begins = Some(begins.map_or(t, |b| b.min(t)));
                        }
                    }
                    fold(&conn, plan.tier, id, start, q.to_ms, plan.bucket_ms)?
                }
            };
            series.push(SeriesPoints {
                endpoint: endpoint.clone(),
                points,
            });
        }
        Ok(Answer {
            bucket_ms: plan.bucket_ms,
            series,
            begins_ms: begins,
        })
    }

    /// The parts of `[from_ms, to_ms)` of `source` that were neither seen nor fetched, oldest
    /// first: what the desk should ask a server for.
    pub fn gaps(
        &self,
        source: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        if from_ms >= to_ms {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let covered: Vec<(i64, i64)> = conn
            .prepare_cached(
                "SELECT from_ms, to_ms FROM coverage
                 WHERE source = ?1 AND from_ms < ?3 AND to_ms > ?2 ORDER BY from_ms",
            )?
            .query_map(rusqlite::params![source, from_ms, to_ms], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(coverage::gaps(from_ms, to_ms, &covered))
    }

    /// Journal entries of `source` matching `q` (docs/protocol.md, Journal): newest first, at
    /// most `q.limit()`, and whether older entries match too. A query `JournalQuery::check`
    /// refuses is `BadQuery`. Reads what is committed: [`crate::Writer::flush`] first to see
    /// entries just journaled. A row whose entry no longer decodes is skipped and counted
    /// ([`Reader::journal_skipped`]).
    pub fn journal(
        &self,
        source: &str,
        q: &JournalQuery,
    ) -> Result<(Vec<JournalEntry>, bool), StoreError> {
        q.check().map_err(StoreError::BadQuery)?;
        let conn = self.conn()?;
        let found = journal::read(&conn, source, q)?;
        if found.skipped > 0 {
            self.inner
                .shared
                .journal_skipped
                .fetch_add(found.skipped, Ordering::Relaxed);
        }
        Ok((found.entries, found.more))
    }

    /// The number last committed under `name` by [`crate::Writer::remember`], if any.
    pub fn remembered(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.conn()?;
        Ok(crate::schema::meta_i64(
            &conn,
            &crate::writer::remembered_key(name),
        )?)
    }

    /// Journal rows skipped by reads since the store opened, because their entry did not
    /// decode (a damaged row, or one written by a build that encoded it differently).
    pub fn journal_skipped(&self) -> u64 {
        self.inner.shared.journal_skipped.load(Ordering::Relaxed)
    }

    /// The earliest time the store holds, in any tier: one index seek per series and tier,
    /// cheap beside [`Reader::stats`].
    pub fn oldest_ms(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.conn()?;
        let fine = Tier::fine(self.inner.shared.fine);
        let ids: Vec<i64> = conn
            .prepare_cached("SELECT id FROM series")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(crate::prune::oldest(
            &conn,
            &ids,
            &[fine, Tier::Minute, Tier::Hour],
        )?)
    }

    /// Size and extent. Counting rows reads whole tables: a moment on a large store.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let conn = self.conn()?;
        let shared = &self.inner.shared;
        let count = |table: &str| -> rusqlite::Result<u64> {
            let n: i64 =
                conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let fine = Tier::fine(shared.fine);
        let ids: Vec<i64> = conn
            .prepare_cached("SELECT id FROM series")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let oldest = crate::prune::oldest(&conn, &ids, &[fine, Tier::Minute, Tier::Hour])?;
        let (path, bytes) = match &self.inner.target {
            Target::File(path) => {
                let len = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
                let mut wal = path.clone().into_os_string();
                wal.push("-wal");
                (
                    Some(path.clone()),
                    len(path) + len(std::path::Path::new(&wal)),
                )
            }
            Target::Memory(_) => {
                let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
                (None, u64::try_from(pages * size).unwrap_or(0))
            }
        };
        Ok(Stats {
            path,
            bytes,
            fine_rows: count(fine.table())?,
            minute_rows: count("minute")?,
            hour_rows: count("hour")?,
            oldest_ms: oldest,
            born_ms: shared.born_ms,
        })
    }
}

/// Rows of one series from `tier` in `[start, to)`, folded into buckets of `width`.
fn fold(
    conn: &Connection,
    tier: Tier,
    series: i64,
    start: i64,
    to: i64,
    width: i64,
) -> rusqlite::Result<Vec<crate::Point>> {
    let sql = match tier {
        Tier::Raw => "SELECT t, v, v, v, n FROM raw
                      WHERE series = ?1 AND t >= ?2 AND t < ?3 ORDER BY t"
            .to_owned(),
        _ => format!(
            "SELECT t, coalesce(min, last), coalesce(max, last), last, n FROM {}
             WHERE series = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
            tier.table()
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([series, start, to])?;
    let mut folder = Folder::new(width);
    while let Some(row) = rows.next()? {
        let n: i64 = row.get(4)?;
        folder.push(Acc {
            last_t: row.get(0)?,
            min: row.get(1)?,
            max: row.get(2)?,
            last: row.get(3)?,
            n: u64::try_from(n).unwrap_or(0),
        });
    }
    Ok(folder.finish())
}
