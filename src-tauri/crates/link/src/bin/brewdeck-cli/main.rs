//! `brewdeck-cli`: diagnose a plant link without the desktop app.
//!
//! `brewdeck-cli watch --server URL` connects with the token from `BREWDECK_TOKEN` or
//! `--token-file` (never an argument: arguments show in `ps`), follows the plant and prints
//! one JSON object per line on stdout for every state change and plant event. It reads
//! operations from stdin, one JSON object per line: `{"op":"command","endpointId":59,
//! "action":"on"}`, `{"op":"ack","alarmId":3}`, `{"op":"snapshot"}`, `{"op":"retry"}`,
//! `{"op":"subscribe","endpointIds":[1,2]}`, `{"op":"quit"}`. Logs go to stderr.

mod ops;
mod output;

use brewdeck_link::{Link, LinkConfig, LinkEvent, LinkState, MemoryTokenStore, ServerUrl};
use brewdeck_protocol::{EndpointId, Token};
use clap::{Parser, Subcommand};
use output::Output;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::sync::broadcast::error::RecvError;

/// Exit codes, for scripts.
mod exit {
    /// Stopped by a signal, `quit`, or the end of stdout.
    pub const OK: u8 = 0;
    /// Bad arguments or configuration: URL, token source, CA file.
    pub const USAGE: u8 = 2;
    /// The server refused the token.
    pub const UNAUTHORIZED: u8 = 3;
    /// A configuration error found when connecting (TLS, a wrong path).
    pub const FAILED: u8 = 4;
}

#[derive(Debug, Parser)]
#[command(
    name = "brewdeck-cli",
    version,
    about = "Diagnose a Brewdeck plant link"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect, follow the plant, print every state change and event as a JSON line.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
struct WatchArgs {
    /// The plant server's WebSocket URL, e.g. ws://127.0.0.1:8765/ws or wss://plant/ws.
    #[arg(long)]
    server: String,
    /// A file holding the token (otherwise the BREWDECK_TOKEN environment variable).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Endpoint ids to follow, comma-separated. Default: every endpoint of the catalog (a
    /// level-0 server has none, so name them).
    #[arg(long, value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Extra trusted certificates (PEM) for a self-hosted server.
    #[arg(long)]
    site_ca: Option<PathBuf>,
    /// Allow unencrypted ws:// to a host other than this machine.
    #[arg(long)]
    allow_plain_ws: bool,
    /// Keep retrying after the token is refused or a configuration error (exit otherwise).
    #[arg(long)]
    keep_going: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The filter caps the libraries that see the token's header below trace, whatever
    // RUST_LOG says.
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("brewdeck_link=info")),
            )
            .finish()
            .with(tracing_subscriber::filter::filter_fn(
                brewdeck_protocol::logs::may_log,
            ))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("brewdeck-cli: cannot start: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let Command::Watch(args) = cli.command;
    ExitCode::from(runtime.block_on(watch(args)))
}

fn read_token(args: &WatchArgs) -> Result<Token, String> {
    let text = match &args.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?,
        None => std::env::var("BREWDECK_TOKEN").map_err(|_| {
            "no token: set BREWDECK_TOKEN or pass --token-file (never the token itself)".to_owned()
        })?,
    };
    Token::new(text).ok_or_else(|| "the token is empty".to_owned())
}

fn parse_endpoint(text: &str) -> EndpointId {
    match text.trim().parse::<u64>() {
        Ok(n) => EndpointId::from(n),
        Err(_) => EndpointId::from(text.trim()),
    }
}

async fn watch(args: WatchArgs) -> u8 {
    let out = Output::stdout();
    let setup = || -> Result<(LinkConfig, Token), String> {
        let server =
            ServerUrl::parse(&args.server, args.allow_plain_ws).map_err(|e| e.to_string())?;
        let token = read_token(&args)?;
        let mut config = LinkConfig::new(server);
        config.site_ca = args.site_ca.clone();
        Ok((config, token))
    };
    let (config, token) = match setup() {
        Ok(v) => v,
        Err(message) => {
            eprintln!("brewdeck-cli: {message}");
            return exit::USAGE;
        }
    };
    let store = Arc::new(MemoryTokenStore::new(Some(token)));
    let mut config = config;
    config.connect_on_start = false;
    let link = match Link::spawn(config, store) {
        Ok(link) => link,
        Err(e) => {
            eprintln!("brewdeck-cli: {e}");
            return exit::USAGE;
        }
    };
    let endpoints: Vec<EndpointId> = args
        .endpoints
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_endpoint(s))
        .collect();
    let subscribed = if endpoints.is_empty() {
        link.follow_catalog(true).await
    } else {
        link.subscribe(endpoints.clone()).await
    };
    if subscribed.is_err() {
        return exit::USAGE;
    }
    let mut events = link.events();
    let mut state = link.watch_state();
    if link.connect().await.is_err() {
        return exit::USAGE;
    }
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut warned_level0 = false;
    let code = loop {
        tokio::select! {
            changed = state.changed() => {
                if changed.is_err() {
                    break exit::OK;
                }
                let now = state.borrow_and_update().clone();
                if !out.line(&serde_json::json!({"kind": "state", "state": &now})) {
                    break exit::OK;
                }
                match &now {
                    LinkState::Unauthorized { reason } if !args.keep_going => {
                        eprintln!("brewdeck-cli: {reason}");
                        break exit::UNAUTHORIZED;
                    }
                    LinkState::Failed { reason } if !args.keep_going => {
                        eprintln!("brewdeck-cli: {reason}");
                        break exit::FAILED;
                    }
                    LinkState::Connected { level: brewdeck_link::ProtocolLevel::Level0, .. }
                        if endpoints.is_empty() && !warned_level0 =>
                    {
                        warned_level0 = true;
                        eprintln!("brewdeck-cli: a level-0 server has no catalog: pass --endpoints to see readings");
                    }
                    _ => {}
                }
            }
            event = events.recv() => match event {
                // One line per reading, as a reader of the stream expects.
                Ok(LinkEvent::Readings { readings }) => {
                    let written = readings
                        .iter()
                        .all(|reading| out.line(&serde_json::json!({"kind": "reading", "reading": reading})));
                    if !written {
                        break exit::OK;
                    }
                }
                Ok(event) => {
                    if !out.line(&event) {
                        break exit::OK;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // Too slow a reader: say so, and start again from a full snapshot.
                    out.line(&serde_json::json!({"kind": "lagged", "missed": missed}));
                    if let Ok(snapshot) = link.snapshot().await {
                        out.line(&serde_json::json!({"kind": "snapshot", "snapshot": snapshot}));
                    }
                }
                Err(RecvError::Closed) => break exit::OK,
            },
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    if ops::run(&link, &out, &line).await == ops::Next::Quit {
                        break exit::OK;
                    }
                }
                // stdin may be /dev/null: watching goes on.
                Ok(None) | Err(_) => stdin_open = false,
            },
            _ = shutdown_signal() => break exit::OK,
        }
    };
    link.shutdown().await;
    code
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
