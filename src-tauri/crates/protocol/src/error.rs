/// Why a frame could not be decoded or a message encoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The text is not JSON, or not a known shape for its `type`.
    #[error("malformed message at line {line}, column {column}: {reason}")]
    Malformed {
        reason: String,
        line: usize,
        column: usize,
    },
}

impl From<serde_json::Error> for ProtocolError {
    fn from(e: serde_json::Error) -> Self {
        // Only the classification and position: serde_json's message may quote the input,
        // which is untrusted and could be huge.
        let reason = match e.classify() {
            serde_json::error::Category::Io => "i/o error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "unexpected shape for this message type",
            serde_json::error::Category::Eof => "truncated JSON",
        };
        ProtocolError::Malformed {
            reason: format!("{reason} ({})", short(&e.to_string())),
            line: e.line(),
            column: e.column(),
        }
    }
}

/// serde_json's message without its position suffix, cut to a readable length.
fn short(message: &str) -> String {
    let text = message.split(" at line ").next().unwrap_or(message);
    text.chars().take(120).collect()
}
