//! `brewdeck-plant`: the reference plant control server (PROTOCOL.md level 1, and level 0 for
//! clients that never say `hello`) over a simulated brewery. The app's demo mode embeds it;
//! every test of the link and the app talks to it.
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

mod admin;
mod caps;
mod client;
mod config;
mod error;
mod http;
mod rate;
mod server;
mod shared;
pub mod sim;
mod state;

pub use config::{admin_token_from_file, ClientLimits, Flood, PlantConfig};
pub use error::PlantError;
pub use server::{start, RunningPlant};
