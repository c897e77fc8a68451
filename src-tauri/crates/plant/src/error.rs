use std::net::SocketAddr;

/// Why a plant server could not start.
#[derive(Debug, thiserror::Error)]
pub enum PlantError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
}
