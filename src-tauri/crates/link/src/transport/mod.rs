//! How the link reaches a server: a dialer that opens an authenticated WebSocket, and the
//! level-0 HTTP command endpoint. The actor sees only the [`Socket`] trait, so its unit tests
//! run over an in-memory socket on paused time.

pub(crate) mod http;
pub(crate) mod reach;
pub(crate) mod tls;
pub(crate) mod ws;

use crate::config::ServerUrl;
use brewdeck_protocol::Token;
use futures_util::future::BoxFuture;
use futures_util::{Sink, Stream};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A message socket: what the actor reads and writes.
pub(crate) trait Socket:
    Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin
{
}

impl<T> Socket for T where
    T: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin
{
}

pub(crate) type BoxSocket = Box<dyn Socket>;

/// Why a dial failed, sorted by what the link does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DialError {
    /// 401/403: wait for a new token.
    Unauthorized(String),
    /// 503 with `Retry-After`: wait that long.
    RetryAfter(Duration, String),
    /// A configuration error (TLS, a URL the server does not serve): wait for the operator.
    Config(String),
    /// The network or the server is down: back off and retry.
    Transient(String),
}

/// Opens sockets to a server. Boxed futures own their inputs, so the actor can poll a dial
/// while it keeps serving operations.
pub(crate) trait Dialer: Send + Sync + 'static {
    fn dial(
        &self,
        server: ServerUrl,
        token: Token,
        // The actor's current trust, which changes with the server.
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> BoxFuture<'static, Result<BoxSocket, DialError>>;
}
