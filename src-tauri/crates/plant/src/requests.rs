//! What every level-1 request shares (docs/protocol.md, Requests): its `requestId` (1 to 64
//! characters), the `error` that refuses it carrying that id back (an invalid id is never
//! echoed), and the `done` that answers a request without an answer of its own.

use crate::wire::text;
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    Done, ErrorCode, ServerError, ServerMessage, Timestamp, REQUEST_ID_MAX_CHARS,
};

/// The `type`s that are requests: a refusal of one carries its `requestId` when it has one.
pub(crate) const REQUEST_TYPES: [&str; 6] = [
    "history_query",
    "journal_query",
    "alarm_ack",
    "alarm_shelve",
    "alarm_unshelve",
    "note",
];

/// Why a request is refused, and with which code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

pub(crate) fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= REQUEST_ID_MAX_CHARS
}

/// A `requestId` that is present must be valid; absent is fine where it is optional.
pub(crate) fn check_id(id: Option<&str>) -> Result<(), Refusal> {
    match id {
        Some(id) if !valid_id(id) => Err(refuse(
            ErrorCode::BadRequest,
            format!("requestId must be 1 to {REQUEST_ID_MAX_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

/// The `error` answering a refused request. An id that is not a valid `requestId` (empty,
/// over 64 characters) is not echoed.
pub(crate) fn refusal_text(request_id: Option<String>, refusal: Refusal) -> Utf8Bytes {
    text(&ServerMessage::Error(ServerError {
        message: refusal.message,
        code: Some(refusal.code.as_str().to_owned()),
        recoverable: Some(true),
        timestamp: Some(Timestamp::now()),
        request_id: request_id.filter(|id| valid_id(id)),
    }))
}

/// `done` for a request carried out; nothing for one without a `requestId`.
pub(crate) fn done_text(request_id: Option<String>) -> Option<Utf8Bytes> {
    request_id.map(|request_id| text(&ServerMessage::Done(Done { request_id })))
}

/// The `requestId` of a frame that did not decode (or was dropped), if a valid one can be
/// read from it.
pub(crate) fn id_in(frame: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(frame)
        .ok()
        .and_then(|v| v.get("requestId")?.as_str().map(str::to_owned))
        .filter(|id| valid_id(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_to_64_characters_and_an_invalid_one_is_never_echoed() {
        assert!(check_id(None).is_ok());
        assert!(check_id(Some("a")).is_ok());
        assert!(check_id(Some(&"é".repeat(64))).is_ok());
        assert!(check_id(Some("")).is_err());
        assert!(check_id(Some(&"x".repeat(65))).is_err());
        let long = "y".repeat(65);
        let refused = refusal_text(Some(long.clone()), refuse(ErrorCode::BadRequest, "no"));
        assert!(!refused.as_str().contains(&long));
        assert_eq!(
            id_in(r#"{"type":"note","requestId":"n-1","text":3}"#).as_deref(),
            Some("n-1")
        );
        assert_eq!(id_in("{not json"), None);
        assert_eq!(id_in(&format!(r#"{{"requestId":"{long}"}}"#)), None);
    }
}
