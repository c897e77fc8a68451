//! Helpers shared by the station's integration tests that need them.

pub mod pulse;
