//! The `brewdeck-plant` binary's historian on bad days: killed with SIGKILL it loses at most
//! about the last second of readings; on a full disk (a file-size limit) recording pauses,
//! says so, the live stream carries on, and recording resumes by itself once it can write.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_brewdeck-plant");

struct Running {
    child: Child,
    /// Kept open while the plant runs (it writes nothing more to it).
    _stdout: Lines<BufReader<ChildStdout>>,
    url: String,
    stderr: Lines<BufReader<ChildStderr>>,
}

/// Starts the binary through `sh`, so a soft file-size limit (one the test may lift without
/// privileges) can be set first (`SIGXFSZ` ignored,
/// as the plant must see the write fail rather than die).
async fn start(
    data_dir: &std::path::Path,
    token: &std::path::Path,
    fsize_kib: Option<u64>,
    extra: &str,
) -> Running {
    let limit = fsize_kib
        .map(|k| format!("ulimit -S -f {k}; "))
        .unwrap_or_default();
    let script = format!(
        "trap '' XFSZ; {limit}exec {BIN} --listen 127.0.0.1:0 --telemetry-hz 20 --data-dir '{}' --token-file '{}' {extra}",
        data_dir.display(),
        token.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (addr, stdout) = first_line(&mut child).await;
    let addr = addr.expect("the plant printed its address");
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    Running {
        child,
        _stdout: stdout,
        url: format!("ws://{addr}/ws"),
        stderr,
    }
}

impl Running {
    async fn client(&self) -> (Client, Snapshot) {
        let mut c = try_connect(&self.url, Some(TOKEN)).await.unwrap();
        c.expect_connected().await;
        c.hello(None).await;
        let s = c.expect_snapshot().await;
        (c, s)
    }

    /// Reads the log until a line holds `text`.
    async fn log_line(&mut self, text: &str) -> String {
        let wait = std::time::Duration::from_secs(30);
        tokio::time::timeout(wait, async {
            loop {
                match self.stderr.next_line().await.unwrap() {
                    Some(line) if line.contains(text) => return line,
                    Some(_) => {}
                    None => panic!("the plant's log ended before {text:?}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no log line with {text:?}"))
    }
}

fn token_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, TOKEN).unwrap();
    path
}

async fn history(
    c: &mut Client,
    id: &str,
    endpoint: &EndpointId,
    from_ms: i64,
    to_ms: i64,
) -> History {
    c.send(&ClientMessage::HistoryQuery(HistoryQuery {
        request_id: id.into(),
        endpoint_ids: vec![endpoint.clone()],
        from: Timestamp::from_unix_millis(from_ms).unwrap(),
        to: Timestamp::from_unix_millis(to_ms).unwrap(),
        max_points: Some(5000),
    }))
    .await;
    c.until(|m| match m {
        ServerMessage::History(h) if h.request_id == id => Some(h),
        ServerMessage::Error(e) if e.request_id.as_deref() == Some(id) => panic!("{e:?}"),
        _ => None,
    })
    .await
}

/// The newest bucket's start of `endpoint` in the last `span_ms`, asking until there is one.
async fn newest(c: &mut Client, endpoint: &EndpointId, span_ms: i64) -> i64 {
    for i in 0..200 {
        let now = Timestamp::now().unix_millis();
        let h = history(c, &format!("n{i}"), endpoint, now - span_ms, now + 1000).await;
        if let Some(p) = h.series[0].points.last() {
            return p.t.unix_millis();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no readings of {endpoint} recorded");
}

#[tokio::test]
async fn killed_with_sigkill_the_plant_loses_at_most_about_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let data = dir.path().join("data");
    let mut plant = start(&data, &token, None, "").await;
    let (mut c, snapshot) = plant.client().await;
    let temp = find(&snapshot, "HLT temperature").id.clone();
    // Recorded for a couple of seconds, then killed without warning.
    let first = newest(&mut c, &temp, 60_000).await;
    while newest(&mut c, &temp, 60_000).await < first + 2_000 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let killed_at = Timestamp::now().unix_millis();
    plant.child.start_kill().unwrap();
    plant.child.wait().await.unwrap();
    drop(c);

    let plant = start(&data, &token, None, "").await;
    let (mut c, _) = plant.client().await;
    let h = history(&mut c, "after", &temp, killed_at - 30_000, killed_at).await;
    let last = h.series[0]
        .points
        .last()
        .expect("readings before the kill are kept")
        .t
        .unix_millis();
    let lost_ms = killed_at - last;
    // Flushed every 500 ms: about a second at most, with room for a loaded machine.
    assert!(
        lost_ms <= 3_000,
        "the last {lost_ms} ms before the kill were lost"
    );
}

#[tokio::test]
async fn on_a_full_disk_recording_pauses_and_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path());
    let data = dir.path().join("data");
    // 512 KiB of file: the flood fills it within seconds.
    let mut plant = start(
        &data,
        &token,
        Some(512),
        "--flood-endpoints 200 --flood-rate 20",
    )
    .await;
    let (mut c, snapshot) = plant.client().await;
    let reason = plant.log_line("history recording paused").await;
    assert!(reason.contains("reason"), "{reason}");

    // The live stream carries on: a subscribed endpoint still sends readings.
    let temp = find(&snapshot, "HLT temperature").id.clone();
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: vec![temp.clone()],
    }))
    .await;
    for _ in 0..3 {
        c.until(|m| {
            matches!(m, ServerMessage::Telemetry(t) if t.endpoint_id == temp).then_some(())
        })
        .await;
    }

    // Room again: lift the limit on the running process.
    let pid = plant.child.id().unwrap().to_string();
    let lifted = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--fsize=unlimited:unlimited"])
        .status()
        .unwrap();
    assert!(lifted.success());
    plant.log_line("history recording resumed").await;
    let resumed_at = Timestamp::now().unix_millis();
    let newest = newest(&mut c, &temp, 60_000).await;
    assert!(
        newest >= resumed_at - 1_000,
        "readings after resuming are kept"
    );
}
