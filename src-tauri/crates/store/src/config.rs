use std::path::PathBuf;
use std::time::Duration;

/// Where the record lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A private in-memory database shared by this store's connections (SQLite's `memdb` VFS),
    /// gone when the store is dropped: for tests and for a desk that must not touch the disk.
    Memory,
}

/// What the fine tier keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fine {
    /// Every reading at its millisecond (the plant's historian).
    EveryReading,
    /// Per-second buckets (the desk: what it received, without the cost of every frame).
    PerSecond,
}

impl Fine {
    /// The narrowest bucket this tier can answer.
    pub fn width_ms(self) -> i64 {
        match self {
            Fine::EveryReading => 1,
            Fine::PerSecond => 1_000,
        }
    }
}

/// How a store is opened and how much it keeps.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub location: Location,
    pub fine: Fine,
    /// How long the fine tier keeps rows (plant 2 h, desk 24 h).
    pub fine_retention: Duration,
    /// How long minute buckets are kept (35 days: a month back, with a margin).
    pub minute_retention: Duration,
    /// How long hour buckets are kept; `None` keeps them until the size cap needs the room.
    pub hour_retention: Option<Duration>,
    /// Past this many bytes of live pages the oldest day goes, then the next, until under.
    pub size_cap_bytes: u64,
    /// How often the writer commits a batch: a SIGKILL loses at most about this much.
    pub flush_every: Duration,
    /// Readings waiting for the writer past which new ones are dropped (and counted) rather
    /// than blocking the caller or growing memory without bound.
    pub max_queued_readings: usize,
    /// How many days journal entries are kept (400: a year back, with a margin). The size cap
    /// takes readings before it takes any journal entry.
    pub journal_days: u32,
}

const HOUR: Duration = Duration::from_secs(3_600);
const DAY: Duration = Duration::from_secs(86_400);
const GIB: u64 = 1 << 30;

impl StoreConfig {
    /// The plant server's historian: every reading for 2 h, minutes for 35 days, hours until
    /// 8 GiB.
    pub fn plant(location: Location) -> Self {
        StoreConfig {
            location,
            fine: Fine::EveryReading,
            fine_retention: 2 * HOUR,
            minute_retention: 35 * DAY,
            hour_retention: None,
            size_cap_bytes: 8 * GIB,
            flush_every: Duration::from_millis(500),
            max_queued_readings: 2_000_000,
            journal_days: 400,
        }
    }

    /// The desk's record of what it received: per second for 24 h, minutes for 35 days, hours
    /// until 1 GiB.
    pub fn desk(location: Location) -> Self {
        StoreConfig {
            fine: Fine::PerSecond,
            fine_retention: 24 * HOUR,
            size_cap_bytes: GIB,
            ..StoreConfig::plant(location)
        }
    }
}

/// What the writer prunes to; changed at run time by `Writer::set_retention`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Retention {
    pub fine: Duration,
    pub minute: Duration,
    pub hour: Option<Duration>,
    pub size_cap_bytes: u64,
    pub journal: Duration,
}

impl Retention {
    pub(crate) fn of(config: &StoreConfig) -> Self {
        Retention {
            fine: config.fine_retention,
            minute: config.minute_retention,
            hour: config.hour_retention,
            size_cap_bytes: config.size_cap_bytes,
            journal: DAY.saturating_mul(config.journal_days),
        }
    }
}

/// A duration in whole milliseconds, saturating (a retention of centuries is "forever").
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Wall-clock milliseconds since the Unix epoch: the time base of every reading.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, millis)
}
