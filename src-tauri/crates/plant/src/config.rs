use crate::error::PlantError;
use brewdeck_protocol::Token;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest admin token file read: a token is a line, not a document.
const MAX_ADMIN_TOKEN_FILE_BYTES: u64 = 4096;

/// Who may connect, and as whom (docs/protocol.md, Operators).
#[derive(Debug, Clone)]
pub enum Access {
    /// `--token`: one operator named `operator`, with the role `operator`.
    Token(Token),
    /// `--operators FILE`: the operators it lists, each token naming one. Read at start (a bad
    /// line stops the plant) and again by [`crate::RunningPlant::reload_operators`].
    OperatorsFile(PathBuf),
}

/// Everything a plant server is started with. `PlantConfig::new(addr, token)` gives the
/// defaults the binary and the app's demo mode use.
#[derive(Debug, Clone)]
pub struct PlantConfig {
    pub listen: SocketAddr,
    pub access: Access,
    /// The plant's name, sent in `connected` and `snapshot`.
    pub name: String,
    /// Serve `/admin/*` (to loopback peers only).
    pub admin: bool,
    /// When set, every admin request must carry `Authorization: Bearer` with this token.
    pub admin_token: Option<Token>,
    pub seed: u64,
    pub fermenters: usize,
    /// Simulation step, and so the telemetry rate: every analog value is published each tick.
    pub tick: Duration,
    /// A command moves one stage (queued → sent → acked → executed) per this many ticks.
    pub command_stage_ticks: u32,
    pub heartbeat: Duration,
    /// How many `alarm`/`command_status` events are kept for `hello.lastSeq`.
    pub history: usize,
    /// The first `seq` is `seq_start + 1`. `None`: derived from the wall clock, so that a
    /// restarted server never reuses a number a client already saw. Either way, a plant whose
    /// store (`data_dir`) kept a higher `seq` from a previous run numbers on above that.
    pub seq_start: Option<u64>,
    /// Seconds a client is told to wait in the `reconnect` sent at graceful shutdown.
    pub shutdown_retry_after: f64,
    pub limits: ClientLimits,
    pub flood: Option<Flood>,
    /// Where the plant keeps its history and journal (`plant.sqlite3`). `None`: in memory,
    /// gone when the server stops (tests).
    pub data_dir: Option<PathBuf>,
    /// How long one minute of `alarm_shelve.minutes` lasts: a minute, except in tests, which
    /// shorten it to see a shelf run out.
    pub shelving_minute: Duration,
}

/// Per-client limits. Exceeding one is answered with an `error` whose `code` names it.
#[derive(Debug, Clone, Copy)]
pub struct ClientLimits {
    pub max_connections: usize,
    /// Connections from one address; more get 503 too.
    pub max_connections_per_ip: usize,
    /// Level-0 `POST /api/os/command` per peer address: sustained per second, and burst.
    /// Over it: 429 with `Retry-After`.
    pub commands_per_second: f64,
    pub command_burst: f64,
    /// Telemetry endpoints plus command ids plus the alarm channel.
    pub max_subscriptions: usize,
    /// Largest text frame read; a larger one gets `frame_too_large` and the socket is closed.
    pub max_frame_bytes: usize,
    /// Sustained client messages per second, and the burst allowed above it.
    pub messages_per_second: f64,
    pub message_burst: f64,
    /// Live events buffered for a client before it counts as too slow and is closed.
    pub stream_buffer: usize,
    /// A client that takes no data for this long (its socket stays full) is dropped, freeing
    /// its slot.
    pub write_timeout: Duration,
    /// A WebSocket Ping goes to each client this often, so a live one always has something
    /// to answer.
    pub ping_every: Duration,
    /// A client from which no frame at all (text, pong, ping, ...) has arrived for this long
    /// is dropped: its path is dead, and it would hold its connection slot forever.
    pub silent_limit: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_connections: 256,
            max_connections_per_ip: 64,
            commands_per_second: 5.0,
            command_burst: 20.0,
            max_subscriptions: 4096,
            max_frame_bytes: 64 * 1024,
            messages_per_second: 20.0,
            message_burst: 100.0,
            stream_buffer: 16 * 1024,
            write_timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(30),
            silent_limit: Duration::from_secs(60),
        }
    }
}

/// Flood mode for benchmarks: `endpoints` extra endpoints, each updated `rate_hz` times a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flood {
    pub endpoints: usize,
    pub rate_hz: f64,
}

impl PlantConfig {
    /// The defaults, with one operator named `operator` holding `token`.
    pub fn new(listen: SocketAddr, token: Token) -> Self {
        PlantConfig::with_access(listen, Access::Token(token))
    }

    /// The defaults, with these operators.
    pub fn with_access(listen: SocketAddr, access: Access) -> Self {
        PlantConfig {
            listen,
            access,
            name: "Brewdeck demo brewery".to_owned(),
            admin: false,
            admin_token: None,
            seed: 1,
            fermenters: 4,
            tick: Duration::from_millis(250),
            command_stage_ticks: 1,
            heartbeat: Duration::from_secs(15),
            history: 10_000,
            seq_start: None,
            shutdown_retry_after: 2.0,
            limits: ClientLimits::default(),
            flood: None,
            data_dir: None,
            shelving_minute: Duration::from_secs(60),
        }
    }
}

/// Reads the admin token from a file: its content, surrounding whitespace ignored. An empty
/// file, or one over 4 KiB, is refused; no error ever carries the content.
pub fn admin_token_from_file(path: &Path) -> Result<Token, PlantError> {
    let refused = |reason: String| PlantError::AdminTokenFile {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| refused(e.to_string()))?;
    // One byte past the cap tells "too big" from "exactly at the cap" without reading more.
    let mut bytes = Vec::new();
    file.take(MAX_ADMIN_TOKEN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(e.to_string()))?;
    if bytes.len() as u64 > MAX_ADMIN_TOKEN_FILE_BYTES {
        return Err(refused(format!("over {MAX_ADMIN_TOKEN_FILE_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| refused("not UTF-8 text".to_owned()))?;
    Token::new(text).ok_or_else(|| refused("empty".to_owned()))
}
