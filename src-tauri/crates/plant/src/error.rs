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
    /// The operators file cannot be read or names nobody. `reason` never holds its content.
    #[error("cannot use the operators file {}: {reason}", path.display())]
    OperatorsFile { path: PathBuf, reason: String },
    /// A line of the operators file is wrong. `reason` never holds a token.
    #[error("operators file {}, line {line}: {reason}", path.display())]
    OperatorsLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}
