//! What every task of one running plant server shares.

use crate::config::PlantConfig;
use crate::historian::Historian;
use crate::rate::PerPeer;
use crate::state::PlantState;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Signals from the admin API and from shutdown to every client task.
#[derive(Debug)]
pub(crate) struct Signals {
    pub shutdown: watch::Sender<bool>,
    /// While true, client tasks neither read nor write: a half-open link.
    pub stall: watch::Sender<bool>,
    /// Bumped to drop every client at once, without a close handshake.
    pub drop_all: watch::Sender<u64>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<PlantState>,
    pub config: PlantConfig,
    pub signals: Signals,
    /// Open client connections; a `watch` so shutdown and tests can wait for a count.
    connections: watch::Sender<usize>,
    /// Open connections per peer address.
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Level-0 command posts per peer address.
    pub command_rate: PerPeer,
    next_client: AtomicU64,
    pub historian: Historian,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Server,
    Peer,
}

impl Shared {
    pub fn new(config: PlantConfig, state: PlantState, historian: Historian) -> Arc<Self> {
        let command_rate = PerPeer::new(
            config.limits.commands_per_second,
            config.limits.command_burst,
        );
        Arc::new(Shared {
            state: Mutex::new(state),
            per_ip: Mutex::new(HashMap::new()),
            command_rate,
            config,
            signals: Signals {
                shutdown: watch::channel(false).0,
                stall: watch::channel(false).0,
                drop_all: watch::channel(0).0,
            },
            connections: watch::channel(0).0,
            next_client: AtomicU64::new(1),
            historian,
        })
    }

    /// The plant state. A panic elsewhere while it was held leaves it usable: every change
    /// to it is a whole step, so there is nothing half-done to protect.
    pub fn lock(&self) -> MutexGuard<'_, PlantState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn next_client_key(&self) -> u64 {
        self.next_client.fetch_add(1, Ordering::Relaxed)
    }

    pub fn connections(&self) -> usize {
        *self.connections.borrow()
    }

    pub fn watch_connections(&self) -> watch::Receiver<usize> {
        self.connections.subscribe()
    }

    fn peers(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_ip.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a connection slot for a peer, unless the server or that peer is full.
    pub fn reserve_connection(self: &Arc<Self>, peer: IpAddr) -> Result<ConnectionSlot, Full> {
        {
            let mut peers = self.peers();
            let open = peers.entry(peer).or_insert(0);
            if *open >= self.config.limits.max_connections_per_ip {
                return Err(Full::Peer);
            }
            *open += 1;
        }
        let max = self.config.limits.max_connections;
        let taken = self.connections.send_if_modified(|n| {
            if *n >= max {
                return false;
            }
            *n += 1;
            true
        });
        if taken {
            Ok(ConnectionSlot(self.clone(), peer))
        } else {
            self.release_peer(peer);
            Err(Full::Server)
        }
    }

    fn release_peer(&self, peer: IpAddr) {
        let mut peers = self.peers();
        if let Some(open) = peers.get_mut(&peer) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                peers.remove(&peer);
            }
        }
    }

    /// Resolves once no client connection is left.
    pub async fn all_connections_closed(&self) {
        let _ = self.watch_connections().wait_for(|n| *n == 0).await;
    }
}

/// A held connection slot; released when the client's task ends (or its upgrade fails).
#[derive(Debug)]
pub(crate) struct ConnectionSlot(Arc<Shared>, IpAddr);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.release_peer(self.1);
        self.0.connections.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Resolves when the flag becomes `want` (or its sender is gone). Unlike `wait_for`, it holds
/// no borrow of the value, so it can sit in a `select!` whose branches await.
pub(crate) async fn until(flag: &mut watch::Receiver<bool>, want: bool) {
    let _ = flag.wait_for(|s| *s == want).await;
}
