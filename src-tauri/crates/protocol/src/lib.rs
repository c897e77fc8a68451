//! The wire contract between the Brewdeck desktop and a plant control server.
//!
//! Both levels of `docs/protocol.md` live here: level 0 (what existing control servers speak) and
//! level 1 (catalog, `seq`, resume, commands over the socket). Decoding is lenient where the
//! protocol says so: unknown message types decode to `Unknown`, unknown fields are ignored,
//! `retryAfter`/`retry_after` and `activeStreams`/`active_streams` both decode, and timestamps
//! without an offset (as some level-0 servers send) are read as UTC.

mod bindings;
mod catalog;
mod client;
mod error;
mod history;
mod ids;
mod journal;
pub mod logs;
mod notes;
mod operator;
mod server;
mod shelving;
mod time;
mod token;
mod value;

pub use bindings::{
    binding_importing, check_committed, index, modules_in, typescript_bindings, Binding,
};
pub use catalog::{Endpoint, EndpointKind, Limits};
pub use client::{Action, AlarmAck, ClientMessage, Command, CommandRequest, Hello, Subscription};
pub use error::ProtocolError;
pub use history::{
    History, HistoryPoint, HistoryQuery, HistorySeries, FEATURE_HISTORY, HISTORY_DEFAULT_POINTS,
    HISTORY_MAX_ENDPOINTS, HISTORY_MAX_POINTS, REQUEST_ID_MAX_CHARS,
};
pub use ids::{AlarmId, CommandId, EndpointId, Id, Seq};
pub use journal::{
    Done, Journal, JournalEntry, JournalKind, JournalQuery, BY_PLANT, FEATURE_JOURNAL,
    JOURNAL_DEFAULT_LIMIT, JOURNAL_MAX_LIMIT, JOURNAL_TEXT_MAX_CHARS,
};
pub use notes::{Note, NoteRequest, FEATURE_NOTES, NOTE_MAX_CHARS, NOTE_MAX_ENDPOINTS};
pub use operator::{Operator, Role, FEATURE_OPERATORS};
pub use server::{
    Alarm, AlarmState, CommandRecord, CommandState, CommandStatus, Connected, ErrorCode, Heartbeat,
    Pong, Reconnect, Resumed, ServerError, ServerMessage, Severity, Snapshot, Telemetry,
};
pub use shelving::{
    check_ack_note, check_reason, AlarmShelve, AlarmUnshelve, Shelved, ACK_NOTE_MAX_CHARS,
    FEATURE_SHELVING, SHELVE_REASON_MAX_CHARS,
};
pub use time::Timestamp;
pub use token::Token;
pub use value::{Quality, Value};

/// The level-1 protocol name, advertised in `connected.protocols` and echoed in `hello`.
pub const PROTOCOL_V1: &str = "brewdeck.v1";

/// Decodes one text frame sent by a server.
pub fn decode_server(text: &str) -> Result<ServerMessage, ProtocolError> {
    serde_json::from_str(text).map_err(ProtocolError::from)
}

/// Decodes one text frame sent by a client.
pub fn decode_client(text: &str) -> Result<ClientMessage, ProtocolError> {
    serde_json::from_str(text).map_err(ProtocolError::from)
}

/// Encodes any message as the JSON text of one frame.
pub fn encode<T: serde::Serialize>(message: &T) -> Result<String, ProtocolError> {
    serde_json::to_string(message).map_err(ProtocolError::from)
}

/// The `type` field of a frame, for logging frames that decoded to `Unknown`.
/// Returns `None` when the frame is not a JSON object with a string `type`.
pub fn peek_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Peek>(text).ok().map(|p| p.kind)
}

/// The length of a value encoded as JSON, counted without building the text (message and
/// batch budgets are checked this way, by the plant and the desk alike).
pub fn encoded_len<T: serde::Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and the protocol's types always serialise.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}
