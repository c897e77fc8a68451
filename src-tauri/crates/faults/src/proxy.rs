//! The listening side: accepts a connection, dials the plant, and hands both to a connection
//! task that obeys the current [`Faults`].

use crate::connection::{self, Shared};
use crate::error::FaultError;
use crate::faults::{Faults, Kill};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// A proxy in front of one upstream address. Dropping it closes every connection through it.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    faults: watch::Sender<Faults>,
    kills: broadcast::Sender<Kill>,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

/// What went through the proxy so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyCounters {
    pub accepted: u64,
    /// Connections whose task is still running.
    pub open: u64,
    /// Bytes delivered, plant to link and link to plant.
    pub bytes_down: u64,
    pub bytes_up: u64,
    /// Writes made to deliver them (slicing makes many).
    pub writes: u64,
    /// Bytes swallowed by a blackhole.
    pub swallowed: u64,
    pub cuts: u64,
    pub resets: u64,
    pub strands: u64,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`, with no fault yet. Must be called
    /// inside a tokio runtime; its connections run there.
    pub async fn start(upstream: SocketAddr) -> Result<FaultProxy, FaultError> {
        FaultProxy::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), upstream).await
    }

    pub async fn start_on(
        listen: SocketAddr,
        upstream: SocketAddr,
    ) -> Result<FaultProxy, FaultError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| FaultError::Listen {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| FaultError::Listen {
            addr: listen,
            source,
        })?;
        let (faults, _) = watch::channel(Faults::none());
        let (kills, _) = broadcast::channel(16);
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn(accept_loop(
            listener,
            upstream,
            faults.clone(),
            kills.clone(),
            shared.clone(),
        ));
        tracing::info!(%addr, %upstream, "fault proxy listening");
        Ok(FaultProxy {
            addr,
            upstream,
            faults,
            kills,
            shared,
            accept,
        })
    }

    /// Where the link should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// The standing conditions now.
    pub fn faults(&self) -> Faults {
        self.faults.borrow().clone()
    }

    /// Replaces the standing conditions; they apply to live connections at once.
    pub fn set(&self, faults: Faults) {
        tracing::info!(?faults, "fault proxy: set");
        self.faults.send_replace(faults);
    }

    /// Changes part of the standing conditions.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        let mut f = self.faults();
        change(&mut f);
        self.set(f);
    }

    /// Back to a transparent proxy (a blackholed connection is reset as it lifts).
    pub fn clear(&self) {
        self.set(Faults::none());
    }

    /// Closes every open connection cleanly, both ways.
    pub fn cut(&self) {
        self.kill(Kill::Cut);
    }

    /// Resets every open connection, both ways.
    pub fn reset(&self) {
        self.kill(Kill::Reset);
    }

    /// Leaves every open connection half-open for good, while new ones pass: the link must
    /// notice by itself that its connection is dead and make another.
    pub fn strand(&self) {
        self.kill(Kill::Strand);
    }

    /// Closes every stranded connection cleanly; the others go on.
    pub fn end_stranded(&self) {
        self.kill(Kill::EndStranded);
    }

    fn kill(&self, kill: Kill) {
        tracing::info!(?kill, "fault proxy: kill");
        // No receiver means no open connection: nothing to do.
        let _ = self.kills.send(kill);
    }

    pub fn counters(&self) -> ProxyCounters {
        let s = &self.shared;
        ProxyCounters {
            accepted: s.accepted.load(Ordering::Relaxed),
            open: s.open.load(Ordering::Relaxed),
            bytes_down: s.bytes_down.load(Ordering::Relaxed),
            bytes_up: s.bytes_up.load(Ordering::Relaxed),
            writes: s.writes.load(Ordering::Relaxed),
            swallowed: s.swallowed.load(Ordering::Relaxed),
            cuts: s.cuts.load(Ordering::Relaxed),
            resets: s.resets.load(Ordering::Relaxed),
            strands: s.strands.load(Ordering::Relaxed),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The connections end when the faults sender goes with `self`.
        self.accept.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    faults: watch::Sender<Faults>,
    kills: broadcast::Sender<Kill>,
    shared: Arc<Shared>,
) {
    let mut seed = fastrand::u64(..);
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: keep serving once it passes.
                tracing::warn!("fault proxy: accept failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        // Subscribed here, before the task runs, so a kill sent from now on reaches it.
        let kill = kills.subscribe();
        let faults = faults.subscribe();
        tracing::debug!(%peer, "fault proxy: accepted");
        tokio::spawn(connection::serve(
            client,
            upstream,
            faults,
            kill,
            seed,
            shared.clone(),
        ));
    }
}
