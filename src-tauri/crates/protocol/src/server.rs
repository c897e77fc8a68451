use crate::catalog::Endpoint;
use crate::client::Action;
use crate::history::History;
use crate::ids::{AlarmId, CommandId, EndpointId, Seq};
use crate::journal::{Done, Journal};
use crate::notes::Note;
use crate::operator::Operator;
use crate::shelving::Shelved;
use crate::time::Timestamp;
use crate::value::{Quality, Value};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every message a server sends, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Connected(Connected),
    Telemetry(Telemetry),
    CommandStatus(CommandStatus),
    Alarm(Alarm),
    Pong(Pong),
    Heartbeat(Heartbeat),
    Error(ServerError),
    Reconnect(Reconnect),
    /// Level 1.
    Snapshot(Snapshot),
    /// Level 1.
    Resumed(Resumed),
    /// Level 1 feature `history`: the answer to a `history_query`.
    History(History),
    /// Level 1 feature `journal`: the answer to a `journal_query`.
    Journal(Journal),
    /// Level 1 feature `notes`: a note, sequenced like alarms.
    Note(Note),
    /// Level 1: a request with no answer of its own was carried out.
    Done(Done),
    /// A type this side does not know: ignored, never an error.
    #[serde(other)]
    Unknown,
}

impl ServerMessage {
    /// The level-1 sequence number, on `alarm` and `command_status`.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerMessage::Alarm(a) => a.seq,
            ServerMessage::CommandStatus(c) => c.seq,
            ServerMessage::Note(n) => Some(n.seq),
            _ => None,
        }
    }
}

/// The server's first message. A level-1 server lists `brewdeck.v1` in `protocols`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Connected {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<Timestamp>,
    /// The plant's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<Seq>,
    /// Level 1: the optional features the server serves (`history`, ...); a client uses only
    /// these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Level 1 feature `operators`: who this connection is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

impl Connected {
    /// Whether the server lists `feature` in `features`.
    pub fn serves(&self, feature: &str) -> bool {
        self.features
            .as_deref()
            .is_some_and(|f| f.iter().any(|x| x == feature))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Telemetry {
    pub endpoint_id: EndpointId,
    pub value: Value,
    pub timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
}

/// Where a command is in its life, as a server reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Queued,
    Sent,
    Acked,
    Succeeded,
    Failed,
    Rejected,
}

impl CommandState {
    /// No later status follows a final one.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CommandState::Succeeded | CommandState::Failed | CommandState::Rejected
        )
    }
}

/// `command_status`: one step of a command's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CommandStatus {
    pub command_id: CommandId,
    pub status: CommandState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Why it was rejected or failed (an interlock's name, `expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Level 1: which endpoint and action, so any client can follow any command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<EndpointId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum AlarmState {
    Active,
    Cleared,
}

/// `alarm`: an alarm raised, cleared or acknowledged. Level 0 sends only the first four fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Alarm {
    pub alarm_id: AlarmId,
    pub severity: Severity,
    pub message: String,
    pub timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<EndpointId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AlarmState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_at: Option<Timestamp>,
    /// Level 1 feature `shelving`: the note given with the acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_note: Option<String>,
    /// Level 1 feature `shelving`: until when, by whom and why, while shelved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelved: Option<Shelved>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
}

impl Alarm {
    /// Whether the alarm is over: cleared and acknowledged, nothing left for the operator to
    /// do, so it leaves the active alarms (a server's and a desk's). One cleared but not yet
    /// acknowledged stays, so the operator still sees it happened. The one statement of this
    /// rule, so servers and desks cannot drift apart on it.
    pub fn is_closed(&self) -> bool {
        self.state == Some(AlarmState::Cleared) && self.acked == Some(true)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Pong {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Heartbeat {
    pub timestamp: Timestamp,
    #[serde(
        default,
        alias = "active_streams",
        skip_serializing_if = "Option::is_none"
    )]
    pub active_streams: Option<u64>,
}

/// `error`: something the server refused or could not do. `code` is one of [`ErrorCode`]'s
/// names for a level-1 server, anything (or nothing) for level 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct ServerError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoverable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Level 1: the `requestId` of the request refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The `error.code` values `brewdeck-plant` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// More messages per second than the server allows; the message was dropped.
    RateLimited,
    /// More subscriptions than the server allows; the subscribe was refused.
    TooManySubscriptions,
    /// A frame larger than the server reads; the socket is closed.
    FrameTooLarge,
    /// More connections than the server serves; the socket is closed.
    TooManyConnections,
    /// The client fell too far behind the live stream; it is closed so it can resume.
    SlowConsumer,
    /// A frame that is not a known message.
    BadMessage,
    /// An `alarm_ack` for an alarm the server does not have.
    UnknownAlarm,
    /// A level-1 request that is malformed or out of range.
    BadRequest,
    /// A level-1 request asking more than the server answers in one frame.
    TooLarge,
    /// A level-1 request the operator's role does not allow.
    Forbidden,
    /// A level-1 request for a feature the server does not serve.
    Unsupported,
}

impl ErrorCode {
    /// Every code, in declaration order; `tests::all_lists_every_code` fails to compile when a
    /// variant is missing from its list, and fails when one is missing from here.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::RateLimited,
        ErrorCode::TooManySubscriptions,
        ErrorCode::FrameTooLarge,
        ErrorCode::TooManyConnections,
        ErrorCode::SlowConsumer,
        ErrorCode::BadMessage,
        ErrorCode::UnknownAlarm,
        ErrorCode::BadRequest,
        ErrorCode::TooLarge,
        ErrorCode::Forbidden,
        ErrorCode::Unsupported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManySubscriptions => "too_many_subscriptions",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::UnknownAlarm => "unknown_alarm",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Unsupported => "unsupported",
        }
    }
}

/// `reconnect`: the server asks the client to come back after `retryAfter` seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Reconnect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(
        default,
        alias = "retry_after",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<f64>,
}

/// A command as a level-1 `snapshot` lists it: what was asked and where it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CommandRecord {
    pub command_id: CommandId,
    pub endpoint_id: EndpointId,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub status: CommandState,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The `seq` of its latest status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
}

impl CommandRecord {
    /// Its latest step as a `command_status`, with the given `seq` (none for an answer that is
    /// not an event of the stream).
    pub fn status(&self, seq: Option<Seq>) -> CommandStatus {
        CommandStatus {
            command_id: self.command_id.clone(),
            status: self.status,
            actual_value: self.actual_value.clone(),
            completed_at: self.completed_at,
            reason: self.reason.clone(),
            endpoint_id: Some(self.endpoint_id.clone()),
            action: Some(self.action),
            seq,
        }
    }
}

/// Level 1: the whole current state, after `hello` (and after any replay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Snapshot {
    pub catalog: Vec<Endpoint>,
    pub values: Vec<Telemetry>,
    /// Alarms still active or not yet acknowledged (shelved ones too, marked).
    pub alarms: Vec<Alarm>,
    /// Commands not yet final, and those that ended recently.
    pub commands: Vec<CommandRecord>,
    /// The server's last `seq` when the snapshot was taken.
    pub seq: Seq,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plant: Option<String>,
}

/// Level 1: the replay asked by `hello.lastSeq` is over. `complete` is false when the server's
/// history no longer reached back to `lastSeq`: events may have been missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Resumed {
    pub from_seq: Seq,
    pub to_seq: Seq,
    pub complete: bool,
}

#[cfg(test)]
mod tests {
    use super::{Alarm, AlarmState, ErrorCode, Severity};
    use crate::time::Timestamp;

    #[test]
    fn an_alarm_is_closed_only_once_cleared_and_acknowledged() {
        let alarm = |state, acked| Alarm {
            alarm_id: 1u64.into(),
            severity: Severity::High,
            message: "HLT temperature high".to_owned(),
            timestamp: Timestamp::now(),
            endpoint_id: None,
            state,
            acked,
            acked_by: None,
            acked_at: None,
            ack_note: None,
            shelved: None,
            seq: None,
        };
        assert!(alarm(Some(AlarmState::Cleared), Some(true)).is_closed());
        for (state, acked) in [
            (Some(AlarmState::Cleared), Some(false)),
            (Some(AlarmState::Cleared), None),
            (Some(AlarmState::Active), Some(true)),
            (Some(AlarmState::Active), Some(false)),
            (None, Some(true)),
            (None, None),
        ] {
            assert!(!alarm(state, acked).is_closed(), "{state:?} {acked:?}");
        }
    }

    /// Lists every variant of `ErrorCode` in an exhaustive `match` (a new variant does not
    /// compile until it is listed) and returns them all.
    macro_rules! every_error_code {
        ($($variant:ident),* $(,)?) => {{
            fn _exhaustive(code: ErrorCode) {
                match code {
                    $(ErrorCode::$variant => {})*
                }
            }
            [$(ErrorCode::$variant),*]
        }};
    }

    #[test]
    fn all_lists_every_code() {
        let every = every_error_code!(
            RateLimited,
            TooManySubscriptions,
            FrameTooLarge,
            TooManyConnections,
            SlowConsumer,
            BadMessage,
            UnknownAlarm,
            BadRequest,
            TooLarge,
            Forbidden,
            Unsupported,
        );
        for code in every {
            assert!(ErrorCode::ALL.contains(&code), "{code:?} missing from ALL");
        }
        assert_eq!(ErrorCode::ALL.len(), every.len(), "ALL lists a code twice");
    }

    #[test]
    fn as_str_is_the_wire_name() {
        for &code in ErrorCode::ALL {
            let wire = serde_json::to_value(code).expect("a code encodes");
            assert_eq!(wire.as_str(), Some(code.as_str()), "{code:?}");
        }
    }
}
