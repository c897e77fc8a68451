//! A TCP proxy that breaks the network between the link and a plant, on command.
//!
//! Plant networks fail in a handful of ways, and each has its own symptom at the link: a clean
//! close (a switch reboots: [`FaultProxy::cut`]), a reset (a firewall drops the flow:
//! [`FaultProxy::reset`]), a half-open link where writes succeed and nothing ever arrives (a
//! cable pulled behind a NAT: [`Faults::blackhole`]), a slow or jittery path, frames cut into
//! tiny writes, a thin pipe. The proxy does each of these to live connections so the link's
//! tests and soaks meet them for real, over real sockets.
//!
//! [`Schedule`] turns a seed into a reproducible random sequence of such faults; [`Site`] is a
//! real plant behind the proxy on a runtime of its own, and [`gauges`] what a soak reads of its
//! process to tell that nothing leaks.

mod connection;
mod error;
mod faults;
pub mod gauges;
mod proxy;
mod schedule;
pub mod site;

pub use error::FaultError;
pub use faults::{Faults, Kill};
pub use proxy::{FaultProxy, ProxyCounters};
pub use schedule::{Fault, Schedule, Step};
pub use site::{AlarmWork, Site};
