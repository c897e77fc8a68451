//! One client's WebSocket session: its subscriptions, its limits, and the live stream
//! filtered for it.
//!
//! A message over the client's rate limit is dropped, with at most one `rate_limited` error a
//! second: a `command` dropped that way gets no status at all, and the client should send it
//! again with the same `commandId` (which never runs twice). A dropped request that carried a
//! `requestId` is answered `rate_limited` with it, so its caller does not wait for it.
//!
//! Each session is one operator (its token's); after the operators are reloaded, a session
//! whose token no longer names the same operator and role is told so and closed.

use crate::actions::{self, Reply};
use crate::caps;
use crate::history;
use crate::journal;
use crate::operators::Identity;
use crate::rate::RateLimit;
use crate::requests::{self, refusal_text, refuse, REQUEST_TYPES};
use crate::shared::{until, ConnectionSlot, Shared};
use crate::state::ClientInfo;
use crate::state::{Event, SubscriptionCounts, Topic};
use crate::wire;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use brewdeck_protocol::{
    decode_client, ClientMessage, CommandId, Connected, EndpointId, ErrorCode, Heartbeat,
    HistoryQuery, JournalQuery, Pong, Reconnect, ServerError, ServerMessage, Subscription,
    Timestamp, FEATURE_HISTORY, FEATURE_JOURNAL, FEATURE_NOTES, FEATURE_OPERATORS,
    FEATURE_SHELVING, PROTOCOL_V1,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant, MissedTickBehavior};

/// How long a closing handshake may take before the socket is dropped anyway; also how long a
/// socket that can no longer be read is held after our close (see `End::CloseUnread`).
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Most `history_query` and `journal_query` one client may have waiting for an answer; one
/// more is refused with `rate_limited`.
const QUERIES_IN_FLIGHT: usize = 4;
/// Most live events written before one flush.
const BATCH: usize = 512;

/// WebSocket close codes (RFC 6455 §7.4.1).
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_RESTART: u16 = 1012;
const CLOSE_TRY_LATER: u16 = 1013;

fn error_text(code: ErrorCode, message: impl Into<String>, recoverable: bool) -> Utf8Bytes {
    wire::text(&ServerMessage::Error(ServerError {
        message: message.into(),
        code: Some(code.as_str().to_owned()),
        recoverable: Some(recoverable),
        timestamp: Some(Timestamp::now()),
        request_id: None,
    }))
}

/// What a client follows.
#[derive(Debug, Default)]
struct Subscriptions {
    telemetry: HashSet<EndpointId>,
    alarms: bool,
    commands: HashSet<CommandId>,
    all_commands: bool,
}

impl Subscriptions {
    fn count(&self) -> usize {
        self.telemetry.len() + self.commands.len() + usize::from(self.alarms)
    }

    /// Level-1 clients get every `alarm` and `command_status`: their `seq` stream is whole, so
    /// a gap always means something was lost. Telemetry is only what was subscribed.
    fn wants(&self, topic: &Topic, level1: bool) -> bool {
        match topic {
            Topic::Telemetry(id) => self.telemetry.contains(id),
            Topic::Alarm => level1 || self.alarms,
            Topic::Command(id) => level1 || self.all_commands || self.commands.contains(id),
            Topic::Note => level1,
        }
    }

    fn counts(&self) -> SubscriptionCounts {
        SubscriptionCounts {
            telemetry: self.telemetry.len(),
            alarms: self.alarms,
            commands: self.commands.len(),
            all_commands: self.all_commands,
        }
    }
}

/// How many distinct keys of `keys` are not in `have` yet.
fn not_yet_in<T: std::hash::Hash + Eq>(keys: &[T], have: &HashSet<T>) -> usize {
    keys.iter()
        .filter(|k| !have.contains(*k))
        .collect::<HashSet<_>>()
        .len()
}

/// Whether a read failed because the frame or message was over the socket's size limit.
fn is_capacity(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|inner| inner.downcast_ref::<tokio_tungstenite::tungstenite::Error>())
        .is_some_and(|e| matches!(e, tokio_tungstenite::tungstenite::Error::Capacity(_)))
}

/// How a session ends.
enum End {
    /// The peer closed or the socket failed.
    Gone,
    /// We close with a code and reason, after any messages already queued.
    Close(u16, &'static str),
    /// The same, when the socket can no longer be read (a frame over its hard limit ends the
    /// stream with the rest of that frame unread). Dropping a socket with unread bytes makes
    /// the kernel reset the connection at once and discard what it has not sent yet, which
    /// can be our error and close; so it is held a moment for the peer to take them.
    CloseUnread(u16, &'static str),
    /// Admin drop: no close handshake at all.
    Abrupt,
    /// No frame for the silent limit: the path is dead or the peer does not answer, so no
    /// close handshake either.
    Silent,
    /// Graceful shutdown: `reconnect`, then close.
    Shutdown,
}

struct Session {
    shared: Arc<Shared>,
    key: u64,
    client_id: String,
    level1: bool,
    subs: Subscriptions,
    rate: RateLimit,
    stream: broadcast::Receiver<Arc<Event>>,
    /// Who this connection is.
    identity: Identity,
    /// Replies to this client alone, written before any live event.
    out: Vec<Utf8Bytes>,
    /// `done` for requests just carried out: written after the events they caused.
    after_events: Vec<Utf8Bytes>,
    /// Answers to `history_query` and `journal_query`, read from the store off this task; the
    /// channel's capacity bounds how many one client may have in flight.
    answers_tx: mpsc::Sender<Utf8Bytes>,
    answers: mpsc::Receiver<Utf8Bytes>,
}

pub(crate) async fn serve(
    shared: Arc<Shared>,
    socket: WebSocket,
    peer: SocketAddr,
    slot: ConnectionSlot,
    identity: Identity,
) {
    let key = shared.next_client_key();
    let client_id = format!("client-{key}");
    let limits = shared.config.limits;
    let (connected, stream) = {
        let mut state = shared.lock();
        state.register(
            key,
            ClientInfo {
                client_id: client_id.clone(),
                peer: peer.to_string(),
                ..ClientInfo::default()
            },
        );
        let connected = ServerMessage::Connected(Connected {
            client_id: client_id.clone(),
            protocols: Some(vec![PROTOCOL_V1.to_owned()]),
            server_time: Some(Timestamp::now()),
            plant: Some(state.name().to_owned()),
            last_seq: Some(state.last_seq()),
            features: Some(
                [
                    FEATURE_HISTORY,
                    FEATURE_OPERATORS,
                    FEATURE_JOURNAL,
                    FEATURE_SHELVING,
                    FEATURE_NOTES,
                ]
                .map(str::to_owned)
                .to_vec(),
            ),
            operator: Some(identity.operator.clone()),
        });
        (connected, state.follow())
    };
    tracing::info!(client = %client_id, %peer, operator = %identity.operator.name, role = %identity.operator.role, "client connected");
    let (answers_tx, answers) = mpsc::channel(QUERIES_IN_FLIGHT);
    let mut session = Session {
        shared: shared.clone(),
        key,
        client_id: client_id.clone(),
        level1: false,
        subs: Subscriptions::default(),
        rate: RateLimit::new(limits.messages_per_second, limits.message_burst),
        stream,
        identity,
        out: vec![wire::text(&connected)],
        after_events: Vec::new(),
        answers_tx,
        answers,
    };
    let end = session.run(socket).await;
    shared.lock().unregister(key);
    tracing::info!(client = %client_id, end = end, "client disconnected");
    drop(slot);
}

impl Session {
    async fn run(&mut self, socket: WebSocket) -> &'static str {
        let (mut sink, mut incoming) = socket.split();
        let mut shutdown = self.shared.signals.shutdown.subscribe();
        let mut stall = self.shared.signals.stall.subscribe();
        let mut drop_all = self.shared.signals.drop_all.subscribe();
        let mut operators = self.shared.signals.operators.subscribe();
        // Checked once at first, so a reload between the upgrade and here is not missed.
        operators.mark_changed();
        let period = self.shared.config.heartbeat;
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        let limits = self.shared.config.limits;
        let mut ping =
            tokio::time::interval_at(Instant::now() + limits.ping_every, limits.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // One timer, pushed back by every frame that arrives.
        let silence = tokio::time::sleep(limits.silent_limit);
        tokio::pin!(silence);
        let mut stalled = false;

        let end = loop {
            if !self.out.is_empty() && !self.write_out(&mut sink).await {
                break End::Gone;
            }
            if stalled {
                // Half-open: hold the socket but touch it no more until unstalled.
                stalled = false;
                tokio::select! {
                    _ = until(&mut stall, false) => {
                        // The stall was the plant's silence, not the client's.
                        silence.as_mut().reset(Instant::now() + limits.silent_limit);
                        ping.reset();
                        continue;
                    }
                    _ = until(&mut shutdown, true) => break End::Shutdown,
                    _ = drop_all.changed() => break End::Abrupt,
                }
            }
            tokio::select! {
                biased;
                _ = until(&mut shutdown, true) => break End::Shutdown,
                _ = drop_all.changed() => break End::Abrupt,
                _ = until(&mut stall, true) => stalled = true,
                _ = operators.changed() => {
                    if let Some(end) = self.check_operator() {
                        break end;
                    }
                }
                frame = incoming.next() => {
                    if let Some(Ok(_)) = &frame {
                        silence.as_mut().reset(Instant::now() + limits.silent_limit);
                    }
                    match frame {
                        Some(Err(e)) if is_capacity(&e) => {
                            // Over the socket's hard limit: said, then closed, like a frame
                            // between the two limits.
                            self.out.push(error_text(
                                ErrorCode::FrameTooLarge,
                                "frame over the socket's hard size limit",
                                false,
                            ));
                            break End::CloseUnread(CLOSE_TOO_BIG, "frame too large");
                        }
                        None | Some(Err(_)) => break End::Gone,
                        Some(Ok(Message::Close(_))) => break End::Gone,
                        Some(Ok(Message::Text(text))) => {
                            // What was published before this message goes out under the
                            // subscriptions it was published under: a subscribe covers exactly
                            // the events after it.
                            if let Some(end) = self.drain(&mut sink, None).await {
                                break end;
                            }
                            if let Some(end) = self.on_text(text.as_str()) {
                                break end;
                            }
                            if !self.after_events.is_empty() {
                                // The events the request caused, then its `done`.
                                if let Some(end) = self.drain(&mut sink, None).await {
                                    break end;
                                }
                                self.out.append(&mut self.after_events);
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            self.out.push(error_text(ErrorCode::BadMessage, "binary frames are not part of the protocol", true));
                        }
                        // Ping is answered by the socket itself; a pong only shows the
                        // client is there.
                        Some(Ok(_)) => {}
                    }
                },
                // After the frame branch: a frame that waited while we wrote still counts.
                _ = &mut silence => {
                    tracing::info!(client = %self.client_id, silent_for = ?limits.silent_limit, "no frame from the client (not even a pong), dropping it");
                    break End::Silent;
                }
                // Before the live stream: a flood must not hold answers back.
                Some(answer) = self.answers.recv() => self.out.push(answer),
                event = self.stream.recv() => match event {
                    Ok(event) => {
                        if let Some(end) = self.drain(&mut sink, Some(event)).await {
                            break end;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => break self.too_slow(missed),
                    Err(RecvError::Closed) => break End::Shutdown,
                },
                _ = ping.tick() => {
                    // A live client's socket answers with a pong, which resets `silence`.
                    let sending = sink.send(Message::Ping(Default::default()));
                    if !matches!(tokio::time::timeout(limits.write_timeout, sending).await, Ok(Ok(()))) {
                        break End::Gone;
                    }
                }
                _ = heartbeat.tick() => {
                    self.out.push(wire::text(&ServerMessage::Heartbeat(Heartbeat {
                        timestamp: Timestamp::now(),
                        active_streams: Some(self.shared.connections() as u64),
                    })));
                }
            }
        };

        match end {
            End::Gone => "peer gone",
            End::Abrupt => "dropped by admin",
            End::Silent => "silent for too long",
            End::Close(code, reason) => {
                self.write_out_and_close(&mut sink, &mut incoming, code, reason)
                    .await;
                reason
            }
            End::CloseUnread(code, reason) => {
                self.write_out_and_close(&mut sink, &mut incoming, code, reason)
                    .await;
                tokio::select! {
                    _ = tokio::time::sleep(CLOSE_GRACE) => {}
                    _ = until(&mut shutdown, true) => {}
                    _ = drop_all.changed() => {}
                }
                reason
            }
            End::Shutdown => {
                self.out
                    .push(wire::text(&ServerMessage::Reconnect(Reconnect {
                        reason: Some("plant server shutting down".to_owned()),
                        retry_after: Some(self.shared.config.shutdown_retry_after),
                    })));
                self.write_out_and_close(
                    &mut sink,
                    &mut incoming,
                    CLOSE_RESTART,
                    "server shutting down",
                )
                .await;
                "server shutting down"
            }
        }
    }

    /// Writes this client's own replies; false when it is gone or has stopped reading.
    async fn write_out<S>(&mut self, sink: &mut S) -> bool
    where
        S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    {
        let out = std::mem::take(&mut self.out);
        let write = async {
            for text in out {
                sink.feed(Message::Text(text)).await?;
            }
            sink.flush().await
        };
        let limit = self.shared.config.limits.write_timeout;
        matches!(tokio::time::timeout(limit, write).await, Ok(Ok(())))
    }

    /// The closing handshake (RFC 6455 §7): our replies, our Close, then the peer's Close
    /// read before the socket is dropped. Dropping it with the peer's frames unread makes the
    /// kernel send a reset, which can destroy the replies before the client reads them.
    async fn write_out_and_close<S, R>(
        &mut self,
        sink: &mut S,
        incoming: &mut R,
        code: u16,
        reason: &'static str,
    ) where
        S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
        R: futures_util::Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        if !self.write_out(sink).await {
            return;
        }
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            if sink.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
            while let Some(Ok(message)) = incoming.next().await {
                if let Message::Close(_) = message {
                    break;
                }
            }
        })
        .await;
    }

    /// `drain_now`, bounded: a client that stopped reading is dropped, not waited on forever.
    async fn drain<S>(&mut self, sink: &mut S, first: Option<Arc<Event>>) -> Option<End>
    where
        S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    {
        let limit = self.shared.config.limits.write_timeout;
        match tokio::time::timeout(limit, self.drain_now(sink, first)).await {
            Ok(end) => end,
            Err(_) => {
                tracing::warn!(client = %self.client_id, "client took no data for {limit:?}, dropping it");
                Some(End::Gone)
            }
        }
    }

    /// Writes `first` and every event already waiting (those this client follows), then
    /// flushes once.
    async fn drain_now<S>(&mut self, sink: &mut S, first: Option<Arc<Event>>) -> Option<End>
    where
        S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    {
        let mut next = first;
        let mut written = 0usize;
        loop {
            let event = match next.take() {
                Some(e) => e,
                None => match self.stream.try_recv() {
                    Ok(e) => e,
                    Err(TryRecvError::Lagged(missed)) => return Some(self.too_slow(missed)),
                    Err(_) => break,
                },
            };
            if self.subs.wants(&event.topic, self.level1) {
                if sink.feed(Message::Text(event.text.clone())).await.is_err() {
                    return Some(End::Gone);
                }
                written += 1;
                if written.is_multiple_of(BATCH) && sink.flush().await.is_err() {
                    return Some(End::Gone);
                }
            }
        }
        if !written.is_multiple_of(BATCH) && sink.flush().await.is_err() {
            return Some(End::Gone);
        }
        None
    }

    fn too_slow(&mut self, missed: u64) -> End {
        tracing::warn!(client = %self.client_id, missed, "client too slow, closing it");
        self.out.push(error_text(
            ErrorCode::SlowConsumer,
            format!("fell {missed} events behind the live stream; reconnect and resume"),
            true,
        ));
        End::Close(CLOSE_TRY_LATER, "slow consumer")
    }

    fn on_text(&mut self, text: &str) -> Option<End> {
        let limits = self.shared.config.limits;
        if text.len() > limits.max_frame_bytes {
            self.out.push(error_text(
                ErrorCode::FrameTooLarge,
                format!(
                    "frame of {} bytes is over the limit of {}",
                    text.len(),
                    limits.max_frame_bytes
                ),
                false,
            ));
            return Some(End::Close(CLOSE_TOO_BIG, "frame too large"));
        }
        if let Some(c) = self.shared.lock().client_mut(self.key) {
            c.messages_received += 1;
        }
        if !self.rate.take() {
            let kind = brewdeck_protocol::peek_type(text);
            let request_id = kind
                .as_deref()
                .filter(|k| REQUEST_TYPES.contains(k))
                .and_then(|_| requests::id_in(text));
            if let (Some(kind), Some(request_id)) = (kind, request_id) {
                // A request dropped is still answered, so its caller does not wait for it.
                self.out.push(refusal_text(
                    Some(request_id),
                    refuse(
                        ErrorCode::RateLimited,
                        format!(
                            "over {} messages per second: this {kind} was dropped",
                            limits.messages_per_second
                        ),
                    ),
                ));
                return None;
            }
            if self.rate.should_warn() {
                self.out.push(error_text(
                    ErrorCode::RateLimited,
                    format!(
                        "over {} messages per second: messages dropped",
                        limits.messages_per_second
                    ),
                    true,
                ));
            }
            return None;
        }
        // Seed 003's clients type a bare `ping` into wscat.
        if text.trim() == "ping" {
            self.out.push(wire::text(&ServerMessage::Pong(Pong {
                timestamp: Some(Timestamp::now()),
            })));
            return None;
        }
        let message = match decode_client(text) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(client = %self.client_id, error = %e, "bad message");
                let kind = brewdeck_protocol::peek_type(text);
                if let Some(kind) = kind.filter(|k| REQUEST_TYPES.contains(&k.as_str())) {
                    // A request is refused as a request: with its id, when it has one.
                    self.out.push(refusal_text(
                        requests::id_in(text),
                        refuse(ErrorCode::BadRequest, format!("bad {kind}: {e}")),
                    ));
                } else {
                    self.out
                        .push(error_text(ErrorCode::BadMessage, e.to_string(), true));
                }
                return None;
            }
        };
        match message {
            ClientMessage::Subscribe(sub) => {
                if let Err(e) = caps::subscription(&sub) {
                    self.out
                        .push(error_text(ErrorCode::BadMessage, e.to_string(), true));
                    return None;
                }
                self.subscribe(sub)
            }
            ClientMessage::Unsubscribe(sub) => self.unsubscribe(sub),
            ClientMessage::Ping => {
                self.out.push(wire::text(&ServerMessage::Pong(Pong {
                    timestamp: Some(Timestamp::now()),
                })));
            }
            ClientMessage::Hello(hello) => {
                if hello.protocol != PROTOCOL_V1 {
                    self.out.push(error_text(
                        ErrorCode::BadMessage,
                        format!(
                            "unsupported protocol {:?}; this server speaks {PROTOCOL_V1}",
                            hello.protocol
                        ),
                        true,
                    ));
                } else {
                    self.hello(hello.last_seq);
                }
            }
            ClientMessage::Command(command) => {
                // Refused like any bad message: remembered, an over-long id would reach
                // every snapshot.
                if let Err(e) = caps::command(&command) {
                    self.out
                        .push(error_text(ErrorCode::BadMessage, e.to_string(), true));
                    return None;
                }
                // A viewer's refusal; a repeated id's current status, to the asker only.
                let replies = actions::command(&self.shared, &self.identity.operator, command);
                self.out.extend(replies);
            }
            ClientMessage::AlarmAck(ack) => {
                let reply = actions::alarm_ack(&self.shared, &self.identity.operator, ack);
                self.reply(reply);
            }
            ClientMessage::AlarmShelve(shelve) => {
                let reply = actions::alarm_shelve(&self.shared, &self.identity.operator, shelve);
                self.reply(reply);
            }
            ClientMessage::AlarmUnshelve(unshelve) => {
                let reply =
                    actions::alarm_unshelve(&self.shared, &self.identity.operator, unshelve);
                self.reply(reply);
            }
            ClientMessage::Note(note) => {
                let reply = actions::note(&self.shared, &self.identity.operator, note);
                self.reply(reply);
            }
            ClientMessage::HistoryQuery(query) => self.history_query(query),
            ClientMessage::JournalQuery(query) => self.journal_query(query),
            ClientMessage::Unknown => {
                tracing::debug!(client = %self.client_id, kind = ?brewdeck_protocol::peek_type(text), "unknown message type ignored");
            }
        }
        None
    }

    /// A refusal now; a `done` after the events the request caused.
    fn reply(&mut self, reply: Reply) {
        match reply {
            Reply::Refused(error) => self.out.push(error),
            Reply::Done(done) => self.after_events.extend(done),
        }
    }

    /// After the operators were reloaded: carries on if this token still names the same
    /// operator and role, else says so and closes, so the client comes back as who it now is
    /// (or is refused).
    fn check_operator(&mut self) -> Option<End> {
        if self.shared.operators().still_names(&self.identity) {
            return None;
        }
        let who = &self.identity.operator;
        tracing::info!(client = %self.client_id, operator = %who.name, "the operators changed: closing this client's connection");
        self.out.push(error_text(
            ErrorCode::Forbidden,
            format!(
                "the plant's operators changed: this token no longer names {} as {}; reconnect",
                who.name, who.role
            ),
            true,
        ));
        Some(End::Close(CLOSE_POLICY, "operator changed"))
    }

    /// Checks the query here, reads the store on a blocking thread, and the answer comes back
    /// through `answers` to be written in order with everything else.
    fn history_query(&mut self, query: HistoryQuery) {
        if let Err(refusal) = history::check(&query) {
            self.out.push(refusal_text(Some(query.request_id), refusal));
            return;
        }
        let Some(permit) = self.query_permit(&query.request_id) else {
            return;
        };
        let reader = self.shared.historian.reader.clone();
        tokio::task::spawn_blocking(move || {
            let answer = history::answer(&reader, &query)
                .unwrap_or_else(|refusal| refusal_text(Some(query.request_id), refusal));
            permit.send(answer);
        });
    }

    /// As `history_query`, from the journal.
    fn journal_query(&mut self, query: JournalQuery) {
        if let Err(refusal) = journal::check(&query) {
            self.out.push(refusal_text(Some(query.request_id), refusal));
            return;
        }
        let Some(permit) = self.query_permit(&query.request_id) else {
            return;
        };
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let answer = journal::answer(&shared.historian, &query)
                .unwrap_or_else(|refusal| refusal_text(Some(query.request_id), refusal));
            permit.send(answer);
        });
    }

    /// A place for one more answer in flight, or the query is refused `rate_limited`.
    fn query_permit(&mut self, request_id: &str) -> Option<mpsc::OwnedPermit<Utf8Bytes>> {
        let permit = self.answers_tx.clone().try_reserve_owned().ok();
        if permit.is_none() {
            self.out.push(refusal_text(
                Some(request_id.to_owned()),
                refuse(
                    ErrorCode::RateLimited,
                    format!("at most {QUERIES_IN_FLIGHT} queries may wait for an answer"),
                ),
            ));
        }
        permit
    }

    /// Level 1 from now on: the replay after `last_seq`, `resumed`, then the snapshot, and the
    /// live stream from exactly that point.
    fn hello(&mut self, last_seq: Option<u64>) {
        self.level1 = true;
        let mut state = self.shared.lock();
        if let Some(c) = state.client_mut(self.key) {
            c.level = 1;
        }
        if let Some(last_seq) = last_seq {
            let (events, resumed) = state.replay(last_seq);
            self.out.extend(events);
            self.out.push(wire::text(&ServerMessage::Resumed(resumed)));
        }
        self.out.push(state.snapshot_text());
        // Everything already buffered is older than the snapshot: start over from here.
        self.stream = state.follow();
    }

    fn subscribe(&mut self, sub: Subscription) {
        let max = self.shared.config.limits.max_subscriptions;
        let added = match &sub {
            Subscription::Telemetry { endpoint_ids } => {
                not_yet_in(endpoint_ids, &self.subs.telemetry)
            }
            Subscription::Alarms => usize::from(!self.subs.alarms),
            Subscription::Commands { command_ids } => not_yet_in(command_ids, &self.subs.commands),
        };
        if self.subs.count() + added > max {
            self.out.push(error_text(
                ErrorCode::TooManySubscriptions,
                format!("at most {max} subscriptions per client; this subscribe was refused"),
                true,
            ));
            return;
        }
        let channel = match sub {
            Subscription::Telemetry { endpoint_ids } => {
                // Each new endpoint's current value at once: a level-0 client has no snapshot,
                // and a pump that never changes would otherwise never be shown.
                let new: Vec<EndpointId> = endpoint_ids
                    .into_iter()
                    .filter(|id| self.subs.telemetry.insert(id.clone()))
                    .collect();
                let current = self.shared.lock().current_values(&new);
                self.out.extend(current);
                "telemetry"
            }
            Subscription::Alarms => {
                self.subs.alarms = true;
                "alarms"
            }
            Subscription::Commands { command_ids } => {
                if command_ids.is_empty() {
                    self.subs.all_commands = true;
                }
                self.subs.commands.extend(command_ids);
                "commands"
            }
        };
        self.record_subscriptions(Some(channel));
    }

    fn unsubscribe(&mut self, sub: Subscription) {
        match sub {
            Subscription::Telemetry { endpoint_ids } => {
                for id in &endpoint_ids {
                    self.subs.telemetry.remove(id);
                }
            }
            Subscription::Alarms => self.subs.alarms = false,
            Subscription::Commands { command_ids } => {
                if command_ids.is_empty() {
                    self.subs.all_commands = false;
                    self.subs.commands.clear();
                }
                for id in &command_ids {
                    self.subs.commands.remove(id);
                }
            }
        }
        self.record_subscriptions(None);
    }

    fn record_subscriptions(&self, subscribed: Option<&str>) {
        let counts = self.subs.counts();
        if let Some(c) = self.shared.lock().client_mut(self.key) {
            c.subscriptions = counts;
            if let Some(channel) = subscribed {
                *c.subscribe_messages.entry(channel.to_owned()).or_insert(0) += 1;
            }
        }
    }
}
