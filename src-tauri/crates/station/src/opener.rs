//! Opening a folder in the desktop's file manager. The opener runs on its own; a thread waits
//! for it, so it never lingers as a zombie process for the app's whole life.

use std::path::Path;
use std::process::Command;

/// The desktop's program that opens a folder.
pub fn folder_opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    }
}

/// Starts `program` with `folder` and reaps it when it exits; returns its process id.
pub fn open_folder_with(program: &str, folder: &Path) -> std::io::Result<u32> {
    let mut child = Command::new(program).arg(folder).spawn()?;
    let pid = child.id();
    std::thread::Builder::new()
        .name("folder-opener".to_owned())
        .spawn(move || {
            let _ = child.wait();
        })?;
    Ok(pid)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_opener_is_reaped_once_it_exits() {
        // `true` ignores its argument and exits at once, as xdg-open does after handing off.
        let pid = open_folder_with("true", Path::new("/")).expect("true runs");
        let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        // A process not waited for stays in /proc as a zombie ('Z') until the app exits.
        while proc.exists() {
            assert!(
                Instant::now() < deadline,
                "the opener was never reaped: {:?}",
                std::fs::read_to_string(proc.join("stat")).ok()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_missing_opener_is_an_error_not_a_panic() {
        assert!(open_folder_with("brewdeck-no-such-opener", Path::new("/")).is_err());
    }
}
