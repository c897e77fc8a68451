//! The commands' error. It reaches the webview as `{ code, message }` (`Failure`, whose codes
//! are a closed set the UI branches on).

use brewdeck_link::LinkError;
use brewdeck_station::failure::{Failure, FailureCode};
use brewdeck_station::StationError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Station(#[from] StationError),
    /// The operator asked for something that does not apply (with why).
    #[error("{0}")]
    Invalid(String),
    /// The operator's role does not allow it (with why).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn failure(&self) -> Failure {
        match self {
            AppError::Link(e) => Failure::from(e),
            AppError::Station(e) => Failure::from(e),
            AppError::Invalid(m) => Failure::new(FailureCode::InvalidInput, m.clone()),
            AppError::Forbidden(m) => Failure::new(FailureCode::Forbidden, m.clone()),
            AppError::Internal(m) => Failure::new(FailureCode::Internal, m.clone()),
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.failure().serialize(serializer)
    }
}

impl From<brewdeck_plant::PlantError> for AppError {
    fn from(e: brewdeck_plant::PlantError) -> Self {
        AppError::Internal(format!("the demo plant could not start: {e}"))
    }
}
