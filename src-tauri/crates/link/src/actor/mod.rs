//! The link's actor: one task that owns the connection, the plant model and every timer. The
//! [`crate::Link`] handle talks to it over a channel; it publishes its state on a `watch` and
//! plant events on a broadcast channel. It ends when shut down or when the last handle is
//! dropped, and takes every task and timer it started with it.
//!
//! One loop ([`Actor::run`]) owns every wait: operations, the open session's frames (when
//! there is one), a dial in progress, the retry timer, the outbox expiry and level-0 post
//! results. Each turn yields a [`Flow`], which [`Actor::follow`] turns into the next state.
//! - `dispatch`: what each operation does;
//! - `inbound`: what each server message does, and what a server is owed once ready.
//!
//! The session (`crate::session`) is the socket and its bookkeeping; it knows nothing of this.

mod dispatch;
mod inbound;

use crate::backoff::Backoff;
use crate::config::LinkConfig;
use crate::error::LinkError;
use crate::events::{Delivery, LinkEvent};
use crate::model::PlantModel;
use crate::ops::Op;
use crate::session::{Inbound, Session};
use crate::state::LinkState;
use crate::subscriptions::Subscriptions;
use crate::token_store::TokenStore;
use crate::transport::http::{CommandPoster, PostOutcome};
use crate::transport::{BoxSocket, DialError, Dialer};
use brewdeck_protocol::{CommandId, CommandRequest, Timestamp, Token};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant, Sleep};

/// Frames handled in one go before timers and operations get a look in: keeps a busy stream
/// from paying the `select!` for every message without starving anything.
const FRAMES_PER_TURN: usize = 256;

/// What a turn of the loop asks for next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Close whatever is open and dial now.
    Redial,
    /// Close whatever is open and wait for `connect`.
    Idle,
    Stop,
    /// The connection (or the attempt to make one) failed: retry later.
    Lost(String),
}

type Dialing = BoxFuture<'static, Result<BoxSocket, DialError>>;

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
    config: LinkConfig,
    tls: Arc<rustls::ClientConfig>,
    dialer: Arc<dyn Dialer>,
    store: Arc<dyn TokenStore>,
    token: Option<Token>,
    ops: mpsc::Receiver<Op>,
    state: watch::Sender<LinkState>,
    events: broadcast::Sender<LinkEvent>,
    model: PlantModel,
    subs: Subscriptions,
    backoff: Backoff,
    /// Failed attempts in a row.
    attempt: u32,
    /// When the current outage began (the first failure since the link was last up for
    /// good), and the attempts made past the backoff's quick phase.
    outage_since: Option<Instant>,
    slow_attempts: u32,
    /// A delay the server asked for, used instead of the backoff for the next wait.
    server_delay: Option<Duration>,
    expiry: Pin<Box<Sleep>>,
    expiry_armed: bool,
    poster: Option<Poster>,
    post_results: mpsc::UnboundedReceiver<PostResult>,
    post_results_tx: mpsc::UnboundedSender<PostResult>,
    /// Readings applied in this turn, not yet published.
    readings: Vec<brewdeck_protocol::Telemetry>,
    /// The jitter source, injectable for tests.
    random: Box<dyn FnMut() -> f64 + Send>,
    /// The session just read a `seq` from another epoch and must reconnect for a snapshot.
    epoch_ended: bool,
    /// Reconnects for a new epoch since the last sync: the first is at once, as a fresh
    /// start; a server that keeps jumping gets the backoff like any failure.
    epoch_redials: u32,
    /// Requests sent on the open session, by `requestId`, and who waits for each.
    pub(crate) queries: HashMap<String, crate::requests::Waiter>,
    /// Requests asked between `connected` and the session being ready: sent once it is.
    pub(crate) parked_queries: Vec<(crate::requests::Request, crate::requests::Waiter)>,
    pub(crate) next_query: u64,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("server", &self.config.server.as_str())
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// The next frame of the open session; never, when none is open.
async fn inbound(session: &mut Option<Session>) -> Inbound {
    match session {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The dial in progress; never, when none is.
async fn dialed(dialing: &mut Option<Dialing>) -> Result<BoxSocket, DialError> {
    match dialing {
        Some(d) => d.await,
        None => std::future::pending().await,
    }
}

/// The retry timer; never, when none is set.
async fn retry_due(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Actor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: LinkConfig,
        store: Arc<dyn TokenStore>,
        dialer: Arc<dyn Dialer>,
        tls: Arc<rustls::ClientConfig>,
        random: Box<dyn FnMut() -> f64 + Send>,
        ops: mpsc::Receiver<Op>,
        state: watch::Sender<LinkState>,
        events: broadcast::Sender<LinkEvent>,
    ) -> Self {
        let (post_results_tx, post_results) = mpsc::unbounded_channel();
        Actor {
            backoff: Backoff {
                quick_ceiling: config.timings.backoff_base,
                quick_for: config.timings.quick_retries_for,
                cap: config.timings.backoff_cap,
            },
            model: PlantModel::new(config.command_history),
            expiry: Box::pin(tokio::time::sleep(Duration::ZERO)),
            expiry_armed: false,
            config,
            tls,
            dialer,
            store,
            token: None,
            ops,
            state,
            events,
            subs: Subscriptions::default(),
            attempt: 0,
            outage_since: None,
            slow_attempts: 0,
            server_delay: None,
            poster: None,
            post_results,
            post_results_tx,
            readings: Vec::new(),
            random,
            epoch_ended: false,
            epoch_redials: 0,
            queries: HashMap::new(),
            parked_queries: Vec::new(),
            next_query: 0,
        }
    }

    pub async fn run(mut self) {
        let mut session: Option<Session> = None;
        let mut dialing: Option<Dialing> = None;
        let mut retry_at: Option<Instant> = None;
        let mut flow = if self.config.connect_on_start {
            Flow::Redial
        } else {
            Flow::Idle
        };
        loop {
            if !self
                .follow(flow, &mut session, &mut dialing, &mut retry_at)
                .await
            {
                break;
            }
            flow = tokio::select! {
                biased;
                op = self.ops.recv() => match op {
                    Some(op) => self.handle_op(op, session.as_mut()).await,
                    None => Flow::Stop,
                },
                result = dialed(&mut dialing) => {
                    dialing = None;
                    match result {
                        Ok(socket) => {
                            self.model.counters.connections += 1;
                            session = Some(Session::new(socket, &self.config.timings));
                            Flow::Continue
                        }
                        Err(e) => self.dial_failed(e),
                    }
                }
                () = retry_due(retry_at) => {
                    retry_at = None;
                    Flow::Redial
                }
                () = &mut self.expiry, if self.expiry_armed => {
                    self.expire_outbox();
                    Flow::Continue
                }
                Some(result) = self.post_results.recv() => {
                    self.on_post_result(result);
                    Flow::Continue
                }
                // Last: a stream that never pauses must not starve the timers above.
                next = inbound(&mut session) => match (next, session.as_mut()) {
                    (Inbound::Frame(frame), Some(s)) => self.read(s, frame).await,
                    (Inbound::Lost(reason), _) => Flow::Lost(reason),
                    (Inbound::Frame(_), None) => Flow::Continue,
                },
            };
        }
        if let Some(poster) = self.poster.take() {
            poster.task.abort();
        }
        self.set_state(LinkState::Stopped);
        tracing::info!(server = %self.config.server, "link stopped");
    }

    /// A frame and the ones already behind it, up to a turn's worth, into the model.
    async fn read(
        &mut self,
        s: &mut Session,
        frame: Option<
            Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        >,
    ) -> Flow {
        let mut result = self.on_frame(s, frame).await;
        for _ in 0..FRAMES_PER_TURN {
            if result.is_err() {
                break;
            }
            let Some(frame) = s.ready_frame() else { break };
            result = self.on_frame(s, frame).await;
        }
        self.flush_readings();
        match result {
            Ok(()) => Flow::Continue,
            Err(_) if std::mem::take(&mut self.epoch_ended) && self.epoch_redials == 0 => {
                // Not a failure of the path: reconnect now, with no outage counted.
                self.epoch_redials += 1;
                self.fresh_start();
                Flow::Redial
            }
            Err(reason) => Flow::Lost(reason),
        }
    }

    /// Moves to what `flow` asks; false when the actor is to stop.
    async fn follow(
        &mut self,
        flow: Flow,
        session: &mut Option<Session>,
        dialing: &mut Option<Dialing>,
        retry_at: &mut Option<Instant>,
    ) -> bool {
        match flow {
            Flow::Continue => true,
            Flow::Redial => {
                self.end_session(session).await;
                *retry_at = None;
                // The old dial goes before the token is read (which may wait on a keychain).
                *dialing = None;
                *dialing = self.start_dial().await;
                true
            }
            Flow::Idle => {
                self.end_session(session).await;
                *dialing = None;
                *retry_at = None;
                self.set_state(LinkState::Idle);
                true
            }
            Flow::Stop => {
                self.end_session(session).await;
                false
            }
            Flow::Lost(reason) => {
                if let Some((lasted, asked)) = self.end_session(session).await {
                    if lasted >= self.config.timings.stable_after {
                        // It stayed up: this is a fresh outage, not one more failed attempt.
                        self.fresh_start();
                    }
                    if asked.is_some() {
                        self.server_delay = asked;
                    }
                }
                *dialing = None;
                *retry_at = self.retry_later(reason);
                true
            }
        }
    }

    /// Closes the open session, if any: how long it lasted and the delay its server asked for.
    async fn end_session(
        &mut self,
        session: &mut Option<Session>,
    ) -> Option<(Duration, Option<Duration>)> {
        let mut s = session.take()?;
        let lasted = s.opened.elapsed();
        self.after_session(&s);
        s.close().await;
        Some((lasted, s.server_delay))
    }

    /// Reads the token of the server and starts dialing it; `None` when there is no token to
    /// dial with (the state says why).
    async fn start_dial(&mut self) -> Option<Dialing> {
        self.set_state(LinkState::Connecting {
            attempt: self.attempt,
        });
        match self.current_token().await {
            Ok(Some(token)) => Some(self.dialer.dial(
                self.config.server.clone(),
                token,
                self.tls.clone(),
            )),
            Ok(None) => {
                self.set_state(LinkState::Unauthorized {
                    reason: "no token is set for this server".to_owned(),
                });
                None
            }
            Err(reason) => {
                self.set_state(LinkState::Failed { reason });
                None
            }
        }
    }

    fn dial_failed(&mut self, error: DialError) -> Flow {
        match error {
            DialError::Unauthorized(reason) => {
                self.set_state(LinkState::Unauthorized { reason });
                Flow::Continue
            }
            DialError::Config(reason) => {
                self.set_state(LinkState::Failed { reason });
                Flow::Continue
            }
            DialError::RetryAfter(delay, reason) => {
                self.server_delay = Some(delay);
                Flow::Lost(reason)
            }
            DialError::Transient(reason) => Flow::Lost(reason),
        }
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

    /// What a closed connection leaves behind: commands in flight to a level-0 server cannot
    /// be asked about again, so they become `unknown`, never repeated.
    fn after_session(&mut self, session: &Session) {
        // Their answers would have come on this connection: none will now.
        for (_, waiter) in self.queries.drain() {
            waiter.fail(LinkError::NotConnected);
        }
        for (_, waiter) in self.parked_queries.drain(..) {
            waiter.fail(LinkError::NotConnected);
        }
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

    /// When to try again, or `None` when a configured limit of attempts is reached.
    fn retry_later(&mut self, reason: String) -> Option<Instant> {
        self.attempt = self.attempt.saturating_add(1);
        if let Some(max) = self.config.max_attempts {
            if self.attempt > max {
                self.set_state(LinkState::Failed {
                    reason: format!("gave up after {max} attempts: {reason}"),
                });
                return None;
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
        Some(Instant::now() + delay)
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
        let shelf = self.model.local_shelf.next_deadline();
        let next = match (self.model.commands.next_deadline(), shelf) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match next {
            Some(at) => {
                self.expiry.as_mut().reset(at);
                self.expiry_armed = true;
            }
            None => self.expiry_armed = false,
        }
    }

    pub fn expire_outbox(&mut self) {
        // Shelvings this desk kept whose time is up: the alarms come back.
        for id in self.model.local_shelf.expire(Instant::now()) {
            tracing::info!(alarm_id = %id, "a shelving kept by this desk ended");
            if let Some(event) = self.model.set_local_shelved(&id, None) {
                self.emit(event);
            }
        }
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
