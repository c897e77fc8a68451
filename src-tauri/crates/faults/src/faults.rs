//! What the proxy does to traffic: standing conditions ([`Faults`]) and one-shot kills ([`Kill`]).

use std::time::Duration;

/// Standing conditions, applied to every byte read from now on, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added to every chunk's delivery time; order is kept, as TCP keeps it.
    pub latency: Duration,
    /// A uniformly random extra delay in `0..=jitter` per chunk.
    pub jitter: Duration,
    /// Deliver in writes of at most this many bytes, each its own TCP segment.
    pub slice: Option<usize>,
    /// At most this many bytes per second, each way.
    pub bandwidth: Option<u64>,
    /// Accept, and forward nothing either way, not even a close: a half-open link. A
    /// connection that lost bytes to it is reset when it lifts, since its stream has a hole.
    pub blackhole: bool,
    /// New connections are reset at once, as by a host that is down.
    pub refuse: bool,
}

impl Faults {
    /// No fault: a transparent proxy.
    pub fn none() -> Faults {
        Faults::default()
    }
}

/// A one-shot blow to every open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kill {
    /// A clean close both ways (FIN), as when a peer closes.
    Cut,
    /// An abortive close both ways (RST).
    Reset,
    /// The connection goes half-open for good: nothing passes either way, not even a close,
    /// as when a NAT forgets the flow. New connections are not touched.
    Strand,
    /// Every stranded connection closed cleanly, as when the forgotten flow finally times out;
    /// the others are not touched.
    EndStranded,
}
