//! A PulseAudio server of the test's own: a null sink (nothing reaches a speaker) whose monitor
//! is recorded, in a private runtime folder and home, so no test touches the user's sound.
//! It fails, not skips, without `pulseaudio` and `parec`: `./dev test` installs them.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to answer after its start.
const READY_WITHIN: Duration = Duration::from_secs(15);
const ASOUNDRC: &str = "pcm.!default { type pulse }\nctl.!default { type pulse }\n";
/// The recording's format: what the sounds are made in.
const RATE: usize = 22050;

pub struct Pulse {
    dir: tempfile::TempDir,
    daemon: Option<Child>,
    /// `unix:/…/native`, for `PULSE_SERVER`.
    pub server: String,
    pub sink: String,
}

impl Pulse {
    /// Starts the server and waits (polling, bounded) until it answers.
    pub fn start() -> Pulse {
        for (tool, package) in [
            ("pulseaudio", "pulseaudio"),
            ("parec", "pulseaudio-utils"),
            ("pactl", "pulseaudio-utils"),
        ] {
            if Command::new(tool).arg("--version").output().is_err() {
                panic!(
                    "`{tool}` is not installed, and the alarm sound test needs it: run ./dev test \
                     (which installs it) or apt-get install {package} libasound2-plugins"
                );
            }
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let run = dir.path().join("run");
        std::fs::create_dir_all(dir.path().join("home")).expect("a private home");
        std::fs::create_dir_all(&run).expect("a private runtime folder");
        set_private(&run);
        // ALSA's default is this server, and never a sound card: without it ALSA falls back to
        // the card when the server is down, and a test would play on the developer's speakers.
        std::fs::write(dir.path().join("home/.asoundrc"), ASOUNDRC).expect("a private .asoundrc");
        let socket = run.join("native");
        let mut pulse = Pulse {
            server: format!("unix:{}", socket.display()),
            sink: "brewdeck_test".to_owned(),
            daemon: None,
            dir,
        };
        pulse.run_daemon();
        pulse
    }

    /// Starts the daemon on this server's socket and waits (polling, bounded) until it answers.
    fn run_daemon(&mut self) {
        let socket = self.dir.path().join("run/native");
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("pulseaudio.log"))
            .expect("a log file");
        let mut daemon = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "-n",
                "--use-pid-file=no",
                "--disallow-module-loading",
                // An orphan (the test killed outright) ends itself once nobody uses it.
                "--exit-idle-time=20",
                "--log-target=stderr",
            ])
            .arg(format!("--load=module-null-sink sink_name={}", self.sink))
            .arg(format!(
                "--load=module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ))
            .envs(Self::env_of(self.dir.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("pulseaudio starts");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = daemon.try_wait() {
                panic!("pulseaudio ended at its start ({status}):\n{}", self.log());
            }
            if self.pactl(&["info"]).is_ok() {
                break;
            }
            if started.elapsed() > READY_WITHIN {
                let _ = daemon.kill();
                panic!(
                    "pulseaudio did not answer within {READY_WITHIN:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.daemon = Some(daemon);
        self.pactl(&["set-default-sink", &self.sink])
            .expect("the null sink is the default");
    }

    /// Ends the server and starts it again on the same socket: a sound server that went away
    /// and came back.
    pub fn restart(&mut self) {
        self.stop();
        self.run_daemon();
    }

    /// The environment that points a client at this server and nowhere else: a private home
    /// (no user's `~/.asoundrc` or PulseAudio config) and runtime folder.
    fn env_of(dir: &std::path::Path) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", dir.join("home")),
            ("XDG_RUNTIME_DIR", dir.join("run")),
            ("XDG_CONFIG_HOME", dir.join("home/.config")),
        ]
    }

    /// Points this process's sound (ALSA's pulse plugin, libpulse) at this server. Call before
    /// anything in the process opens a sound device.
    pub fn use_in_this_process(&self) {
        for (name, value) in Self::env_of(self.dir.path()) {
            std::env::set_var(name, value);
        }
        std::env::set_var("PULSE_SERVER", &self.server);
        // A sink chosen by the environment would bypass the null sink.
        std::env::remove_var("PULSE_SINK");
    }

    pub fn pactl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("pactl")
            .args(args)
            .envs(Self::env_of(self.dir.path()))
            .env("PULSE_SERVER", &self.server)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Records what the null sink plays for `length` (mono, 16 bit, 22050 Hz) and returns its
    /// RMS level, 0 (silence) to 1 (full scale).
    pub fn record_level(&self, length: Duration) -> f64 {
        let mut parec = Command::new("parec")
            .args([
                "--raw",
                "--format=s16le",
                "--channels=1",
                "--latency-msec=20",
            ])
            .arg(format!("--rate={RATE}"))
            .arg(format!("--device={}.monitor", self.sink))
            .envs(Self::env_of(self.dir.path()))
            .env("PULSE_SERVER", &self.server)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("parec starts");
        let mut bytes = vec![0u8; (length.as_secs_f64() * RATE as f64) as usize * 2];
        let read = parec
            .stdout
            .take()
            .expect("parec's output")
            .read_exact(&mut bytes);
        let _ = parec.kill();
        let _ = parec.wait();
        read.unwrap_or_else(|e| panic!("recording the null sink failed: {e}\n{}", self.log()));
        let samples: Vec<f64> = bytes
            .chunks_exact(2)
            .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect();
        (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
    }

    /// What the server logged, for a failure's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }

    /// Ends the server (also on drop).
    pub fn stop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

/// The runtime folder must be private (PulseAudio refuses others).
fn set_private(run: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o700))
        .expect("a private runtime folder");
}

impl Drop for Pulse {
    fn drop(&mut self) {
        self.stop();
    }
}
