use crate::history::HistoryQuery;
use crate::ids::{AlarmId, CommandId, EndpointId, Seq};
use crate::journal::JournalQuery;
use crate::notes::NoteRequest;
use crate::shelving::{AlarmShelve, AlarmUnshelve};
use crate::time::Timestamp;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every message a client sends, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Subscribe(Subscription),
    Unsubscribe(Subscription),
    Ping,
    /// Level 1: asks for the level-1 protocol and, after a reconnect, the replay after `lastSeq`.
    Hello(Hello),
    /// Level 1: a command over the socket.
    Command(Command),
    /// Level 1: an operator acknowledges an alarm.
    AlarmAck(AlarmAck),
    /// Level 1 feature `history`: readings over time.
    HistoryQuery(HistoryQuery),
    /// Level 1 feature `journal`: what happened, and who did it.
    JournalQuery(JournalQuery),
    /// Level 1 feature `shelving`.
    AlarmShelve(AlarmShelve),
    AlarmUnshelve(AlarmUnshelve),
    /// Level 1 feature `notes`: a note for the shift's log.
    Note(NoteRequest),
    /// A type this side does not know: ignored, never an error.
    #[serde(other)]
    Unknown,
}

/// A subscription channel and its keys, as in `subscribe` and `unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Subscription {
    #[serde(rename_all = "camelCase")]
    Telemetry {
        #[serde(default)]
        endpoint_ids: Vec<EndpointId>,
    },
    Alarms,
    /// Command statuses; with no ids, every command's.
    #[serde(rename_all = "camelCase")]
    Commands {
        #[serde(default)]
        command_ids: Vec<CommandId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Hello {
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<Seq>,
}

/// What an operator asks an endpoint to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Set,
    On,
    Off,
    Open,
    Close,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Set => "set",
            Action::On => "on",
            Action::Off => "off",
            Action::Open => "open",
            Action::Close => "close",
        }
    }
}

/// A level-1 command. `commandId` is the idempotency key: the same id is the same command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Command {
    pub command_id: CommandId,
    pub endpoint_id: EndpointId,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The body of a level-0 `POST /api/os/command`. Only the target and action are required;
/// a missing `commandId` is chosen by the server and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CommandRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<CommandId>,
    pub endpoint_id: EndpointId,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// `alarm_ack`; level-1 feature `shelving` adds an optional note (kept as `ackNote`) and a
/// `requestId` answered by `done` or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct AlarmAck {
    pub alarm_id: AlarmId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
