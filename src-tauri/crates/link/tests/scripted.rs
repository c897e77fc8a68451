//! The link against small scripted servers that each misbehave in one way: 401, 503 with
//! Retry-After, a server that never answers, drops mid-stream, and a level-0 server (no
//! `brewdeck.v1`, commands over HTTP). Bad frames of every kind are in `bad_frames.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{CommandDraft, CommandPhase, LinkEvent, LinkState, ProtocolLevel, TokenStore};
use brewdeck_protocol::{Action, EndpointId, Token};
use common::scripted::{self, read_all, say, serve, Answer};
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[tokio::test]
async fn a_refused_token_stops_retrying_until_the_token_changes() {
    let server = serve(scripted::refuse_first(401, None), scripted::idle_level0).await;
    let (link, store) = link_with(link_config(&server.url), "wrong-token");
    let state = wait_state(&link, |s| matches!(s, LinkState::Unauthorized { .. })).await;
    assert!(
        format!("{state:?}").contains("refused the token"),
        "{state:?}"
    );
    // With a 10 ms backoff a retry storm would make dozens of attempts in this window.
    assert!(server.no_attempt_within(Duration::from_millis(500)).await);
    assert_eq!(server.attempts(), 1);
    let store: Arc<dyn TokenStore> = store;
    let url = brewdeck_link::ServerUrl::parse(&server.url, false).unwrap();
    link.set_token(store.clone(), url.clone(), Token::new(TOKEN))
        .await
        .unwrap();
    connected(&link).await;
    assert_eq!(server.attempts(), 2);
    assert_eq!(store.load(&url).unwrap(), Token::new(TOKEN));
    link.shutdown().await;
}

#[tokio::test]
async fn busy_503_waits_what_retry_after_says() {
    let server = serve(scripted::refuse_first(503, Some(1)), scripted::idle_level0).await;
    let (link, _) = link_with(link_config(&server.url), TOKEN);
    let state = wait_state(&link, |s| matches!(s, LinkState::Reconnecting { .. })).await;
    let LinkState::Reconnecting {
        retry_in_ms,
        last_error,
        ..
    } = state
    else {
        unreachable!()
    };
    // The backoff here is at most 100 ms: 1000 is the server's Retry-After.
    assert_eq!(retry_in_ms, 1000);
    assert!(last_error.contains("503"), "{last_error}");
    connected(&link).await;
    assert_eq!(server.attempts(), 2);
    link.shutdown().await;
}

#[tokio::test]
async fn a_server_that_stops_answering_is_declared_dead_and_left() {
    let server = serve(
        |_| Answer::Upgrade,
        |n, mut ws| async move {
            say(&mut ws, scripted::connected_level0()).await;
            if n == 0 {
                // Half-open: holds the socket, never reads (so never answers a ping).
                tokio::time::sleep(Duration::from_secs(60)).await;
            } else {
                read_all(&mut ws, usize::MAX).await;
            }
        },
    )
    .await;
    let (link, _) = link_with(link_config(&server.url), TOKEN);
    connected(&link).await;
    let state = wait_state(&link, |s| matches!(s, LinkState::Reconnecting { .. })).await;
    assert!(
        format!("{state:?}").contains("no frame from the server"),
        "{state:?}"
    );
    server.wait_attempts(2).await;
    connected(&link).await;
    link.shutdown().await;
}

#[tokio::test]
async fn a_drop_mid_stream_reconnects_and_resubscribes_once() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(usize, Vec<serde_json::Value>)>();
    let server = serve(
        |_| Answer::Upgrade,
        move |n, mut ws| {
            let seen_tx = seen_tx.clone();
            async move {
                say(&mut ws, scripted::connected_level0()).await;
                let got = scripted::read_through(&mut ws, |v| v["channel"] == "alarms").await;
                say(&mut ws, scripted::telemetry(9, n as f64)).await;
                if n == 0 {
                    // Gone without a close frame.
                    drop(ws);
                    let _ = seen_tx.send((n, got));
                    return;
                }
                let _ = seen_tx.send((n, got));
                read_all(&mut ws, usize::MAX).await;
            }
        },
    )
    .await;
    let mut config = link_config(&server.url);
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    link.subscribe(vec![EndpointId::from(9), EndpointId::from(10)])
        .await
        .unwrap();
    let mut events = link.events();
    link.connect().await.unwrap();
    next_event(
        &mut events,
        |e| matches!(e, LinkEvent::Readings { readings } if readings.iter().any(|t| t.value.as_f64() == Some(1.0))),
    )
    .await;
    let snap = link.snapshot().await.unwrap();
    assert_eq!(snap.counters.connections, 2);
    link.shutdown().await;
    let (_, first) = seen.recv().await.unwrap();
    let (_, second) = seen.recv().await.unwrap();
    // Each connection: telemetry for both endpoints in one message, then alarms; no hello to
    // a level-0 server, nothing twice.
    let expected = vec![
        serde_json::json!({"type":"subscribe","channel":"telemetry","endpointIds":[9,10]}),
        serde_json::json!({"type":"subscribe","channel":"alarms"}),
    ];
    assert_eq!(first, expected);
    assert_eq!(second, expected);
}

/// A level-0 server as the seeds describe it: `connected` without protocols, telemetry on
/// subscription, commands by `POST /api/os/command` with their status on the socket.
#[tokio::test]
async fn a_level_0_server_gets_no_hello_and_commands_over_http() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (posted_tx, posted) = mpsc::unbounded_channel::<serde_json::Value>();
    let (first_tx, mut first_messages) = mpsc::unbounded_channel::<Vec<serde_json::Value>>();
    let posted = Arc::new(tokio::sync::Mutex::new(posted));
    let server = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut peek = [0u8; 4];
            let _ = stream.peek(&mut peek).await;
            if &peek == b"POST" {
                let head = scripted::read_head(&mut stream).await;
                assert!(head.starts_with("POST /api/os/command"), "{head}");
                assert!(
                    head.contains(&format!("authorization: Bearer {TOKEN}"))
                        || head.contains(&format!("Authorization: Bearer {TOKEN}")),
                    "{head}"
                );
                let body = scripted::read_body(&mut stream, &head).await;
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let reply = serde_json::json!({"status":"queued","commandId":request["commandId"]})
                    .to_string();
                let response = format!("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len());
                stream.write_all(response.as_bytes()).await.unwrap();
                posted_tx.send(request).unwrap();
                continue;
            }
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            let posted = posted.clone();
            let first_tx = first_tx.clone();
            tokio::spawn(async move {
                say(&mut ws, scripted::connected_level0()).await;
                let mut got = Vec::new();
                // telemetry + alarms subscriptions, then the command's.
                got.extend(read_all(&mut ws, 3).await);
                say(&mut ws, scripted::telemetry(59, 150.5)).await;
                let request = posted.lock().await.recv().await.unwrap();
                for status in ["sent", "succeeded"] {
                    say(&mut ws, serde_json::json!({"type":"command_status","commandId":request["commandId"],"status":status,"actualValue":true,"completedAt":"2026-11-23T06:00:00Z"}).to_string()).await;
                }
                let _ = first_tx.send(got);
                read_all(&mut ws, usize::MAX).await;
            });
        }
    });
    let mut config = link_config(&format!("ws://{addr}/ws"));
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    link.subscribe(vec![EndpointId::from(59)]).await.unwrap();
    let mut events = link.events();
    link.connect().await.unwrap();
    let state = wait_state(&link, LinkState::is_connected).await;
    assert!(matches!(
        state,
        LinkState::Connected {
            level: ProtocolLevel::Level0,
            ..
        }
    ));
    let view = link
        .send_command(CommandDraft {
            endpoint_id: EndpointId::from(59),
            action: Action::On,
            value: None,
        })
        .await
        .unwrap();
    let done = next_event(&mut events, |e| {
        matches!(e, LinkEvent::Command { command, .. } if command.phase == CommandPhase::Succeeded)
    })
    .await;
    let LinkEvent::Command { command, .. } = done else {
        unreachable!()
    };
    assert_eq!(command.command_id, view.command_id);
    let first = first_messages.recv().await.unwrap();
    assert_eq!(
        first[0],
        serde_json::json!({"type":"subscribe","channel":"telemetry","endpointIds":[59]})
    );
    assert_eq!(
        first[1],
        serde_json::json!({"type":"subscribe","channel":"alarms"})
    );
    assert_eq!(
        first[2],
        serde_json::json!({"type":"subscribe","channel":"commands","commandIds":[view.command_id.0]})
    );
    // A level-0 server cannot take an acknowledgement: the link says so instead of sending it.
    let err = link
        .acknowledge(brewdeck_protocol::AlarmId::from(1), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("level-1"), "{err}");
    link.shutdown().await;
    server.abort();
}

#[tokio::test]
async fn an_unreachable_server_is_retried_with_a_clear_reason() {
    // A port nothing listens on: bind, learn the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (link, _) = link_with(link_config(&format!("ws://127.0.0.1:{port}/ws")), TOKEN);
    let state = wait_state(&link, |s| {
        matches!(s, LinkState::Reconnecting { attempt: 3.., .. })
    })
    .await;
    assert!(
        format!("{state:?}").contains("refused the connection"),
        "{state:?}"
    );
    link.shutdown().await;
}

#[tokio::test]
async fn a_wrong_path_is_a_configuration_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            scripted::read_head(&mut s).await;
            let _ = s
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let (link, _) = link_with(link_config(&format!("ws://{addr}/nope")), TOKEN);
    let state = wait_state(&link, |s| matches!(s, LinkState::Failed { .. })).await;
    assert!(
        format!("{state:?}").contains("no WebSocket at /nope"),
        "{state:?}"
    );
    link.shutdown().await;
    task.abort();
}

/// Level 0: a command in flight when the socket drops becomes `unknown`, is never posted
/// again, and takes the status the server reports after the reconnect.
#[tokio::test]
async fn a_level_0_command_in_flight_at_a_drop_is_unknown_never_reposted() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (posted_tx, posted_rx) = tokio::sync::watch::channel(Vec::<serde_json::Value>::new());
    let posts = posted_rx.clone();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut peek = [0u8; 4];
            let _ = stream.peek(&mut peek).await;
            if &peek == b"POST" {
                let head = scripted::read_head(&mut stream).await;
                let body = scripted::read_body(&mut stream, &head).await;
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let reply = serde_json::json!({"status":"queued","commandId":request["commandId"]})
                    .to_string();
                let response = format!("HTTP/1.1 202 Accepted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len());
                stream.write_all(response.as_bytes()).await.unwrap();
                posted_tx.send_modify(|p| p.push(request));
                continue;
            }
            let n = connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            let mut posted = posted_rx.clone();
            tokio::spawn(async move {
                say(&mut ws, scripted::connected_level0()).await;
                if n == 0 {
                    // The command arrives; the socket dies before its result is told.
                    let _ = posted.wait_for(|p| !p.is_empty()).await;
                    drop(ws);
                    return;
                }
                let follow = scripted::read_through(&mut ws, |v| v["channel"] == "commands").await;
                let id = follow.last().unwrap()["commandIds"][0].clone();
                say(&mut ws, serde_json::json!({"type":"command_status","commandId":id,"status":"succeeded","actualValue":true}).to_string()).await;
                read_all(&mut ws, usize::MAX).await;
            });
        }
    });
    let mut config = link_config(&format!("ws://{addr}/ws"));
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    let mut events = link.events();
    link.connect().await.unwrap();
    wait_state(&link, LinkState::is_connected).await;
    let view = link
        .send_command(CommandDraft {
            endpoint_id: EndpointId::from(7),
            action: Action::Off,
            value: None,
        })
        .await
        .unwrap();
    let mine = |phase: CommandPhase| {
        let id = view.command_id.clone();
        move |e: &LinkEvent| matches!(e, LinkEvent::Command { command, .. } if command.command_id == id && command.phase == phase)
    };
    let unknown = next_event(&mut events, mine(CommandPhase::Unknown)).await;
    let LinkEvent::Command { command, .. } = unknown else {
        unreachable!()
    };
    assert!(command
        .reason
        .unwrap()
        .contains("check the plant before repeating it"));
    next_event(&mut events, mine(CommandPhase::Succeeded)).await;
    assert_eq!(link.snapshot().await.unwrap().counters.connections, 2);
    link.shutdown().await;
    server.abort();
    assert_eq!(posts.borrow().len(), 1, "posted once, never repeated");
}

/// Level 0: moving to another server stops the command poster. What it still held is never
/// posted to the old server; the command it was sending has an unknown outcome (it may have
/// run), never `failed`.
#[tokio::test]
async fn moving_to_another_server_posts_nothing_more_to_the_old_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (posted_tx, posted_rx) = tokio::sync::watch::channel(0usize);
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut peek = [0u8; 4];
            let _ = stream.peek(&mut peek).await;
            if &peek == b"POST" {
                let head = scripted::read_head(&mut stream).await;
                let _ = scripted::read_body(&mut stream, &head).await;
                // Received, never answered: the plant is slow to say.
                held.push(stream);
                posted_tx.send_modify(|n| *n += 1);
                continue;
            }
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            tokio::spawn(async move {
                say(&mut ws, scripted::connected_level0()).await;
                read_all(&mut ws, usize::MAX).await;
            });
        }
    });
    let mut config = link_config(&format!("ws://{addr}/ws"));
    config.connect_on_start = false;
    let (link, _) = link_with(config, TOKEN);
    let mut events = link.events();
    link.connect().await.unwrap();
    wait_state(&link, LinkState::is_connected).await;
    let draft = || CommandDraft {
        endpoint_id: EndpointId::from(7),
        action: Action::Off,
        value: None,
    };
    let first = link.send_command(draft()).await.unwrap();
    let second = link.send_command(draft()).await.unwrap();
    let mut posted = posted_rx.clone();
    tokio::time::timeout(WAIT, posted.wait_for(|n| *n == 1))
        .await
        .unwrap()
        .unwrap();

    let elsewhere = brewdeck_link::ServerUrl::parse("ws://127.0.0.1:9/ws", false).unwrap();
    link.set_server(brewdeck_link::Destination::new(elsewhere, None).unwrap())
        .await
        .unwrap();
    let settled = |id: brewdeck_protocol::CommandId, phase: CommandPhase| move |e: &LinkEvent| matches!(e, LinkEvent::Command { command, .. } if command.command_id == id && command.phase == phase);
    let unknown = next_event(
        &mut events,
        settled(first.command_id, CommandPhase::Unknown),
    )
    .await;
    let LinkEvent::Command { command, .. } = unknown else {
        unreachable!()
    };
    assert!(
        command.reason.unwrap().contains("moved to another server"),
        "the reason says why"
    );
    next_event(
        &mut events,
        settled(second.command_id, CommandPhase::Failed),
    )
    .await;
    // The second never reaches the old server. (An absence needs a bounded wait.)
    let more = tokio::time::timeout(Duration::from_millis(500), posted.wait_for(|n| *n > 1)).await;
    assert!(
        more.is_err(),
        "a command was posted to the old server after the move"
    );
    link.shutdown().await;
    server.abort();
}
