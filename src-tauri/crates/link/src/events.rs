//! What the link tells its followers as it happens.

use crate::command_book::CommandView;
use crate::state::ProtocolLevel;
use brewdeck_protocol::{Alarm, Note, Seq, Telemetry};
use serde::Serialize;
use ts_rs::TS;

/// How an alarm or command update reached the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// As it happened.
    Live,
    /// Replayed by the server after a reconnect (it happened while the link was down).
    Replay,
    /// First seen in a server snapshot, or decided by the link itself (outbox expiry).
    Snapshot,
    /// Decided by the link: an outbox expiry, a command whose outcome is unknown.
    Local,
}

/// One plant event. A follower that falls behind the channel is told it lagged, and should
/// take a fresh snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkEvent {
    /// New values, in arrival order: everything read in one turn of the link (at most a few
    /// hundred messages), so a fast plant costs one event per turn, not one per value.
    Readings {
        readings: Vec<Telemetry>,
    },
    Alarm {
        alarm: Alarm,
        via: Delivery,
    },
    Command {
        command: CommandView,
        via: Delivery,
    },
    /// A note for the shift's log (level-1 feature `notes`), live or replayed.
    Note {
        note: Note,
        via: Delivery,
    },
    /// The model was rebuilt from a server snapshot (or reset for a new server): followers
    /// should take a fresh snapshot.
    #[serde(rename_all = "camelCase")]
    Synced {
        level: ProtocolLevel,
        plant: Option<String>,
        endpoints: usize,
        #[ts(type = "number | null")]
        last_seq: Option<Seq>,
    },
    /// The server's history no longer reached back to where the link left: alarms or command
    /// statuses between these numbers may have been missed. Tell the operator.
    #[serde(rename_all = "camelCase")]
    EventsMayBeMissing {
        #[ts(type = "number")]
        from_seq: Seq,
        #[ts(type = "number")]
        to_seq: Seq,
    },
    /// The server reported an error (a limit, a refused message).
    ServerError {
        code: Option<String>,
        message: String,
    },
    /// The link now talks to another server: every event after this one is about it. (In the
    /// stream, so a follower that keeps readings per server never files one under the other.)
    ServerChanged {
        server: String,
    },
}
