//! The Brewdeck plant link: one task that owns the connection to a plant control server and
//! the plant model built from it.
//!
//! [`Link::spawn`] starts the actor and returns a cloneable handle. Operations go in through
//! the handle; the connection state comes out on a `watch` ([`Link::watch_state`]) and plant
//! events on a broadcast channel ([`Link::events`]); [`Link::snapshot`] returns the whole model.
//! The link reconnects by itself with backoff and jitter, forever by default, restores its
//! subscriptions, resumes from the last `seq` on a level-1 server so no alarm or command
//! status is lost, and never executes a command twice.
//!
//! The modules, one way round (`tests/layers.rs` keeps it so):
//! - `handle`: the [`Link`] handle; `ops`: the operations it sends the actor; `history`: what
//!   it asks of the past.
//! - `actor`: the one task and its one loop (connection phases, retries, outbox expiry,
//!   level-0 posts); `actor::dispatch` serves operations, `actor::inbound` applies messages.
//! - `session`: one open socket, its liveness timers and what was told on it; no logic.
//! - Pure parts, no I/O: `model` (the plant as seen), `command_book` (commands and their
//!   phases), `seq_window` (which `seq` were applied), `backoff` (the retry schedule),
//!   `subscriptions` (what to follow), `state` and `events` (what the link publishes).
//! - `transport`: dialing (`ws`), TLS, reaching a host (`reach`), level-0 HTTP posts.
//! - `config`, `token_store`, `error`, `bindings`: settings, where the token comes from,
//!   the error type, the TypeScript bindings.

mod actor;
mod backoff;
mod bindings;
mod command_book;
mod config;
mod error;
mod events;
mod handle;
mod history;
mod local_shelf;
mod model;
mod ops;
mod requests;
mod seq_window;
mod session;
mod state;
mod subscriptions;
mod token_store;
mod transport;

pub use backoff::Backoff;
pub use bindings::typescript_bindings;
pub use command_book::{CommandDraft, CommandPhase, CommandView};
pub use config::{LinkConfig, ServerUrl, Timings, DEFAULT_MAX_MESSAGE_BYTES};
pub use error::LinkError;
pub use events::{Delivery, LinkEvent};
pub use handle::{Link, WeakLink};
pub use history::{HistoryRequest, MAX_HISTORY_IN_FLIGHT};
pub use local_shelf::BY_THIS_DESK;
pub use model::{LinkCounters, MissedEvents, PlantSnapshot, ReadingView, REPORTED_ON_CHANGE};
pub use requests::MAX_REQUESTS_IN_FLIGHT;
pub use state::{LinkState, ProtocolLevel};
pub use token_store::{MemoryTokenStore, TokenStore, TokenStoreError};
pub use transport::tls::{install_crypto_provider, Destination, MAX_CA_FILE_BYTES};
pub use transport::ws::{open_socket, socket_config, LinkSocket};

#[cfg(test)]
mod actor_tests;
#[cfg(test)]
mod frame_props;
#[cfg(test)]
mod testing;
