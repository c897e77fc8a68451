//! Level-1 requests that carry a `requestId`: what the link asks, and who waits for which
//! answer (`history`, `journal`, or `done`), or for the `error` that refuses it.

use crate::error::LinkError;
use crate::history::{HistoryRequest, MAX_HISTORY_IN_FLIGHT};
use brewdeck_protocol::{
    AlarmAck, AlarmId, AlarmShelve, AlarmUnshelve, ClientMessage, EndpointId, History,
    HistoryQuery, Journal, JournalQuery, NoteRequest, FEATURE_HISTORY, FEATURE_JOURNAL,
    FEATURE_NOTES, FEATURE_SHELVING,
};

/// Most requests waiting for their answer at once, of every kind; one more is refused with
/// [`LinkError::Busy`].
pub const MAX_REQUESTS_IN_FLIGHT: usize = 32;

/// A request without its `requestId`, which the link chooses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    History(HistoryRequest),
    /// Its `requestId` is replaced by the link's.
    Journal(JournalQuery),
    Acknowledge {
        alarm_id: AlarmId,
        note: Option<String>,
    },
    Shelve {
        alarm_id: AlarmId,
        minutes: u32,
        reason: String,
    },
    Unshelve {
        alarm_id: AlarmId,
    },
    Note {
        text: String,
        endpoint_ids: Vec<EndpointId>,
    },
}

impl Request {
    /// The feature the server must list for this request to be sent.
    pub fn feature(&self) -> &'static str {
        match self {
            Request::History(_) => FEATURE_HISTORY,
            Request::Journal(_) => FEATURE_JOURNAL,
            Request::Acknowledge { .. } | Request::Shelve { .. } | Request::Unshelve { .. } => {
                FEATURE_SHELVING
            }
            Request::Note { .. } => FEATURE_NOTES,
        }
    }

    pub fn message(self, request_id: String) -> ClientMessage {
        match self {
            Request::History(r) => ClientMessage::HistoryQuery(HistoryQuery {
                request_id,
                endpoint_ids: r.endpoint_ids,
                from: r.from,
                to: r.to,
                max_points: r.max_points,
            }),
            Request::Journal(q) => ClientMessage::JournalQuery(JournalQuery { request_id, ..q }),
            Request::Acknowledge { alarm_id, note } => ClientMessage::AlarmAck(AlarmAck {
                alarm_id,
                note,
                request_id: Some(request_id),
            }),
            Request::Shelve {
                alarm_id,
                minutes,
                reason,
            } => ClientMessage::AlarmShelve(AlarmShelve {
                request_id: Some(request_id),
                alarm_id,
                minutes,
                reason,
            }),
            Request::Unshelve { alarm_id } => ClientMessage::AlarmUnshelve(AlarmUnshelve {
                request_id: Some(request_id),
                alarm_id,
            }),
            Request::Note { text, endpoint_ids } => ClientMessage::Note(NoteRequest {
                request_id: Some(request_id),
                text,
                endpoint_ids: (!endpoint_ids.is_empty()).then_some(endpoint_ids),
            }),
        }
    }
}

/// Where an answer goes (not `ops::Reply`: the operations carry requests, not the reverse).
type Reply<T> = tokio::sync::oneshot::Sender<T>;

/// Who waits for a request's answer.
#[derive(Debug)]
pub(crate) enum Waiter {
    History(Reply<Result<History, LinkError>>),
    Journal(Reply<Result<Journal, LinkError>>),
    /// `done`: the request was carried out.
    Done(Reply<Result<(), LinkError>>),
}

impl Waiter {
    pub fn fail(self, error: LinkError) {
        match self {
            Waiter::History(r) => drop(r.send(Err(error))),
            Waiter::Journal(r) => drop(r.send(Err(error))),
            Waiter::Done(r) => drop(r.send(Err(error))),
        }
    }

    /// The caller gave up waiting.
    pub fn is_closed(&self) -> bool {
        match self {
            Waiter::History(r) => r.is_closed(),
            Waiter::Journal(r) => r.is_closed(),
            Waiter::Done(r) => r.is_closed(),
        }
    }

    pub fn is_history(&self) -> bool {
        matches!(self, Waiter::History(_))
    }

    /// Why one more request of this kind cannot wait now, if it cannot: the plant answers
    /// at most [`MAX_HISTORY_IN_FLIGHT`] history queries at once per connection.
    pub fn room<'a>(&self, waiting: impl Iterator<Item = &'a Waiter>) -> Result<(), LinkError> {
        let (mut all, mut history) = (0, 0);
        for w in waiting {
            all += 1;
            history += usize::from(w.is_history());
        }
        if all >= MAX_REQUESTS_IN_FLIGHT || (self.is_history() && history >= MAX_HISTORY_IN_FLIGHT)
        {
            return Err(LinkError::Busy);
        }
        Ok(())
    }
}

/// What answered a request.
#[derive(Debug)]
pub(crate) enum Answer {
    History(History),
    Journal(Journal),
    Done,
}

impl Waiter {
    /// Hands the answer to its caller; an answer of another kind than asked is a server's
    /// mistake, said as such.
    pub fn answer(self, answer: Answer) {
        match (self, answer) {
            (Waiter::History(r), Answer::History(h)) => drop(r.send(Ok(h))),
            (Waiter::Journal(r), Answer::Journal(j)) => drop(r.send(Ok(j))),
            (Waiter::Done(r), Answer::Done) => drop(r.send(Ok(()))),
            (waiter, _) => waiter.fail(LinkError::Refused {
                code: "bad_message".to_owned(),
                message: "the server answered with another kind of message than asked".to_owned(),
            }),
        }
    }
}
