//! The `brewdeck-plant` binary: address on stdout, token from a file, clear exit codes,
//! SIGTERM as a graceful shutdown, and the token in no log line.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::ServerMessage;
use common::*;
use std::process::Stdio;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const BIN: &str = env!("CARGO_BIN_EXE_brewdeck-plant");

/// A token file in a folder removed when the returned guard goes.
fn token_file(token: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    (dir, path)
}

#[tokio::test]
async fn serves_on_the_printed_address_and_stops_gracefully_on_sigterm() {
    let secret = "cli-secret-7d1e2b";
    let (_dir, path) = token_file(secret);
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "--telemetry-hz",
            "20",
            "--token-file",
        ])
        .arg(&path)
        // Every level: the libraries that see the Authorization header stay below trace.
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (addr, _stdout) = first_line(&mut child).await;
    let addr = addr.expect("the plant printed its address");
    let url = format!("ws://{addr}/ws");

    assert!(try_connect(&url, Some("not-it")).await.is_err());
    let mut c = try_connect(&url, Some(secret)).await.unwrap();
    c.expect_connected().await;
    c.send(&brewdeck_protocol::ClientMessage::Hello(
        brewdeck_protocol::Hello {
            protocol: brewdeck_protocol::PROTOCOL_V1.into(),
            last_seq: None,
        },
    ))
    .await;
    let snap = c.expect_snapshot().await;
    assert!(!snap.catalog.is_empty());

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    c.until(|m| matches!(m, ServerMessage::Reconnect(_)).then_some(()))
        .await;
    // Reading the Close answers it, completing the handshake the server waits for.
    assert_eq!(c.expect_close().await, Some(CloseCode::Restart));
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(logs.contains("plant server listening"), "{logs}");
    assert!(logs.contains("upgrade refused: bad token"), "{logs}");
    // Logging is on at every level the cap leaves.
    assert!(logs.contains("DEBUG"), "{logs}");
    assert!(!logs.contains(secret), "the token leaked into the logs");
    assert!(
        !logs.contains("not-it"),
        "a presented token leaked into the logs"
    );
}

#[tokio::test]
async fn without_a_token_it_refuses_to_start() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("BREWDECK_PLANT_TOKEN")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a token is required"), "{err}");

    let out = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--token-file",
            "/nonexistent/brewdeck-token",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the token file"));
}

#[tokio::test]
async fn a_busy_address_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (_dir, path) = token_file("t");
    let out = Command::new(BIN)
        .args(["--listen", &addr, "--token-file"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
}
