//! Writes synthetic history into a new store file, for benchmarks:
//! `brewdeck-store-fill --path FILE --endpoints 500 --days 30 --hz 1 [--fine desk|plant]`;
//! `--names 1,2,3` fills those endpoints (a plant's ids, so a plant or a desk serves them), and
//! `--source` names the server a desk's record keeps them under (`demo` for the demo plant).

use brewdeck_store::fill::{bulk_fill, FillSpec};
use brewdeck_store::Fine;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    /// Per-second buckets for the last 24 h.
    Desk,
    /// Every reading for the last 2 h.
    Plant,
}

#[derive(Debug, Parser)]
#[command(about = "Fill a new Brewdeck record file with synthetic readings")]
struct Args {
    #[arg(long)]
    path: PathBuf,
    #[arg(long, default_value_t = 500)]
    endpoints: usize,
    #[arg(long, default_value_t = 30.0)]
    days: f64,
    #[arg(long, default_value_t = 1.0)]
    hz: f64,
    #[arg(long, value_enum, default_value_t = Kind::Desk)]
    fine: Kind,
    /// Comma-separated endpoint names; their number replaces --endpoints.
    #[arg(long, value_delimiter = ',')]
    names: Vec<String>,
    /// The source the readings are kept under (a desk's server URL, or `demo`); the plant's is
    /// empty.
    #[arg(long, default_value = "")]
    source: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(args.hz > 0.0 && args.days > 0.0) {
        eprintln!("--hz and --days must be positive");
        return ExitCode::FAILURE;
    }
    let fine = match args.fine {
        Kind::Desk => Fine::PerSecond,
        Kind::Plant => Fine::EveryReading,
    };
    let endpoints = if args.names.is_empty() {
        args.endpoints
    } else {
        args.names.len()
    };
    let mut spec = FillSpec::new(fine, endpoints, args.days, args.hz);
    spec.names = args.names.clone();
    spec.source = args.source.clone();
    match bulk_fill(&args.path, &spec) {
        Ok(report) => {
            println!(
                "filled {} with {} readings in {:.1} s: {} bytes ({:.0} bytes per endpoint-day)",
                args.path.display(),
                report.readings,
                report.seconds,
                report.bytes,
                report.bytes as f64 / (endpoints.max(1) as f64 * args.days)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("brewdeck-store-fill: {e}");
            ExitCode::FAILURE
        }
    }
}
