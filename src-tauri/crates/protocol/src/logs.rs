//! What may be logged near a token. The libraries that see HTTP headers (the WebSocket
//! handshake, HTTP clients and servers, Tauri's IPC with its arguments) write them, the
//! `Authorization: Bearer` header included, at `trace`. Every binary of the project filters
//! its logs through [`may_log`], so no `RUST_LOG` setting can bring those lines out.

use tracing::{Level, Metadata};

/// Crates (by the first segment of a log target) capped below `trace`.
pub const HEADER_SEEING_CRATES: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "http",
    "axum",
    "tower",
    "tower_http",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tauri",
    "tauri_plugin_updater",
    "wry",
];

/// False for a `trace` event or span of a crate that sees headers; true for everything else
/// (the `RUST_LOG` filter decides the rest).
pub fn may_log(metadata: &Metadata<'_>) -> bool {
    *metadata.level() < Level::TRACE || !sees_headers(metadata.target())
}

/// Whether `target` (a module path such as `tungstenite::handshake::client`) is in one of
/// [`HEADER_SEEING_CRATES`].
pub fn sees_headers(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    HEADER_SEEING_CRATES.contains(&krate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_seeing_crates_are_known_by_their_first_segment() {
        assert!(sees_headers("tungstenite::handshake::client"));
        assert!(sees_headers("tokio_tungstenite"));
        assert!(sees_headers("hyper::proto::h1::role"));
        assert!(!sees_headers("hyperloop"));
        assert!(!sees_headers("brewdeck_link::session"));
    }
}
