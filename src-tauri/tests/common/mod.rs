//! Helpers for the app's tests: the real app on Tauri's mock runtime (the real commands,
//! capabilities and IPC path, no WebKit), a real plant on loopback, and every event the app
//! emits recorded so tests wait on them, bounded by a timeout.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod bus;

use brewdeck_app::cli::Launch;
use brewdeck_link::ServerUrl;
use brewdeck_plant::{PlantConfig, RunningPlant};
use brewdeck_protocol::Token;
use brewdeck_station::bridge::events;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tauri::test::MockRuntime;
use tauri::{App, Listener, Manager, WebviewWindow};

pub const TOKEN: &str = "app-test-token-5f1c9a";
pub const WAIT: Duration = Duration::from_secs(20);

pub fn plant_config() -> PlantConfig {
    let mut c = PlantConfig::new(([127, 0, 0, 1], 0).into(), Token::new(TOKEN).unwrap());
    c.admin = true;
    c.tick = Duration::from_millis(20);
    c
}

/// A plant on Tauri's runtime (the one the app's link runs on).
pub fn plant() -> RunningPlant {
    tauri::async_runtime::block_on(brewdeck_plant::start(plant_config())).unwrap()
}

/// Folders of one test app, removed at the end.
pub struct Dirs {
    pub root: tempfile::TempDir,
}

impl Dirs {
    pub fn new() -> Self {
        Dirs {
            root: tempfile::tempdir().unwrap(),
        }
    }
    pub fn config(&self) -> PathBuf {
        self.root.path().join("config")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.path().join("logs")
    }
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }
}

pub fn launch(dirs: &Dirs, server: Option<&str>, env_token: Option<&str>) -> Launch {
    Launch {
        server: server.map(|s| ServerUrl::parse(s, false).unwrap()),
        demo: false,
        env_token: env_token.map(|t| Token::new(t).unwrap()),
        desktop_shell: false,
        config_dir: Some(dirs.config()),
        log_dir: Some(dirs.logs()),
        data_dir: Some(dirs.data()),
        // Nothing listens there: a check fails at once, whatever the network.
        update_endpoint: Some("https://127.0.0.1:9/latest.json".parse().unwrap()),
    }
}

/// The app, built with its real context (config, capabilities) on the mock runtime.
pub struct TestApp {
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub events: EventLog,
}

pub fn app(launch: Launch) -> TestApp {
    let mut app = brewdeck_app::run_app(tauri::test::mock_builder(), launch)
        .build(tauri::generate_context!())
        .expect("the app builds");
    // Listening before setup runs, so no event is missed.
    let events = EventLog::attach(&app);
    // One turn of the (mock) event loop runs setup and opens the configured window.
    #[allow(deprecated)] // Called once, not in a loop: exactly what a test needs.
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").expect("the main window");
    TestApp {
        app,
        window,
        events,
    }
}

impl TestApp {
    /// Invokes a command through the real IPC path, as the webview would.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let out = invoke_on(&self.window, cmd, args);
        self.events
            .responses
            .lock()
            .unwrap()
            .push(format!("{out:?}"));
        out
    }

    pub fn snapshot(&self) -> Value {
        self.invoke("snapshot", json!({})).unwrap()
    }

    /// Waits until the link is connected (it may have connected before the log attached).
    pub fn wait_connected(&self) {
        let mark = self.events.len();
        if self.snapshot()["plant"]["link"]["state"] == "connected" {
            return;
        }
        self.events
            .wait_for_after(mark, "the link to connect", |e| {
                e.name == events::LINK_STATE && e.payload["state"] == "connected"
            });
    }
}

/// Invokes a command on `window` through the real IPC path, from any thread.
pub fn invoke_on(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = tauri::webview::InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: tauri::test::INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(window, request).map(|body| body.deserialize::<Value>().unwrap())
}

/// A server that answers every WebSocket upgrade with 401 and records the `Authorization`
/// header each one carried: which token reached which server.
pub struct Recorder {
    pub url: String,
    seen: Arc<(Mutex<Vec<Option<String>>>, Condvar)>,
}

impl Recorder {
    pub fn start() -> Recorder {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        let seen: Arc<(Mutex<Vec<Option<String>>>, Condvar)> = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(WAIT));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                // A connection dropped before its request was whole (a dial the link gave up
                // as it moved) sent no request: nothing to record.
                if !head.ends_with(b"\r\n\r\n") {
                    continue;
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let auth = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("authorization")
                        .then(|| value.trim().to_owned())
                });
                let _ = stream.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let (list, cv) = &*log;
                list.lock().unwrap().push(auth);
                cv.notify_all();
            }
        });
        Recorder { url, seen }
    }

    /// Every `Authorization` header received so far (`None`: the request had none).
    pub fn seen(&self) -> Vec<Option<String>> {
        self.seen.0.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Option<String>> {
        let deadline = Instant::now() + WAIT;
        let (list, cv) = &*self.seen;
        let mut guard = list.lock().unwrap();
        while guard.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {n} requests at {}",
                self.url
            );
            guard = cv.wait_timeout(guard, left).unwrap().0;
        }
        guard.clone()
    }
}

#[derive(Debug, Clone)]
pub struct Emitted {
    pub name: String,
    pub payload: Value,
    pub raw: String,
}

/// Every event the app emits, in order.
#[derive(Clone, Default)]
pub struct EventLog {
    seen: Arc<(Mutex<Vec<Emitted>>, Condvar)>,
    pub responses: Arc<Mutex<Vec<String>>>,
}

impl EventLog {
    fn attach(app: &App<MockRuntime>) -> Self {
        let log = EventLog::default();
        for (_, name, _) in events::ALL {
            let seen = log.seen.clone();
            let name = name.to_string();
            app.listen_any(name.clone(), move |event| {
                let raw = event.payload().to_owned();
                let payload = serde_json::from_str(&raw).unwrap_or(Value::Null);
                let (list, cv) = &*seen;
                list.lock().unwrap().push(Emitted {
                    name: name.clone(),
                    payload,
                    raw,
                });
                cv.notify_all();
            });
        }
        log
    }

    pub fn all(&self) -> Vec<Emitted> {
        self.seen.0.lock().unwrap().clone()
    }

    /// Waits until an event matches, and returns it (panics after [`WAIT`]).
    pub fn wait_for(&self, what: &str, matches: impl Fn(&Emitted) -> bool) -> Emitted {
        self.wait_for_after(0, what, matches)
    }

    /// Like [`Self::wait_for`], among events from index `from` on.
    pub fn wait_for_after(
        &self,
        from: usize,
        what: &str,
        matches: impl Fn(&Emitted) -> bool,
    ) -> Emitted {
        let deadline = Instant::now() + WAIT;
        let (list, cv) = &*self.seen;
        let mut guard = list.lock().unwrap();
        loop {
            if let Some(e) = guard.iter().skip(from).find(|e| matches(e)) {
                return e.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            guard = cv.wait_timeout(guard, left).unwrap().0;
        }
    }

    pub fn len(&self) -> usize {
        self.seen.0.lock().unwrap().len()
    }
}

/// Finds a catalog endpoint by name in a snapshot's JSON.
pub fn endpoint_named(snapshot: &Value, name: &str) -> Value {
    snapshot["plant"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name}"))["id"]
        .clone()
}

/// Calls the plant's admin API (loopback HTTP/1.1, no client library needed).
pub fn admin(plant: &RunningPlant, path: &str, body: &str) -> Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(plant.local_addr()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 2"), "{path}: {head}");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// The app on a running plant, synced, on a private D-Bus session whose notification server
/// is the test's. Fields drop in order: the app before the plant, the bus last.
pub struct NotifyingDesk {
    pub t: TestApp,
    pub plant: RunningPlant,
    pub dirs: Dirs,
    pub shown: bus::Notifications,
    _server: zbus::Connection,
    pub bus: bus::PrivateBus,
}

pub fn notifying_desk() -> NotifyingDesk {
    let bus = bus::PrivateBus::start();
    let (shown, server) = tauri::async_runtime::block_on(bus::Notifications::serve());
    bus.wait_for_name("org.freedesktop.Notifications");
    let plant = plant();
    let dirs = Dirs::new();
    let t = app(launch(&dirs, Some(&plant.ws_url()), Some(TOKEN)));
    t.events.wait_for("the first sync", |e| {
        e.name == events::PLANT_NOTICE && e.payload["kind"] == "synced"
    });
    NotifyingDesk {
        t,
        plant,
        dirs,
        shown,
        _server: server,
        bus,
    }
}
