//! `brewdeck-plant`: the reference plant control server (docs/protocol.md level 1, and level 0 for
//! clients that never say `hello`) over a simulated brewery. The app's demo mode embeds it;
//! every test of the link and the app talks to it.
//!
//! - `server`: starting and stopping a plant server, and its background tasks (ticks, flood).
//! - `shared`: what every task of one running server shares: the locked state, connection slots.
//! - `state`: the plant's state under one lock: values, alarms and their shelves, notes, the
//!   `seq`'d history and stream, the journal entries of it all.
//! - `commands`: the command memory: which ids it knows (never run twice), which are in flight.
//! - `http`: the routes: the WebSocket upgrade, `/health`, the level-0 `POST /api/os/command`.
//! - `admin`: the `/admin/*` API for tests and demos, behind its loopback and token guard.
//! - `problem`: the JSON `{code, message}` refusals over HTTP, and the bearer token check.
//! - `client`: one client's WebSocket session: subscriptions, limits, its filtered stream.
//! - `operators`: who may connect and as whom (`--token`, `--operators FILE`), by the token's
//!   SHA-256.
//! - `actions`: what an operator asks to change (command, acknowledge, shelve, note),
//!   checked against the role and carried out.
//! - `requests`: what every level-1 request shares: `requestId`, refusals, `done`.
//! - `wire`: server messages encoded once as text frames, and their encoded size.
//! - `historian`: every reading into the plant's store (`--data-dir`, or memory).
//! - `history`: `history_query` checked and answered from it, within one frame.
//! - `journal`: `journal_query` checked and answered from the plant's journal, within one
//!   frame.
//! - `caps`: how much text the plant takes from outside and keeps, so snapshots stay small.
//! - `rate`: token buckets: a client's message rate, each peer's level-0 command rate.
//! - `config`: what a server is started with ([`PlantConfig`], [`ClientLimits`], [`Flood`]).
//! - `error`: why a server could not start ([`PlantError`]).
//! - [`sim`]: the simulated brewery: pure, deterministic, no I/O.
//!
//! ```no_run
//! # async fn demo() -> Result<(), brewdeck_plant::PlantError> {
//! use brewdeck_plant::{start, PlantConfig};
//! use brewdeck_protocol::Token;
//! let token = Token::new("one-time-token").expect("non-empty");
//! let plant = start(PlantConfig::new("127.0.0.1:0".parse().expect("addr"), token)).await?;
//! println!("serving {}", plant.ws_url());
//! plant.shutdown().await;
//! # Ok(()) }
//! ```

mod actions;
mod admin;
mod caps;
mod client;
mod commands;
mod config;
mod error;
mod historian;
mod history;
mod http;
mod journal;
mod operators;
mod problem;
mod rate;
mod requests;
mod server;
mod shared;
pub mod sim;
mod state;
mod wire;

pub use config::{admin_token_from_file, Access, ClientLimits, Flood, PlantConfig};
pub use error::PlantError;
pub use server::{start, RunningPlant};
