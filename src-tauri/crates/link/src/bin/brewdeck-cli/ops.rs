//! Operations read from stdin, one JSON object per line.

use crate::output::Output;
use brewdeck_link::{CommandDraft, Link, LinkError};
use brewdeck_protocol::{AlarmId, EndpointId};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Command(CommandDraft),
    #[serde(rename_all = "camelCase")]
    Ack {
        alarm_id: AlarmId,
    },
    Snapshot,
    Retry,
    #[serde(rename_all = "camelCase")]
    Subscribe {
        endpoint_ids: Vec<EndpointId>,
    },
    Quit,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Quit,
}

fn error(out: &Output, code: &str, message: impl std::fmt::Display) {
    out.line(&json!({"kind": "error", "code": code, "message": message.to_string()}));
}

fn link_error(out: &Output, e: &LinkError) {
    let code = match e {
        LinkError::NotConnected => "not_connected",
        LinkError::NeedsLevel1(_) => "needs_level_1",
        LinkError::UnknownEndpoint(_) | LinkError::NotAllowed { .. } => "bad_command",
        LinkError::UnknownAlarm(_) => "unknown_alarm",
        LinkError::Stopped => "stopped",
        _ => "link",
    };
    error(out, code, e);
}

pub async fn run(link: &Link, out: &Output, line: &str) -> Next {
    if line.trim().is_empty() {
        return Next::Continue;
    }
    let op: Op = match serde_json::from_str(line) {
        Ok(op) => op,
        Err(e) => {
            error(out, "bad_input", format!("not an operation: {e}"));
            return Next::Continue;
        }
    };
    match op {
        Op::Command(draft) => match link.send_command(draft).await {
            Ok(command) => {
                out.line(&json!({"kind": "command_issued", "command": command}));
            }
            Err(e) => link_error(out, &e),
        },
        Op::Ack { alarm_id } => match link.acknowledge(alarm_id.clone(), None).await {
            Ok(()) => {
                out.line(&json!({"kind": "ack_sent", "alarmId": alarm_id}));
            }
            Err(e) => link_error(out, &e),
        },
        Op::Snapshot => match link.snapshot().await {
            Ok(snapshot) => {
                out.line(&json!({"kind": "snapshot", "snapshot": snapshot}));
            }
            Err(e) => link_error(out, &e),
        },
        Op::Retry => {
            if let Err(e) = link.retry_now().await {
                link_error(out, &e);
            }
        }
        Op::Subscribe { endpoint_ids } => {
            if let Err(e) = link.subscribe(endpoint_ids).await {
                link_error(out, &e);
            }
        }
        Op::Quit => return Next::Quit,
    }
    Next::Continue
}
