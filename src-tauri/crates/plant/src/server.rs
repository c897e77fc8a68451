//! Starting and stopping a plant server, and its background tasks.

use crate::caps::MAX_PLANT_NAME_BYTES;
use crate::config::{Access, PlantConfig};
use crate::error::PlantError;
use crate::historian::Historian;
use crate::http;
use crate::operators::Operators;
use crate::shared::{until, warn_plain, Shared};
use crate::state::PlantState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How long a graceful shutdown waits for clients to take their `reconnect` and go.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Flood updates are produced in slices this long.
const FLOOD_SLICE: Duration = Duration::from_millis(10);

/// A plant server running on the current tokio runtime. Dropping it stops it too, without
/// waiting; `shutdown` stops it gracefully (clients get `reconnect`).
#[derive(Debug)]
pub struct RunningPlant {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

fn validate(config: &PlantConfig) -> Result<(), PlantError> {
    if config.tick.is_zero() {
        return Err(PlantError::Config("tick must be longer than zero".into()));
    }
    if config.shelving_minute.is_zero() {
        return Err(PlantError::Config(
            "a shelving minute must be longer than zero".into(),
        ));
    }
    if config.heartbeat.is_zero() {
        return Err(PlantError::Config(
            "heartbeat must be longer than zero".into(),
        ));
    }
    if config.name.len() > MAX_PLANT_NAME_BYTES {
        return Err(PlantError::Config(format!(
            "the plant name is {} bytes; at most {MAX_PLANT_NAME_BYTES} are accepted",
            config.name.len()
        )));
    }
    if !(1..=8).contains(&config.fermenters) {
        return Err(PlantError::Config("fermenters must be 1 to 8".into()));
    }
    let l = &config.limits;
    if l.max_connections == 0
        || l.max_connections_per_ip == 0
        || l.stream_buffer == 0
        || l.max_frame_bytes < 256
        || l.write_timeout.is_zero()
        || l.ping_every.is_zero()
        || l.silent_limit.is_zero()
    {
        return Err(PlantError::Config(
            "limits too small to serve anyone".into(),
        ));
    }
    // A quiet but healthy client answers pings only: it must be pinged before it counts as
    // silent.
    if l.silent_limit <= l.ping_every {
        return Err(PlantError::Config(
            "the silent limit must be longer than the ping interval".into(),
        ));
    }
    if !(l.messages_per_second > 0.0 && l.message_burst >= 1.0) {
        return Err(PlantError::Config(
            "message rate must allow at least one message".into(),
        ));
    }
    // NaN or zero would refuse every level-0 command post.
    if !(l.commands_per_second > 0.0 && l.command_burst >= 1.0) {
        return Err(PlantError::Config(
            "command rate must allow at least one command".into(),
        ));
    }
    if let Some(f) = config.flood {
        if !(f.rate_hz > 0.0 && f.rate_hz.is_finite()) || f.endpoints == 0 || f.endpoints > 100_000
        {
            return Err(PlantError::Config(
                "flood needs 1 to 100000 endpoints and a positive rate".into(),
            ));
        }
    }
    if !(config.shutdown_retry_after >= 0.0 && config.shutdown_retry_after.is_finite()) {
        return Err(PlantError::Config(
            "shutdown retry-after must be zero or more seconds".into(),
        ));
    }
    Ok(())
}

/// Who may connect at start: a bad operators file stops the plant here.
fn operators(access: &Access) -> Result<Operators, PlantError> {
    match access {
        Access::Token(token) => Ok(Operators::single(token)),
        Access::OperatorsFile(path) => {
            let loaded = Operators::read(path)?;
            warn_plain(path, &loaded);
            tracing::info!(file = %path.display(), operators = loaded.operators.len(), "operators read");
            Ok(loaded.operators)
        }
    }
}

/// Binds, then serves until shut down.
pub async fn start(config: PlantConfig) -> Result<RunningPlant, PlantError> {
    validate(&config)?;
    let operators = operators(&config.access)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| PlantError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| PlantError::Bind {
        addr: config.listen,
        source,
    })?;
    // Opening may prune a large store: off the runtime's threads.
    let data_dir = config.data_dir.clone();
    let (historian, last_seq) = tokio::task::spawn_blocking(move || {
        Historian::open(data_dir.as_deref()).map(|h| {
            let last_seq = h.last_seq();
            (h, last_seq)
        })
    })
    .await
    .map_err(|_| PlantError::Config("opening the history failed".into()))??;
    let (tx, _) = broadcast::channel(config.limits.stream_buffer);
    let mut state = PlantState::new(&config, tx);
    state.record_to(historian.writer.clone());
    if let Some(seq) = last_seq {
        state.continue_after(seq);
    }
    let shared = Shared::new(config, state, historian, operators);

    let app = http::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut stop = shared.signals.shutdown.subscribe();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    let mut tasks = vec![tokio::spawn(async move {
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "plant server stopped with an error");
        }
    })];
    tasks.push(tokio::spawn(simulate(shared.clone())));
    tasks.push(tokio::spawn(until_stopped(
        shared.clone(),
        shared.historian.watch_recording(),
    )));
    if shared.config.flood.is_some() {
        tasks.push(tokio::spawn(flood(shared.clone())));
    }
    tracing::info!(%addr, plant = %shared.config.name, admin = shared.config.admin, "plant server listening");
    Ok(RunningPlant {
        addr,
        shared,
        tasks,
    })
}

async fn simulate(shared: Arc<Shared>) {
    let tick = shared.config.tick;
    let mut stop = shared.signals.shutdown.subscribe();
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = until(&mut stop, true) => break,
            _ = interval.tick() => shared.lock().tick(tick),
        }
    }
}

/// Runs `work` until the server is asked to stop.
async fn until_stopped(shared: Arc<Shared>, work: impl std::future::Future<Output = ()>) {
    let mut stop = shared.signals.shutdown.subscribe();
    tokio::select! {
        _ = until(&mut stop, true) => {}
        _ = work => {}
    }
}

async fn flood(shared: Arc<Shared>) {
    let Some(flood) = shared.config.flood else {
        return;
    };
    let per_slice = flood.endpoints as f64 * flood.rate_hz * FLOOD_SLICE.as_secs_f64();
    let mut stop = shared.signals.shutdown.subscribe();
    let mut interval = tokio::time::interval(FLOOD_SLICE);
    // Burst to catch up: the rate is per second, whatever the scheduler did to one slice.
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut owed = 0.0;
    loop {
        tokio::select! {
            _ = until(&mut stop, true) => break,
            _ = interval.tick() => {
                owed += per_slice;
                let count = owed.floor();
                owed -= count;
                shared.lock().flood(count as usize);
            }
        }
    }
}

impl RunningPlant {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `http://ADDR`, for `/health`, `/api/os/command` and `/admin/*`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// The number of open client connections, as it changes.
    pub fn watch_connections(&self) -> watch::Receiver<usize> {
        self.shared.watch_connections()
    }

    /// Stops accepting, tells every client to `reconnect` after the configured delay, closes
    /// their sockets and waits (a few seconds at most) for them to go.
    pub async fn shutdown(mut self) {
        self.shared.signals.shutdown.send_replace(true);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.shared.all_connections_closed()).await;
        for task in self.tasks.drain(..) {
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                tracing::warn!("a plant task did not stop in time");
            }
        }
        // What the last steps recorded reaches the disk before the process may exit.
        self.shared.lock().keep_seq();
        let shared = self.shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.historian.flush()).await;
        tracing::info!(addr = %self.addr, "plant server stopped");
    }

    /// Reads the operators file again (the binary does on `SIGHUP`). A bad file keeps the
    /// previous list, and the error says why with its line; after a good one, every client
    /// whose token no longer names the same operator and role is told so and closed, to come
    /// back as who it now is. Returns how many operators there are now. With a token instead
    /// of a file, there is nothing to read.
    pub fn reload_operators(&self) -> Result<usize, PlantError> {
        match self.shared.reload_operators() {
            Ok(n) => {
                tracing::info!(operators = n, "operators reloaded");
                Ok(n)
            }
            Err(e) => {
                tracing::warn!(error = %e, "operators not reloaded: the previous list is kept");
                Err(e)
            }
        }
    }

    /// Resolves when the server is asked to stop (Ctrl-C in the binary, or `shutdown`).
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.shared.signals.shutdown.subscribe()
    }
}

impl Drop for RunningPlant {
    fn drop(&mut self) {
        self.shared.signals.shutdown.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::validate;
    use crate::config::PlantConfig;
    use crate::error::PlantError;
    use brewdeck_protocol::Token;

    fn refused(change: impl FnOnce(&mut PlantConfig)) -> bool {
        let mut config = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new("t").unwrap());
        change(&mut config);
        matches!(validate(&config), Err(PlantError::Config(_)))
    }

    #[test]
    fn limits_that_would_refuse_everyone_are_a_config_error() {
        assert!(!refused(|_| {}), "the defaults are valid");
        assert!(refused(|c| c.limits.max_connections_per_ip = 0));
        assert!(refused(|c| c.limits.commands_per_second = 0.0));
        assert!(refused(|c| c.limits.commands_per_second = f64::NAN));
        assert!(refused(|c| c.limits.command_burst = 0.5));
        assert!(refused(|c| c.limits.messages_per_second = f64::NAN));
        assert!(refused(
            |c| c.limits.silent_limit = std::time::Duration::ZERO
        ));
        assert!(refused(|c| c.limits.silent_limit = c.limits.ping_every));
        assert!(!refused(|c| c.name = "n".repeat(256)));
        assert!(refused(|c| c.name = "n".repeat(257)));
    }
}
