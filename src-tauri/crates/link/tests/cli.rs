//! `brewdeck-cli watch` as an operator runs it, against a real plant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const CLI: &str = env!("CARGO_BIN_EXE_brewdeck-cli");

struct Watch {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
}

impl Watch {
    fn start(server: &str, token: Option<&str>, extra: &[&str]) -> Watch {
        Watch::start_logging(server, token, extra, "brewdeck_link=debug")
    }

    fn start_logging(server: &str, token: Option<&str>, extra: &[&str], rust_log: &str) -> Watch {
        let mut cmd = Command::new(CLI);
        cmd.args(["watch", "--server", server])
            .args(extra)
            .env_remove("BREWDECK_TOKEN")
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(t) = token {
            cmd.env("BREWDECK_TOKEN", t);
        }
        let mut child = cmd.spawn().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Watch {
            child,
            lines,
            seen: vec![],
        }
    }

    async fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                self.seen.push(line.clone());
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if pred(&v) {
                    return Some(v);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(v)) => v,
            _ => panic!(
                "no {what}; last lines: {:?}",
                self.seen.iter().rev().take(5).collect::<Vec<_>>()
            ),
        }
    }

    async fn send(&mut self, op: Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{op}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }
}

fn is_state(v: &Value, name: &str) -> bool {
    v["kind"] == "state" && v["state"]["state"] == name
}

#[tokio::test]
async fn watch_shows_live_telemetry_takes_commands_and_survives_a_drop() {
    let plant = plant().await;
    let mut w = Watch::start(&plant.ws_url(), Some(TOKEN), &[]);
    let connected = w.until("connected", |v| is_state(v, "connected")).await;
    assert_eq!(connected["state"]["level"], "level1");
    w.until("a reading", |v| v["kind"] == "reading").await;

    admin(&plant, "/admin/drop", None).await;
    w.until("reconnecting", |v| is_state(v, "reconnecting"))
        .await;
    w.until("connected again", |v| is_state(v, "connected"))
        .await;
    w.until("a reading after the drop", |v| v["kind"] == "reading")
        .await;

    w.send(serde_json::json!({"op":"snapshot"})).await;
    let snap = w.until("a snapshot", |v| v["kind"] == "snapshot").await;
    let setpoint = snap["snapshot"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Fermenter 1 setpoint")
        .unwrap()["id"]
        .clone();
    w.send(serde_json::json!({"op":"command","endpointId":setpoint,"action":"set","value":59.5}))
        .await;
    let issued = w
        .until("command_issued", |v| v["kind"] == "command_issued")
        .await;
    let id = issued["command"]["commandId"].clone();
    w.until("the command's success", |v| {
        v["kind"] == "command"
            && v["command"]["commandId"] == id
            && v["command"]["phase"] == "succeeded"
    })
    .await;
    w.send(serde_json::json!({"op":"fly"})).await;
    let e = w.until("an error line", |v| v["kind"] == "error").await;
    assert_eq!(e["code"], "bad_input");

    w.send(serde_json::json!({"op":"quit"})).await;
    let status = tokio::time::timeout(WAIT, w.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(w.child.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(
        !stderr.contains(TOKEN) && !w.seen.iter().any(|l| l.contains(TOKEN)),
        "the token leaked"
    );
    plant.shutdown().await;
}

/// `RUST_LOG=trace` shows everything but what the libraries that see the `Authorization`
/// header write at trace (the whole upgrade request, in tungstenite's case).
#[tokio::test]
async fn at_trace_level_the_token_is_in_no_output() {
    let plant = plant().await;
    let mut w = Watch::start_logging(&plant.ws_url(), Some(TOKEN), &[], "trace");
    w.until("connected", |v| is_state(v, "connected")).await;
    w.until("a reading", |v| v["kind"] == "reading").await;
    w.send(serde_json::json!({"op":"quit"})).await;
    let stdout_leaked = w.seen.iter().any(|l| l.contains(TOKEN));
    let (code, stderr) = exit_of(w).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout_leaked, "the token is in the CLI's output");
    // Everything else was on: the libraries' lines up to debug.
    assert!(stderr.contains("Client handshake done"), "{stderr}");
    // Not theirs at trace: the handshake's request with its header.
    assert!(!stderr.contains("Client handshake initiated"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "the token is in the CLI's log");
    plant.shutdown().await;
}

async fn exit_of(mut w: Watch) -> (Option<i32>, String) {
    let status = tokio::time::timeout(WAIT, w.child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(w.child.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    (status.code(), stderr)
}

#[tokio::test]
async fn clear_exit_codes() {
    let plant = plant().await;
    let (code, stderr) = exit_of(Watch::start(&plant.ws_url(), None, &[])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BREWDECK_TOKEN"), "{stderr}");

    let (code, stderr) = exit_of(Watch::start(&plant.ws_url(), Some("wrong-token"), &[])).await;
    assert_eq!(code, Some(3));
    assert!(stderr.contains("refused the token"), "{stderr}");
    assert!(!stderr.contains("wrong-token"));

    let (code, stderr) = exit_of(Watch::start("ws://plant.example/ws", Some(TOKEN), &[])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("only allowed to this machine"), "{stderr}");

    // There is no way to pass the token as an argument.
    let (code, _) = exit_of(Watch::start(&plant.ws_url(), None, &["--token", TOKEN])).await;
    assert_eq!(code, Some(2));

    let dir = std::env::temp_dir().join(format!("brewdeck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let mut w = Watch::start(
        &plant.ws_url(),
        None,
        &["--token-file", file.to_str().unwrap()],
    );
    w.until("connected with the token file", |v| {
        is_state(v, "connected")
    })
    .await;
    w.send(serde_json::json!({"op":"quit"})).await;
    assert_eq!(exit_of(w).await.0, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
    plant.shutdown().await;
}
