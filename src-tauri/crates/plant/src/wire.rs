//! Server messages as the text frames every client is sent, and their encoded size.

use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{encode, ServerMessage};

/// A server message as a text frame, encoded once however many clients it goes to.
pub(crate) fn text(message: &ServerMessage) -> Utf8Bytes {
    // Our own types always encode; an empty frame would be counted as bad by the client.
    Utf8Bytes::from(encode(message).unwrap_or_default())
}

/// The length of a value encoded as JSON, counted without building the text.
pub(crate) use brewdeck_protocol::encoded_len;
