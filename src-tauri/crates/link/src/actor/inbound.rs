//! What the server's messages do: each frame read into the model (the handshake and level,
//! replays, snapshots, alarms, command statuses), and what the link owes a server once it is
//! ready (subscriptions, in-flight and outbox commands). The session only carries the bytes.

use super::{Actor, PostJob};
use crate::error::LinkError;
use crate::events::LinkEvent;
use crate::model::MissedEvents;
use crate::requests::Answer;
use crate::session::Session;
use crate::state::{LinkState, ProtocolLevel};
use crate::subscriptions::delta;
use crate::transport::http::CommandPoster;
use brewdeck_protocol::{
    decode_server, peek_type, ClientMessage, Command, CommandId, CommandRequest, Hello, Seq,
    ServerMessage, Subscription, Timestamp, PROTOCOL_V1,
};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

impl Actor {
    /// One frame from the server; `Err` when the connection is over, and why.
    pub(super) async fn on_frame(
        &mut self,
        s: &mut Session,
        frame: Option<Result<Message, WsError>>,
    ) -> Result<(), String> {
        let message = match frame {
            None => return Err("the server closed the connection".to_owned()),
            Some(Err(WsError::Capacity(e))) => {
                self.model.counters.oversized_frames += 1;
                tracing::warn!(error = %e, "server frame over the size limit refused");
                return Err(format!(
                    "the server sent a frame over the {} byte limit",
                    self.config.max_message_bytes
                ));
            }
            // RFC 6455 says to fail the connection on both; the reason says which, so it is
            // not mistaken for a network fault.
            Some(Err(WsError::Utf8(e))) => {
                self.model.counters.bad_frames += 1;
                tracing::warn!(error = %e, "server text frame that is not UTF-8: closing");
                return Err(
                    "the server sent a text frame that is not valid UTF-8, which the WebSocket protocol forbids"
                        .to_owned(),
                );
            }
            Some(Err(WsError::Protocol(e)))
                if !matches!(e, ProtocolError::ResetWithoutClosingHandshake) =>
            {
                tracing::warn!(error = %e, "server broke the WebSocket protocol: closing");
                return Err(format!("the server broke the WebSocket protocol ({e})"));
            }
            Some(Err(e)) => return Err(format!("connection lost: {e}")),
            Some(Ok(message)) => message,
        };
        match message {
            Message::Text(text) => self.on_text(s, text.as_str()).await,
            Message::Binary(bytes) => {
                self.model.counters.bad_frames += 1;
                tracing::warn!(
                    len = bytes.len(),
                    "binary frame ignored: the protocol is JSON text"
                );
                Ok(())
            }
            Message::Close(frame) => Err(match frame {
                Some(f) if !f.reason.is_empty() => format!(
                    "the server closed the connection ({} {})",
                    u16::from(f.code),
                    f.reason.as_str().chars().take(120).collect::<String>()
                ),
                Some(f) => format!("the server closed the connection ({})", u16::from(f.code)),
                None => "the server closed the connection".to_owned(),
            }),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
        }
    }

    async fn on_text(&mut self, s: &mut Session, text: &str) -> Result<(), String> {
        let message = match decode_server(text) {
            Ok(m) => m,
            Err(e) => {
                self.model.counters.bad_frames += 1;
                // The error names the position, never the content.
                tracing::warn!(error = %e, len = text.len(), "malformed server frame ignored");
                return Ok(());
            }
        };
        if s.level.is_none() {
            if let ServerMessage::Connected(c) = &message {
                let level1 = c
                    .protocols
                    .as_ref()
                    .is_some_and(|p| p.iter().any(|p| p == PROTOCOL_V1));
                s.features = c.features.clone().unwrap_or_default();
                self.model.features = s.features.clone();
                self.model.operator = c.operator.clone();
                return self.greeted(s, level1, c.plant.clone(), c.last_seq).await;
            }
            // A server that skips `connected` is an old one: level 0.
            tracing::warn!("the server sent no `connected` first: treating it as level 0");
            self.model.features.clear();
            self.greeted(s, false, None, None).await?;
        }
        let seq = message.seq();
        if let Some((ours, theirs)) = self.model.epoch_jump(seq) {
            let reason = self.new_epoch(ours, theirs);
            if s.level == Some(ProtocolLevel::Level1) {
                // A whole snapshot is had by saying `hello` again, on a new connection.
                self.epoch_ended = true;
                return Err(reason);
            }
            // Level 0 has no snapshot to ask for: the numbers start again at this event.
        }
        let now = Instant::now();
        match message {
            ServerMessage::Telemetry(t) => {
                self.model.apply_reading(&t, now);
                self.readings.push(t);
            }
            ServerMessage::Alarm(alarm) => {
                if self.model.is_new(alarm.seq) {
                    if let Some(event) = self.model.apply_alarm(alarm, s.delivery()) {
                        self.emit(event);
                    }
                }
            }
            ServerMessage::CommandStatus(status) => {
                if self.model.is_new(status.seq) {
                    self.model.saw(status.seq);
                    if let Some(command) = self.model.commands.apply_status(&status) {
                        self.emit(LinkEvent::Command {
                            command,
                            via: s.delivery(),
                        });
                        self.rearm_expiry();
                    }
                }
            }
            ServerMessage::Snapshot(snapshot) => {
                s.in_replay = false;
                // A snapshot behind what the link applied (a server that went back without
                // saying so in `connected`) is a new epoch too: covering it would keep the old
                // floor and hide every later event.
                if let Some(ours) = self.model.seqs.floor().filter(|f| snapshot.seq < *f) {
                    self.new_epoch(ours, snapshot.seq);
                }
                for event in self.model.apply_snapshot(snapshot, now) {
                    self.emit(event);
                }
                self.epoch_redials = 0;
                self.emit(LinkEvent::Synced {
                    level: ProtocolLevel::Level1,
                    plant: self.model.plant.clone(),
                    endpoints: self.model.catalog.len(),
                    last_seq: self.model.seqs.floor(),
                });
                if !s.ready {
                    self.make_ready(s).await?;
                }
            }
            ServerMessage::Resumed(r) => {
                s.in_replay = false;
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
                    self.model.missed = Some(MissedEvents {
                        from_seq: r.from_seq,
                        to_seq: r.to_seq,
                        at: Timestamp::now(),
                    });
                    self.emit(LinkEvent::EventsMayBeMissing {
                        from_seq: r.from_seq,
                        to_seq: r.to_seq,
                    });
                }
            }
            ServerMessage::History(h) => {
                let id = h.request_id.clone();
                self.answer(&id, Answer::History(h));
            }
            ServerMessage::Journal(j) => {
                let id = j.request_id.clone();
                self.answer(&id, Answer::Journal(j));
            }
            ServerMessage::Done(d) => self.answer(&d.request_id, Answer::Done),
            ServerMessage::Error(e)
                if e.request_id
                    .as_ref()
                    .is_some_and(|id| self.queries.contains_key(id)) =>
            {
                // A refused request is its caller's answer, not an event of the plant.
                if let Some(waiter) = e.request_id.as_ref().and_then(|id| self.queries.remove(id)) {
                    waiter.fail(LinkError::Refused {
                        code: e.code.unwrap_or_default(),
                        message: e.message,
                    });
                }
            }
            ServerMessage::Error(e) => {
                self.model.counters.server_errors += 1;
                tracing::warn!(code = ?e.code, message = %e.message, "server error");
                self.emit(LinkEvent::ServerError {
                    code: e.code,
                    message: e.message,
                });
            }
            ServerMessage::Reconnect(r) => {
                s.server_delay = r
                    .retry_after
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
                return Err(format!(
                    "the server asked the link to reconnect{}",
                    r.reason.map(|r| format!(": {r}")).unwrap_or_default()
                ));
            }
            ServerMessage::Connected(_) | ServerMessage::Pong(_) | ServerMessage::Heartbeat(_) => {}
            ServerMessage::Note(note) => {
                if self.model.is_new(Some(note.seq)) {
                    self.model.saw(Some(note.seq));
                    self.emit(LinkEvent::Note {
                        note,
                        via: s.delivery(),
                    });
                }
            }
            ServerMessage::Unknown => {
                self.model.counters.unknown_messages += 1;
                tracing::debug!(kind = ?peek_type(text), "unknown message type ignored");
            }
        }
        Ok(())
    }

    /// An answer to a request goes to whoever waits for it; one nobody waits for any more
    /// (its caller gave up) is dropped.
    fn answer(&mut self, request_id: &str, answer: Answer) {
        if let Some(waiter) = self.queries.remove(request_id) {
            waiter.answer(answer);
        }
    }

    /// The server's numbers are not the ones the link followed: forget them, say what may be
    /// missing, and (mid-connection) reconnect, so `hello` without a number brings a whole
    /// snapshot. Returns why.
    fn new_epoch(&mut self, ours: Seq, theirs: Seq) -> String {
        tracing::warn!(
            ours,
            theirs,
            "the server's seq jumped: a new epoch, starting from a snapshot"
        );
        self.model.seqs.reset();
        self.model.missed = Some(MissedEvents {
            from_seq: ours,
            to_seq: theirs,
            at: Timestamp::now(),
        });
        self.emit(LinkEvent::EventsMayBeMissing {
            from_seq: ours,
            to_seq: theirs,
        });
        format!("the server's seq jumped from {ours} to {theirs}: resyncing from a snapshot")
    }

    /// The server said `connected`: learn the level, say `hello` to a level-1 server.
    async fn greeted(
        &mut self,
        s: &mut Session,
        level1: bool,
        plant: Option<String>,
        server_last_seq: Option<u64>,
    ) -> Result<(), String> {
        let level = if level1 {
            ProtocolLevel::Level1
        } else {
            ProtocolLevel::Level0
        };
        s.level = Some(level);
        self.model.level = Some(level);
        if plant.is_some() {
            self.model.plant = plant.clone();
        }
        self.set_state(LinkState::Connected {
            level,
            plant,
            since: Timestamp::now(),
        });
        if !level1 {
            return self.make_ready(s).await;
        }
        if let (Some(server), Some(ours)) = (server_last_seq, self.model.seqs.floor()) {
            if server < ours || self.model.seqs.is_jump(server) {
                // Not the counter this link followed (another server behind the same URL, or a
                // reset one): asking it to replay from our number would skip its events. A
                // fresh snapshot instead, and what happened meanwhile may be missing.
                self.new_epoch(ours, server);
            }
        }
        s.in_replay = self.model.seqs.floor().is_some();
        let hello = ClientMessage::Hello(Hello {
            protocol: PROTOCOL_V1.to_owned(),
            last_seq: self.model.seqs.floor(),
        });
        s.send(&hello).await
    }

    /// Subscriptions restored (one message per channel), in-flight commands re-sent to a
    /// level-1 server, the outbox flushed.
    async fn make_ready(&mut self, s: &mut Session) -> Result<(), String> {
        s.ready = true;
        let level1 = s.level == Some(ProtocolLevel::Level1);
        let wanted = self.subs.wanted(&self.model.catalog);
        if !wanted.is_empty() {
            s.send(&ClientMessage::Subscribe(Subscription::Telemetry {
                endpoint_ids: wanted.iter().cloned().collect(),
            }))
            .await?;
        }
        s.told_telemetry = wanted;
        s.send(&ClientMessage::Subscribe(Subscription::Alarms))
            .await?;
        if level1 {
            // Every command's status: other desks' commands show in the history too.
            s.send(&ClientMessage::Subscribe(Subscription::Commands {
                command_ids: Vec::new(),
            }))
            .await?;
            for view in self.model.commands.in_flight() {
                tracing::info!(command_id = %view.command_id, "re-sending an in-flight command (same id)");
                s.send(&ClientMessage::Command(command_message(&view)))
                    .await?;
            }
        } else {
            let open: BTreeSet<CommandId> = self.model.commands.open_ids().into_iter().collect();
            if !open.is_empty() {
                s.send(&ClientMessage::Subscribe(Subscription::Commands {
                    command_ids: open.iter().cloned().collect(),
                }))
                .await?;
            }
            s.told_commands = open;
        }
        self.flush_outbox(s).await?;
        let mut parked = std::mem::take(&mut self.parked_queries).into_iter();
        while let Some((request, waiter)) = parked.next() {
            if let Err(reason) = self.send_request(s, request, waiter).await {
                for (_, waiter) in parked {
                    waiter.fail(LinkError::NotConnected);
                }
                return Err(reason);
            }
        }
        Ok(())
    }

    /// Sends every outbox command still valid, in order.
    pub(super) async fn flush_outbox(&mut self, s: &mut Session) -> Result<(), String> {
        if !s.ready {
            return Ok(());
        }
        self.expire_outbox();
        let views = self.model.commands.drain_outbox();
        for (i, view) in views.iter().enumerate() {
            let sent = if s.level == Some(ProtocolLevel::Level1) {
                s.send(&ClientMessage::Command(command_message(view))).await
            } else {
                self.post_level0(s, view).await
            };
            if let Err(reason) = sent {
                // Not (or not surely) delivered: back in the outbox, to go again with the same
                // id, which a level-1 server never executes twice.
                let rest: Vec<CommandId> =
                    views[i..].iter().map(|v| v.command_id.clone()).collect();
                self.model.commands.requeue(&rest);
                self.rearm_expiry();
                return Err(reason);
            }
        }
        self.rearm_expiry();
        Ok(())
    }

    /// Level 0: follow the command's status on the socket first, then post it over HTTP.
    async fn post_level0(
        &mut self,
        s: &mut Session,
        view: &crate::command_book::CommandView,
    ) -> Result<(), String> {
        if s.told_commands.insert(view.command_id.clone()) {
            s.send(&ClientMessage::Subscribe(Subscription::Commands {
                command_ids: vec![view.command_id.clone()],
            }))
            .await?;
        }
        let Some(token) = self.token.clone() else {
            return Err("no token".to_owned());
        };
        self.post(PostJob {
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
                server: self.config.server.clone(),
                tls: self.tls.clone(),
                timeout: self.config.timings.connect_timeout,
            },
        });
        Ok(())
    }

    /// Brings the server's telemetry subscriptions to what the link wants.
    pub(super) async fn sync_telemetry(&mut self, s: &mut Session) -> Result<(), String> {
        if !s.ready {
            return Ok(());
        }
        let wanted = self.subs.wanted(&self.model.catalog);
        let (add, remove) = delta(&s.told_telemetry, &wanted);
        if !add.is_empty() {
            s.send(&ClientMessage::Subscribe(Subscription::Telemetry {
                endpoint_ids: add,
            }))
            .await?;
        }
        if !remove.is_empty() {
            s.send(&ClientMessage::Unsubscribe(Subscription::Telemetry {
                endpoint_ids: remove,
            }))
            .await?;
        }
        s.told_telemetry = wanted;
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
