//! What a link is started with: where the plant is, how to trust it, and its timings.

use crate::error::LinkError;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The largest server message the link reads, unless configured: 1 MiB. The socket library's
/// own default is 64 MiB, far more than any plant message needs.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// A plant server's WebSocket URL, checked: `wss://`, or `ws://` to a loopback host (or
/// anywhere when explicitly allowed). A URL with no path gets the protocol's `/ws`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    text: String,
    secure: bool,
    /// Plain `ws://` not explicitly allowed off this machine: it may reach loopback addresses
    /// only, whatever the name resolves to (checked at each connection).
    loopback_only: bool,
    host: String,
    port: u16,
    path: String,
}

impl ServerUrl {
    pub fn parse(text: &str, allow_plain_remote: bool) -> Result<Self, LinkError> {
        let bad = |reason: &str| LinkError::BadUrl {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        let uri: http::Uri = trimmed
            .parse()
            .map_err(|_| bad("not a URL; expected ws://host:port/ws or wss://host/ws"))?;
        let secure = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            Some("http") | Some("https") => {
                return Err(bad("use ws:// or wss://, not http:// or https://"))
            }
            Some(_) => return Err(bad("the scheme must be ws:// or wss://")),
            None => {
                return Err(bad(
                    "missing scheme: write ws://host:port/ws or wss://host/ws",
                ))
            }
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("missing host"))?
            .to_owned();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(bad(
                "credentials in the URL are refused: the token is set separately and sent as a header",
            ));
        }
        if uri.query().is_some() {
            return Err(bad(
                "a query string is refused: the token never goes in the URL",
            ));
        }
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = bare.eq_ignore_ascii_case("localhost")
            || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !secure && !loopback && !allow_plain_remote {
            return Err(bad(
                "ws:// is unencrypted and only allowed to this machine; use wss:// (or allow plain ws:// explicitly in the settings)",
            ));
        }
        let path = match uri.path() {
            "" | "/" => "/ws".to_owned(),
            p => p.to_owned(),
        };
        let scheme = if secure { "wss" } else { "ws" };
        Ok(ServerUrl {
            text: format!("{scheme}://{}:{port}{path}", host_for_url(&host)),
            secure,
            loopback_only: !secure && !allow_plain_remote,
            host,
            port,
            path,
        })
    }

    /// The normalised URL, as dialed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether this URL may reach loopback addresses only (plain `ws://`, not allowed off
    /// this machine).
    pub fn loopback_only(&self) -> bool {
        self.loopback_only
    }

    /// The host as written (IPv6 without brackets).
    pub fn host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The URL of a level-0 server's `POST /api/os/command` on the same host.
    pub fn command_url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!(
            "{scheme}://{}:{}/api/os/command",
            host_for_url(&self.host),
            self.port
        )
    }
}

fn host_for_url(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Every time the link keeps. All run on tokio time, so tests pause and advance it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// A WebSocket ping this often while connected.
    pub ping_interval: Duration,
    /// No frame of any kind for this long: the connection is dead (half-open).
    pub dead_after: Duration,
    /// TCP, TLS and the WebSocket handshake together, and then the server's `connected`.
    pub connect_timeout: Duration,
    /// The bound of each reconnect delay for the first `quick_retries_for` of an outage
    /// (full jitter: about an attempt every `backoff_base / 2`); after that it doubles per
    /// failed attempt up to `backoff_cap`.
    pub backoff_base: Duration,
    pub quick_retries_for: Duration,
    pub backoff_cap: Duration,
    /// A connection that stayed up this long resets the backoff.
    pub stable_after: Duration,
    /// A single write that takes longer means the peer stopped reading.
    pub write_timeout: Duration,
    /// A reading older than this (by arrival) is shown as stale.
    pub stale_after: Duration,
    /// Longest wait a server may ask for (`retryAfter`, `Retry-After`); more is clamped.
    pub max_server_delay: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            // A dead path is noticed within 12 s: three pings unanswered.
            ping_interval: Duration::from_secs(4),
            dead_after: Duration::from_secs(12),
            connect_timeout: Duration::from_secs(10),
            // Back within a second (median) of a plant that restarts within a minute.
            backoff_base: Duration::from_millis(1500),
            quick_retries_for: Duration::from_secs(60),
            backoff_cap: Duration::from_secs(30),
            stable_after: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            stale_after: Duration::from_secs(30),
            max_server_delay: Duration::from_secs(600),
        }
    }
}

/// Everything a link is started with.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub server: ServerUrl,
    pub timings: Timings,
    /// How long a command waits in the outbox while offline before it fails as `expired`; also
    /// its `expiresAt` on the wire.
    pub command_expiry: Duration,
    /// The largest server message read; bigger frames are refused by the socket.
    pub max_message_bytes: usize,
    /// A PEM file of extra trusted certificates, for self-hosted plant servers.
    pub site_ca: Option<PathBuf>,
    /// Stop retrying after this many failed attempts in a row. `None`: never give up, which is
    /// what a control room needs.
    pub max_attempts: Option<u32>,
    /// Capacity of the event channel; a consumer further behind is told it lagged. Every slot
    /// is allocated and written at start (about 200 bytes each): 4 096 is 20 s of a 50k/s
    /// flood's events (one per turn of up to 256 frames) for under 1 MiB.
    pub event_capacity: usize,
    /// Final commands kept in the model for the history view.
    pub command_history: usize,
    /// Start connecting at once (otherwise the link waits in `idle` for `connect`).
    pub connect_on_start: bool,
}

impl LinkConfig {
    pub fn new(server: ServerUrl) -> Self {
        LinkConfig {
            server,
            timings: Timings::default(),
            command_expiry: Duration::from_secs(30),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            site_ca: None,
            max_attempts: None,
            event_capacity: 4 * 1024,
            command_history: 500,
            connect_on_start: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ws_is_allowed_and_gets_the_ws_path() {
        let u = ServerUrl::parse("ws://127.0.0.1:8765", false).expect("loopback");
        assert_eq!(u.as_str(), "ws://127.0.0.1:8765/ws");
        assert_eq!(u.command_url(), "http://127.0.0.1:8765/api/os/command");
        let u = ServerUrl::parse("ws://localhost:9/plant/ws", false).expect("localhost");
        assert_eq!(u.path(), "/plant/ws");
        let u = ServerUrl::parse("ws://[::1]:9", false).expect("ipv6 loopback");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.as_str(), "ws://[::1]:9/ws");
    }

    #[test]
    fn plain_ws_elsewhere_needs_explicit_consent() {
        let e = ServerUrl::parse("ws://plant.example:80/ws", false).expect_err("remote ws");
        assert!(
            e.to_string().contains("only allowed to this machine"),
            "{e}"
        );
        assert!(ServerUrl::parse("ws://plant.example:80/ws", true).is_ok());
        let u = ServerUrl::parse("wss://plant.example/ws", false).expect("wss");
        assert_eq!(u.port(), 443);
        assert!(u.is_secure());
        assert_eq!(u.command_url(), "https://plant.example:443/api/os/command");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, says) in [
            ("plant", "missing scheme"),
            ("http://127.0.0.1/ws", "not http://"),
            ("ftp://127.0.0.1/ws", "must be ws://"),
            ("ws://", "not a URL"),
            ("ws://user:pw@127.0.0.1/ws", "credentials"),
            ("ws://127.0.0.1/ws?token=abc", "query string"),
            ("", "not a URL"),
        ] {
            let e = ServerUrl::parse(url, false).expect_err(url);
            assert!(e.to_string().contains(says), "{url}: {e}");
        }
    }

    #[test]
    fn a_url_error_never_echoes_more_than_the_url() {
        let e = ServerUrl::parse("ws://127.0.0.1/ws?token=s3cret", false).expect_err("query");
        // The URL itself is echoed so the operator sees what was typed; the token never goes
        // in one, which is exactly what this error refuses.
        assert!(matches!(e, LinkError::BadUrl { .. }));
    }
}
