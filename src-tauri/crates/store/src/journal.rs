//! The journal table: entries written by the writer thread, read newest first with the
//! filters of `journal_query`, pruned by age. Each row keeps the protocol's `JournalEntry` as
//! JSON (what is answered) beside the columns a query filters on; the row's `seq` is the
//! entry's, whatever the entry said when it was written.

use brewdeck_protocol::{JournalEntry, JournalQuery, Severity};
use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};

/// An entry waiting for the next commit, with the source it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub source: String,
    pub entry: JournalEntry,
}

pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

/// What `text` of a query searches: the entry's text, note and operator, lowercased, so a
/// query matches any of them ignoring case with one `instr`.
fn search_text(entry: &JournalEntry) -> String {
    let mut search = entry.text.to_lowercase();
    for part in [entry.note.as_deref(), Some(entry.by.as_str())]
        .into_iter()
        .flatten()
    {
        search.push('\n');
        search.push_str(&part.to_lowercase());
    }
    search
}

/// Inserts the entries in order, in the batch's transaction. An entry that does not encode
/// (it cannot: the protocol's types always do) is left out rather than fail the batch.
pub(crate) fn insert(tx: &Transaction<'_>, entries: &[Pending]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO journal(source, at, kind, severity, \"by\", search, entry)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for Pending { source, entry } in entries {
        let Ok(json) = serde_json::to_string(entry) else {
            continue;
        };
        stmt.execute(params![
            source,
            entry.at.unix_millis(),
            entry.kind.as_str(),
            entry.severity.map(severity_name),
            entry.by,
            search_text(entry),
            json,
        ])?;
    }
    Ok(())
}

/// What a read found: the entries (newest first), whether older ones match too, and how
/// many rows were skipped because their JSON no longer decodes.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub entries: Vec<JournalEntry>,
    pub more: bool,
    pub skipped: u64,
}

/// Entries of `source` matching `q`, newest first, at most `q.limit()`. `q` is taken as
/// checked (`JournalQuery::check`).
pub(crate) fn read(conn: &Connection, source: &str, q: &JournalQuery) -> rusqlite::Result<Found> {
    let mut sql = String::from("SELECT seq, entry FROM journal WHERE source = ?");
    let mut args: Vec<Sql> = vec![Sql::Text(source.to_owned())];
    if let Some(before) = q.before_seq {
        // Past i64: every row is before it.
        if let Ok(before) = i64::try_from(before) {
            sql.push_str(" AND seq < ?");
            args.push(Sql::Integer(before));
        }
    }
    if let Some(from) = q.from {
        sql.push_str(" AND at >= ?");
        args.push(Sql::Integer(from.unix_millis()));
    }
    if let Some(to) = q.to {
        sql.push_str(" AND at <= ?");
        args.push(Sql::Integer(to.unix_millis()));
    }
    if let Some(kinds) = &q.kinds {
        in_list(
            &mut sql,
            &mut args,
            "kind",
            kinds.iter().map(|k| k.as_str()),
        );
    }
    if let Some(severities) = &q.severities {
        // An entry without a severity is not "of" any: left out.
        in_list(
            &mut sql,
            &mut args,
            "severity",
            severities.iter().map(|s| severity_name(*s)),
        );
    }
    if let Some(text) = q.text.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(" AND instr(search, ?) > 0");
        args.push(Sql::Text(text.to_lowercase()));
    }
    sql.push_str(" ORDER BY seq DESC");
    let limit = q.limit() as usize;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut found = Found::default();
    // Stepped lazily: one row past the limit says whether there is more.
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let json: String = row.get(1)?;
        let Ok(mut entry) = serde_json::from_str::<JournalEntry>(&json) else {
            found.skipped += 1;
            continue;
        };
        if found.entries.len() == limit {
            found.more = true;
            break;
        }
        entry.seq = u64::try_from(seq).unwrap_or(0);
        found.entries.push(entry);
    }
    Ok(found)
}

/// ` AND column IN (?, ?, …)`; an empty list matches nothing.
fn in_list<'a>(
    sql: &mut String,
    args: &mut Vec<Sql>,
    column: &str,
    values: impl Iterator<Item = &'a str>,
) {
    let values: Vec<&str> = values.collect();
    if values.is_empty() {
        sql.push_str(" AND 0");
        return;
    }
    let marks = vec!["?"; values.len()].join(", ");
    sql.push_str(&format!(" AND {column} IN ({marks})"));
    args.extend(values.into_iter().map(|v| Sql::Text(v.to_owned())));
}

/// The sources with entries, one index seek each (never a scan of the table).
fn sources(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT min(source) FROM journal WHERE source > ?1")?;
    let mut sources = Vec::new();
    let mut after = String::new();
    // `>` from "" passes over a source named "": looked for first.
    if conn
        .prepare_cached("SELECT 1 FROM journal WHERE source = '' LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()?
        .is_some()
    {
        sources.push(String::new());
    }
    while let Some(next) = stmt.query_row([&after], |r| r.get::<_, Option<String>>(0))? {
        sources.push(next.clone());
        after = next;
    }
    Ok(sources)
}

/// Deletes every entry older than `cut_ms`.
pub(crate) fn delete_before(conn: &Connection, cut_ms: i64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM journal WHERE source = ?1 AND at < ?2")?;
    for source in sources(conn)? {
        stmt.execute(params![source, cut_ms])?;
    }
    Ok(())
}

/// The time of the oldest entry, if any.
pub(crate) fn oldest(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT at FROM journal WHERE source = ?1 ORDER BY at LIMIT 1")?;
    let mut oldest: Option<i64> = None;
    for source in sources(conn)? {
        if let Some(t) = stmt
            .query_row([&source], |r| r.get::<_, i64>(0))
            .optional()?
        {
            oldest = Some(oldest.map_or(t, |o| o.min(t)));
        }
    }
    Ok(oldest)
}
