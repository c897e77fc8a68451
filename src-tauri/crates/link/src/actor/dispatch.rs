//! How the actor serves each operation, connected or not.

use super::{Actor, Flow};
use crate::error::LinkError;
use crate::events::{Delivery, LinkEvent};
use crate::history::MAX_HISTORY_IN_FLIGHT;
use crate::ops::Op;
use crate::session::Session;
use crate::state::{LinkState, ProtocolLevel};
use brewdeck_protocol::{AlarmAck, ClientMessage, HistoryQuery, FEATURE_HISTORY};
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
            Op::Acknowledge(alarm_id, reply) => {
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
            Op::History(request, reply) => {
                let Some(s) = session else {
                    let _ = reply.send(Err(LinkError::NotConnected));
                    return Flow::Continue;
                };
                if !s.features.iter().any(|f| f == FEATURE_HISTORY) {
                    let _ = reply.send(Err(LinkError::Unsupported("history")));
                    return Flow::Continue;
                }
                // Callers that gave up leave their entry until the session ends: count only
                // those still waiting.
                self.queries.retain(|_, r| !r.is_closed());
                self.parked_queries.retain(|(_, r)| !r.is_closed());
                if self.queries.len() + self.parked_queries.len() >= MAX_HISTORY_IN_FLIGHT {
                    let _ = reply.send(Err(LinkError::Busy));
                    return Flow::Continue;
                }
                if !s.ready {
                    // Connected but still syncing (a caller that saw `Connected` asks at
                    // once): it goes out when the session is ready, or fails if it ends.
                    self.parked_queries.push((request, reply));
                    return Flow::Continue;
                }
                match self.send_history(s, request, reply).await {
                    Ok(()) => Flow::Continue,
                    Err(reason) => Flow::Lost(reason),
                }
            }
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

    /// Sends one `history_query` under a fresh `requestId`, and remembers who waits for it.
    pub(super) async fn send_history(
        &mut self,
        s: &mut Session,
        request: crate::history::HistoryRequest,
        reply: crate::ops::Reply<Result<brewdeck_protocol::History, LinkError>>,
    ) -> Result<(), String> {
        self.next_query += 1;
        let request_id = format!("h-{}", self.next_query);
        let query = ClientMessage::HistoryQuery(HistoryQuery {
            request_id: request_id.clone(),
            endpoint_ids: request.endpoint_ids,
            from: request.from,
            to: request.to,
            max_points: request.max_points,
        });
        match s.send(&query).await {
            Ok(()) => {
                self.queries.insert(request_id, reply);
                Ok(())
            }
            Err(reason) => {
                let _ = reply.send(Err(LinkError::NotConnected));
                Err(reason)
            }
        }
    }
}
