//! Writes synthetic history into a new store file, for benchmarks:
//! `brewdeck-store-fill --path FILE --endpoints 500 --days 30 --hz 1 [--fine desk|plant]`.

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
    let spec = FillSpec::new(fine, args.endpoints, args.days, args.hz);
    match bulk_fill(&args.path, &spec) {
        Ok(report) => {
            println!(
                "filled {} with {} readings in {:.1} s: {} bytes ({:.0} bytes per endpoint-day)",
                args.path.display(),
                report.readings,
                report.seconds,
                report.bytes,
                report.bytes as f64 / (args.endpoints.max(1) as f64 * args.days)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("brewdeck-store-fill: {e}");
            ExitCode::FAILURE
        }
    }
}
