//! Test helpers: a real plant server on loopback, a real WebSocket client, a tiny HTTP client.
#![allow(dead_code, clippy::unwrap_used)]

use brewdeck_plant::{start, PlantConfig, RunningPlant};
use brewdeck_protocol::{
    decode_server, encode, ClientMessage, Endpoint, Hello, ServerMessage, Snapshot, Token,
    PROTOCOL_V1,
};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TOKEN: &str = "test-token-3f9c";
/// Every wait in these tests is on an event, bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn config() -> PlantConfig {
    let mut c = PlantConfig::new("127.0.0.1:0".parse().unwrap(), Token::new(TOKEN).unwrap());
    c.admin = true;
    c.seq_start = Some(0);
    c.tick = Duration::from_millis(20);
    c
}

pub async fn plant() -> RunningPlant {
    start(config()).await.unwrap()
}

pub async fn plant_with(f: impl FnOnce(&mut PlantConfig)) -> RunningPlant {
    let mut c = config();
    f(&mut c);
    start(c).await.unwrap()
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub async fn try_connect(
    url: &str,
    token: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(Client { ws })
}

/// Connects with this exact `Authorization` header value.
pub async fn try_connect_authorized(
    url: &str,
    authorization: &str,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", authorization.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(Client { ws })
}

impl Client {
    pub async fn connect(plant: &RunningPlant) -> Client {
        try_connect(&plant.ws_url(), Some(TOKEN)).await.unwrap()
    }

    /// Connected, `hello`, and the snapshot.
    pub async fn level1(plant: &RunningPlant) -> (Client, Snapshot) {
        let mut c = Client::connect(plant).await;
        c.expect_connected().await;
        c.hello(None).await;
        let snapshot = c.expect_snapshot().await;
        (c, snapshot)
    }

    /// `hello`, resuming after `last_seq` when given.
    pub async fn hello(&mut self, last_seq: Option<u64>) {
        self.send(&ClientMessage::Hello(Hello {
            protocol: PROTOCOL_V1.into(),
            last_seq,
        }))
        .await;
    }

    pub async fn send(&mut self, m: &ClientMessage) {
        self.ws
            .send(Message::text(encode(m).unwrap()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.unwrap();
    }

    /// The next frame of any kind, or `None` when the socket ended.
    pub async fn frame(&mut self) -> Option<Message> {
        match tokio::time::timeout(WAIT, self.ws.next()).await {
            Ok(Some(Ok(m))) => Some(m),
            Ok(Some(Err(e))) => {
                eprintln!("socket error: {e}");
                None
            }
            Ok(None) => None,
            Err(_) => panic!("no frame within {WAIT:?}"),
        }
    }

    /// The next protocol message (skipping pings/pongs).
    pub async fn next(&mut self) -> ServerMessage {
        loop {
            match self.frame().await {
                Some(Message::Text(t)) => return decode_server(t.as_str()).unwrap(),
                Some(Message::Close(f)) => panic!("closed: {f:?}"),
                Some(_) => continue,
                None => panic!("socket ended"),
            }
        }
    }

    /// Skips messages until one matches.
    pub async fn until<T>(&mut self, mut f: impl FnMut(ServerMessage) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no matching message within {WAIT:?}"
            );
            if let Some(t) = f(self.next().await) {
                return t;
            }
        }
    }

    pub async fn expect_connected(&mut self) -> brewdeck_protocol::Connected {
        match self.next().await {
            ServerMessage::Connected(c) => c,
            other => panic!("expected connected, got {other:?}"),
        }
    }

    pub async fn expect_snapshot(&mut self) -> Snapshot {
        self.until(|m| match m {
            ServerMessage::Snapshot(s) => Some(s),
            _ => None,
        })
        .await
    }

    /// The close frame's code, skipping anything before it.
    pub async fn expect_close(&mut self) -> Option<CloseCode> {
        loop {
            match self.frame().await {
                Some(Message::Close(f)) => {
                    // Reading on sends our queued Close reply and sees the end of the stream.
                    let _ = tokio::time::timeout(WAIT, async {
                        while self.ws.next().await.is_some() {}
                    })
                    .await;
                    return f.map(|f| f.code);
                }
                Some(_) => continue,
                None => return None,
            }
        }
    }
}

/// A minimal HTTP/1.1 request: (status, body). Addressed to the plant's own address, as any
/// local tool would.
pub async fn http(
    plant: &RunningPlant,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, String) {
    let host = plant.local_addr().to_string();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Host", host.as_str())];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    http_with(plant.local_addr(), method, path, &headers, body).await
}

/// An HTTP/1.1 request with exactly these headers (and `Connection`, `Content-Type`,
/// `Content-Length`): (status, body).
pub async fn http_with(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub async fn admin_json(
    plant: &RunningPlant,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> serde_json::Value {
    let (status, body) = http(plant, method, path, body, None).await;
    assert!(status < 300, "{method} {path}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

/// Raises an alarm through the admin API (`body`: its JSON); returns its id.
pub async fn raise_alarm(plant: &RunningPlant, body: &str) -> u64 {
    admin_json(plant, "POST", "/admin/alarm", Some(body)).await["alarmId"]
        .as_u64()
        .unwrap()
}

pub fn find<'a>(snapshot: &'a Snapshot, name: &str) -> &'a Endpoint {
    snapshot
        .catalog
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no endpoint named {name:?} in {:?}",
                snapshot.catalog.iter().map(|e| &e.name).collect::<Vec<_>>()
            )
        })
}

/// The first transfer line's pump and valve, as the simulator names them.
pub const XFER1_PUMP: &str = "HLT → mash tun pump";
pub const XFER1_VALVE: &str = "HLT → mash tun valve";

/// The first line a started `brewdeck-plant` prints (its address), or `None` when it exited
/// first; and its stdout, to keep open while it runs.
pub async fn first_line(
    child: &mut tokio::process::Child,
) -> (
    Option<String>,
    tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, stdout.next_line())
        .await
        .unwrap()
        .unwrap();
    (line, stdout)
}

// ----- operators -----

/// The hex SHA-256 of a token, as an operators file names it.
pub fn sha256_hex(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each operator's token in [`OPERATORS`].
pub const ANA: &str = "ana-token-51c2";
pub const BEN: &str = "ben-token-8d0e";
pub const SUE: &str = "sue-token-2b77";
pub const VIC: &str = "vic-token-94fa";

/// Two operators, a supervisor and a viewer.
pub fn operators_text() -> String {
    format!(
        "# name  role        secret\n\
         ana     operator    sha256:{}\n\
         ben     operator    sha256:{}\n\
         sue     supervisor  sha256:{}   # the shift lead\n\
         vic     viewer      sha256:{}\n",
        sha256_hex(ANA),
        sha256_hex(BEN),
        sha256_hex(SUE),
        sha256_hex(VIC),
    )
}

/// An operators file with `text`, in a folder removed when the guard goes.
pub fn operators_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("operators");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A plant whose operators are [`operators_text`]; keep the guard while it runs.
pub async fn plant_of_operators(
    f: impl FnOnce(&mut PlantConfig),
) -> (RunningPlant, tempfile::TempDir) {
    let (dir, path) = operators_file(&operators_text());
    let plant = plant_with(|c| {
        c.access = brewdeck_plant::Access::OperatorsFile(path);
        f(c);
    })
    .await;
    (plant, dir)
}

impl Client {
    /// Connected with `token`, `hello`, and the snapshot.
    pub async fn level1_as(plant: &RunningPlant, token: &str) -> (Client, Snapshot) {
        let mut c = try_connect(&plant.ws_url(), Some(token)).await.unwrap();
        c.expect_connected().await;
        c.hello(None).await;
        let snapshot = c.expect_snapshot().await;
        (c, snapshot)
    }

    /// The `error` refusing the request `id`, skipping anything before it.
    pub async fn refusal(&mut self, id: &str) -> brewdeck_protocol::ServerError {
        self.until(|m| match m {
            ServerMessage::Error(e) if e.request_id.as_deref() == Some(id) => Some(e),
            ServerMessage::Done(d) if d.request_id == id => panic!("{id} was carried out"),
            _ => None,
        })
        .await
    }

    /// The `done` of the request `id`, skipping anything before it.
    pub async fn done(&mut self, id: &str) {
        self.until(|m| match m {
            ServerMessage::Done(d) if d.request_id == id => Some(()),
            ServerMessage::Error(e) if e.request_id.as_deref() == Some(id) => {
                panic!("{id} was refused: {e:?}")
            }
            _ => None,
        })
        .await
    }

    /// The next `alarm` about `id` that `f` accepts.
    pub async fn alarm(
        &mut self,
        id: u64,
        mut f: impl FnMut(&brewdeck_protocol::Alarm) -> bool,
    ) -> brewdeck_protocol::Alarm {
        let id = brewdeck_protocol::AlarmId::from(id);
        self.until(|m| match m {
            ServerMessage::Alarm(a) if a.alarm_id == id && f(&a) => Some(a),
            _ => None,
        })
        .await
    }

    /// Asks the journal and waits for the answer (or panics on a refusal).
    pub async fn journal(
        &mut self,
        query: brewdeck_protocol::JournalQuery,
    ) -> brewdeck_protocol::Journal {
        let id = query.request_id.clone();
        self.send(&ClientMessage::JournalQuery(query)).await;
        self.until(|m| match m {
            ServerMessage::Journal(j) if j.request_id == id => Some(j),
            ServerMessage::Error(e) if e.request_id.as_deref() == Some(id.as_str()) => {
                panic!("{id} was refused: {e:?}")
            }
            _ => None,
        })
        .await
    }
}

/// A journal query with only its id.
pub fn journal_query(id: &str) -> brewdeck_protocol::JournalQuery {
    brewdeck_protocol::JournalQuery {
        request_id: id.into(),
        ..Default::default()
    }
}
