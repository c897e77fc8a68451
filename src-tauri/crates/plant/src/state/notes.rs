//! Notes: the shift's log. Each is sequenced like an alarm (so a resume replays it), sent to
//! every level-1 client and kept in the journal.

use super::{PlantState, Topic};
use brewdeck_protocol::{EndpointId, Note, ServerMessage, Timestamp};

impl PlantState {
    /// An operator's note (checked by the caller), numbered from 1 in each run.
    pub fn note(&mut self, by: &str, text: String, endpoint_ids: Vec<EndpointId>) -> Note {
        let note_id = self.next_note;
        self.next_note += 1;
        let mut note = Note {
            note_id,
            seq: 0,
            at: Timestamp::now(),
            by: by.to_owned(),
            text,
            endpoint_ids,
        };
        self.publish_sequenced(Topic::Note, |seq| {
            note.seq = seq;
            ServerMessage::Note(note.clone())
        });
        self.journal_note(&note);
        note
    }
}
