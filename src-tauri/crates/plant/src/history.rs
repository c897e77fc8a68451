//! `history_query`: checked, answered from the historian at the finest resolution that fits
//! one frame, or refused with an `error` that carries the query's `requestId`.

use crate::historian::SOURCE;
use crate::wire::text;
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    ErrorCode, History, HistoryPoint, HistoryQuery, HistorySeries, ServerError, ServerMessage,
    Timestamp, HISTORY_MAX_ENDPOINTS, HISTORY_MAX_POINTS, REQUEST_ID_MAX_CHARS,
};
use brewdeck_store::{next_bucket, Query, Reader};

/// The client's frame limit: an answer never exceeds it (docs/protocol.md, History).
pub(crate) const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why a query is refused, and with which code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// The `error` answering a refused request.
/// An id that is not a valid `requestId` (empty, over 64 characters) is not echoed.
pub(crate) fn refusal_text(request_id: Option<String>, refusal: Refusal) -> Utf8Bytes {
    let request_id =
        request_id.filter(|id| !id.is_empty() && id.chars().count() <= REQUEST_ID_MAX_CHARS);
    text(&ServerMessage::Error(ServerError {
        message: refusal.message,
        code: Some(refusal.code.as_str().to_owned()),
        recoverable: Some(true),
        timestamp: Some(Timestamp::now()),
        request_id,
    }))
}

/// What is wrong with a query before anything is read, if anything.
pub(crate) fn check(q: &HistoryQuery) -> Result<(), Refusal> {
    if q.request_id.is_empty() || q.request_id.chars().count() > REQUEST_ID_MAX_CHARS {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("requestId must be 1 to {REQUEST_ID_MAX_CHARS} characters"),
        ));
    }
    if q.endpoint_ids.is_empty() {
        return Err(refuse(ErrorCode::BadRequest, "endpointIds is empty"));
    }
    if q.endpoint_ids.len() > HISTORY_MAX_ENDPOINTS {
        return Err(refuse(
            ErrorCode::TooLarge,
            format!(
                "{} endpoints asked; at most {HISTORY_MAX_ENDPOINTS} per query",
                q.endpoint_ids.len()
            ),
        ));
    }
    if q.endpoint_ids.iter().any(|id| id.to_string().len() > 128) {
        return Err(refuse(
            ErrorCode::BadRequest,
            "an endpoint id is over 128 bytes",
        ));
    }
    match q.max_points() {
        0 => {
            return Err(refuse(
                ErrorCode::BadRequest,
                "maxPoints must be at least 1",
            ))
        }
        n if n > HISTORY_MAX_POINTS => {
            return Err(refuse(
                ErrorCode::TooLarge,
                format!("maxPoints {n} asked; at most {HISTORY_MAX_POINTS}"),
            ))
        }
        _ => {}
    }
    if q.from >= q.to {
        return Err(refuse(ErrorCode::BadRequest, "from must be before to"));
    }
    Ok(())
}

/// A `history_query` that did not decode (or was dropped): its `requestId` if one can be
/// read, and why.
pub(crate) fn malformed(text: &str, why: &str) -> (Option<String>, Refusal) {
    let request_id = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("requestId")?.as_str().map(str::to_owned))
        .filter(|id| !id.is_empty() && id.chars().count() <= REQUEST_ID_MAX_CHARS);
    (
        request_id,
        refuse(ErrorCode::BadRequest, format!("bad history_query: {why}")),
    )
}

/// Answers a checked query (blocking: reads the store). The resolution is lowered until the
/// answer fits one frame; `too_large` only when even the coarsest does not.
pub(crate) fn answer(reader: &Reader, q: &HistoryQuery) -> Result<Utf8Bytes, Refusal> {
    let from_ms = q.from.unix_millis();
    let to_ms = q.to.unix_millis();
    let mut query = Query {
        source: SOURCE.to_owned(),
        endpoints: q.endpoint_ids.iter().map(ToString::to_string).collect(),
        from_ms,
        to_ms,
        max_points: q.max_points() as usize,
        min_bucket_ms: 0,
    };
    loop {
        let found = reader.query(&query).map_err(|e| {
            // The store's own words stay in the server's log.
            tracing::warn!(error = %e, "a history query failed");
            refuse(
                ErrorCode::BadRequest,
                "the plant's history could not be read now; try again",
            )
        })?;
        let history = ServerMessage::History(History {
            request_id: q.request_id.clone(),
            from: q.from,
            to: q.to,
            bucket_ms: u64::try_from(found.bucket_ms).unwrap_or(0),
            series: q
                .endpoint_ids
                .iter()
                .zip(found.series)
                .map(|(id, series)| HistorySeries {
                    endpoint_id: id.clone(),
                    points: series
                        .points
                        .into_iter()
                        .filter_map(|p| {
                            Some(HistoryPoint {
                                t: Timestamp::from_unix_millis(p.t_ms)?,
                                min: p.min,
                                max: p.max,
                                last: p.last,
                                n: p.n,
                            })
                        })
                        .collect(),
                })
                .collect(),
            complete: reader.begins_ms() <= from_ms,
        });
        // Encoded once: the frame that fits is the one sent.
        let frame = text(&history);
        let size = frame.len();
        if size <= MAX_ANSWER_BYTES {
            return Ok(frame);
        }
        // Coarser by at least the factor it is over, then the next width of the ladder.
        let wanted = found
            .bucket_ms
            .saturating_mul((size / MAX_ANSWER_BYTES + 1) as i64);
        match next_bucket(wanted.max(found.bucket_ms)) {
            Some(next) if next > query.min_bucket_ms => query.min_bucket_ms = next,
            _ => {
                return Err(refuse(
                    ErrorCode::TooLarge,
                    "the answer does not fit one frame even at the coarsest resolution",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn query(ids: usize, max_points: Option<u32>, span_s: i64) -> HistoryQuery {
        let from = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        HistoryQuery {
            request_id: "q".into(),
            endpoint_ids: (0..ids as u64).map(Into::into).collect(),
            from,
            to: Timestamp::from_unix_millis(from.unix_millis() + span_s * 1000).unwrap(),
            max_points,
        }
    }

    #[test]
    fn each_bad_query_gets_its_code() {
        assert_eq!(check(&query(1, None, 60)), Ok(()));
        assert_eq!(
            check(&query(0, None, 60)).unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            check(&query(21, None, 60)).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(check(&query(20, None, 60)), Ok(()));
        assert_eq!(
            check(&query(1, Some(0), 60)).unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            check(&query(1, Some(5001), 60)).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(check(&query(1, Some(5000), 60)), Ok(()));
        assert_eq!(
            check(&query(1, None, 0)).unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            check(&query(1, None, -5)).unwrap_err().code,
            ErrorCode::BadRequest
        );
        let mut long_id = query(1, None, 60);
        long_id.request_id = "x".repeat(65);
        assert_eq!(check(&long_id).unwrap_err().code, ErrorCode::BadRequest);
        long_id.request_id = String::new();
        assert_eq!(check(&long_id).unwrap_err().code, ErrorCode::BadRequest);
    }

    #[test]
    fn a_malformed_query_keeps_its_request_id_when_it_has_one() {
        let (id, r) = malformed(
            r#"{"type":"history_query","requestId":"q-9","from":3}"#,
            "x",
        );
        assert_eq!(id.as_deref(), Some("q-9"));
        assert_eq!(r.code, ErrorCode::BadRequest);
        assert_eq!(malformed("{not json", "x").0, None);
        let long = format!(
            r#"{{"type":"history_query","requestId":"{}"}}"#,
            "y".repeat(65)
        );
        assert_eq!(
            malformed(&long, "x").0,
            None,
            "an over-long id is not echoed"
        );
    }
}
