//! `history_query`: checked, answered from the historian at the finest resolution that fits
//! one frame, or refused with an `error` that carries the query's `requestId`.

use crate::historian::SOURCE;
use crate::requests::{self, refuse, Refusal};
use crate::wire::text;
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    ErrorCode, History, HistoryPoint, HistoryQuery, HistorySeries, ServerMessage, Timestamp,
    HISTORY_MAX_ENDPOINTS, HISTORY_MAX_POINTS,
};
use brewdeck_store::{next_bucket, Query, Reader};

/// The client's frame limit: an answer never exceeds it (docs/protocol.md, History).
pub(crate) const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What is wrong with a query before anything is read, if anything.
pub(crate) fn check(q: &HistoryQuery) -> Result<(), Refusal> {
    requests::check_id(Some(&q.request_id))?;
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
}
