//! The link's connection state, published on a `watch`.

use brewdeck_protocol::Timestamp;
use serde::Serialize;
use ts_rs::TS;

/// Which level of the protocol (docs/protocol.md) the server speaks, learnt from its `connected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolLevel {
    /// An existing control server: telemetry, alarms, command status; commands over HTTP.
    Level0,
    /// `brewdeck.v1`: catalog, `seq`, resume, commands and acknowledgements on the socket.
    Level1,
}

/// Where the link is. Every transition is logged.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// Not started, or disconnected by the operator.
    Idle,
    /// Dialing; `attempt` is 0 for the first try and counts failures since.
    Connecting { attempt: u32 },
    #[serde(rename_all = "camelCase")]
    Connected {
        level: ProtocolLevel,
        plant: Option<String>,
        since: Timestamp,
    },
    /// Waiting before the next try. `retryAt` is wall-clock time, for display.
    #[serde(rename_all = "camelCase")]
    Reconnecting {
        attempt: u32,
        retry_at: Timestamp,
        #[ts(type = "number")]
        retry_in_ms: u64,
        last_error: String,
    },
    /// The server refused the token (or there is none): no retry until the token changes.
    Unauthorized { reason: String },
    /// A configuration error (bad URL, TLS): no retry until the configuration changes or the
    /// operator asks.
    Failed { reason: String },
    /// Shut down: the task has ended.
    Stopped,
}

impl LinkState {
    pub fn is_connected(&self) -> bool {
        matches!(self, LinkState::Connected { .. })
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            LinkState::Idle => "idle",
            LinkState::Connecting { .. } => "connecting",
            LinkState::Connected { .. } => "connected",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::Unauthorized { .. } => "unauthorized",
            LinkState::Failed { .. } => "failed",
            LinkState::Stopped => "stopped",
        }
    }
}
