use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// `reason` never holds the file's content.
    #[error("cannot use the admin token file {}: {reason}", path.display())]
    AdminTokenFile { path: PathBuf, reason: String },
    #[error("cannot keep the plant's history in {}: {reason}", dir.display())]
    DataDir { dir: PathBuf, reason: String },
}
