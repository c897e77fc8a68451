//! `brewdeck-station`: what the operator's desktop does around the link, kept free of Tauri so it
//! builds and tests in seconds. The app crate (`src-tauri`) only wires these pieces to Tauri.
//!
//! - [`settings`]: the server profile and choices, in a file written atomically; a corrupt
//!   file is reported and replaced by defaults.
//! - [`keychain`] and [`vault`]: the token in the OS keychain (one entry per server profile),
//!   or for this session only; never on disk in plain text.
//! - [`notices`]: which link events become native notifications, once each, folded in floods;
//!   [`notice_text`]: their text made inert and short for the desktop.
//! - [`annunciator`]: which alarms sound, and when the sound stops (acknowledged, shelved,
//!   silenced); [`sound`]: the sounds, shipped in the binary; [`sound_player`]: plays them
//!   natively on a thread of its own.
//! - [`journal`]: the journal (the plant's, and this desk's own), its export, alarm health.
//! - [`record`]: the desk's record of readings, trends from it, and the past asked of the
//!   plant.
//! - [`operator`]: who this desk is on the plant and what its role lets it do here.
//! - [`readings`]: telemetry coalesced to the latest value per endpoint, in small batches.
//! - [`bridge`]: the task that follows a link and feeds a [`bridge::Output`] (the app's events,
//!   notifications and tray) at a bounded rate.
//! - [`target`]: where the desk connects (`--demo`, `--server`, the settings) and whether a
//!   settings save moves it; [`shell`]: the window title and the tray's words and icon.

pub mod alarm_sounds;
pub mod annunciator;
pub mod bindings;
pub mod bridge;
pub mod error;
pub mod failure;
pub mod journal;
pub mod keychain;
pub mod notice_text;
pub mod notices;
pub mod opener;
pub mod operator;
pub mod readings;
pub mod record;
pub mod settings;
pub mod shell;
pub mod sound;
pub mod sound_player;
pub mod status;
pub mod target;
pub mod vault;

pub use error::StationError;
