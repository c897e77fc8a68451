//! `brewdeck-plant`: run the reference plant server standalone.
//!
//! Prints the bound address (`127.0.0.1:PORT`) alone on the first line of stdout, so scripts
//! can listen on port 0 and read where it went; logs go to stderr. `SIGHUP` re-reads the
//! `--operators` file.

use brewdeck_plant::{
    admin_token_from_file, start, Access, ClientLimits, Flood, PlantConfig, RunningPlant,
};
use brewdeck_protocol::Token;
use clap::Parser;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "brewdeck-plant",
    version,
    about = "Reference plant control server with a simulated brewery"
)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Bearer token clients must present. Visible to other local users in the process list:
    /// prefer --token-file or BREWDECK_PLANT_TOKEN.
    #[arg(
        long,
        env = "BREWDECK_PLANT_TOKEN",
        hide_env_values = true,
        conflicts_with = "token_file"
    )]
    token: Option<String>,
    /// File holding the bearer token (surrounding whitespace ignored).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The operators: one a line, `NAME ROLE SECRET` (role viewer, operator or supervisor;
    /// SECRET `sha256:<hex>` of the token, or the token itself). Instead of a token; SIGHUP
    /// re-reads it.
    #[arg(long, value_name = "FILE")]
    operators: Option<PathBuf>,
    /// Serve /admin/* (alarm, drop, stall, unstall, stats) to loopback peers.
    #[arg(long)]
    admin: bool,
    /// With --admin: every admin request must also carry `Authorization: Bearer` with the
    /// token in this file (surrounding whitespace ignored; at most 4 KiB).
    #[arg(long, requires = "admin")]
    admin_token_file: Option<PathBuf>,
    /// Seed of the simulation: the same seed gives the same plant behaviour.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of fermenters (1 to 8).
    #[arg(long, default_value_t = 4)]
    fermenters: usize,
    /// Simulation steps per second; every analog value is published at each step.
    #[arg(long, default_value_t = 4.0)]
    telemetry_hz: f64,
    /// Plant name shown to clients.
    #[arg(long, default_value = "Brewdeck demo brewery")]
    name: String,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 15.0)]
    heartbeat_secs: f64,
    /// Alarm and command events kept for resume.
    #[arg(long, default_value_t = 10_000)]
    history: usize,
    /// Most concurrent client connections.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Most concurrent connections from one address (raise it behind a proxy or NAT).
    #[arg(long, default_value_t = 64)]
    max_connections_per_ip: usize,
    /// Level-0 `POST /api/os/command` per second from one address (bursts of 4x).
    #[arg(long, default_value_t = 5.0)]
    command_rate: f64,
    /// Most messages per second one client may send.
    #[arg(long, default_value_t = 20.0)]
    rate_limit: f64,
    /// Keep the plant's history (every reading) in DIR/plant.sqlite3, so it survives a
    /// restart. Without it, history is kept in memory only.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Flood mode: this many extra endpoints ...
    #[arg(long, requires = "flood_rate")]
    flood_endpoints: Option<usize>,
    /// ... each updated this many times a second.
    #[arg(long, requires = "flood_endpoints")]
    flood_rate: Option<f64>,
    /// A test knob, hidden from --help: how many milliseconds one minute of `alarm_shelve`
    /// lasts, so a test sees a shelf run out.
    #[arg(long, hide = true)]
    shelving_minute_ms: Option<u64>,
}

fn token(args: &Args) -> Result<Token, String> {
    let text = match (&args.token, &args.token_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?,
        (None, None) => {
            return Err(
                "a token is required: --token-file PATH, BREWDECK_PLANT_TOKEN or --token".into(),
            )
        }
    };
    Token::new(text).ok_or_else(|| "the token is empty".to_owned())
}

fn seconds(name: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| format!("{name} must be a positive number of seconds"))
}

/// `--operators FILE`, or the token (one operator named `operator`); not both.
fn access(args: &Args) -> Result<Access, String> {
    match &args.operators {
        Some(_) if args.token.is_some() || args.token_file.is_some() => Err(
            "--operators names every operator: it cannot be used with --token, \
             --token-file or BREWDECK_PLANT_TOKEN"
                .into(),
        ),
        Some(path) => Ok(Access::OperatorsFile(path.clone())),
        None => Ok(Access::Token(token(args)?)),
    }
}

fn config(args: &Args) -> Result<PlantConfig, String> {
    let mut config = PlantConfig::with_access(args.listen, access(args)?);
    if args.telemetry_hz.is_nan() || args.telemetry_hz <= 0.0 {
        return Err("--telemetry-hz must be above zero".into());
    }
    config.name = args.name.clone();
    config.admin = args.admin;
    if let Some(path) = &args.admin_token_file {
        config.admin_token = Some(admin_token_from_file(path).map_err(|e| e.to_string())?);
    }
    config.seed = args.seed;
    config.fermenters = args.fermenters;
    config.tick = seconds("1 / --telemetry-hz", 1.0 / args.telemetry_hz)?;
    config.heartbeat = seconds("--heartbeat-secs", args.heartbeat_secs)?;
    config.history = args.history;
    config.data_dir = args.data_dir.clone();
    config.limits = ClientLimits {
        max_connections: args.max_connections,
        max_connections_per_ip: args.max_connections_per_ip,
        commands_per_second: args.command_rate,
        command_burst: (args.command_rate * 4.0).max(1.0),
        messages_per_second: args.rate_limit,
        message_burst: (args.rate_limit * 5.0).max(1.0),
        ..ClientLimits::default()
    };
    if let (Some(endpoints), Some(rate_hz)) = (args.flood_endpoints, args.flood_rate) {
        config.flood = Some(Flood { endpoints, rate_hz });
    }
    if let Some(ms) = args.shelving_minute_ms {
        config.shelving_minute = Duration::from_millis(ms);
    }
    Ok(config)
}

/// `SIGHUP`s, each a reload of the operators. Listened to before the address is printed, so
/// a signal sent once it is seen never finds the default action (which ends the process).
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn listen() -> Hangups {
        Hangups {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Serves until Ctrl-C or SIGTERM, reloading the operators on each SIGHUP (the plant logs the
/// outcome).
async fn serve_until_stopped(plant: &RunningPlant, mut hangups: Hangups) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        #[cfg(unix)]
        let terminated = async {
            match &mut term {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = terminated => return,
            _ = hangups.next() => {
                tracing::info!("SIGHUP: reading the operators again");
                let _ = plant.reload_operators();
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The filter caps the libraries that see the token's header below trace, whatever
    // RUST_LOG says.
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
            )
            .finish()
            .with(tracing_subscriber::filter::filter_fn(
                brewdeck_protocol::logs::may_log,
            ))
            .init();
    }
    let args = Args::parse();
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("brewdeck-plant: {e}");
            return ExitCode::from(2);
        }
    };
    let hangups = Hangups::listen();
    let plant = match start(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("brewdeck-plant: {e}");
            return ExitCode::from(1);
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", plant.local_addr());
    let _ = stdout.flush();
    serve_until_stopped(&plant, hangups).await;
    tracing::info!("stopping: clients are told to reconnect");
    plant.shutdown().await;
    ExitCode::SUCCESS
}
