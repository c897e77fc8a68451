//! Operators and roles: `connected` names who a connection is; a viewer sees everything and
//! changes nothing (over the socket and over HTTP); the `--operators` file of the binary is
//! checked line by line at start, warns about plain tokens, and is re-read on SIGHUP, closing
//! the connections whose token no longer names the same operator.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command as Process};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const BIN: &str = env!("CARGO_BIN_EXE_brewdeck-plant");

#[tokio::test]
async fn connected_names_the_operator_and_lists_every_feature() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let mut c = try_connect(&plant.ws_url(), Some(SUE)).await.unwrap();
    let connected = c.expect_connected().await;
    assert_eq!(
        connected.operator,
        Some(Operator {
            name: "sue".into(),
            role: Role::Supervisor
        })
    );
    for feature in [
        FEATURE_HISTORY,
        FEATURE_OPERATORS,
        FEATURE_JOURNAL,
        FEATURE_SHELVING,
        FEATURE_NOTES,
    ] {
        assert!(
            connected.serves(feature),
            "{feature}: {:?}",
            connected.features
        );
    }
    assert!(try_connect(&plant.ws_url(), Some(TOKEN)).await.is_err());
    assert!(try_connect(&plant.ws_url(), Some("")).await.is_err());
}

#[tokio::test]
async fn a_viewer_changes_nothing_and_its_command_is_seen_to_end() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let (mut vic, snapshot) = Client::level1_as(&plant, VIC).await;
    let (mut ana, _) = Client::level1_as(&plant, ANA).await;
    let setpoint = find(&snapshot, "HLT setpoint").id.clone();
    let id = raise_alarm(&plant, r#"{"message":"Glycol pump failed"}"#).await;
    let code = |e: ServerError| e.code.unwrap_or_default();

    let now = Timestamp::now();
    vic.send(&ClientMessage::Command(Command {
        command_id: "vic-1".into(),
        endpoint_id: setpoint.clone(),
        action: Action::Set,
        value: Some(Value::Number(170.0)),
        issued_at: now,
        expires_at: Timestamp(now.0 + chrono::Duration::seconds(30)),
    }))
    .await;
    let e = vic
        .until(|m| match m {
            ServerMessage::Error(e) => Some(e),
            _ => None,
        })
        .await;
    assert_eq!(code(e), "forbidden");
    for c in [&mut vic, &mut ana] {
        let s = c
            .until(|m| match m {
                ServerMessage::CommandStatus(s) if s.command_id.0 == "vic-1" => Some(s),
                _ => None,
            })
            .await;
        assert_eq!(s.status, CommandState::Rejected);
        assert_eq!(s.reason.as_deref(), Some("forbidden: viewer"));
        assert!(s.seq.is_some(), "an event of the stream");
    }

    vic.send(&ClientMessage::AlarmAck(AlarmAck {
        alarm_id: id.into(),
        note: None,
        request_id: Some("a-1".into()),
    }))
    .await;
    assert_eq!(code(vic.refusal("a-1").await), "forbidden");
    vic.send(&ClientMessage::AlarmShelve(AlarmShelve {
        request_id: Some("s-1".into()),
        alarm_id: id.into(),
        minutes: 1,
        reason: "looking".into(),
    }))
    .await;
    assert_eq!(code(vic.refusal("s-1").await), "forbidden");
    vic.send(&ClientMessage::AlarmUnshelve(AlarmUnshelve {
        request_id: Some("u-1".into()),
        alarm_id: id.into(),
    }))
    .await;
    assert_eq!(code(vic.refusal("u-1").await), "forbidden");
    vic.send(&ClientMessage::Note(NoteRequest {
        request_id: Some("n-1".into()),
        text: "hello".into(),
        endpoint_ids: None,
    }))
    .await;
    assert_eq!(code(vic.refusal("n-1").await), "forbidden");

    // Nothing changed: the alarm is unacknowledged, and the refused command is journaled.
    let (_, after) = Client::level1_as(&plant, BEN).await;
    let held = after
        .alarms
        .iter()
        .find(|a| a.alarm_id == id.into())
        .unwrap();
    assert_eq!((held.acked, held.shelved.as_ref()), (Some(false), None));
    let j = ana
        .journal(JournalQuery {
            kinds: Some(vec![JournalKind::Command, JournalKind::Note]),
            ..journal_query("j-1")
        })
        .await;
    assert_eq!(j.entries.len(), 1, "{:?}", j.entries);
    assert_eq!(j.entries[0].by, "vic");
    assert_eq!(j.entries[0].status, Some(CommandState::Rejected));
    assert_eq!(j.entries[0].reason.as_deref(), Some("forbidden: viewer"));
}

#[tokio::test]
async fn a_viewers_command_post_is_403_and_runs_nothing() {
    let (plant, _dir) = plant_of_operators(|_| {}).await;
    let body = r#"{"commandId":"post-1","endpointId":4,"action":"set","value":150.0}"#;
    let (status, text) = http(&plant, "POST", "/api/os/command", Some(body), Some(VIC)).await;
    assert_eq!(status, 403, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], "forbidden");
    assert!(v["message"].as_str().unwrap().contains("viewer"));
    // Not remembered: the same id from an operator is a new command.
    let (status, _) = http(&plant, "POST", "/api/os/command", Some(body), Some(ANA)).await;
    assert_eq!(status, 202);
    let (status, _) = http(&plant, "POST", "/api/os/command", Some(body), Some("wrong")).await;
    assert_eq!(status, 401);
}

// ----- the binary -----

struct Running {
    child: Child,
    _stdout: Lines<BufReader<ChildStdout>>,
    url: String,
    stderr: Lines<BufReader<ChildStderr>>,
}

async fn start_binary(operators: &Path) -> Running {
    let mut child = Process::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--operators"])
        .arg(operators)
        .env_remove("BREWDECK_PLANT_TOKEN")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (addr, stdout) = first_line(&mut child).await;
    let addr = addr.expect("the plant printed its address");
    Running {
        stderr: BufReader::new(child.stderr.take().unwrap()).lines(),
        child,
        _stdout: stdout,
        url: format!("ws://{addr}/ws"),
    }
}

/// A log line without its colours (ANSI escapes), as read on a terminal.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // `ESC [ ... m`
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Running {
    /// Reads the log until a line holds every one of `texts`; the lines read, that one last.
    async fn log_line(&mut self, texts: &[&str]) -> Vec<String> {
        let mut read = Vec::new();
        tokio::time::timeout(WAIT, async {
            loop {
                match self.stderr.next_line().await.unwrap() {
                    Some(line) => {
                        let line = plain(&line);
                        let found = texts.iter().all(|t| line.contains(t));
                        read.push(line);
                        if found {
                            return;
                        }
                    }
                    None => panic!("the plant's log ended before {texts:?}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no log line with {texts:?} in {read:#?}"));
        read
    }

    fn hangup(&self) {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &self.child.id().unwrap().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn level1(&self, token: &str) -> (Client, Connected) {
        let mut c = try_connect(&self.url, Some(token)).await.unwrap();
        let connected = c.expect_connected().await;
        c.hello(None).await;
        c.expect_snapshot().await;
        (c, connected)
    }
}

async fn still_open(c: &mut Client) {
    c.send(&ClientMessage::Ping).await;
    c.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
}

#[tokio::test]
async fn sighup_rereads_the_operators_and_closes_those_it_changed() {
    let (_dir, path) = operators_file(&operators_text());
    let mut plant = start_binary(&path).await;
    let (mut ana, _) = plant.level1(ANA).await;
    let (mut ben, _) = plant.level1(BEN).await;
    let (mut vic, _) = plant.level1(VIC).await;

    // Ana is promoted, Vic leaves, Ben stays as he was (on another line).
    std::fs::write(
        &path,
        format!(
            "ben operator sha256:{}\nana supervisor sha256:{}\n",
            sha256_hex(BEN),
            sha256_hex(ANA)
        ),
    )
    .unwrap();
    plant.hangup();
    for c in [&mut ana, &mut vic] {
        let e = c
            .until(|m| match m {
                ServerMessage::Error(e) => Some(e),
                _ => None,
            })
            .await;
        assert_eq!(e.code.as_deref(), Some("forbidden"));
        assert!(e.message.contains("reconnect"), "{}", e.message);
        assert_eq!(c.expect_close().await, Some(CloseCode::Policy));
    }
    plant.log_line(&["operators reloaded", "operators=2"]).await;
    still_open(&mut ben).await;
    let (mut ana, connected) = plant.level1(ANA).await;
    assert_eq!(connected.operator.unwrap().role, Role::Supervisor);
    assert!(
        try_connect(&plant.url, Some(VIC)).await.is_err(),
        "no longer an operator"
    );

    // A bad file keeps the list as it was, and says why with the line.
    std::fs::write(
        &path,
        format!("ben operator sha256:{}\nana admin {ANA}\n", sha256_hex(BEN)),
    )
    .unwrap();
    plant.hangup();
    let lines = plant
        .log_line(&["operators not reloaded", "line 2", "unknown role"])
        .await;
    assert!(lines.iter().all(|l| !l.contains(ANA)), "a token in the log");
    still_open(&mut ana).await;
    still_open(&mut ben).await;
    let (_, connected) = plant.level1(ANA).await;
    assert_eq!(connected.operator.unwrap().role, Role::Supervisor);
}

#[tokio::test]
async fn a_plain_token_is_accepted_with_a_warning_naming_its_line_never_the_token() {
    let plain = "plain-token-6a1f";
    let (_dir, path) = operators_file(&format!(
        "# the wall screen\nana operator sha256:{}\nwall viewer {plain}\n",
        sha256_hex(ANA)
    ));
    let mut plant = start_binary(&path).await;
    let read = plant.log_line(&["plain token", "line=3"]).await;
    let (_, connected) = plant.level1(plain).await;
    assert_eq!(connected.operator.unwrap().role, Role::Viewer);
    plant.log_line(&["client connected", "operator=wall"]).await;
    assert!(read.iter().all(|l| !l.contains(plain)), "{read:#?}");
}

#[tokio::test]
async fn a_bad_operators_file_stops_the_plant_naming_the_file_and_line() {
    let good = format!("ana operator sha256:{}\n", sha256_hex(ANA));
    for (bad, line, why) in [
        ("ben operator\n", 2, "2 fields"),
        ("# fine\n\nben boss ben-secret-1\n", 4, "unknown role"),
        ("ben operator sha256:12ab\n", 2, "64 hex digits"),
        ("ana viewer ben-secret-2\n", 2, "already named"),
        (
            &*format!("ben viewer sha256:{}\n", sha256_hex(ANA)),
            2,
            "same secret",
        ),
    ] {
        let (_dir, path) = operators_file(&format!("{good}{bad}"));
        let out = Process::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--operators"])
            .arg(&path)
            .env_remove("BREWDECK_PLANT_TOKEN")
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(&format!("line {line}")), "{bad}: {err}");
        assert!(err.contains(why), "{bad}: {err}");
        assert!(!err.contains("ben-secret"), "a secret in: {err}");
    }

    // An empty list, a missing file: no one could connect.
    let (_dir, path) = operators_file("# nobody yet\n");
    let out = Process::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--operators"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no operator"));
    let out = Process::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--operators",
            "/nonexistent/operators",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn operators_and_a_token_together_are_refused() {
    let (_dir, path) = operators_file(&operators_text());
    let out = Process::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--token", "t", "--operators"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--operators"), "{err}");
}
