//! What every task of one running plant server shares.

use crate::config::{Access, PlantConfig};
use crate::error::PlantError;
use crate::historian::Historian;
use crate::operators::{Identity, Loaded, Operators};
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
    /// Bumped after the operators were reloaded: each client checks its token still names
    /// the same operator.
    pub operators: watch::Sender<u64>,
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
    /// Who may connect; replaced whole by a reload.
    operators: Mutex<Arc<Operators>>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Server,
    Peer,
}

impl Shared {
    pub fn new(
        config: PlantConfig,
        state: PlantState,
        historian: Historian,
        operators: Operators,
    ) -> Arc<Self> {
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
                operators: watch::channel(0).0,
            },
            connections: watch::channel(0).0,
            next_client: AtomicU64::new(1),
            historian,
            operators: Mutex::new(Arc::new(operators)),
        })
    }

    /// The operators as they are now.
    pub fn operators(&self) -> Arc<Operators> {
        self.operators
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Who a presented bearer token is, if anyone.
    pub fn identify(&self, presented: &str) -> Option<Identity> {
        self.operators().find(presented)
    }

    /// Reads the operators file again. A bad file changes nothing (the error says why, with
    /// its line); a good one replaces the list, and every client whose token no longer names
    /// the same operator and role is closed. With `--token` there is nothing to read.
    pub fn reload_operators(&self) -> Result<usize, PlantError> {
        let Access::OperatorsFile(path) = &self.config.access else {
            return Ok(self.operators().len());
        };
        let loaded = Operators::read(path)?;
        warn_plain(path, &loaded);
        let n = loaded.operators.len();
        *self.operators.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded.operators);
        self.signals.operators.send_modify(|n| *n += 1);
        Ok(n)
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

/// Says in the log which lines of the operators file hold a plain token (never the token).
pub(crate) fn warn_plain(path: &std::path::Path, loaded: &Loaded) {
    for line in &loaded.plain_lines {
        tracing::warn!(
            file = %path.display(),
            line,
            "operators file: a plain token on this line; write sha256:<hex of its SHA-256> instead"
        );
    }
}

/// Resolves when the flag becomes `want` (or its sender is gone). Unlike `wait_for`, it holds
/// no borrow of the value, so it can sit in a `select!` whose branches await.
pub(crate) async fn until(flag: &mut watch::Receiver<bool>, want: bool) {
    let _ = flag.wait_for(|s| *s == want).await;
}
