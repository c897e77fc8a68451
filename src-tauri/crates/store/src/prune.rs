//! Retention and the size cap, run by the writer at open and once a minute. Deletes go series
//! by series (`WHERE series = ? AND t < ?`: an index seek each, never a scan). Each cut is
//! remembered (`meta`, and [`Shared::pruned_ms`]) so queries never count on a tier reaching
//! back further than it does.

use crate::config::millis;
use crate::journal;
use crate::plan::Tier;
use crate::schema::set_meta_i64;
use crate::shared::Shared;
use rusqlite::{Connection, TransactionBehavior};
use std::sync::atomic::Ordering;

const DAY_MS: i64 = 86_400_000;
pub(crate) const PRUNED_KEYS: [&str; 3] = ["pruned_fine_ms", "pruned_minute_ms", "pruned_hour_ms"];

pub(crate) fn prune(conn: &mut Connection, shared: &Shared, now_ms: i64) -> rusqlite::Result<()> {
    let retention = shared.retention();
    let fine = Tier::fine(shared.fine);
    let ids = series_ids(conn)?;
    let since = |d| now_ms.saturating_sub(millis(d));
    let cuts = [
        Some(since(retention.fine)),
        Some(since(retention.minute)),
        retention.hour.map(since),
    ];
    let tiers = [fine, Tier::Minute, Tier::Hour];
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, (tier, cut)) in tiers.iter().zip(cuts).enumerate() {
        let Some(cut) = cut else { continue };
        delete_before(&tx, *tier, &ids, cut)?;
        raise(&tx, shared, i, cut)?;
    }
    // Coverage outlives the fine tier: what was seen is still summarised in minutes and hours.
    if let Some(hour_cut) = cuts[2] {
        let oldest_kept = hour_cut
            .min(cuts[0].unwrap_or(i64::MAX))
            .min(cuts[1].unwrap_or(i64::MAX));
        cut_coverage(&tx, oldest_kept)?;
    }
    journal::delete_before(&tx, since(retention.journal))?;
    tx.commit()?;
    let shrunk = cap(conn, shared, &ids, &tiers, retention.size_cap_bytes)?;
    let (pages, free) = page_counts(conn)?;
    if shrunk || free > pages / 4 {
        // Frees one page per step: `execute_batch` would step it only once.
        let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
    }
    if shrunk {
        // The file's size is what an operator sees: give the WAL back too. Best effort: a
        // reader holding a snapshot just delays it.
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    Ok(())
}

/// Deletes the oldest day of every tier, then the next, while live pages exceed the cap; once
/// no reading is left, the oldest day of the journal (what operators did outlives readings).
/// Returns whether anything went.
fn cap(
    conn: &mut Connection,
    shared: &Shared,
    ids: &[i64],
    tiers: &[Tier; 3],
    cap_bytes: u64,
) -> rusqlite::Result<bool> {
    let mut shrunk = false;
    loop {
        if live_bytes(conn)? <= cap_bytes {
            return Ok(shrunk);
        }
        let Some(oldest) = oldest(conn, ids, tiers)? else {
            let Some(first) = journal::oldest(conn)? else {
                return Ok(shrunk);
            };
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            journal::delete_before(&tx, first.saturating_add(DAY_MS))?;
            tx.commit()?;
            shrunk = true;
            continue;
        };
        let cut = oldest.saturating_add(DAY_MS);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (i, tier) in tiers.iter().enumerate() {
            delete_before(&tx, *tier, ids, cut)?;
            raise(&tx, shared, i, cut)?;
        }
        cut_coverage(&tx, cut)?;
        tx.commit()?;
        shrunk = true;
    }
}

fn series_ids(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM series")?;
    let ids = stmt.query_map([], |r| r.get(0))?;
    ids.collect()
}

fn delete_before(conn: &Connection, tier: Tier, ids: &[i64], cut: i64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "DELETE FROM {} WHERE series = ?1 AND t < ?2",
        tier.table()
    ))?;
    for id in ids {
        stmt.execute([*id, cut])?;
    }
    Ok(())
}

/// Remembers that tier `i` holds nothing before `cut`.
fn raise(conn: &Connection, shared: &Shared, i: usize, cut: i64) -> rusqlite::Result<()> {
    if cut > shared.pruned_ms[i].load(Ordering::Relaxed) {
        set_meta_i64(conn, PRUNED_KEYS[i], cut)?;
        shared.pruned_ms[i].fetch_max(cut, Ordering::Relaxed);
    }
    Ok(())
}

fn cut_coverage(conn: &Connection, cut: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM coverage WHERE to_ms <= ?1")?
        .execute([cut])?;
    conn.prepare_cached("UPDATE coverage SET from_ms = ?1 WHERE from_ms < ?1")?
        .execute([cut])?;
    Ok(())
}

/// The earliest row of any series in any tier: one seek per series and tier.
pub(crate) fn oldest(
    conn: &Connection,
    ids: &[i64],
    tiers: &[Tier],
) -> rusqlite::Result<Option<i64>> {
    let mut oldest: Option<i64> = None;
    for tier in tiers {
        let mut stmt = conn.prepare_cached(&first_sql(*tier))?;
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(row) = rows.next()? {
                let t: i64 = row.get(0)?;
                oldest = Some(oldest.map_or(t, |o| o.min(t)));
            }
        }
    }
    Ok(oldest)
}

pub(crate) fn first_sql(tier: Tier) -> String {
    format!(
        "SELECT t FROM {} WHERE series = ?1 ORDER BY t LIMIT 1",
        tier.table()
    )
}

fn page_counts(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    Ok((pages, free))
}

/// Bytes in pages that hold data: what the cap limits (free pages are reused or vacuumed).
pub(crate) fn live_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let (pages, free) = page_counts(conn)?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
}
