//! [`Link`]: the cloneable handle to the link's actor.

use crate::actor::Actor;
use crate::command_book::{CommandDraft, CommandView};
use crate::config::{LinkConfig, ServerUrl};
use crate::error::LinkError;
use crate::events::LinkEvent;
use crate::history::HistoryRequest;
use crate::model::PlantSnapshot;
use crate::ops::Op;
use crate::requests::{Request, Waiter};
use crate::state::LinkState;
use crate::token_store::{TokenStore, TokenStoreError};
use crate::transport::tls::{self, Destination};
use crate::transport::ws::WsDialer;
use crate::transport::Dialer;
use brewdeck_protocol::{AlarmId, EndpointId, History, Journal, JournalQuery, Token};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Operations waiting for the actor; a full queue makes callers wait, never drops.
const OPS_CAPACITY: usize = 256;

/// The plant link. Clone it freely; the connection lives as long as a handle does (or until
/// [`Link::shutdown`]).
#[derive(Debug, Clone)]
pub struct Link {
    ops: mpsc::Sender<Op>,
    state: watch::Receiver<LinkState>,
    // Weak, so a handle does not keep the channel open after the actor has ended.
    events: broadcast::WeakSender<LinkEvent>,
}

/// A handle that does not keep the link alive (for tasks that follow it, like the app's bridge).
#[derive(Debug, Clone)]
pub struct WeakLink {
    ops: mpsc::WeakSender<Op>,
    state: watch::Receiver<LinkState>,
    events: broadcast::WeakSender<LinkEvent>,
}

impl WeakLink {
    /// The link, while any strong handle still holds it.
    pub fn upgrade(&self) -> Option<Link> {
        Some(Link {
            ops: self.ops.upgrade()?,
            state: self.state.clone(),
            events: self.events.clone(),
        })
    }
}

impl Link {
    pub fn downgrade(&self) -> WeakLink {
        WeakLink {
            ops: self.ops.downgrade(),
            state: self.state.clone(),
            events: self.events.clone(),
        }
    }

    /// Starts a link on the current tokio runtime.
    pub fn spawn(config: LinkConfig, store: Arc<dyn TokenStore>) -> Result<Link, LinkError> {
        let tls = tls::client_config(config.site_ca.as_deref())?;
        let dialer = Arc::new(WsDialer {
            max_message_bytes: config.max_message_bytes,
            connect_timeout: config.timings.connect_timeout,
        });
        Ok(Self::spawn_with(
            config,
            store,
            dialer,
            tls,
            Box::new(fastrand::f64),
        ))
    }

    pub(crate) fn spawn_with(
        config: LinkConfig,
        store: Arc<dyn TokenStore>,
        dialer: Arc<dyn Dialer>,
        tls: Arc<rustls::ClientConfig>,
        random: Box<dyn FnMut() -> f64 + Send>,
    ) -> Link {
        let (ops_tx, ops) = mpsc::channel(OPS_CAPACITY);
        let (state_tx, state) = watch::channel(LinkState::Idle);
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        let weak = events.downgrade();
        let actor = Actor::new(config, store, dialer, tls, random, ops, state_tx, events);
        tokio::spawn(actor.run());
        Link {
            ops: ops_tx,
            state,
            events: weak,
        }
    }

    #[cfg(test)]
    pub(crate) fn ops_for_tests(&self) -> &mpsc::Sender<Op> {
        &self.ops
    }

    /// The connection state now.
    pub fn state(&self) -> LinkState {
        self.state.borrow().clone()
    }

    /// Follows the connection state.
    pub fn watch_state(&self) -> watch::Receiver<LinkState> {
        self.state.clone()
    }

    /// Follows plant events from now on. Take a [`Link::snapshot`] after subscribing, and
    /// again whenever the receiver reports it lagged.
    pub fn events(&self) -> broadcast::Receiver<LinkEvent> {
        match self.events.upgrade() {
            Some(sender) => sender.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    async fn ask<T>(&self, op: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, LinkError> {
        let (tx, rx) = oneshot::channel();
        self.ops
            .send(op(tx))
            .await
            .map_err(|_| LinkError::Stopped)?;
        rx.await.map_err(|_| LinkError::Stopped)
    }

    async fn tell(&self, op: Op) -> Result<(), LinkError> {
        self.ops.send(op).await.map_err(|_| LinkError::Stopped)
    }

    /// The whole plant model and the link's state, at one instant.
    pub async fn snapshot(&self) -> Result<PlantSnapshot, LinkError> {
        self.ask(Op::Snapshot).await
    }

    /// Follows these endpoints' readings (kept across reconnects).
    pub async fn subscribe(&self, endpoints: Vec<EndpointId>) -> Result<(), LinkError> {
        self.ask(|r| Op::Subscribe(endpoints, r)).await
    }

    pub async fn unsubscribe(&self, endpoints: Vec<EndpointId>) -> Result<(), LinkError> {
        self.ask(|r| Op::Unsubscribe(endpoints, r)).await
    }

    /// Follows every endpoint of the catalog of a level-1 server, whatever it lists.
    pub async fn follow_catalog(&self, on: bool) -> Result<(), LinkError> {
        self.ask(|r| Op::FollowCatalog(on, r)).await
    }

    /// Issues a command. It is sent at once when connected, or waits in the outbox until
    /// its expiry; its progress arrives as [`LinkEvent::Command`].
    pub async fn send_command(&self, draft: CommandDraft) -> Result<CommandView, LinkError> {
        self.ask(|r| Op::SendCommand(draft, r)).await?
    }

    /// Acknowledges an alarm (level 1), with a note when the server serves `shelving`.
    /// Against such a server the answer is the server's (`done`, or its refusal: a viewer's
    /// acknowledgement is `forbidden`); against another, it is sent and taken as done.
    pub async fn acknowledge(&self, alarm: AlarmId, note: Option<String>) -> Result<(), LinkError> {
        self.ask(|r| Op::Acknowledge(alarm, note, r)).await?
    }

    /// Shelves an alarm for `minutes`, for `reason` (feature `shelving`).
    pub async fn shelve(
        &self,
        alarm_id: AlarmId,
        minutes: u32,
        reason: String,
    ) -> Result<(), LinkError> {
        let request = Request::Shelve {
            alarm_id,
            minutes,
            reason,
        };
        self.ask(|r| Op::Request(request, Waiter::Done(r))).await?
    }

    /// Brings a shelved alarm back before its time (feature `shelving`).
    pub async fn unshelve(&self, alarm_id: AlarmId) -> Result<(), LinkError> {
        let request = Request::Unshelve { alarm_id };
        self.ask(|r| Op::Request(request, Waiter::Done(r))).await?
    }

    /// Writes a note for the shift's log, about these endpoints (feature `notes`). It comes
    /// back to every desk, this one included, as [`LinkEvent::Note`].
    pub async fn note(&self, text: String, endpoint_ids: Vec<EndpointId>) -> Result<(), LinkError> {
        let request = Request::Note { text, endpoint_ids };
        self.ask(|r| Op::Request(request, Waiter::Done(r))).await?
    }

    /// Pages through the server's journal (feature `journal`); the query's `requestId` is
    /// the link's own.
    pub async fn journal(&self, query: JournalQuery) -> Result<Journal, LinkError> {
        self.ask(|r| Op::Request(Request::Journal(query), Waiter::Journal(r)))
            .await?
    }

    /// Asks the server for readings of the past (a level-1 server that lists `history`).
    /// Fails at once when not connected or not served; when the connection drops before
    /// the answer, with [`LinkError::NotConnected`]. Callers bound the wait themselves.
    pub async fn history(&self, request: HistoryRequest) -> Result<History, LinkError> {
        self.ask(|r| Op::Request(Request::History(request), Waiter::History(r)))
            .await?
    }

    /// Skips the wait before the next attempt (also after `unauthorized` or `failed`).
    pub async fn retry_now(&self) -> Result<(), LinkError> {
        self.tell(Op::RetryNow).await
    }

    pub async fn connect(&self) -> Result<(), LinkError> {
        self.tell(Op::Connect).await
    }

    /// Closes the connection and stays idle until [`Link::connect`].
    pub async fn disconnect(&self) -> Result<(), LinkError> {
        self.tell(Op::Disconnect).await
    }

    /// Stores `server`'s new token (or forgets it with `None`) and, if the link is on that
    /// server, reconnects with it.
    pub async fn set_token(
        &self,
        store: Arc<dyn TokenStore>,
        server: ServerUrl,
        token: Option<Token>,
    ) -> Result<(), LinkError> {
        let for_server = server.clone();
        tokio::task::spawn_blocking(move || match &token {
            Some(t) => store.save(&for_server, t),
            None => store.clear(&for_server),
        })
        .await
        .map_err(|_| {
            LinkError::TokenStore(TokenStoreError::Unavailable(
                "the token store failed".to_owned(),
            ))
        })?
        .map_err(LinkError::TokenStore)?;
        self.tell(Op::TokenChanged(server)).await
    }

    /// Points the link at another server (its commands in flight are abandoned, its model
    /// cleared) and connects there. Everything that could be wrong with the destination was
    /// checked when it was made: this fails only when the link has stopped.
    pub async fn set_server(&self, destination: Destination) -> Result<(), LinkError> {
        self.tell(Op::SetServer(destination)).await
    }

    /// Stops the link and waits until its task has ended.
    pub async fn shutdown(&self) {
        let _ = self.ops.send(Op::Shutdown).await;
        let mut state = self.state.clone();
        let _ = state.wait_for(|s| *s == LinkState::Stopped).await;
    }
}
