//! `brewdeck-faults`: the fault proxy by hand. Put it between the app and a plant, then type
//! faults on standard input:
//!
//! ```text
//! cut | reset | strand | clear | status
//! blackhole on|off | refuse on|off
//! latency MS [JITTER_MS] | slice BYTES|off | bandwidth BYTES_PER_S|off
//! ```

use brewdeck_faults::{FaultProxy, Faults};
use clap::Parser;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A TCP proxy that breaks the plant network on command"
)]
struct Args {
    /// Where the app connects.
    #[arg(long, default_value = "127.0.0.1:8766")]
    listen: SocketAddr,
    /// The plant's WebSocket address.
    #[arg(long, default_value = "127.0.0.1:8765")]
    upstream: SocketAddr,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let proxy = match FaultProxy::start_on(args.listen, args.upstream).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("brewdeck-faults: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!("listening on {} for {}", proxy.addr(), proxy.upstream());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match command(&proxy, &line) {
            Ok(()) => println!("ok: {:?}", proxy.faults()),
            Err(e) => println!("error: {e}"),
        }
    }
    std::process::ExitCode::SUCCESS
}

fn command(proxy: &FaultProxy, line: &str) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| -> Result<u64, String> {
        words
            .get(i)
            .ok_or_else(|| format!("{}: a number is missing", words[0]))?
            .parse::<u64>()
            .map_err(|e| format!("{}: {e}", words[0]))
    };
    let switch = |i: usize| -> Result<bool, String> {
        match words.get(i) {
            Some(&"on") => Ok(true),
            Some(&"off") => Ok(false),
            _ => Err(format!("{}: say on or off", words[0])),
        }
    };
    match words.first().copied() {
        None => Ok(()),
        Some("cut") => {
            proxy.cut();
            Ok(())
        }
        Some("reset") => {
            proxy.reset();
            Ok(())
        }
        Some("strand") => {
            proxy.strand();
            Ok(())
        }
        Some("clear") => {
            proxy.set(Faults::none());
            Ok(())
        }
        Some("status") => {
            println!("{:?}", proxy.counters());
            Ok(())
        }
        Some("blackhole") => {
            let on = switch(1)?;
            proxy.update(|f| f.blackhole = on);
            Ok(())
        }
        Some("refuse") => {
            let on = switch(1)?;
            proxy.update(|f| f.refuse = on);
            Ok(())
        }
        Some("latency") => {
            let latency = Duration::from_millis(number(1)?);
            let jitter = Duration::from_millis(if words.len() > 2 { number(2)? } else { 0 });
            proxy.update(|f| {
                f.latency = latency;
                f.jitter = jitter;
            });
            Ok(())
        }
        Some("slice") if words.get(1) == Some(&"off") => {
            proxy.update(|f| f.slice = None);
            Ok(())
        }
        Some("slice") => {
            let n = usize::try_from(number(1)?.max(1)).map_err(|e| e.to_string())?;
            proxy.update(|f| f.slice = Some(n));
            Ok(())
        }
        Some("bandwidth") if words.get(1) == Some(&"off") => {
            proxy.update(|f| f.bandwidth = None);
            Ok(())
        }
        Some("bandwidth") => {
            let bps = number(1)?.max(1);
            proxy.update(|f| f.bandwidth = Some(bps));
            Ok(())
        }
        Some(other) => Err(format!("unknown fault {other:?}")),
    }
}
