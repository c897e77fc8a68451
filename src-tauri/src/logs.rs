//! Logs: `tracing` to stderr and to a daily file in the app's log folder (written by a
//! background thread, so logging never blocks the link). Level `info` unless `RUST_LOG` says.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Days of log files kept.
const KEEP_FILES: usize = 14;

/// Starts logging. The guard flushes the file when dropped: keep it for the app's life. A log
/// folder that cannot be written leaves stderr logging on, and says so.
/// Lines waiting for the log file's writer thread.
const LOG_QUEUE_LINES: usize = 8_192;

pub fn init(dir: &Path) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The appender prunes old files at start and needs the folder to exist for that.
    let _ = std::fs::create_dir_all(dir);
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("brewdeck")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir);
    let (file_layer, guard, problem) = match file {
        Ok(appender) => {
            // The default queue holds 128 000 lines and is allocated, and touched, whole at
            // start: 4 MiB of resident memory for bursts a desk never logs. 8 192 lines is
            // 256 KiB; past it lines are dropped, not waited for (the default, lossy).
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(LOG_QUEUE_LINES)
                .finish(appender);
            (
                Some(fmt::layer().with_ansi(false).with_writer(writer)),
                Some(guard),
                None,
            )
        }
        Err(e) => (None, None, Some(e.to_string())),
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        // Whatever RUST_LOG says, the libraries that see the token's header stay below trace.
        .with(tracing_subscriber::filter::filter_fn(
            brewdeck_protocol::logs::may_log,
        ))
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
    if installed.is_err() {
        // Already set up (tests build several apps in one process).
        return guard;
    }
    match problem {
        Some(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "no log file: logging to stderr only")
        }
        None => tracing::info!(dir = %dir.display(), "logging to a daily file"),
    }
    guard
}
