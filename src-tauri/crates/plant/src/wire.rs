//! Server messages as the text frames every client is sent, and their encoded size.

use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{encode, ServerMessage};
use serde::Serialize;

/// A server message as a text frame, encoded once however many clients it goes to.
pub(crate) fn text(message: &ServerMessage) -> Utf8Bytes {
    // Our own types always encode; an empty frame would be counted as bad by the client.
    Utf8Bytes::from(encode(message).unwrap_or_default())
}

/// The length of a value encoded as JSON, counted without building the text.
pub(crate) fn encoded_len<T: Serialize>(value: &T) -> usize {
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
    // Our own types always encode (`text` relies on it too).
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}
