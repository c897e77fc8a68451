//! The admin API refuses what a web page could send it (a foreign `Host`, an `Origin`), and
//! asks for its own token when one is configured. Real HTTP on loopback.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::{ServerMessage, Token};
use common::*;
use std::process::Stdio;

use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_brewdeck-plant");

const ADMIN_TOKEN: &str = "admin-secret-51c0";

/// A POST /admin/alarm with exactly these headers; (status, body as JSON).
async fn raise_with(
    plant: &brewdeck_plant::RunningPlant,
    headers: &[(&str, &str)],
    message: &str,
) -> (u16, serde_json::Value) {
    let body = format!(r#"{{"message":"{message}"}}"#);
    let (status, body) = http_with(
        plant.local_addr(),
        "POST",
        "/admin/alarm",
        headers,
        Some(&body),
    )
    .await;
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// Waits for the alarm raised with `marker`; no alarm with `refused` in its message may come
/// first (a refused request raised after the marker's would not be seen, so each test raises
/// its marker last).
async fn no_alarm_before_the_marker(c: &mut Client, refused: &str, marker: &str) {
    c.until(|m| match m {
        ServerMessage::Alarm(a) if a.message.contains(refused) => {
            panic!("a refused request raised {:?}", a.message)
        }
        ServerMessage::Alarm(a) if a.message == marker => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn a_request_addressed_to_another_host_is_refused_and_raises_nothing() {
    let plant = plant().await;
    let (mut watcher, _) = Client::level1(&plant).await;
    let port = plant.local_addr().port().to_string();
    let rebound = format!("attacker.example:{port}");
    for host in [
        "attacker.example",
        rebound.as_str(),
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
    ] {
        let (status, body) = raise_with(&plant, &[("Host", host)], "rebound").await;
        assert_eq!(status, 403, "Host {host}: {body}");
        assert_eq!(body["code"], "forbidden");
        assert!(
            body["message"].as_str().unwrap().contains("Host header"),
            "{body}"
        );
    }
    // No Host at all, or two: refused too.
    let (status, _) = raise_with(&plant, &[], "rebound").await;
    assert_eq!(status, 403, "no Host");
    let two = [("Host", "localhost"), ("Host", "attacker.example")];
    assert_eq!(raise_with(&plant, &two, "rebound").await.0, 403, "two");
    // Every admin route is guarded, not only the alarm.
    let (status, _) = http_with(
        plant.local_addr(),
        "POST",
        "/admin/drop",
        &[("Host", "attacker.example")],
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Addressed to this machine by any loopback name: served.
    let by_address = format!("127.0.0.1:{port}");
    let by_v6 = format!("[::1]:{port}");
    for host in ["localhost", by_address.as_str(), by_v6.as_str()] {
        let (status, body) = raise_with(&plant, &[("Host", host)], "addressed here").await;
        assert_eq!(status, 201, "Host {host}: {body}");
    }
    let (status, body) = raise_with(&plant, &[("Host", "localhost")], "marker").await;
    assert_eq!(status, 201, "{body}");
    no_alarm_before_the_marker(&mut watcher, "rebound", "marker").await;
    // The drop was refused: the watcher is still served.
    assert_eq!(plant.connections(), 1);
}

#[tokio::test]
async fn a_request_carrying_an_origin_is_refused() {
    let plant = plant().await;
    let (mut watcher, _) = Client::level1(&plant).await;
    let host = plant.local_addr().to_string();
    let same_origin = format!("http://{host}");
    for origin in ["https://attacker.example", "null", same_origin.as_str()] {
        let (status, body) = raise_with(
            &plant,
            &[("Host", &host), ("Origin", origin)],
            "from a page",
        )
        .await;
        assert_eq!(status, 403, "Origin {origin}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("Origin"),
            "{body}"
        );
    }
    let (status, _) = http_with(
        plant.local_addr(),
        "GET",
        "/admin/stats",
        &[("Host", &host), ("Origin", "https://attacker.example")],
        None,
    )
    .await;
    assert_eq!(status, 403, "reading the stats is refused too");
    let (status, body) = raise_with(&plant, &[("Host", &host)], "marker").await;
    assert_eq!(status, 201, "{body}");
    no_alarm_before_the_marker(&mut watcher, "from a page", "marker").await;
}

#[tokio::test]
async fn with_an_admin_token_every_admin_request_must_carry_it() {
    let plant = plant_with(|c| c.admin_token = Some(Token::new(ADMIN_TOKEN).unwrap())).await;
    let (mut watcher, _) = Client::level1(&plant).await;
    let host = plant.local_addr().to_string();
    let wrong = "Bearer not-the-admin-token".to_owned();
    // The clients' token is not the admin's.
    let clients = format!("Bearer {TOKEN}");
    let unprefixed = ADMIN_TOKEN.to_owned();
    for auth in [None, Some(&wrong), Some(&clients), Some(&unprefixed)] {
        let mut headers = vec![("Host", host.as_str())];
        if let Some(auth) = auth {
            headers.push(("Authorization", auth.as_str()));
        }
        let (status, body) = raise_with(&plant, &headers, "unauthorized").await;
        assert_eq!(status, 401, "{auth:?}: {body}");
        assert_eq!(body["code"], "unauthorized");
        assert!(!body.to_string().contains(ADMIN_TOKEN));
        let (status, _) =
            http_with(plant.local_addr(), "GET", "/admin/stats", &headers, None).await;
        assert_eq!(status, 401, "stats with {auth:?}");
    }
    // The right token, with any case of the scheme, is served; a foreign Host still is not.
    let right = format!("bearer {ADMIN_TOKEN}");
    let (status, _) = raise_with(
        &plant,
        &[("Host", "attacker.example"), ("Authorization", &right)],
        "unauthorized",
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = raise_with(
        &plant,
        &[("Host", &host), ("Authorization", &right)],
        "marker",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    no_alarm_before_the_marker(&mut watcher, "unauthorized", "marker").await;
}

/// The binary with `--admin-token-file` holding `content`: (exit code, stderr) when it stops
/// at once, or the child serving with the address it printed.
async fn plant_with_admin_token_file(
    content: &str,
) -> (
    tempfile::TempDir,
    Result<(tokio::process::Child, String), (Option<i32>, String)>,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(dir.path().join("admin-token"), content).unwrap();
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--admin", "--token-file"])
        .arg(dir.path().join("token"))
        .arg("--admin-token-file")
        .arg(dir.path().join("admin-token"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (line, _stdout) = first_line(&mut child).await;
    if let Some(addr) = line {
        return (dir, Ok((child, addr)));
    }
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (dir, Err((out.status.code(), stderr)))
}

#[tokio::test]
async fn the_admin_token_file_must_hold_one_short_token() {
    for (content, why) in [("  \n", "empty"), (&*"s".repeat(4097), "over 4096 bytes")] {
        let (_dir, run) = plant_with_admin_token_file(content).await;
        let Err((code, stderr)) = run else {
            panic!("started with an admin token file that is {why}")
        };
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("admin token file"), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains("sss"), "the file's content was printed");
    }

    let (_dir, run) = plant_with_admin_token_file(&format!("  {ADMIN_TOKEN}\n")).await;
    let (_child, addr) = run.unwrap_or_else(|(code, e)| panic!("{code:?}: {e}"));
    let addr: std::net::SocketAddr = addr.trim().parse().unwrap();
    let host = addr.to_string();
    let (status, _) = http_with(addr, "GET", "/admin/stats", &[("Host", &host)], None).await;
    assert_eq!(status, 401, "without the admin token");
    let right = format!("Bearer {ADMIN_TOKEN}");
    let (status, body) = http_with(
        addr,
        "GET",
        "/admin/stats",
        &[("Host", &host), ("Authorization", &right)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
