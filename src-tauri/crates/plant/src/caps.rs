//! How much text the plant takes from outside and keeps. What it keeps reaches every client's
//! snapshot, and a snapshot over a client's message limit (the link's is 1 MiB) makes every
//! desk reconnect forever, so each text has a cap and each over-long one is refused whole.

use brewdeck_protocol::{Command, Id, NoteRequest, Subscription, Value};

/// A `commandId`, or an endpoint id given as text.
pub(crate) const MAX_ID_BYTES: usize = 128;
/// A command's text value.
pub(crate) const MAX_TEXT_VALUE_BYTES: usize = 1024;
/// An alarm message raised from the admin API.
pub(crate) const MAX_ALARM_MESSAGE_BYTES: usize = 1024;
/// The plant's name, sent in `connected` and every snapshot.
pub(crate) const MAX_PLANT_NAME_BYTES: usize = 256;
/// An admin request's body: an alarm is a few fields.
pub(crate) const MAX_ADMIN_BODY_BYTES: usize = 16 * 1024;
/// Alarms held at once (active, or cleared and not yet acknowledged) past which the admin API
/// raises no more. The simulator's own alarms are always raised: they are few, one per
/// condition.
pub(crate) const MAX_HELD_ALARMS: usize = 256;

/// Why the plant refused a text or an alarm.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Refused {
    #[error("{what} is {len} bytes; at most {max} are accepted")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// Escaped as `\u00XX` in JSON, a control character costs six bytes: refused, so an
    /// alarm's size on the wire stays within twice its cap.
    #[error("{what} must be one line of text, without control characters")]
    ControlCharacter { what: &'static str },
    #[error(
        "the plant already holds {max} alarms (active, or cleared and not yet acknowledged): \
         clear and acknowledge some first"
    )]
    TooManyAlarms { max: usize },
}

fn at_most(what: &'static str, text: &str, max: usize) -> Result<(), Refused> {
    if text.len() > max {
        return Err(Refused::TooLong {
            what,
            len: text.len(),
            max,
        });
    }
    Ok(())
}

fn id(what: &'static str, id: &Id) -> Result<(), Refused> {
    match id {
        Id::Number(_) => Ok(()),
        Id::Text(text) => at_most(what, text, MAX_ID_BYTES),
    }
}

/// A command from a client (socket or `POST /api/os/command`), before it is remembered.
pub(crate) fn command(command: &Command) -> Result<(), Refused> {
    at_most("commandId", &command.command_id.0, MAX_ID_BYTES)?;
    id("endpointId", &command.endpoint_id.0)?;
    if let Some(Value::Text(text)) = &command.value {
        at_most("value", text, MAX_TEXT_VALUE_BYTES)?;
    }
    Ok(())
}

/// A subscribe: its ids are kept for as long as the client stays.
pub(crate) fn subscription(subscription: &Subscription) -> Result<(), Refused> {
    match subscription {
        Subscription::Telemetry { endpoint_ids } => endpoint_ids
            .iter()
            .try_for_each(|e| id("an endpointId", &e.0)),
        Subscription::Commands { command_ids } => command_ids
            .iter()
            .try_for_each(|c| at_most("a commandId", &c.0, MAX_ID_BYTES)),
        Subscription::Alarms => Ok(()),
    }
}

/// A note's endpoints: kept in the history and the journal with it.
pub(crate) fn note(note: &NoteRequest) -> Result<(), Refused> {
    note.endpoint_ids
        .iter()
        .flatten()
        .try_for_each(|e| id("an endpointId", &e.0))
}

pub(crate) fn alarm_message(message: &str) -> Result<(), Refused> {
    at_most("the alarm message", message, MAX_ALARM_MESSAGE_BYTES)?;
    if message.chars().any(char::is_control) {
        return Err(Refused::ControlCharacter {
            what: "the alarm message",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use brewdeck_protocol::{Action, CommandId, EndpointId, Timestamp};

    fn command_with(id: &str, endpoint: EndpointId, value: Option<Value>) -> Command {
        Command {
            command_id: CommandId::from(id),
            endpoint_id: endpoint,
            action: Action::Set,
            value,
            issued_at: Timestamp::now(),
            expires_at: Timestamp::now(),
        }
    }

    #[test]
    fn texts_are_refused_one_byte_past_their_cap() {
        let at_cap = "é".repeat(MAX_ID_BYTES / 2);
        let over = format!("{at_cap}x");
        assert_eq!(command(&command_with(&at_cap, 1.into(), None)), Ok(()));
        assert!(matches!(
            command(&command_with(&over, 1.into(), None)),
            Err(Refused::TooLong {
                what: "commandId",
                len: 129,
                max: 128
            })
        ));
        assert!(command(&command_with("c", over.as_str().into(), None)).is_err());
        let value = |n| Some(Value::Text("v".repeat(n)));
        assert_eq!(command(&command_with("c", 1.into(), value(1024))), Ok(()));
        assert!(command(&command_with("c", 1.into(), value(1025))).is_err());
        let subscribe = Subscription::Commands {
            command_ids: vec!["ok".into(), over.as_str().into()],
        };
        assert!(subscription(&subscribe).is_err());

        assert_eq!(alarm_message(&"m".repeat(1024)), Ok(()));
        let refused = alarm_message(&"m".repeat(1025)).map_err(|e| e.to_string());
        assert_eq!(
            refused,
            Err("the alarm message is 1025 bytes; at most 1024 are accepted".to_owned())
        );
        assert!(matches!(
            alarm_message("boil\nover"),
            Err(Refused::ControlCharacter { .. })
        ));
    }
}
