//! The operator's record on this desk: the journal (the plant's when it keeps one, and this
//! desk's own of what it saw and did, so a level-0 server still gets a record), its export,
//! and alarm health measured from it.
//!
//! - [`book`]: link events to journal entries (pure).
//! - [`desk_journal`]: the task writing them into the desk's record, and reading them back.
//! - [`view`]: the journal view's filters and pages; [`csv`]: its export.
//! - [`health`]: ISA-18.2's alarm-rate figures (pure).

pub mod book;
pub mod csv;
pub mod desk_journal;
pub mod health;
pub mod view;

pub use book::JournalBook;
pub use desk_journal::spawn_desk_journal;
pub use health::{alarm_health, AlarmHealth};
pub use view::{AckAllOutcome, JournalFilter, JournalPage, JournalSource};
