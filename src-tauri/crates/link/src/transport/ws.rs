//! The real dialer: TCP, TLS when `wss://`, and the WebSocket upgrade with the bearer token.

use super::{BoxSocket, DialError, Dialer};
use crate::config::ServerUrl;
use crate::transport::{reach, tls};
use brewdeck_protocol::Token;
use futures_util::future::BoxFuture;
use http::header::{AUTHORIZATION, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, TlsError, UrlError};
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// A WebSocket as the link opens it.
pub type LinkSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The socket configuration of every link connection: messages and frames up to
/// `max_message_bytes` (see [`crate::DEFAULT_MAX_MESSAGE_BYTES`]); the rest is the library's.
pub fn socket_config(max_message_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_bytes))
        .max_frame_size(Some(max_message_bytes))
}

/// Opens a WebSocket the way the link does: [`socket_config`], Nagle off, and TLS over `tls`
/// when the request is `wss://`. The Autobahn conformance client (`tests/conformance`) calls
/// it, and the link's dialer calls [`open_socket_on`] below it, so the suite exercises the
/// socket the link runs.
pub async fn open_socket(
    request: Request,
    max_message_bytes: usize,
    tls: Arc<rustls::ClientConfig>,
) -> Result<(LinkSocket, Response), WsError> {
    let uri = request.uri();
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("wss") {
            443
        } else {
            80
        });
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    let _ = tcp.set_nodelay(true);
    open_socket_on(tcp, request, max_message_bytes, tls).await
}

/// The WebSocket handshake (and TLS for `wss://`) over a TCP connection already made: the
/// dialer's, to the addresses it checked.
async fn open_socket_on(
    tcp: TcpStream,
    request: Request,
    max_message_bytes: usize,
    tls: Arc<rustls::ClientConfig>,
) -> Result<(LinkSocket, Response), WsError> {
    let connector = if request.uri().scheme_str() == Some("wss") {
        Connector::Rustls(tls)
    } else {
        Connector::Plain
    };
    tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        Some(socket_config(max_message_bytes)),
        Some(connector),
    )
    .await
}

#[derive(Debug)]
pub(crate) struct WsDialer {
    pub max_message_bytes: usize,
    pub connect_timeout: Duration,
}

impl Dialer for WsDialer {
    fn dial(
        &self,
        server: ServerUrl,
        token: Token,
        tls: Arc<rustls::ClientConfig>,
    ) -> BoxFuture<'static, Result<BoxSocket, DialError>> {
        let max = self.max_message_bytes;
        let limit = self.connect_timeout;
        Box::pin(async move {
            let mut request = server
                .as_str()
                .into_client_request()
                .map_err(|e| DialError::Config(format!("bad server URL: {e}")))?;
            let mut auth = HeaderValue::from_str(&token.bearer()).map_err(|_| {
                DialError::Unauthorized(
                    "the token contains characters an HTTP header cannot carry".to_owned(),
                )
            })?;
            auth.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, auth);
            // `server` is normalised, so its scheme is exactly `is_secure()`.
            let connect = async {
                let tcp = match reach::connect(&server).await {
                    Ok(tcp) => tcp,
                    Err(reach::Unreachable::Io(e)) => return Err(WsError::Io(e)),
                    Err(reach::Unreachable::NotLoopback(reason)) => {
                        return Ok(Err(DialError::Config(reason)))
                    }
                };
                open_socket_on(tcp, request, max, tls).await.map(Ok)
            };
            match tokio::time::timeout(limit, connect).await {
                Err(_) => Err(DialError::Transient(format!(
                    "{}:{} did not complete the connection within {} s",
                    server.host(),
                    server.port(),
                    limit.as_secs()
                ))),
                Ok(Ok(Ok((stream, _response)))) => Ok(Box::new(stream) as BoxSocket),
                Ok(Ok(Err(refused))) => Err(refused),
                Ok(Err(e)) => Err(classify(e, &server)),
            }
        })
    }
}

/// Sorts a handshake failure into what the link does next, with an operator's message.
pub(crate) fn classify(e: WsError, server: &ServerUrl) -> DialError {
    let host = server.host();
    match e {
        WsError::Http(response) => {
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            from_status(status, retry_after, server)
        }
        WsError::Io(io) => {
            if let Some(tls_error) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return DialError::Config(tls::explain(tls_error, host));
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => DialError::Transient(format!(
                    "{host}:{} refused the connection: is the plant server running?",
                    server.port()
                )),
                _ => DialError::Transient(format!("cannot reach {host}:{}: {io}", server.port())),
            }
        }
        WsError::Tls(TlsError::Rustls(e)) => DialError::Config(tls::explain(&e, host)),
        WsError::Tls(TlsError::InvalidDnsName) => {
            DialError::Config(format!("{host} is not a valid TLS server name"))
        }
        WsError::Tls(other) => DialError::Config(format!("TLS with {host} failed: {other}")),
        WsError::Url(UrlError::UnableToConnect(reason)) => {
            DialError::Transient(format!("cannot reach {host}:{}: {reason}", server.port()))
        }
        WsError::Url(other) => DialError::Config(format!("bad server URL: {other}")),
        other => DialError::Transient(format!(
            "the WebSocket handshake with {host} failed: {other}"
        )),
    }
}

pub(crate) fn from_status(
    status: StatusCode,
    retry_after: Option<Duration>,
    server: &ServerUrl,
) -> DialError {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => DialError::Unauthorized(format!(
            "the plant server refused the token (HTTP {}): set the right token",
            status.as_u16()
        )),
        StatusCode::SERVICE_UNAVAILABLE => {
            let message = "the plant server is busy (HTTP 503)".to_owned();
            match retry_after {
                Some(d) => DialError::RetryAfter(d, message),
                None => DialError::Transient(message),
            }
        }
        StatusCode::NOT_FOUND => DialError::Config(format!(
            "the server has no WebSocket at {} (HTTP 404): check the server URL",
            server.path()
        )),
        s if s.is_server_error() => {
            DialError::Transient(format!("the plant server failed (HTTP {})", s.as_u16()))
        }
        s => DialError::Config(format!(
            "the server refused the WebSocket upgrade (HTTP {}): is this a plant server?",
            s.as_u16()
        )),
    }
}

/// `Retry-After` in seconds. (The HTTP-date form is not used by plant servers; it falls back
/// to the normal backoff.)
pub(crate) fn parse_retry_after(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_the_link_does_next() {
        let server = ServerUrl::parse("ws://127.0.0.1:1/ws", false).expect("url");
        assert!(matches!(
            from_status(StatusCode::UNAUTHORIZED, None, &server),
            DialError::Unauthorized(_)
        ));
        assert!(matches!(
            from_status(StatusCode::FORBIDDEN, None, &server),
            DialError::Unauthorized(_)
        ));
        assert_eq!(
            from_status(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(Duration::from_secs(7)),
                &server
            ),
            DialError::RetryAfter(
                Duration::from_secs(7),
                "the plant server is busy (HTTP 503)".to_owned()
            )
        );
        assert!(matches!(
            from_status(StatusCode::SERVICE_UNAVAILABLE, None, &server),
            DialError::Transient(_)
        ));
        assert!(matches!(
            from_status(StatusCode::NOT_FOUND, None, &server),
            DialError::Config(m) if m.contains("/ws")
        ));
        assert!(matches!(
            from_status(StatusCode::BAD_GATEWAY, None, &server),
            DialError::Transient(_)
        ));
    }

    #[test]
    fn messages_and_frames_share_the_limit() {
        let config = socket_config(4096);
        assert_eq!(config.max_message_size, Some(4096));
        assert_eq!(config.max_frame_size, Some(4096));
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("1e9"), Some(Duration::from_secs(86_400)));
    }
}
