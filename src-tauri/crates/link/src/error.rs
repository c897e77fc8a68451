use brewdeck_protocol::{AlarmId, EndpointId};

/// What the link refuses or cannot do. Messages are written for an operator: they say what is
/// wrong and what to change, and never contain the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("bad server URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("site CA file {path}: {reason}")]
    BadCaFile { path: String, reason: String },
    /// Kept whole, so the app can tell a locked keychain from a missing one.
    #[error("{0}")]
    TokenStore(crate::token_store::TokenStoreError),
    #[error("not connected to the plant")]
    NotConnected,
    #[error("{0} needs a level-1 (brewdeck.v1) plant server")]
    NeedsLevel1(&'static str),
    #[error("no endpoint {0} in the plant catalog")]
    UnknownEndpoint(EndpointId),
    #[error("endpoint {endpoint} does not accept {action}")]
    NotAllowed {
        endpoint: EndpointId,
        action: String,
    },
    #[error("no alarm {0} is known")]
    UnknownAlarm(AlarmId),
    #[error("the link has stopped")]
    Stopped,
}
