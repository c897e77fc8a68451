//! One open connection: the handshake and level, liveness, reading frames into the model, and
//! writing what the actor sends. Owned by the actor's task for as long as the socket lives.

use crate::actor::{Actor, Flow, PostJob};
use crate::config::Timings;
use crate::events::{Delivery, LinkEvent};
use crate::model::MissedEvents;
use crate::state::{LinkState, ProtocolLevel};
use crate::subscriptions::delta;
use crate::transport::http::CommandPoster;
use crate::transport::BoxSocket;
use brewdeck_protocol::{
    decode_server, encode, peek_type, ClientMessage, Command, CommandId, CommandRequest,
    EndpointId, Hello, Seq, ServerMessage, Subscription, Timestamp, PROTOCOL_V1,
};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames handled in one go before timers and operations get a look in: keeps a busy stream
/// from paying the `select!` for every message without starving anything.
const FRAMES_PER_TURN: usize = 256;

/// How a session ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// An operation ended it (disconnect, new token, new server, shutdown).
    Op(Flow),
    /// The connection was lost or refused; the link reconnects.
    Lost(String),
}

pub(crate) struct Session {
    socket: BoxSocket,
    pub level: Option<ProtocolLevel>,
    /// Subscriptions sent and the outbox flushed: level 0 after `connected`, level 1 after
    /// the `snapshot`.
    pub ready: bool,
    /// Between `hello` with `lastSeq` and `resumed`.
    in_replay: bool,
    pub opened: Instant,
    last_frame: Instant,
    told_telemetry: BTreeSet<EndpointId>,
    told_commands: BTreeSet<CommandId>,
    /// Asked by the server's `reconnect`.
    pub server_delay: Option<Duration>,
    timings: Timings,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("level", &self.level)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub fn new(socket: BoxSocket, timings: &Timings) -> Self {
        let now = Instant::now();
        Session {
            socket,
            level: None,
            ready: false,
            in_replay: false,
            opened: now,
            last_frame: now,
            told_telemetry: BTreeSet::new(),
            told_commands: BTreeSet::new(),
            server_delay: None,
            timings: *timings,
        }
    }

    pub async fn run(&mut self, actor: &mut Actor) -> Ending {
        let t = self.timings;
        let mut ping = interval_at(self.opened + t.ping_interval, t.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let dead = sleep_until(self.opened + t.dead_after);
        tokio::pin!(dead);
        let handshake = sleep_until(self.opened + t.connect_timeout);
        tokio::pin!(handshake);
        loop {
            tokio::select! {
                biased;
                op = actor.ops.recv() => {
                    let Some(op) = op else { return Ending::Op(Flow::Stop) };
                    match actor.handle_op(op, Some(self)).await {
                        Flow::Continue => {}
                        Flow::Lost(reason) => return Ending::Lost(reason),
                        flow => return Ending::Op(flow),
                    }
                }
                _ = ping.tick() => {
                    if let Err(reason) = self.write(Message::Ping(Bytes::new())).await {
                        return Ending::Lost(reason);
                    }
                }
                () = &mut dead => {
                    if self.last_frame.elapsed() >= t.dead_after {
                        return Ending::Lost(format!(
                            "no frame from the server for {} s: the connection is dead",
                            t.dead_after.as_secs()
                        ));
                    }
                    dead.as_mut().reset(self.last_frame + t.dead_after);
                }
                () = &mut handshake, if self.level.is_none() => {
                    return Ending::Lost(format!(
                        "the server sent no `connected` message within {} s",
                        t.connect_timeout.as_secs()
                    ));
                }
                () = &mut actor.expiry, if actor.expiry_armed => actor.expire_outbox(),
                Some(result) = actor.post_results.recv() => actor.on_post_result(result),
                frame = self.socket.next() => {
                    // Any frame is a sign of life; one clock read per turn is enough.
                    self.last_frame = Instant::now();
                    if let Err(end) = self.on_frame(frame, actor).await {
                        actor.flush_readings();
                        return end;
                    }
                    for _ in 0..FRAMES_PER_TURN {
                        let Some(frame) = self.socket.next().now_or_never() else { break };
                        if let Err(end) = self.on_frame(frame, actor).await {
                            actor.flush_readings();
                            return end;
                        }
                    }
                    actor.flush_readings();
                }
            }
        }
    }

    /// Closes the socket politely, without waiting long for a peer that may be gone.
    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.socket.close()).await;
    }

    async fn write(&mut self, message: Message) -> Result<(), String> {
        match tokio::time::timeout(self.timings.write_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("could not write to the server: {e}")),
            Err(_) => Err(format!(
                "the server took no data for {} s",
                self.timings.write_timeout.as_secs()
            )),
        }
    }

    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), String> {
        let text = encode(message).map_err(|e| format!("cannot encode a message: {e}"))?;
        self.write(Message::text(text)).await
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, WsError>>,
        actor: &mut Actor,
    ) -> Result<(), Ending> {
        let message = match frame {
            None => return Err(Ending::Lost("the server closed the connection".to_owned())),
            Some(Err(WsError::Capacity(e))) => {
                actor.model.counters.oversized_frames += 1;
                tracing::warn!(error = %e, "server frame over the size limit refused");
                return Err(Ending::Lost(format!(
                    "the server sent a frame over the {} byte limit",
                    actor.config.max_message_bytes
                )));
            }
            // RFC 6455 says to fail the connection on both; the reason says which, so it is
            // not mistaken for a network fault.
            Some(Err(WsError::Utf8(e))) => {
                actor.model.counters.bad_frames += 1;
                tracing::warn!(error = %e, "server text frame that is not UTF-8: closing");
                return Err(Ending::Lost(
                    "the server sent a text frame that is not valid UTF-8, which the WebSocket protocol forbids"
                        .to_owned(),
                ));
            }
            Some(Err(WsError::Protocol(e)))
                if !matches!(e, ProtocolError::ResetWithoutClosingHandshake) =>
            {
                tracing::warn!(error = %e, "server broke the WebSocket protocol: closing");
                return Err(Ending::Lost(format!(
                    "the server broke the WebSocket protocol ({e})"
                )));
            }
            Some(Err(e)) => return Err(Ending::Lost(format!("connection lost: {e}"))),
            Some(Ok(message)) => message,
        };
        match message {
            Message::Text(text) => self.on_text(text.as_str(), actor).await,
            Message::Binary(bytes) => {
                actor.model.counters.bad_frames += 1;
                tracing::warn!(
                    len = bytes.len(),
                    "binary frame ignored: the protocol is JSON text"
                );
                Ok(())
            }
            Message::Close(frame) => Err(Ending::Lost(match frame {
                Some(f) if !f.reason.is_empty() => format!(
                    "the server closed the connection ({} {})",
                    u16::from(f.code),
                    f.reason.as_str().chars().take(120).collect::<String>()
                ),
                Some(f) => format!("the server closed the connection ({})", u16::from(f.code)),
                None => "the server closed the connection".to_owned(),
            })),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str, actor: &mut Actor) -> Result<(), Ending> {
        let message = match decode_server(text) {
            Ok(m) => m,
            Err(e) => {
                actor.model.counters.bad_frames += 1;
                // The error names the position, never the content.
                tracing::warn!(error = %e, len = text.len(), "malformed server frame ignored");
                return Ok(());
            }
        };
        if self.level.is_none() {
            if let ServerMessage::Connected(c) = &message {
                let level1 = c
                    .protocols
                    .as_ref()
                    .is_some_and(|p| p.iter().any(|p| p == PROTOCOL_V1));
                return self
                    .greeted(level1, c.plant.clone(), c.last_seq, actor)
                    .await;
            }
            // A server that skips `connected` is an old one: level 0.
            tracing::warn!("the server sent no `connected` first: treating it as level 0");
            self.greeted(false, None, None, actor).await?;
        }
        let seq = match &message {
            ServerMessage::Alarm(a) => a.seq,
            ServerMessage::CommandStatus(c) => c.seq,
            _ => None,
        };
        if let Some((ours, theirs)) = actor.model.epoch_jump(seq) {
            return Err(Ending::Lost(self.new_epoch(ours, theirs, actor)));
        }
        let now = Instant::now();
        match message {
            ServerMessage::Telemetry(t) => {
                actor.model.apply_reading(&t, now);
                actor.readings.push(t);
            }
            ServerMessage::Alarm(alarm) => {
                if actor.model.is_new(alarm.seq) {
                    if let Some(event) = actor.model.apply_alarm(alarm, self.delivery()) {
                        actor.emit(event);
                    }
                }
            }
            ServerMessage::CommandStatus(status) => {
                if actor.model.is_new(status.seq) {
                    actor.model.saw(status.seq);
                    if let Some(command) = actor.model.commands.apply_status(&status) {
                        actor.emit(LinkEvent::Command {
                            command,
                            via: self.delivery(),
                        });
                        actor.rearm_expiry();
                    }
                }
            }
            ServerMessage::Snapshot(snapshot) => {
                self.in_replay = false;
                for event in actor.model.apply_snapshot(snapshot, now) {
                    actor.emit(event);
                }
                actor.emit(LinkEvent::Synced {
                    level: ProtocolLevel::Level1,
                    plant: actor.model.plant.clone(),
                    endpoints: actor.model.catalog.len(),
                    last_seq: actor.model.seqs.floor(),
                });
                if !self.ready {
                    self.make_ready(actor).await.map_err(Ending::Lost)?;
                }
            }
            ServerMessage::Resumed(r) => {
                self.in_replay = false;
                if r.complete {
                    tracing::info!(
                        from = r.from_seq,
                        to = r.to_seq,
                        "resumed with nothing missed"
                    );
                } else {
                    tracing::warn!(
                        from = r.from_seq,
                        to = r.to_seq,
                        "the server could not replay everything: events may have been missed"
                    );
                    actor.model.missed = Some(MissedEvents {
                        from_seq: r.from_seq,
                        to_seq: r.to_seq,
                        at: Timestamp::now(),
                    });
                    actor.emit(LinkEvent::EventsMayBeMissing {
                        from_seq: r.from_seq,
                        to_seq: r.to_seq,
                    });
                }
            }
            ServerMessage::Error(e) => {
                actor.model.counters.server_errors += 1;
                tracing::warn!(code = ?e.code, message = %e.message, "server error");
                actor.emit(LinkEvent::ServerError {
                    code: e.code,
                    message: e.message,
                });
            }
            ServerMessage::Reconnect(r) => {
                self.server_delay = r
                    .retry_after
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
                return Err(Ending::Lost(format!(
                    "the server asked the link to reconnect{}",
                    r.reason.map(|r| format!(": {r}")).unwrap_or_default()
                )));
            }
            ServerMessage::Connected(_) | ServerMessage::Pong(_) | ServerMessage::Heartbeat(_) => {}
            ServerMessage::Unknown => {
                actor.model.counters.unknown_messages += 1;
                tracing::debug!(kind = ?peek_type(text), "unknown message type ignored");
            }
        }
        Ok(())
    }

    fn delivery(&self) -> Delivery {
        if self.in_replay {
            Delivery::Replay
        } else {
            Delivery::Live
        }
    }

    /// The server's numbers are not the ones the link followed: forget them, say what may be
    /// missing, and (mid-connection) reconnect, so `hello` without a number brings a whole
    /// snapshot. Returns why.
    fn new_epoch(&mut self, ours: Seq, theirs: Seq, actor: &mut Actor) -> String {
        tracing::warn!(
            ours,
            theirs,
            "the server's seq jumped: a new epoch, starting from a snapshot"
        );
        actor.model.seqs.reset();
        actor.model.missed = Some(MissedEvents {
            from_seq: ours,
            to_seq: theirs,
            at: Timestamp::now(),
        });
        actor.emit(LinkEvent::EventsMayBeMissing {
            from_seq: ours,
            to_seq: theirs,
        });
        format!("the server's seq jumped from {ours} to {theirs}: resyncing from a snapshot")
    }

    /// The server said `connected`: learn the level, say `hello` to a level-1 server.
    async fn greeted(
        &mut self,
        level1: bool,
        plant: Option<String>,
        server_last_seq: Option<u64>,
        actor: &mut Actor,
    ) -> Result<(), Ending> {
        let level = if level1 {
            ProtocolLevel::Level1
        } else {
            ProtocolLevel::Level0
        };
        self.level = Some(level);
        actor.model.level = Some(level);
        if plant.is_some() {
            actor.model.plant = plant.clone();
        }
        actor.set_state(LinkState::Connected {
            level,
            plant,
            since: Timestamp::now(),
        });
        if !level1 {
            return self.make_ready(actor).await.map_err(Ending::Lost);
        }
        if let (Some(server), Some(ours)) = (server_last_seq, actor.model.seqs.floor()) {
            if server < ours || actor.model.seqs.is_jump(server) {
                // Not the counter this link followed (another server behind the same URL, or a
                // reset one): asking it to replay from our number would skip its events. A
                // fresh snapshot instead, and what happened meanwhile may be missing.
                self.new_epoch(ours, server, actor);
            }
        }
        self.in_replay = actor.model.seqs.floor().is_some();
        let hello = ClientMessage::Hello(Hello {
            protocol: PROTOCOL_V1.to_owned(),
            last_seq: actor.model.seqs.floor(),
        });
        self.send(&hello).await.map_err(Ending::Lost)
    }

    /// Subscriptions restored (one message per channel), in-flight commands re-sent to a
    /// level-1 server, the outbox flushed.
    async fn make_ready(&mut self, actor: &mut Actor) -> Result<(), String> {
        self.ready = true;
        let level1 = self.level == Some(ProtocolLevel::Level1);
        let wanted = actor.subs.wanted(&actor.model.catalog);
        if !wanted.is_empty() {
            self.send(&ClientMessage::Subscribe(Subscription::Telemetry {
                endpoint_ids: wanted.iter().cloned().collect(),
            }))
            .await?;
        }
        self.told_telemetry = wanted;
        self.send(&ClientMessage::Subscribe(Subscription::Alarms))
            .await?;
        if level1 {
            // Every command's status: other desks' commands show in the history too.
            self.send(&ClientMessage::Subscribe(Subscription::Commands {
                command_ids: Vec::new(),
            }))
            .await?;
            for view in actor.model.commands.in_flight() {
                tracing::info!(command_id = %view.command_id, "re-sending an in-flight command (same id)");
                self.send(&ClientMessage::Command(command_message(&view)))
                    .await?;
            }
        } else {
            let open: BTreeSet<CommandId> = actor.model.commands.open_ids().into_iter().collect();
            if !open.is_empty() {
                self.send(&ClientMessage::Subscribe(Subscription::Commands {
                    command_ids: open.iter().cloned().collect(),
                }))
                .await?;
            }
            self.told_commands = open;
        }
        self.flush_outbox(actor).await
    }

    /// Sends every outbox command still valid, in order.
    pub async fn flush_outbox(&mut self, actor: &mut Actor) -> Result<(), String> {
        if !self.ready {
            return Ok(());
        }
        actor.expire_outbox();
        let views = actor.model.commands.drain_outbox();
        for (i, view) in views.iter().enumerate() {
            let sent = if self.level == Some(ProtocolLevel::Level1) {
                self.send(&ClientMessage::Command(command_message(view)))
                    .await
            } else {
                self.post_level0(view, actor).await
            };
            if let Err(reason) = sent {
                // Not (or not surely) delivered: back in the outbox, to go again with the same
                // id, which a level-1 server never executes twice.
                let rest: Vec<CommandId> =
                    views[i..].iter().map(|v| v.command_id.clone()).collect();
                actor.model.commands.requeue(&rest);
                actor.rearm_expiry();
                return Err(reason);
            }
        }
        actor.rearm_expiry();
        Ok(())
    }

    /// Level 0: follow the command's status on the socket first, then post it over HTTP.
    async fn post_level0(
        &mut self,
        view: &crate::command_book::CommandView,
        actor: &mut Actor,
    ) -> Result<(), String> {
        if self.told_commands.insert(view.command_id.clone()) {
            self.send(&ClientMessage::Subscribe(Subscription::Commands {
                command_ids: vec![view.command_id.clone()],
            }))
            .await?;
        }
        let Some(token) = actor.token.clone() else {
            return Err("no token".to_owned());
        };
        actor.post(PostJob {
            id: view.command_id.clone(),
            request: CommandRequest {
                command_id: Some(view.command_id.clone()),
                endpoint_id: view.endpoint_id.clone(),
                action: view.action,
                value: view.value.clone(),
                issued_at: Some(view.issued_at),
                expires_at: Some(view.expires_at),
            },
            token,
            poster: CommandPoster {
                server: actor.config.server.clone(),
                tls: actor.tls.clone(),
                timeout: actor.config.timings.connect_timeout,
            },
        });
        Ok(())
    }

    /// Brings the server's telemetry subscriptions to what the link wants.
    pub async fn sync_telemetry(&mut self, actor: &mut Actor) -> Result<(), String> {
        if !self.ready {
            return Ok(());
        }
        let wanted = actor.subs.wanted(&actor.model.catalog);
        let (add, remove) = delta(&self.told_telemetry, &wanted);
        if !add.is_empty() {
            self.send(&ClientMessage::Subscribe(Subscription::Telemetry {
                endpoint_ids: add,
            }))
            .await?;
        }
        if !remove.is_empty() {
            self.send(&ClientMessage::Unsubscribe(Subscription::Telemetry {
                endpoint_ids: remove,
            }))
            .await?;
        }
        self.told_telemetry = wanted;
        Ok(())
    }
}

fn command_message(view: &crate::command_book::CommandView) -> Command {
    Command {
        command_id: view.command_id.clone(),
        endpoint_id: view.endpoint_id.clone(),
        action: view.action,
        value: view.value.clone(),
        issued_at: view.issued_at,
        expires_at: view.expires_at,
    }
}
