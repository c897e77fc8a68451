//! Level 0: `POST /api/os/command`, the way existing control servers take commands.

use crate::config::ServerUrl;
use brewdeck_protocol::{CommandRecord, CommandRequest, Token};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

/// The largest response body read.
const MAX_BODY: usize = 64 * 1024;

/// What came of a POST.
#[derive(Debug)]
pub(crate) enum PostOutcome {
    /// The server took it; its record when the body had one.
    Accepted(Option<CommandRecord>),
    /// The server refused it (4xx): it was not executed.
    Refused(String),
    /// It never reached the server: safe to report as not executed.
    NotSent(String),
    /// It may have reached the server, but no answer came: the outcome is unknown.
    Lost(String),
}

#[derive(Debug, Clone)]
pub(crate) struct CommandPoster {
    pub server: ServerUrl,
    pub tls: Arc<rustls::ClientConfig>,
    pub timeout: Duration,
}

impl CommandPoster {
    pub async fn post(&self, token: &Token, request: &CommandRequest) -> PostOutcome {
        let body = match serde_json::to_vec(request) {
            Ok(b) => b,
            Err(e) => return PostOutcome::NotSent(format!("cannot encode the command: {e}")),
        };
        match tokio::time::timeout(self.timeout, self.exchange(token, body)).await {
            Ok(outcome) => outcome,
            Err(_) => PostOutcome::Lost(format!(
                "no answer from {} within {} s",
                self.server.command_url(),
                self.timeout.as_secs()
            )),
        }
    }

    async fn exchange(&self, token: &Token, body: Vec<u8>) -> PostOutcome {
        let host = self.server.host().to_owned();
        let port = self.server.port();
        let tcp = match super::reach::connect(&self.server).await {
            Ok(s) => s,
            Err(super::reach::Unreachable::Io(e)) => {
                return PostOutcome::NotSent(format!("cannot reach {host}:{port}: {e}"))
            }
            Err(super::reach::Unreachable::NotLoopback(reason)) => {
                return PostOutcome::NotSent(reason)
            }
        };
        let request = match self.request(token, body) {
            Ok(r) => r,
            Err(reason) => return PostOutcome::NotSent(reason),
        };
        if self.server.is_secure() {
            let name = match rustls_pki_types::ServerName::try_from(host.clone()) {
                Ok(n) => n,
                Err(_) => return PostOutcome::NotSent(format!("{host} is not a valid TLS name")),
            };
            let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
            match connector.connect(name, tcp).await {
                Ok(tls) => send(TokioIo::new(tls), request).await,
                Err(e) => PostOutcome::NotSent(format!("TLS with {host} failed: {e}")),
            }
        } else {
            send(TokioIo::new(tcp), request).await
        }
    }

    fn request(&self, token: &Token, body: Vec<u8>) -> Result<Request<Full<Bytes>>, String> {
        let mut auth = HeaderValue::from_str(&token.bearer())
            .map_err(|_| "the token contains characters a header cannot carry".to_owned())?;
        auth.set_sensitive(true);
        let host = HeaderValue::from_str(&format!("{}:{}", self.server.host(), self.server.port()))
            .map_err(|_| "bad host".to_owned())?;
        Request::post("/api/os/command")
            .header(HOST, host)
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))
    }
}

async fn send<T>(io: TokioIo<T>, request: Request<Full<Bytes>>) -> PostOutcome
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(io).await {
        Ok(pair) => pair,
        Err(e) => return PostOutcome::NotSent(format!("HTTP handshake failed: {e}")),
    };
    // The connection future must be driven while the request is in flight; it ends with this
    // exchange, so the task does not outlive the post.
    let driver = tokio::spawn(connection);
    let outcome = match sender.send_request(request).await {
        Err(e) => PostOutcome::Lost(format!("the command endpoint did not answer: {e}")),
        Ok(response) => {
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            interpret(status, &body)
        }
    };
    driver.abort();
    outcome
}

fn interpret(status: StatusCode, body: &[u8]) -> PostOutcome {
    if status.is_success() {
        return PostOutcome::Accepted(serde_json::from_slice::<CommandRecord>(body).ok());
    }
    #[derive(serde::Deserialize)]
    struct Problem {
        message: Option<String>,
    }
    let detail = serde_json::from_slice::<Problem>(body)
        .ok()
        .and_then(|p| p.message)
        .map(|m| m.chars().take(200).collect::<String>());
    let what = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "the server refused the token".to_owned()
        }
        StatusCode::TOO_MANY_REQUESTS => "the server is rate limiting commands".to_owned(),
        s => format!("HTTP {}", s.as_u16()),
    };
    let reason = match detail {
        Some(d) => format!("{what}: {d}"),
        None => what,
    };
    if status.is_client_error() {
        PostOutcome::Refused(reason)
    } else {
        // A 5xx may come after the command ran.
        PostOutcome::Lost(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted() {
        assert!(matches!(
            interpret(StatusCode::ACCEPTED, b"not json"),
            PostOutcome::Accepted(None)
        ));
        assert!(matches!(
            interpret(StatusCode::BAD_REQUEST, br#"{"code":"bad_message","message":"no endpoint 9"}"#),
            PostOutcome::Refused(r) if r == "HTTP 400: no endpoint 9"
        ));
        assert!(matches!(
            interpret(StatusCode::UNAUTHORIZED, b""),
            PostOutcome::Refused(r) if r.contains("refused the token")
        ));
        assert!(matches!(
            interpret(StatusCode::INTERNAL_SERVER_ERROR, b""),
            PostOutcome::Lost(_)
        ));
    }
}
