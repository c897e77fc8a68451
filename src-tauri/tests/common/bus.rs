//! A private D-Bus session for one test process, and the desktop services on it: a real
//! gnome-keyring (the Secret Service) and a notification server the test owns. Nothing touches
//! the machine's own session or the user's real keychain.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// `dbus-daemon --session` in a throwaway folder; killed on drop.
pub struct PrivateBus {
    pub address: String,
    daemon: Child,
    pub home: tempfile::TempDir,
}

impl PrivateBus {
    /// Starts the bus and points this process at it (`DBUS_SESSION_BUS_ADDRESS`). Each test
    /// binary that uses one runs a single test, so the variable is never shared.
    pub fn start() -> PrivateBus {
        let home = tempfile::tempdir().unwrap();
        // Our own configuration: no service activation, so nothing is started behind the
        // test's back (with the real home) when a service it stopped is asked for.
        let config = home.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                home.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env("HOME", home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus) is installed");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        PrivateBus {
            address,
            daemon,
            home,
        }
    }

    /// Runs a program on this bus with the throwaway home.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let home = self.home.path();
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env_remove("DISPLAY");
        c
    }

    /// Waits until a name has an owner on this bus (on the owner-changed signal).
    pub fn wait_for_name(&self, name: &str) {
        use futures_util::StreamExt;
        tauri::async_runtime::block_on(async {
            let conn = zbus::connection::Builder::address(self.address.as_str())
                .unwrap()
                .build()
                .await
                .unwrap();
            let proxy = zbus::fdo::DBusProxy::new(&conn).await.unwrap();
            let mut changes = proxy
                .receive_name_owner_changed_with_args(&[(0, name)])
                .await
                .unwrap();
            let bus_name = zbus::names::BusName::try_from(name).unwrap();
            if proxy.name_has_owner(bus_name).await.unwrap() {
                return;
            }
            tokio::time::timeout(super::WAIT, changes.next())
                .await
                .unwrap_or_else(|_| panic!("{name} never appeared on the bus"));
        });
    }

    /// Starts gnome-keyring's Secret Service on this bus, unlocked (or locked: started
    /// without a password, its default collection cannot be used).
    pub fn keyring(&self, unlocked: bool) -> Daemon {
        for dir in ["data", "run"] {
            std::fs::create_dir_all(self.home.path().join(dir)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                self.home.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        let mut args = vec!["--foreground", "--components=secrets"];
        if unlocked {
            args.push("--unlock");
        }
        let mut child = self
            .command("gnome-keyring-daemon")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring) is installed");
        {
            let mut stdin = child.stdin.take().unwrap();
            if unlocked {
                stdin.write_all(b"test-pass").unwrap();
            }
        }
        self.wait_for_name("org.freedesktop.secrets");
        Daemon(child)
    }

    /// `secret-tool lookup` for a Brewdeck entry: what another process reads.
    pub fn lookup(&self, service: &str, profile: &str) -> Option<String> {
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", service, "username", profile])
            .output()
            .expect("secret-tool (package libsecret-tools) is installed");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `secret-tool store` a secret as keyring-rs would: another process writes it.
    pub fn store(&self, service: &str, profile: &str, secret: &str) {
        let mut child = self
            .command("secret-tool")
            .args([
                "store",
                "--label=brewdeck test",
                "service",
                service,
                "username",
                profile,
                "target",
                "default",
                "application",
                "rust-keyring",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(secret.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A service process; killed on drop.
pub struct Daemon(Child);

impl Daemon {
    pub fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One `Notify` call as a notification server received it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// The `urgency` hint (0 low, 1 normal, 2 critical), when given.
    pub urgency: Option<u8>,
    pub expire_timeout: i32,
}

/// The notification server, owned by the test on the private bus: records every `Notify`.
#[derive(Clone, Default)]
pub struct Notifications {
    shown: Arc<(Mutex<Vec<Shown>>, Condvar)>,
}

struct Server(Notifications);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        expire_timeout: i32,
    ) -> u32 {
        let urgency = hints
            .get("urgency")
            .and_then(|v| u8::try_from(v.try_clone().ok()?).ok());
        let (list, cv) = &*self.0.shown;
        let mut list = list.lock().unwrap();
        list.push(Shown {
            app_name,
            summary,
            body,
            urgency,
            expire_timeout,
        });
        cv.notify_all();
        list.len() as u32
    }

    fn close_notification(&self, _id: u32) {}

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "brewdeck-test".into(),
            "brewdeck".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

impl Notifications {
    /// Takes `org.freedesktop.Notifications` on the (private) session bus. Keep the returned
    /// connection alive as long as the server is needed.
    pub async fn serve() -> (Notifications, zbus::Connection) {
        let n = Notifications::default();
        let connection = zbus::connection::Builder::session()
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", Server(n.clone()))
            .unwrap()
            .build()
            .await
            .expect("the notification server takes its name");
        (n, connection)
    }

    pub fn all(&self) -> Vec<Shown> {
        self.shown.0.lock().unwrap().clone()
    }

    /// Waits until a shown notification matches; returns it.
    pub fn wait_for(&self, what: &str, matches: impl Fn(&Shown) -> bool) -> Shown {
        let deadline = Instant::now() + super::WAIT;
        let (list, cv) = &*self.shown;
        let mut guard = list.lock().unwrap();
        loop {
            if let Some(s) = guard.iter().find(|s| matches(s)) {
                return s.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}: {:?}",
                *guard
            );
            guard = cv.wait_timeout(guard, left).unwrap().0;
        }
    }
}

pub fn has_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| Path::new(&p).join(name).is_file()))
        .unwrap_or(false)
}
