//! How the actor serves each operation, connected or not.

use super::{Actor, Flow};
use crate::error::LinkError;
use crate::events::{Delivery, LinkEvent};
use crate::ops::Op;
use crate::requests::{Request, Waiter};
use crate::session::Session;
use crate::state::{LinkState, ProtocolLevel};
use brewdeck_protocol::{AlarmAck, ClientMessage, FEATURE_SHELVING};
use tokio::time::Instant;

impl Actor {
    pub(crate) async fn handle_op(&mut self, op: Op, mut session: Option<&mut Session>) -> Flow {
        match op {
            Op::Snapshot(reply) => {
                let link = self.state.borrow().clone();
                let subscriptions = self.subs.wanted(&self.model.catalog).into_iter().collect();
                let snapshot = self.model.snapshot(
                    link,
                    self.config.server.to_string(),
                    subscriptions,
                    self.config.timings.stale_after,
                    Instant::now(),
                );
                let _ = reply.send(snapshot);
                Flow::Continue
            }
            Op::Subscribe(ids, reply) => {
                self.subs.add(ids);
                let flow = self.resync(session).await;
                let _ = reply.send(());
                flow
            }
            Op::Unsubscribe(ids, reply) => {
                self.subs.remove(&ids);
                let flow = self.resync(session).await;
                let _ = reply.send(());
                flow
            }
            Op::FollowCatalog(on, reply) => {
                self.subs.follow_catalog = on;
                let flow = self.resync(session).await;
                let _ = reply.send(());
                flow
            }
            Op::SendCommand(draft, reply) => {
                if let Err(e) = self.check_command(&draft) {
                    let _ = reply.send(Err(e));
                    return Flow::Continue;
                }
                let view =
                    self.model
                        .commands
                        .issue(draft, self.config.command_expiry, Instant::now());
                tracing::info!(
                    command_id = %view.command_id,
                    endpoint = %view.endpoint_id,
                    action = view.action.as_str(),
                    "command issued"
                );
                self.rearm_expiry();
                self.emit(LinkEvent::Command {
                    command: view.clone(),
                    via: Delivery::Local,
                });
                let _ = reply.send(Ok(view));
                match session.as_deref_mut() {
                    Some(s) => match self.flush_outbox(s).await {
                        Ok(()) => Flow::Continue,
                        Err(reason) => Flow::Lost(reason),
                    },
                    None => Flow::Continue,
                }
            }
            Op::Acknowledge(alarm_id, note, reply) => {
                let Some(s) = session.filter(|s| s.ready) else {
                    let _ = reply.send(Err(LinkError::NotConnected));
                    return Flow::Continue;
                };
                if s.level != Some(ProtocolLevel::Level1) {
                    let _ = reply.send(Err(LinkError::NeedsLevel1("alarm acknowledgement")));
                    return Flow::Continue;
                }
                if !self.model.has_alarm(&alarm_id) {
                    let _ = reply.send(Err(LinkError::UnknownAlarm(alarm_id)));
                    return Flow::Continue;
                }
                if s.features.iter().any(|f| f == FEATURE_SHELVING) {
                    // Answered by `done` or by the `error` that refuses it (a viewer's).
                    let request = Request::Acknowledge { alarm_id, note };
                    return self.request(Some(s), request, Waiter::Done(reply)).await;
                }
                if note.is_some() {
                    let _ = reply.send(Err(LinkError::Unsupported("acknowledgement notes")));
                    return Flow::Continue;
                }
                match s
                    .send(&ClientMessage::AlarmAck(AlarmAck {
                        alarm_id,
                        note: None,
                        request_id: None,
                    }))
                    .await
                {
                    Ok(()) => {
                        let _ = reply.send(Ok(()));
                        Flow::Continue
                    }
                    Err(reason) => {
                        let _ = reply.send(Err(LinkError::NotConnected));
                        Flow::Lost(reason)
                    }
                }
            }
            Op::Request(request, waiter) => self.request(session, request, waiter).await,
            Op::RetryNow | Op::Connect => {
                let busy = session.is_some()
                    || matches!(*self.state.borrow(), LinkState::Connecting { .. });
                if busy {
                    Flow::Continue
                } else {
                    tracing::info!("dialing now, as asked");
                    self.server_delay = None;
                    Flow::Redial
                }
            }
            Op::Disconnect => {
                self.fresh_start();
                Flow::Idle
            }
            Op::TokenChanged(server) if server != self.config.server => {
                tracing::info!(%server, "token changed for another server: ignored");
                Flow::Continue
            }
            Op::TokenChanged(_) => {
                tracing::info!("token changed");
                // Read again from the store, for this server, at the next dial.
                self.token = None;
                self.fresh_start();
                if matches!(*self.state.borrow(), LinkState::Idle) {
                    Flow::Continue
                } else {
                    Flow::Redial
                }
            }
            Op::SetServer(destination) => {
                let (server, tls) = destination.into_parts();
                tracing::info!(%server, "server changed");
                self.stop_poster("the link moved to another server");
                for command in self
                    .model
                    .commands
                    .abandon_all("the link moved to another server")
                {
                    self.emit(LinkEvent::Command {
                        command,
                        via: Delivery::Local,
                    });
                }
                self.emit(LinkEvent::ServerChanged {
                    server: server.to_string(),
                });
                self.config.server = server;
                self.tls = tls;
                // Never offer one server's token to another: read the new profile's from the store.
                self.token = None;
                self.model.reset();
                self.subs = Default::default();
                self.fresh_start();
                self.server_delay = None;
                self.rearm_expiry();
                if matches!(*self.state.borrow(), LinkState::Idle) {
                    Flow::Continue
                } else {
                    Flow::Redial
                }
            }
            Op::Shutdown => Flow::Stop,
        }
    }

    async fn resync(&mut self, session: Option<&mut Session>) -> Flow {
        match session {
            Some(s) => match self.sync_telemetry(s).await {
                Ok(()) => Flow::Continue,
                Err(reason) => Flow::Lost(reason),
            },
            None => Flow::Continue,
        }
    }

    /// Refuses a command the catalog says the endpoint cannot take (level 1; a level-0
    /// server has no catalog and decides alone).
    fn check_command(&self, draft: &crate::command_book::CommandDraft) -> Result<(), LinkError> {
        if self.model.catalog.is_empty() {
            return Ok(());
        }
        let endpoint = self
            .model
            .endpoint(&draft.endpoint_id)
            .ok_or_else(|| LinkError::UnknownEndpoint(draft.endpoint_id.clone()))?;
        if !endpoint.writable || !endpoint.actions.contains(&draft.action) {
            return Err(LinkError::NotAllowed {
                endpoint: draft.endpoint_id.clone(),
                action: draft.action.as_str().to_owned(),
            });
        }
        Ok(())
    }

    /// A request goes out now on a ready session, waits for the session to be ready when
    /// it is syncing, and fails at once otherwise.
    async fn request(
        &mut self,
        session: Option<&mut Session>,
        request: Request,
        waiter: Waiter,
    ) -> Flow {
        let feature = request.feature();
        // A server that does not serve shelving (as it last said): this desk keeps it, on
        // line or not.
        if !self.model.features.iter().any(|f| f == feature) {
            if let Request::Shelve { .. } | Request::Unshelve { .. } = request {
                match self.shelve_locally(request) {
                    Some(Ok(())) => waiter.answer(crate::requests::Answer::Done),
                    Some(Err(e)) => waiter.fail(e),
                    None => waiter.fail(LinkError::Unsupported(feature)),
                }
                return Flow::Continue;
            }
        }
        let Some(s) = session else {
            waiter.fail(LinkError::NotConnected);
            return Flow::Continue;
        };
        if !s.features.iter().any(|f| f == feature) {
            waiter.fail(LinkError::Unsupported(feature));
            return Flow::Continue;
        }
        // Callers that gave up leave their entry until the session ends: count only those
        // still waiting.
        self.queries.retain(|_, w| !w.is_closed());
        self.parked_queries.retain(|(_, w)| !w.is_closed());
        let waiting = self
            .queries
            .values()
            .chain(self.parked_queries.iter().map(|(_, w)| w));
        if let Err(e) = waiter.room(waiting) {
            waiter.fail(e);
            return Flow::Continue;
        }
        if !s.ready {
            // Connected but still syncing (a caller that saw `Connected` asks at once): it
            // goes out when the session is ready, or fails if it ends first.
            self.parked_queries.push((request, waiter));
            return Flow::Continue;
        }
        match self.send_request(s, request, waiter).await {
            Ok(()) => Flow::Continue,
            Err(reason) => Flow::Lost(reason),
        }
    }

    /// Shelving for a server that does not serve it: kept by this desk (`None` for any other
    /// request).
    fn shelve_locally(&mut self, request: Request) -> Option<Result<(), LinkError>> {
        let refused = |message: String| LinkError::Refused {
            code: "bad_request".to_owned(),
            message,
        };
        let (id, shelved) = match request {
            Request::Shelve {
                alarm_id,
                minutes,
                reason,
            } => {
                if let Err(why) = crate::local_shelf::check(minutes, &reason) {
                    return Some(Err(refused(why)));
                }
                if !self.model.has_alarm(&alarm_id) {
                    return Some(Err(LinkError::UnknownAlarm(alarm_id)));
                }
                let shelved = self.model.local_shelf.shelve(
                    alarm_id.clone(),
                    minutes,
                    reason,
                    Instant::now(),
                );
                (alarm_id, Some(shelved))
            }
            Request::Unshelve { alarm_id } => {
                self.model.local_shelf.unshelve(&alarm_id);
                (alarm_id, None)
            }
            _ => return None,
        };
        tracing::info!(alarm_id = %id, shelved = shelved.is_some(), "shelving kept by this desk");
        if let Some(event) = self.model.set_local_shelved(&id, shelved) {
            self.emit(event);
        }
        self.rearm_expiry();
        Some(Ok(()))
    }

    /// Sends one request under a fresh `requestId`, and remembers who waits for it.
    pub(super) async fn send_request(
        &mut self,
        s: &mut Session,
        request: Request,
        waiter: Waiter,
    ) -> Result<(), String> {
        self.next_query += 1;
        let request_id = format!("r-{}", self.next_query);
        match s.send(&request.message(request_id.clone())).await {
            Ok(()) => {
                self.queries.insert(request_id, waiter);
                Ok(())
            }
            Err(reason) => {
                waiter.fail(LinkError::NotConnected);
                Err(reason)
            }
        }
    }
}
