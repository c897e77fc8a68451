//! `journal_query`: checked, answered from the plant's journal (newest first, within one
//! frame), or refused with an `error` that carries the query's `requestId`.

use crate::historian::{Historian, JOURNAL_SOURCE};
use crate::history::MAX_ANSWER_BYTES;
use crate::requests::{self, refuse, Refusal};
use crate::wire::{encoded_len, text};
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{ErrorCode, Journal, JournalQuery, ServerMessage};

/// Room kept in a frame for what surrounds the entries (type, requestId, more).
const ENVELOPE_BYTES: usize = 1024;

/// What is wrong with a query before anything is read, if anything.
pub(crate) fn check(q: &JournalQuery) -> Result<(), Refusal> {
    requests::check_id(Some(&q.request_id))?;
    q.check().map_err(|m| refuse(ErrorCode::BadRequest, m))
}

/// Answers a checked query (blocking: commits what is queued, so every entry journaled
/// before the query is seen, then reads the store).
pub(crate) fn answer(historian: &Historian, q: &JournalQuery) -> Result<Utf8Bytes, Refusal> {
    // A paused record still answers from what it holds.
    let _ = historian.writer.flush();
    let skipped = historian.reader.journal_skipped();
    let read = historian.reader.journal(JOURNAL_SOURCE, q);
    let now_skipped = historian.reader.journal_skipped();
    if now_skipped > skipped {
        tracing::warn!(
            rows = now_skipped - skipped,
            "journal rows that no longer decode were left out of an answer"
        );
    }
    let (mut entries, mut more) = read.map_err(|e| {
        tracing::warn!(error = %e, "a journal query failed");
        refuse(
            ErrorCode::BadRequest,
            "the plant's journal could not be read now; try again",
        )
    })?;
    // Up to 500 long notes do not fit one frame: the oldest are left for the next page.
    let mut used = ENVELOPE_BYTES;
    let fit = entries
        .iter()
        .take_while(|e| {
            used += encoded_len(e) + 1;
            used <= MAX_ANSWER_BYTES
        })
        .count();
    if fit < entries.len() {
        entries.truncate(fit);
        more = true;
    }
    Ok(text(&ServerMessage::Journal(Journal {
        request_id: q.request_id.clone(),
        entries,
        more,
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use brewdeck_protocol::{JournalEntry, JournalKind, Timestamp};

    fn query(limit: Option<u32>) -> JournalQuery {
        JournalQuery {
            request_id: "j".into(),
            limit,
            ..JournalQuery::default()
        }
    }

    #[test]
    fn each_bad_query_is_a_bad_request() {
        assert!(check(&query(None)).is_ok());
        for bad in [
            query(Some(0)),
            query(Some(501)),
            JournalQuery {
                request_id: String::new(),
                ..query(None)
            },
            JournalQuery {
                request_id: "x".repeat(65),
                ..query(None)
            },
            JournalQuery {
                text: Some("t".repeat(201)),
                ..query(None)
            },
        ] {
            assert_eq!(check(&bad).unwrap_err().code, ErrorCode::BadRequest);
        }
    }

    #[test]
    fn an_answer_of_long_notes_stays_within_one_frame() {
        let historian = Historian::open(None).unwrap();
        for i in 0..500 {
            historian.writer.journal(
                JOURNAL_SOURCE,
                JournalEntry {
                    seq: 0,
                    at: Timestamp::now(),
                    by: "ana".into(),
                    kind: JournalKind::Note,
                    text: format!("{i} {}", "\"".repeat(1990)),
                    severity: None,
                    alarm_id: None,
                    endpoint_ids: Vec::new(),
                    command_id: None,
                    action: None,
                    value: None,
                    status: None,
                    reason: None,
                    note: None,
                    until: None,
                    note_id: Some(i),
                },
            );
        }
        let frame = answer(&historian, &query(Some(500))).unwrap();
        assert!(frame.len() <= MAX_ANSWER_BYTES, "{}", frame.len());
        let Ok(ServerMessage::Journal(j)) = brewdeck_protocol::decode_server(frame.as_str()) else {
            panic!("a journal")
        };
        assert!(j.more);
        assert!(j.entries.len() > 100 && j.entries.len() < 500);
        assert_eq!(j.entries[0].note_id, Some(499), "newest first");
    }
}
