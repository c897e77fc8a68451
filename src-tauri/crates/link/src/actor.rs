//! The link's actor: one task that owns the socket, the plant model and every timer. The
//! [`crate::Link`] handle talks to it over a channel; it publishes its state on a `watch` and
//! plant events on a broadcast channel. It ends when shut down or when the last handle is
//! dropped, and takes every task and timer it started with it.

use crate::backoff::Backoff;
use crate::config::LinkConfig;
use crate::events::{Delivery, LinkEvent};
use crate::model::PlantModel;
use crate::ops::Op;
use crate::session::{Ending, Session};
use crate::state::LinkState;
use crate::subscriptions::Subscriptions;
use crate::token_store::TokenStore;
use crate::transport::http::{CommandPoster, PostOutcome};
use crate::transport::{BoxSocket, DialError, Dialer};
use brewdeck_protocol::{CommandId, CommandRequest, Timestamp, Token};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant, Sleep};

/// What the actor does next.
pub(crate) enum Phase {
    /// Not connecting: disconnected by the operator, or not started.
    Idle,
    /// Reconnecting: the next dial is at this instant.
    Wait(Instant),
    /// Unauthorized or failed: waits for the operator (a token, a server, retry now).
    Parked,
    Dial,
    Open(BoxSocket),
    Stop,
}

/// What an operation asks of the phase it arrives in.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Close whatever is open and dial now.
    Redial,
    Idle,
    Stop,
    /// The connection failed while serving the operation.
    Lost(String),
}

pub(crate) struct PostJob {
    pub id: CommandId,
    pub request: CommandRequest,
    pub token: Token,
    pub poster: CommandPoster,
}

/// The task that posts level-0 commands, one at a time, in order.
pub(crate) struct Poster {
    jobs: mpsc::UnboundedSender<PostJob>,
    task: JoinHandle<()>,
    /// The command being posted now: once on the wire, its outcome is the server's.
    sending: Arc<std::sync::Mutex<Option<CommandId>>>,
}

pub(crate) struct PostResult {
    pub id: CommandId,
    pub outcome: PostOutcome,
}

pub(crate) struct Actor {
    pub config: LinkConfig,
    pub tls: Arc<rustls::ClientConfig>,
    pub dialer: Arc<dyn Dialer>,
    pub store: Arc<dyn TokenStore>,
    pub token: Option<Token>,
    pub ops: mpsc::Receiver<Op>,
    pub state: watch::Sender<LinkState>,
    pub events: broadcast::Sender<LinkEvent>,
    pub model: PlantModel,
    pub subs: Subscriptions,
    pub backoff: Backoff,
    /// Failed attempts in a row.
    pub attempt: u32,
    /// When the current outage began (the first failure since the link was last up for
    /// good), and the attempts made past the backoff's quick phase.
    pub outage_since: Option<Instant>,
    pub slow_attempts: u32,
    /// A delay the server asked for, used instead of the backoff for the next wait.
    pub server_delay: Option<Duration>,
    pub expiry: Pin<Box<Sleep>>,
    pub expiry_armed: bool,
    pub poster: Option<Poster>,
    pub post_results: mpsc::UnboundedReceiver<PostResult>,
    pub post_results_tx: mpsc::UnboundedSender<PostResult>,
    /// Readings applied in this turn, not yet published.
    pub readings: Vec<brewdeck_protocol::Telemetry>,
    /// The jitter source, injectable for tests.
    pub random: Box<dyn FnMut() -> f64 + Send>,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("server", &self.config.server.as_str())
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl Actor {
    pub async fn run(mut self) {
        let mut phase = if self.config.connect_on_start {
            Phase::Dial
        } else {
            Phase::Idle
        };
        loop {
            phase = match phase {
                Phase::Idle => {
                    self.set_state(LinkState::Idle);
                    self.wait(None).await
                }
                Phase::Wait(at) => self.wait(Some(at)).await,
                Phase::Parked => self.wait(None).await,
                Phase::Dial => self.dial().await,
                Phase::Open(socket) => self.open(socket).await,
                Phase::Stop => break,
            };
        }
        if let Some(poster) = self.poster.take() {
            poster.task.abort();
        }
        self.set_state(LinkState::Stopped);
        tracing::info!(server = %self.config.server, "link stopped");
    }

    pub fn set_state(&self, next: LinkState) {
        let previous = self.state.borrow().name();
        match &next {
            LinkState::Reconnecting {
                attempt,
                retry_in_ms,
                last_error,
                ..
            } => tracing::warn!(
                from = previous,
                attempt,
                retry_in_ms,
                error = %last_error,
                "link reconnecting"
            ),
            LinkState::Unauthorized { reason } | LinkState::Failed { reason } => {
                tracing::error!(from = previous, to = next.name(), %reason, "link stopped retrying")
            }
            LinkState::Connected { level, .. } => {
                tracing::info!(from = previous, ?level, server = %self.config.server, "link connected")
            }
            other => tracing::info!(from = previous, to = other.name(), "link state"),
        }
        self.state.send_replace(next);
    }

    pub fn emit(&mut self, event: LinkEvent) {
        // Readings batched so far go first: followers see events in arrival order.
        self.flush_readings();
        // No follower is not an error: the model still holds everything.
        let _ = self.events.send(event);
    }

    /// Publishes the readings batched in this turn as one event.
    pub fn flush_readings(&mut self) {
        if !self.readings.is_empty() {
            let readings = std::mem::take(&mut self.readings);
            let _ = self.events.send(LinkEvent::Readings { readings });
        }
    }

    /// Idle, parked or waiting to reconnect: serve operations, expire the outbox, and dial
    /// when the time comes.
    async fn wait(&mut self, until: Option<Instant>) -> Phase {
        let retry = sleep_until(until.unwrap_or_else(Instant::now));
        tokio::pin!(retry);
        loop {
            tokio::select! {
                op = self.ops.recv() => {
                    let Some(op) = op else { return Phase::Stop };
                    if let Some(next) = self.serve_offline(op).await {
                        return next;
                    }
                }
                () = &mut retry, if until.is_some() => return Phase::Dial,
                () = &mut self.expiry, if self.expiry_armed => self.expire_outbox(),
                Some(result) = self.post_results.recv() => self.on_post_result(result),
            }
        }
    }

    /// Serves an operation with no connection open; `Some` when it changes the phase.
    async fn serve_offline(&mut self, op: Op) -> Option<Phase> {
        match self.handle_op(op, None).await {
            Flow::Continue => None,
            Flow::Redial => Some(Phase::Dial),
            Flow::Idle => Some(Phase::Idle),
            Flow::Stop | Flow::Lost(_) => Some(Phase::Stop),
        }
    }

    /// Opens a socket, serving operations meanwhile.
    async fn dial(&mut self) -> Phase {
        self.set_state(LinkState::Connecting {
            attempt: self.attempt,
        });
        let token = match self.current_token().await {
            Ok(Some(token)) => token,
            Ok(None) => {
                self.set_state(LinkState::Unauthorized {
                    reason: "no token is set for this server".to_owned(),
                });
                return Phase::Parked;
            }
            Err(reason) => {
                self.set_state(LinkState::Failed { reason });
                return Phase::Parked;
            }
        };
        let mut dialing = self
            .dialer
            .dial(self.config.server.clone(), token, self.tls.clone());
        loop {
            tokio::select! {
                result = &mut dialing => return self.dialed(result),
                op = self.ops.recv() => {
                    let Some(op) = op else { return Phase::Stop };
                    if let Some(next) = self.serve_offline(op).await {
                        return next;
                    }
                }
                () = &mut self.expiry, if self.expiry_armed => self.expire_outbox(),
                Some(result) = self.post_results.recv() => self.on_post_result(result),
            }
        }
    }

    fn dialed(&mut self, result: Result<BoxSocket, DialError>) -> Phase {
        match result {
            Ok(socket) => Phase::Open(socket),
            Err(DialError::Unauthorized(reason)) => {
                self.set_state(LinkState::Unauthorized { reason });
                Phase::Parked
            }
            Err(DialError::Config(reason)) => {
                self.set_state(LinkState::Failed { reason });
                Phase::Parked
            }
            Err(DialError::RetryAfter(delay, reason)) => {
                self.server_delay = Some(delay);
                self.retry_later(reason)
            }
            Err(DialError::Transient(reason)) => self.retry_later(reason),
        }
    }

    /// Runs a connection until it ends, then decides what follows.
    async fn open(&mut self, socket: BoxSocket) -> Phase {
        self.model.counters.connections += 1;
        let mut session = Session::new(socket, &self.config.timings);
        let ending = session.run(self).await;
        let lasted = session.opened.elapsed();
        self.after_session(&session);
        session.close().await;
        match ending {
            Ending::Op(Flow::Redial) => Phase::Dial,
            Ending::Op(Flow::Idle) => Phase::Idle,
            Ending::Op(Flow::Stop) | Ending::Op(Flow::Continue) => Phase::Stop,
            Ending::Op(Flow::Lost(reason)) | Ending::Lost(reason) => {
                if lasted >= self.config.timings.stable_after {
                    // It stayed up: this is a fresh outage, not one more failed attempt.
                    self.fresh_start();
                }
                if let Some(delay) = session.server_delay {
                    self.server_delay = Some(delay);
                }
                self.retry_later(reason)
            }
        }
    }

    /// What a closed connection leaves behind: commands in flight to a level-0 server cannot
    /// be asked about again, so they become `unknown`, never repeated.
    fn after_session(&mut self, session: &Session) {
        if session.level == Some(crate::state::ProtocolLevel::Level0) {
            for view in self.model.commands.in_flight() {
                if let Some(command) = self.model.commands.settle(
                    &view.command_id,
                    crate::command_book::CommandPhase::Unknown,
                    "the link dropped before its result arrived: check the plant before repeating it"
                        .to_owned(),
                ) {
                    self.emit(LinkEvent::Command {
                        command,
                        via: Delivery::Local,
                    });
                }
            }
        }
    }

    /// Forgets the outage so far: the next failure starts a new one (after the link stayed
    /// up, or the operator changed what it connects with).
    pub fn fresh_start(&mut self) {
        self.attempt = 0;
        self.outage_since = None;
        self.slow_attempts = 0;
    }

    /// Schedules the next attempt, or gives up when a limit is configured and reached.
    fn retry_later(&mut self, reason: String) -> Phase {
        self.attempt = self.attempt.saturating_add(1);
        if let Some(max) = self.config.max_attempts {
            if self.attempt > max {
                self.set_state(LinkState::Failed {
                    reason: format!("gave up after {max} attempts: {reason}"),
                });
                return Phase::Parked;
            }
        }
        let outage = self.outage_since.get_or_insert_with(Instant::now).elapsed();
        let delay = match self.server_delay.take() {
            Some(asked) => asked.min(self.config.timings.max_server_delay),
            None => {
                if outage >= self.backoff.quick_for {
                    self.slow_attempts = self.slow_attempts.saturating_add(1);
                }
                let fraction = (self.random)();
                self.backoff.delay(outage, self.slow_attempts, fraction)
            }
        };
        let retry_at = chrono::Duration::from_std(delay)
            .ok()
            .and_then(|d| Timestamp::now().0.checked_add_signed(d))
            .map_or_else(Timestamp::now, Timestamp);
        self.set_state(LinkState::Reconnecting {
            attempt: self.attempt,
            retry_at,
            retry_in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            last_error: reason,
        });
        Phase::Wait(Instant::now() + delay)
    }

    /// The token of the server being dialed, from the store the first time it is needed.
    async fn current_token(&mut self) -> Result<Option<Token>, String> {
        if self.token.is_some() {
            return Ok(self.token.clone());
        }
        let store = self.store.clone();
        let server = self.config.server.clone();
        match tokio::task::spawn_blocking(move || store.load(&server)).await {
            Ok(Ok(token)) => {
                self.token = token;
                Ok(self.token.clone())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the token store failed while reading".to_owned()),
        }
    }

    /// Re-arms the outbox expiry timer on the earliest deadline.
    pub fn rearm_expiry(&mut self) {
        match self.model.commands.next_deadline() {
            Some(at) => {
                self.expiry.as_mut().reset(at);
                self.expiry_armed = true;
            }
            None => self.expiry_armed = false,
        }
    }

    pub fn expire_outbox(&mut self) {
        for command in self.model.commands.expire(Instant::now()) {
            tracing::warn!(command_id = %command.command_id, "command expired in the outbox");
            self.emit(LinkEvent::Command {
                command,
                via: Delivery::Local,
            });
        }
        self.rearm_expiry();
    }

    /// Stops the level-0 poster: what it still holds for the old server is never sent. A
    /// command it may have been sending has an unknown outcome, never a repeat.
    pub fn stop_poster(&mut self, why: &str) {
        let Some(poster) = self.poster.take() else {
            return;
        };
        poster.task.abort();
        while self.post_results.try_recv().is_ok() {}
        // Those still waiting their turn were never sent: the caller settles them.
        let sending = poster
            .sending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(id) = sending else { return };
        let unknown = format!("{why} while it was being sent: check the plant before repeating it");
        if let Some(command) =
            self.model
                .commands
                .settle(&id, crate::command_book::CommandPhase::Unknown, unknown)
        {
            self.emit(LinkEvent::Command {
                command,
                via: Delivery::Local,
            });
        }
    }

    /// Hands a command to the level-0 poster task, starting it on first use.
    pub fn post(&mut self, job: PostJob) {
        let poster = self.poster.get_or_insert_with(|| {
            let (jobs, mut rx) = mpsc::unbounded_channel::<PostJob>();
            let results = self.post_results_tx.clone();
            let sending = Arc::new(std::sync::Mutex::new(None));
            let now = sending.clone();
            // One task posts in order, so commands reach a level-0 server in the order issued.
            let task = tokio::spawn(async move {
                while let Some(job) = rx.recv().await {
                    *now.lock().unwrap_or_else(|p| p.into_inner()) = Some(job.id.clone());
                    let outcome = job.poster.post(&job.token, &job.request).await;
                    *now.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    if results
                        .send(PostResult {
                            id: job.id,
                            outcome,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            });
            Poster {
                jobs,
                task,
                sending,
            }
        });
        if poster.jobs.send(job).is_err() {
            tracing::error!("the command poster has ended");
        }
    }

    pub fn on_post_result(&mut self, result: PostResult) {
        use crate::command_book::CommandPhase;
        let id = result.id;
        let update = match result.outcome {
            PostOutcome::Accepted(Some(record)) => self.model.commands.apply_record(&record),
            PostOutcome::Accepted(None) => {
                self.model
                    .commands
                    .apply_status(&brewdeck_protocol::CommandStatus {
                        command_id: id.clone(),
                        status: brewdeck_protocol::CommandState::Sent,
                        actual_value: None,
                        completed_at: None,
                        reason: None,
                        endpoint_id: None,
                        action: None,
                        seq: None,
                    })
            }
            PostOutcome::Refused(reason) => {
                self.model
                    .commands
                    .settle(&id, CommandPhase::Rejected, reason)
            }
            PostOutcome::NotSent(reason) => {
                self.model
                    .commands
                    .settle(&id, CommandPhase::Failed, reason)
            }
            PostOutcome::Lost(reason) => {
                self.model
                    .commands
                    .settle(&id, CommandPhase::Unknown, reason)
            }
        };
        if let Some(command) = update {
            self.emit(LinkEvent::Command {
                command,
                via: Delivery::Live,
            });
        }
    }
}
