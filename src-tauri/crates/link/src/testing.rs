//! In-memory sockets and a scripted dialer for the actor's paused-time unit tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::config::{LinkConfig, ServerUrl};
use crate::events::LinkEvent;
use crate::handle::Link;
use crate::state::LinkState;
use crate::token_store::MemoryTokenStore;
use crate::transport::{BoxSocket, DialError, Dialer};
use brewdeck_protocol::{
    decode_client, encode, ClientMessage, Connected, ServerMessage, Snapshot, Token, PROTOCOL_V1,
};
use futures_util::future::BoxFuture;
use futures_util::{Sink, Stream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The link's end of an in-memory socket.
struct MemorySocket {
    rx: mpsc::UnboundedReceiver<Result<Message, WsError>>,
    tx: mpsc::UnboundedSender<Message>,
}

impl Stream for MemorySocket {
    type Item = Result<Message, WsError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Sink<Message> for MemorySocket {
    type Error = WsError;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        self.tx.send(item).map_err(|_| WsError::ConnectionClosed)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }
}

/// The server's end of an in-memory socket.
pub struct Peer {
    to_link: mpsc::UnboundedSender<Result<Message, WsError>>,
    from_link: mpsc::UnboundedReceiver<Message>,
}

impl Peer {
    pub fn pair() -> (Peer, BoxSocket) {
        let (to_link, rx) = mpsc::unbounded_channel();
        let (tx, from_link) = mpsc::unbounded_channel();
        (
            Peer { to_link, from_link },
            Box::new(MemorySocket { rx, tx }),
        )
    }

    pub fn send(&self, message: &ServerMessage) {
        self.send_text(&encode(message).unwrap());
    }

    pub fn send_json(&self, value: serde_json::Value) {
        self.send_text(&value.to_string());
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.to_link.send(Ok(Message::text(text)));
    }

    pub fn send_raw(&self, item: Result<Message, WsError>) {
        let _ = self.to_link.send(item);
    }

    /// The next client message, skipping pings; `None` when the link closed its end.
    pub async fn next_message(&mut self) -> Option<ClientMessage> {
        loop {
            match self.from_link.recv().await? {
                Message::Text(t) => return Some(decode_client(t.as_str()).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next frame of any kind.
    pub async fn next_frame(&mut self) -> Option<Message> {
        self.from_link.recv().await
    }

    /// Hangs up: the link reads the end of its stream.
    pub fn hang_up(self) {}
}

/// One dial the link made: when, and where to answer it.
pub struct DialRequest {
    pub at: Instant,
    pub token: Token,
    reply: oneshot::Sender<Result<BoxSocket, DialError>>,
}

impl DialRequest {
    pub fn fail(self, error: DialError) {
        let _ = self.reply.send(Err(error));
    }

    /// Accepts the dial and returns the server's end.
    pub fn accept(self) -> Peer {
        let (peer, socket) = Peer::pair();
        let _ = self.reply.send(Ok(socket));
        peer
    }
}

pub struct ScriptedDialer {
    requests: mpsc::UnboundedSender<DialRequest>,
}

impl Dialer for ScriptedDialer {
    fn dial(
        &self,
        _server: ServerUrl,
        token: Token,
        _tls: Arc<rustls::ClientConfig>,
    ) -> BoxFuture<'static, Result<BoxSocket, DialError>> {
        let (reply, answer) = oneshot::channel();
        let _ = self.requests.send(DialRequest {
            at: Instant::now(),
            token,
            reply,
        });
        Box::pin(async move {
            answer
                .await
                .unwrap_or_else(|_| Err(DialError::Transient("test dropped the dial".into())))
        })
    }
}

pub struct Harness {
    pub link: Link,
    pub dials: mpsc::UnboundedReceiver<DialRequest>,
    pub state: watch::Receiver<LinkState>,
    pub events: broadcast::Receiver<LinkEvent>,
    pub store: Arc<MemoryTokenStore>,
}

pub fn config() -> LinkConfig {
    LinkConfig::new(ServerUrl::parse("ws://127.0.0.1:9/ws", false).unwrap())
}

/// A link over the scripted dialer, with jitter fixed at `fraction` (1.0: every delay at its
/// ceiling).
pub fn harness(config: LinkConfig, fraction: f64) -> Harness {
    let (requests, dials) = mpsc::unbounded_channel();
    let store = Arc::new(MemoryTokenStore::new(Token::new("test-token")));
    let tls = crate::transport::tls::client_config(None).unwrap();
    let link = Link::spawn_with(
        config,
        store.clone(),
        Arc::new(ScriptedDialer { requests }),
        tls,
        Box::new(move || fraction),
    );
    let state = link.watch_state();
    let events = link.events();
    Harness {
        link,
        dials,
        state,
        events,
        store,
    }
}

impl Harness {
    pub async fn dial(&mut self) -> DialRequest {
        tokio::time::timeout(Duration::from_secs(3600), self.dials.recv())
            .await
            .expect("a dial within an hour")
            .expect("the link is alive")
    }

    pub async fn wait_state(&mut self, pred: impl Fn(&LinkState) -> bool) -> LinkState {
        tokio::time::timeout(Duration::from_secs(3600), self.state.wait_for(|s| pred(s)))
            .await
            .expect("state within an hour")
            .expect("state channel open")
            .clone()
    }

    pub async fn event(&mut self, pred: impl Fn(&LinkEvent) -> bool) -> LinkEvent {
        tokio::time::timeout(Duration::from_secs(3600), async {
            loop {
                match self.events.recv().await {
                    Ok(e) if pred(&e) => return e,
                    Ok(_) => continue,
                    Err(e) => panic!("events: {e}"),
                }
            }
        })
        .await
        .expect("event within an hour")
    }
}

/// A server's `connected` greeting, offering level 1 when `level1`.
pub fn connected(level1: bool) -> ServerMessage {
    ServerMessage::Connected(Connected {
        client_id: "c1".into(),
        protocols: level1.then(|| vec![PROTOCOL_V1.to_owned()]),
        server_time: None,
        plant: Some("Test brewery".into()),
        last_seq: None,
        features: None,
        operator: None,
    })
}

/// An empty snapshot at `seq`.
pub fn snapshot(seq: u64) -> ServerMessage {
    ServerMessage::Snapshot(Snapshot {
        catalog: vec![],
        values: vec![],
        alarms: vec![],
        commands: vec![],
        seq,
        plant: None,
    })
}
