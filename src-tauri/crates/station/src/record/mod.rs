//! The desk's record: every reading it receives, kept in `brewdeck.sqlite3` (a
//! `brewdeck-store`), the trends read from it, and the ranges it did not see asked of a
//! level-1 plant that serves `history`.
//!
//! - [`view`]: what the webview sees (queries, answers, the record's health).
//! - [`desk_record`]: the file, opened and reopened by itself, its health and retention.
//! - [`recorder`]: the task that records every reading and the time the desk was connected.
//! - [`fill`]: what the desk did not see, asked of the plant and kept.
//! - [`csv`]: a trend as CSV for export; [`files`]: the retention file and exports.

pub mod csv;
pub mod desk_record;
pub mod files;
pub mod fill;
pub mod recorder;
pub mod view;

pub use desk_record::{DeskRecord, RECORD_FILE};
pub use fill::{start_fill, worth_asking, FillMemory};
pub use recorder::spawn_recorder;
