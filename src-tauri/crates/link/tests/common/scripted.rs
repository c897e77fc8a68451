//! Small scripted servers that misbehave in one precise way each.
#![allow(dead_code, clippy::unwrap_used)]

use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// A server's address and how many upgrade attempts reached it.
pub struct Scripted {
    pub url: String,
    pub addr: std::net::SocketAddr,
    attempts: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Scripted {
    pub fn attempts(&self) -> usize {
        *self.attempts.borrow()
    }

    pub async fn wait_attempts(&self, n: usize) {
        let mut rx = self.attempts.clone();
        tokio::time::timeout(super::WAIT, rx.wait_for(|a| *a >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} attempts expected, saw {}", self.attempts()))
            .unwrap();
    }

    /// No further attempt within `window`. (Asserting an absence needs a bounded wait.)
    pub async fn no_attempt_within(&self, window: std::time::Duration) -> bool {
        let mut rx = self.attempts.clone();
        let now = *rx.borrow();
        let waited = tokio::time::timeout(window, rx.wait_for(|a| *a > now)).await;
        waited.is_err()
    }
}

/// What a connection attempt gets.
pub enum Answer {
    /// An HTTP status instead of the upgrade, with optional `Retry-After` seconds.
    Status(u16, Option<u64>),
    /// The upgrade, then the script.
    Upgrade,
}

/// A server that answers attempt `n` (0-based) with `decide(n)` and, when upgraded, runs
/// `script(n, ws)`.
pub async fn serve<D, S, F>(decide: D, script: S) -> Scripted
where
    D: Fn(usize) -> Answer + Send + Sync + 'static,
    S: Fn(usize, Ws) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (count, attempts) = watch::channel(0usize);
    let script = Arc::new(script);
    let decide = Arc::new(decide);
    let task = tokio::spawn(async move {
        let n = AtomicUsize::new(0);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let i = n.fetch_add(1, Ordering::SeqCst);
            count.send_replace(i + 1);
            let script = script.clone();
            let decide = decide.clone();
            tokio::spawn(async move {
                match decide(i) {
                    Answer::Status(code, retry_after) => {
                        refuse(stream, code, retry_after).await;
                    }
                    Answer::Upgrade => {
                        if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                            script(i, ws).await;
                        }
                    }
                }
            });
        }
    });
    Scripted {
        url: format!("ws://{addr}/ws"),
        addr,
        attempts,
        task,
    }
}

/// The first attempt gets `code` (with `Retry-After` seconds when given); later ones upgrade.
pub fn refuse_first(code: u16, retry_after: Option<u64>) -> impl Fn(usize) -> Answer {
    move |n| {
        if n == 0 {
            Answer::Status(code, retry_after)
        } else {
            Answer::Upgrade
        }
    }
}

/// A level-0 server that says `connected`, then only reads.
pub async fn idle_level0(_: usize, mut ws: Ws) {
    say(&mut ws, connected_level0()).await;
    read_all(&mut ws, usize::MAX).await;
}

async fn refuse(mut stream: TcpStream, code: u16, retry_after: Option<u64>) {
    read_head(&mut stream).await;
    let extra = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    let response =
        format!("HTTP/1.1 {code} Refused\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads an HTTP request head, byte by byte so nothing after it is consumed.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Sends a text frame, ignoring a peer that has gone.
pub async fn say(ws: &mut Ws, text: impl Into<String>) {
    let _ = ws.send(Message::text(text.into())).await;
}

pub fn connected_level0() -> String {
    r#"{"type":"connected","clientId":"legacy-1"}"#.to_owned()
}

pub fn telemetry(id: u64, value: f64) -> String {
    serde_json::json!({"type":"telemetry","endpointId":id,"value":value,"timestamp":"2026-11-23T06:00:00"})
        .to_string()
}

/// Reads client text messages until one matches, answering nothing; `None` if it hung up.
pub async fn read_until(
    ws: &mut Ws,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            if pred(&v) {
                return Some(v);
            }
        }
    }
    None
}

/// Client text messages up to and including the first that matches.
pub async fn read_through(
    ws: &mut Ws,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            let done = pred(&v);
            out.push(v);
            if done {
                break;
            }
        }
    }
    out
}

/// Every text message the client sends until it hangs up (or `limit` arrive).
pub async fn read_all(ws: &mut Ws, limit: usize) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while out.len() < limit {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => out.push(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    out
}

/// Reads the body of an HTTP request whose head was read.
pub async fn read_body(stream: &mut TcpStream, head: &str) -> Vec<u8> {
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = stream.read_exact(&mut body).await;
    body
}

/// A level-1 server's greeting.
pub fn connected_level1() -> String {
    r#"{"type":"connected","clientId":"l1","protocols":["brewdeck.v1"],"plant":"Scripted brewery"}"#
        .to_owned()
}

/// A level-1 alarm: id and `seq` both `seq`.
pub fn alarm(seq: u64) -> String {
    serde_json::json!({"type":"alarm","alarmId":seq,"severity":"critical","message":format!("HLT over temperature ({seq})"),"timestamp":"2026-11-23T06:00:00Z","state":"active","acked":false,"seq":seq})
        .to_string()
}

/// A level-1 snapshot with no catalog, the given active alarms, taken at `seq`.
pub fn snapshot(alarms: &[u64], seq: u64) -> String {
    let alarms: Vec<serde_json::Value> = alarms
        .iter()
        .map(|s| serde_json::from_str(&alarm(*s)).unwrap())
        .collect();
    serde_json::json!({"type":"snapshot","catalog":[],"values":[],"alarms":alarms,"commands":[],"seq":seq})
        .to_string()
}

pub fn resumed(from_seq: u64, to_seq: u64) -> String {
    serde_json::json!({"type":"resumed","fromSeq":from_seq,"toSeq":to_seq,"complete":true})
        .to_string()
}

/// WebSocket opcodes (RFC 6455 §5.2).
pub mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
}

/// One server frame written byte by byte (RFC 6455 §5.2), so a test can send what no
/// WebSocket library produces: text that is not UTF-8, a masked server frame, reserved bits,
/// a length that lies.
#[derive(Debug, Clone)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv1: bool,
    pub opcode: u8,
    /// Servers must not mask; `Some` breaks that rule.
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
    /// The length the header claims, when it is not the payload's.
    pub claimed_len: Option<u64>,
}

impl RawFrame {
    /// A final, unmasked frame.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Self {
        RawFrame {
            fin: true,
            rsv1: false,
            opcode,
            mask: None,
            payload: payload.into(),
            claimed_len: None,
        }
    }

    pub fn text(payload: impl Into<Vec<u8>>) -> Self {
        RawFrame::new(opcode::TEXT, payload)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 14);
        out.push(u8::from(self.fin) << 7 | u8::from(self.rsv1) << 6 | (self.opcode & 0x0f));
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.claimed_len.unwrap_or(self.payload.len() as u64);
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= u64::from(u16::MAX) {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }
}

/// Writes raw bytes on the socket under an open WebSocket (between whole frames: everything
/// the library sent before is flushed by then).
pub async fn write_raw(ws: &mut Ws, bytes: &[u8]) {
    let tcp = ws.get_mut();
    let _ = tcp.write_all(bytes).await;
    let _ = tcp.flush().await;
}
