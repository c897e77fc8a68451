//! The Autobahn TestSuite's client cases, run over the link's own socket: the same
//! [`brewdeck_link::open_socket`] the link dials with, so the same message and frame limits
//! ([`LinkConfig`]'s default), the same connector and the same WebSocket library settings.
//!
//! The fuzzing server (kosoku, see `tests/conformance/run.sh`) serves the cases; this client
//! does the usual dance: `getCaseCount`, then for each case `runCase?case=N&agent=A`, echoing
//! every text and binary message back until the server closes, then `updateReports`. Pings,
//! pongs and the closing handshake are answered by the socket itself, as in the link.
//!
//! ```text
//! cargo run -p brewdeck-link --example autobahn_client -- ws://127.0.0.1:9001 [--agent NAME]
//! ```

use brewdeck_link::{install_crypto_provider, open_socket, LinkConfig, ServerUrl};
use futures_util::{SinkExt, StreamExt};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A safety net: kosoku times every case out well before this.
const CASE_LIMIT: Duration = Duration::from_secs(120);

struct Client {
    /// `ws://host:port`, without a path.
    base: String,
    agent: String,
    max_message_bytes: usize,
    tls: Arc<rustls::ClientConfig>,
}

impl Client {
    async fn open(&self, path_and_query: &str) -> Result<brewdeck_link::LinkSocket, String> {
        let url = format!("{}{path_and_query}", self.base);
        let request = url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad request URL {url}: {e}"))?;
        let (socket, _response) = open_socket(request, self.max_message_bytes, self.tls.clone())
            .await
            .map_err(|e| format!("cannot open {url}: {e}"))?;
        Ok(socket)
    }

    async fn case_count(&self) -> Result<u32, String> {
        let mut socket = self.open("/getCaseCount").await?;
        let mut count = None;
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Text(text)) => {
                    count =
                        Some(text.as_str().trim().parse::<u32>().map_err(|e| {
                            format!("getCaseCount answered {:?}: {e}", text.as_str())
                        })?);
                }
                Ok(_) => {}
                Err(e) => return Err(format!("getCaseCount failed: {e}")),
            }
        }
        count.ok_or_else(|| "getCaseCount closed without a count".to_owned())
    }

    /// Echoes until the server ends the case. What the socket refuses (a protocol error, an
    /// oversized frame, bad UTF-8) ends the connection, as it ends the link's session; then,
    /// as the link does after every session, a close with one second to send it.
    async fn run_case(&self, case: u32) -> Result<(), String> {
        let mut socket = self
            .open(&format!("/runCase?case={case}&agent={}", self.agent))
            .await?;
        while let Some(message) = socket.next().await {
            let echo = match message {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => m,
                Ok(_) => continue,
                Err(_) => break,
            };
            if socket.send(echo).await.is_err() {
                break;
            }
        }
        // The link closes through its `Sink`, as here (not the inherent `close(frame)`).
        let _ = tokio::time::timeout(Duration::from_secs(1), SinkExt::close(&mut socket)).await;
        Ok(())
    }

    /// Asks the server to write its reports. kosoku ends its run on this request and drops
    /// the connection without a closing handshake, so only the opening is checked.
    async fn update_reports(&self) -> Result<(), String> {
        let mut socket = self
            .open(&format!("/updateReports?agent={}", self.agent))
            .await?;
        while let Some(Ok(_)) = socket.next().await {}
        Ok(())
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: autobahn_client ws://HOST:PORT [--agent NAME]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut server = None;
    let mut agent = "brewdeck-link".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--agent" => match args.next() {
                Some(a) => agent = a,
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            _ if server.is_none() => server = Some(arg),
            _ => return usage(),
        }
    }
    let Some(server) = server else {
        return usage();
    };
    if !agent
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        eprintln!("the agent name must be letters, digits, '-', '_' or '.'");
        return ExitCode::from(2);
    }
    // The link's own URL rules (a loopback ws:// is allowed) and its default message limit.
    let url = match ServerUrl::parse(&server, false) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let max_message_bytes = LinkConfig::new(url.clone()).max_message_bytes;
    install_crypto_provider();
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    );
    let host = if url.host().contains(':') {
        format!("[{}]", url.host())
    } else {
        url.host().to_owned()
    };
    let scheme = if url.is_secure() { "wss" } else { "ws" };
    let client = Client {
        base: format!("{scheme}://{host}:{}", url.port()),
        agent,
        max_message_bytes,
        tls,
    };

    let started = Instant::now();
    let count = match client.case_count().await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("autobahn_client: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "autobahn_client: {count} cases, agent {}, messages and frames up to {max_message_bytes} bytes",
        client.agent
    );
    let mut failures = 0;
    for case in 1..=count {
        let began = Instant::now();
        match tokio::time::timeout(CASE_LIMIT, client.run_case(case)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failures += 1;
                eprintln!("autobahn_client: case {case}: {e}");
            }
            Err(_) => {
                failures += 1;
                eprintln!(
                    "autobahn_client: case {case} still open after {} s: dropped",
                    CASE_LIMIT.as_secs()
                );
            }
        }
        let took = began.elapsed();
        if took > Duration::from_secs(5) {
            eprintln!(
                "autobahn_client: case {case} took {:.1} s",
                took.as_secs_f64()
            );
        }
        if case % 50 == 0 || case == count {
            eprintln!(
                "autobahn_client: {case}/{count} cases in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if let Err(e) = client.update_reports().await {
        eprintln!("autobahn_client: {e}");
        return ExitCode::FAILURE;
    }
    if failures > 0 {
        eprintln!("autobahn_client: {failures} cases could not be run");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
