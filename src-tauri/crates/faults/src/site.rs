//! A plant site for soaks and benches: a real `brewdeck-plant` with the fault proxy in front
//! of it, both on a runtime and thread of their own, so the caller's runtime counts only its
//! own tasks (the links') and the plant never shares their scheduler.

use crate::proxy::FaultProxy;
use brewdeck_plant::PlantConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a soak's plant raises and clears alarms ([`Site::raise_and_clear`]).
#[derive(Debug, Clone)]
pub struct AlarmWork<'a> {
    /// The pause before each step, in milliseconds.
    pub pause_ms: std::ops::RangeInclusive<u64>,
    /// One step in this many clears an alarm (when one is active).
    pub clear_one_in: u32,
    pub severities: &'a [&'a str],
    /// The alarm text, followed by its number.
    pub label: &'a str,
}

/// Stops the plant and the proxy when dropped.
#[derive(Debug)]
pub struct Site {
    plant: SocketAddr,
    proxy: Arc<FaultProxy>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    /// Starts the plant (with `config`) and the proxy; panics if either cannot start, as a
    /// test or bench cannot go on without them.
    pub fn start(config: PlantConfig) -> Site {
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let plant = match brewdeck_plant::start(config).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("plant: {e}")));
                        return;
                    }
                };
                let proxy = match FaultProxy::start(plant.local_addr()).await {
                    Ok(p) => Arc::new(p),
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("proxy: {e}")));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((plant.local_addr(), proxy)));
                let _ = stopped.await;
                plant.shutdown().await;
            });
        });
        let started = ready.recv().map_err(|e| e.to_string()).and_then(|r| r);
        let (plant, proxy) = match started {
            Ok(s) => s,
            Err(e) => panic!("the site did not start: {e}"),
        };
        Site {
            plant,
            proxy,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The plant's own address (HTTP and WebSocket), not through the proxy.
    pub fn plant_addr(&self) -> SocketAddr {
        self.plant
    }

    pub fn proxy(&self) -> &Arc<FaultProxy> {
        &self.proxy
    }

    /// The plant's WebSocket through the proxy: where the links go.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.proxy.addr())
    }

    /// The plant's WebSocket, straight.
    pub fn direct_ws_url(&self) -> String {
        format!("ws://{}/ws", self.plant)
    }

    /// Calls the plant's admin API, straight: `GET /admin/stats`, `POST` anything else.
    pub async fn admin(&self, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let method = if path == "/admin/stats" {
            "GET"
        } else {
            "POST"
        };
        http(self.plant, method, path, body, None).await
    }

    /// The plant at work for a soak: until `until`, now and then an alarm raised (of one of
    /// `work.severities`), or one it raised cleared. Seeded, so a seed replays the same work.
    /// Returns how many it raised.
    pub async fn raise_and_clear(
        &self,
        work: &AlarmWork<'_>,
        seed: u64,
        until: tokio::time::Instant,
    ) -> usize {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut active: Vec<u64> = Vec::new();
        let mut raised = 0;
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(rng.u64(work.pause_ms.clone()))).await;
            if !active.is_empty() && rng.u32(..work.clear_one_in.max(1)) == 0 {
                let id = active.swap_remove(rng.usize(..active.len()));
                let (status, _) = self.admin(&format!("/admin/alarm/{id}/clear"), None).await;
                assert!(status < 300 || status == 404, "clear {id}: {status}");
            } else {
                let severity = work.severities[rng.usize(..work.severities.len())];
                let body = serde_json::json!({
                    "severity": severity,
                    "message": format!("{} {raised}", work.label),
                });
                let (status, json) = self.admin("/admin/alarm", Some(&body.to_string())).await;
                assert_eq!(status, 201, "{json}");
                let id = json["alarmId"].as_u64();
                active.extend(id);
                raised += 1;
            }
        }
        raised
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A one-shot HTTP/1.1 exchange with a plant: status and JSON body (`Null` when the body is
/// not JSON). Status 0 when the plant could not be reached or did not answer within 20 s.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> (u16, serde_json::Value) {
    let body = body.unwrap_or("");
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let Ok(Ok(raw)) = tokio::time::timeout(Duration::from_secs(20), exchange).await else {
        return (0, serde_json::Value::Null);
    };
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}
