//! What an operator asks the plant to change over the socket: a command, an acknowledgement,
//! a shelving, an unshelving, a note. Each is checked in order (its `requestId`, the
//! operator's role, its own bounds), carried out under the lock, and answered: with an
//! `error` at once, or with `done` once the events it caused have been sent.

use crate::caps;
use crate::requests::{self, refusal_text, refuse, Refusal};
use crate::shared::Shared;
use crate::state::{AlarmRefusal, Submitted};
use axum::extract::ws::Utf8Bytes;
use brewdeck_protocol::{
    check_ack_note, check_reason, AlarmAck, AlarmShelve, AlarmUnshelve, Command, ErrorCode,
    NoteRequest, Operator,
};

/// How a request was answered.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Refused: this `error` goes to the client now.
    Refused(Utf8Bytes),
    /// Carried out: the `done` (when it carried a `requestId`) goes after its events.
    Done(Option<Utf8Bytes>),
}

/// Checks the id, then runs `carry_out`; a refusal carries the id back when it is valid.
fn answer(request_id: Option<String>, carry_out: impl FnOnce() -> Result<(), Refusal>) -> Reply {
    if let Err(refusal) = requests::check_id(request_id.as_deref()) {
        return Reply::Refused(refusal_text(None, refusal));
    }
    match carry_out() {
        Ok(()) => Reply::Done(requests::done_text(request_id)),
        Err(refusal) => Reply::Refused(refusal_text(request_id, refusal)),
    }
}

/// Refused unless the operator's role may change the plant or the record.
fn may_change(who: &Operator, what: &str) -> Result<(), Refusal> {
    if who.role.may_change() {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::Forbidden,
            format!("a {} may not {what}", who.role),
        ))
    }
}

fn bad_request(message: String) -> Refusal {
    refuse(ErrorCode::BadRequest, message)
}

impl From<AlarmRefusal> for Refusal {
    fn from(e: AlarmRefusal) -> Self {
        let code = match e {
            AlarmRefusal::Unknown(_) => ErrorCode::UnknownAlarm,
            AlarmRefusal::Forbidden(_) => ErrorCode::Forbidden,
        };
        refuse(code, e.to_string())
    }
}

pub(crate) fn alarm_ack(shared: &Shared, who: &Operator, ack: AlarmAck) -> Reply {
    answer(ack.request_id, || {
        may_change(who, "acknowledge alarms")?;
        if let Some(note) = &ack.note {
            check_ack_note(note).map_err(bad_request)?;
        }
        Ok(shared.lock().acknowledge(&ack.alarm_id, who, ack.note)?)
    })
}

pub(crate) fn alarm_shelve(shared: &Shared, who: &Operator, shelve: AlarmShelve) -> Reply {
    answer(shelve.request_id, || {
        may_change(who, "shelve alarms")?;
        if shelve.minutes == 0 {
            return Err(bad_request("minutes must be at least 1".to_owned()));
        }
        check_reason(&shelve.reason).map_err(bad_request)?;
        let limit = who.role.shelve_limit_minutes();
        if shelve.minutes > limit {
            return Err(refuse(
                ErrorCode::Forbidden,
                format!(
                    "a {} may shelve for at most {limit} minutes, not {}",
                    who.role, shelve.minutes
                ),
            ));
        }
        Ok(shared
            .lock()
            .shelve(&shelve.alarm_id, shelve.minutes, shelve.reason, who)?)
    })
}

pub(crate) fn alarm_unshelve(shared: &Shared, who: &Operator, unshelve: AlarmUnshelve) -> Reply {
    answer(unshelve.request_id, || {
        may_change(who, "unshelve alarms")?;
        Ok(shared.lock().unshelve(&unshelve.alarm_id, who)?)
    })
}

pub(crate) fn note(shared: &Shared, who: &Operator, note: NoteRequest) -> Reply {
    answer(note.request_id.clone(), || {
        may_change(who, "write notes")?;
        note.check().map_err(bad_request)?;
        caps::note(&note).map_err(|e| bad_request(e.to_string()))?;
        shared
            .lock()
            .note(&who.name, note.text, note.endpoint_ids.unwrap_or_default());
        Ok(())
    })
}

/// A command over the socket. Refused by the role, it is still rejected with a status (so
/// whoever follows it sees it end) after the `error`; a repeated id gets its current status,
/// to the sender only.
pub(crate) fn command(shared: &Shared, who: &Operator, command: Command) -> Vec<Utf8Bytes> {
    let mut out = Vec::new();
    if let Err(refusal) = may_change(who, "command the plant") {
        out.push(refusal_text(None, refusal));
    }
    if let Submitted::Repeat { status, .. } = shared.lock().submit(command, who) {
        out.push(status);
    }
    out
}
