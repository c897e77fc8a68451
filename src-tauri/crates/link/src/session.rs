//! One open connection: the socket, its liveness, and what was told on it (level, readiness,
//! subscriptions sent). It carries bytes and keeps its own timers; what a message means is the
//! actor's (`actor::inbound`). It imports nothing from the actor.

use crate::config::Timings;
use crate::events::Delivery;
use crate::state::ProtocolLevel;
use crate::transport::BoxSocket;
use brewdeck_protocol::{encode, ClientMessage, CommandId, EndpointId};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{interval_at, sleep_until, Instant, Interval, MissedTickBehavior, Sleep};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// What the connection has for the actor: a frame, or the end of it.
pub(crate) enum Inbound {
    /// A frame, or `None` when the server closed the socket.
    Frame(Option<Result<Message, WsError>>),
    /// Dead or silent: why.
    Lost(String),
}

pub(crate) struct Session {
    socket: BoxSocket,
    pub level: Option<ProtocolLevel>,
    /// Subscriptions sent and the outbox flushed: level 0 after `connected`, level 1 after
    /// the `snapshot`.
    pub ready: bool,
    /// Between `hello` with `lastSeq` and `resumed`.
    pub in_replay: bool,
    pub opened: Instant,
    last_frame: Instant,
    pub told_telemetry: BTreeSet<EndpointId>,
    pub told_commands: BTreeSet<CommandId>,
    /// Asked by the server's `reconnect`.
    pub server_delay: Option<Duration>,
    /// The optional level-1 features the server listed in `connected`.
    pub features: Vec<String>,
    timings: Timings,
    ping: Interval,
    dead: Pin<Box<Sleep>>,
    handshake: Pin<Box<Sleep>>,
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
        let mut ping = interval_at(now + timings.ping_interval, timings.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
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
            features: Vec::new(),
            timings: *timings,
            ping,
            dead: Box::pin(sleep_until(now + timings.dead_after)),
            handshake: Box::pin(sleep_until(now + timings.connect_timeout)),
        }
    }

    /// The next frame, pinging on schedule meanwhile; or the end of a connection that went
    /// silent, or whose server never said `connected`.
    pub async fn next(&mut self) -> Inbound {
        let t = self.timings;
        loop {
            tokio::select! {
                _ = self.ping.tick() => {
                    if let Err(reason) = self.write(Message::Ping(Bytes::new())).await {
                        return Inbound::Lost(reason);
                    }
                }
                () = &mut self.dead => {
                    if self.last_frame.elapsed() >= t.dead_after {
                        return Inbound::Lost(format!(
                            "no frame from the server for {} s: the connection is dead",
                            t.dead_after.as_secs()
                        ));
                    }
                    let next = self.last_frame + t.dead_after;
                    self.dead.as_mut().reset(next);
                }
                () = &mut self.handshake, if self.level.is_none() => {
                    return Inbound::Lost(format!(
                        "the server sent no `connected` message within {} s",
                        t.connect_timeout.as_secs()
                    ));
                }
                frame = self.socket.next() => {
                    // Any frame is a sign of life; one clock read per frame waited for.
                    self.last_frame = Instant::now();
                    return Inbound::Frame(frame);
                }
            }
        }
    }

    /// A frame already arrived, if any: a busy stream is read in turns without a wait.
    pub fn ready_frame(&mut self) -> Option<Option<Result<Message, WsError>>> {
        self.socket.next().now_or_never()
    }

    /// Where an event read now comes from.
    pub fn delivery(&self) -> Delivery {
        if self.in_replay {
            Delivery::Replay
        } else {
            Delivery::Live
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
}
