//! What a soak reads of its own process to tell that nothing leaks: open descriptors, resident
//! memory (Linux `/proc`; zero elsewhere, where the soaks do not run) and live tasks.

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Resident memory of this process, MiB.
pub fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

/// What a soak compares at its start and end to tell that nothing leaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Tasks alive on the current runtime.
    pub tasks: usize,
    pub fds: usize,
    pub rss_mib: f64,
}

impl Footprint {
    /// Now, on the current runtime.
    pub fn now() -> Footprint {
        Footprint {
            tasks: tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks(),
            fds: open_fds(),
            rss_mib: rss_mib(),
        }
    }

    /// Panics unless `self` is flat against `start`: no more tasks, at most 2 more
    /// descriptors, and resident memory at most 16 MiB above `rss_settled`, a sample taken once
    /// the allocator and the plant's history had warmed up.
    pub fn assert_flat_since(&self, start: &Footprint, rss_settled: f64) {
        assert!(
            self.tasks <= start.tasks,
            "tasks {} -> {}",
            start.tasks,
            self.tasks
        );
        assert!(
            self.fds <= start.fds + 2,
            "descriptors {} -> {}",
            start.fds,
            self.fds
        );
        assert!(
            self.rss_mib - rss_settled <= 16.0,
            "RSS grew {rss_settled:.1} -> {:.1} MiB",
            self.rss_mib
        );
    }
}

/// Waits until this runtime has at most `n` tasks alive (tasks end just after what they
/// publish, so a count read at once may be one high); on timeout, says how many are left.
pub async fn tasks_back_to(n: usize, wait: std::time::Duration) -> Result<(), String> {
    let metrics = tokio::runtime::Handle::current().metrics();
    tokio::time::timeout(wait, async {
        while metrics.num_alive_tasks() > n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .map_err(|_| format!("{} tasks alive, {n} expected", metrics.num_alive_tasks()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_file_is_one_more_descriptor_and_memory_is_counted() {
        let before = super::open_fds();
        let f = std::fs::File::open("/proc/self/statm").expect("statm");
        assert_eq!(super::open_fds(), before + 1);
        drop(f);
        assert!(super::rss_mib() > 1.0);
    }
}
