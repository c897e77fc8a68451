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
    TokenStore(TokenStoreError),
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
    /// The server does not list this feature in `connected.features`.
    #[error("the plant server does not serve {0}")]
    Unsupported(&'static str),
    /// The server answered a request with an `error`.
    #[error("the plant server refused the request ({code}): {message}")]
    Refused { code: String, message: String },
    #[error("too many requests are waiting for the plant server; try again")]
    Busy,
}

/// Why a token store could not answer. (Here, beside the link's error that carries it, so
/// the token store and the configuration do not depend on each other through it.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenStoreError {
    /// The keychain exists but is locked; the operator must unlock it.
    #[error("the keychain is locked: unlock it and retry")]
    Locked,
    #[error("the keychain is not available: {0}")]
    Unavailable(String),
    /// Asked for another server's token than the one this store holds: refused, so one
    /// server's token never reaches another.
    #[error("the token store holds the token of another server than {0}: refused")]
    WrongServer(String),
}
