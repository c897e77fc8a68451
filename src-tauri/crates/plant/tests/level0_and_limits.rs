//! Level-0 sessions (no `hello`), auth, per-client limits, admin controls, shutdown, scale.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401() {
    let plant = plant().await;
    for token in [Some("wrong"), Some(""), None] {
        match try_connect(&plant.ws_url(), token).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status(), 401);
                let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
                assert!(body.contains("unauthorized"), "{body}");
                assert!(!body.contains(TOKEN));
            }
            Err(e) => panic!("expected 401, got {e}"),
            Ok(_) => panic!("connected with token {token:?}"),
        }
    }
    assert_eq!(
        http(&plant, "POST", "/api/os/command", Some("{}"), Some("nope"))
            .await
            .0,
        401
    );
    assert_eq!(plant.connections(), 0);
}

/// Returns once the server has processed everything this client sent before (its pong comes
/// after them), with the messages that arrived meanwhile.
async fn sync(c: &mut Client) -> Vec<ServerMessage> {
    c.send(&ClientMessage::Ping).await;
    let mut skipped = Vec::new();
    loop {
        match c.next().await {
            ServerMessage::Pong(_) => return skipped,
            m => skipped.push(m),
        }
    }
}

#[tokio::test]
async fn a_level0_client_sees_only_what_it_subscribed_to() {
    let plant = plant().await;
    let (_, snap) = Client::level1(&plant).await;
    let hlt_temp = find(&snap, "HLT temperature").id.clone();
    let setpoint = find(&snap, "HLT setpoint").id.clone();

    let mut c = Client::connect(&plant).await;
    let connected = c.expect_connected().await;
    assert!(connected.client_id.starts_with("client-"));
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: vec![hlt_temp.clone()],
    }))
    .await;
    // An alarm before subscribing to alarms, then one after: only the second arrives.
    raise_alarm(&plant, r#"{"message":"unseen"}"#).await;
    c.send(&ClientMessage::Subscribe(Subscription::Alarms))
        .await;
    let mut backlog = sync(&mut c).await;
    raise_alarm(&plant, r#"{"message":"seen"}"#).await;
    // A command it does not follow, then one it does.
    let post = |id: &'static str, v: u32| {
        let body =
            format!(r#"{{"commandId":"{id}","endpointId":{setpoint},"action":"set","value":{v}}}"#);
        async move { body }
    };
    let (s, _) = http(
        &plant,
        "POST",
        "/api/os/command",
        Some(&post("other", 150).await),
        Some(TOKEN),
    )
    .await;
    assert_eq!(s, 202);
    c.send(&ClientMessage::Subscribe(Subscription::Commands {
        command_ids: vec!["mine".into()],
    }))
    .await;
    backlog.extend(sync(&mut c).await);
    let (s, body) = http(
        &plant,
        "POST",
        "/api/os/command",
        Some(&post("mine", 151).await),
        Some(TOKEN),
    )
    .await;
    assert_eq!(s, 202, "{body}");

    let mut telemetry = 0;
    let mut alarms = Vec::new();
    backlog.reverse();
    loop {
        let next = match backlog.pop() {
            Some(m) => m,
            None => c.next().await,
        };
        match next {
            ServerMessage::Telemetry(t) => {
                assert_eq!(t.endpoint_id, hlt_temp, "only the subscribed endpoint");
                telemetry += 1;
            }
            ServerMessage::Alarm(a) => alarms.push(a.message),
            ServerMessage::CommandStatus(s) => {
                assert_eq!(s.command_id.0, "mine", "only the followed command");
                if s.status == CommandState::Succeeded {
                    break;
                }
            }
            ServerMessage::Snapshot(_) | ServerMessage::Resumed(_) => {
                panic!("level 0 gets no level-1 messages")
            }
            _ => {}
        }
    }
    assert!(telemetry > 0);
    assert_eq!(alarms, vec!["seen".to_owned()]);

    // Unsubscribing stops the telemetry: after the unsubscribe, a ping's pong arrives and
    // then only non-telemetry messages.
    c.send(&ClientMessage::Unsubscribe(Subscription::Telemetry {
        endpoint_ids: vec![hlt_temp.clone()],
    }))
    .await;
    c.send(&ClientMessage::Ping).await;
    c.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
    raise_alarm(&plant, r#"{"message":"marker"}"#).await;
    c.until(|m| match m {
        ServerMessage::Telemetry(_) => panic!("telemetry after unsubscribe"),
        ServerMessage::Alarm(a) if a.message == "marker" => Some(()),
        _ => None,
    })
    .await;
    let stats = admin_json(&plant, "GET", "/admin/stats", None).await;
    let me = stats["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == connected.client_id.as_str())
        .unwrap();
    assert_eq!(me["level"], 0);
    assert_eq!(me["subscriptions"]["telemetry"], 0);
    assert_eq!(me["subscriptions"]["alarms"], true);
    assert_eq!(me["subscribeMessages"]["commands"], 1);
}

#[tokio::test]
async fn ping_as_json_or_plain_text_gets_pong() {
    let plant = plant().await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.send(&ClientMessage::Ping).await;
    assert!(matches!(c.next().await, ServerMessage::Pong(_)));
    c.send_raw("ping").await;
    assert!(matches!(c.next().await, ServerMessage::Pong(_)));
}

#[tokio::test]
async fn bad_messages_are_answered_and_the_session_goes_on() {
    let plant = plant().await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    for bad in [
        "{not json",
        r#"{"type":"subscribe","channel":"weather"}"#,
        "[]",
    ] {
        c.send_raw(bad).await;
        let ServerMessage::Error(e) = c.next().await else {
            panic!("error for {bad}")
        };
        assert_eq!(e.code.as_deref(), Some("bad_message"));
        assert_eq!(e.recoverable, Some(true));
    }
    c.ws.send(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    let ServerMessage::Error(e) = c.next().await else {
        panic!("error for binary")
    };
    assert_eq!(e.code.as_deref(), Some("bad_message"));
    // An unknown type is ignored, not an error: the next answer is the pong.
    c.send_raw(r#"{"type":"dance"}"#).await;
    c.send(&ClientMessage::Ping).await;
    assert!(matches!(c.next().await, ServerMessage::Pong(_)));
}

#[tokio::test]
async fn the_rate_limit_is_answered_with_its_code() {
    let plant = plant_with(|c| {
        c.limits.messages_per_second = 1.0;
        c.limits.message_burst = 3.0;
    })
    .await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    for _ in 0..10 {
        c.send(&ClientMessage::Ping).await;
    }
    let mut pongs = 0;
    let error = loop {
        match c.next().await {
            ServerMessage::Pong(_) => pongs += 1,
            ServerMessage::Error(e) => break e,
            _ => {}
        }
    };
    assert_eq!(error.code.as_deref(), Some("rate_limited"));
    assert_eq!(error.recoverable, Some(true));
    assert!(pongs <= 4, "{pongs} pongs: the burst is 3");
    // Not closed: the socket still answers WebSocket pings.
    c.ws.send(Message::Ping(vec![1, 2, 3].into()))
        .await
        .unwrap();
    loop {
        match c.frame().await {
            Some(Message::Pong(p)) => {
                assert_eq!(p.as_ref(), &[1, 2, 3]);
                break;
            }
            Some(Message::Close(_)) | None => panic!("closed after rate limiting"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn an_oversized_frame_is_answered_then_closed() {
    let plant = plant_with(|c| c.limits.max_frame_bytes = 1024).await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.send_raw(&format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(4000)
    ))
    .await;
    let ServerMessage::Error(e) = c.next().await else {
        panic!("error first")
    };
    assert_eq!(e.code.as_deref(), Some("frame_too_large"));
    assert_eq!(e.recoverable, Some(false));
    assert_eq!(c.expect_close().await, Some(CloseCode::Size));
    // Far over the limit: the socket itself refuses it, and the client is still told why.
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    let _ = c.ws.send(Message::text("y".repeat(2 << 20))).await;
    let ServerMessage::Error(e) = c.next().await else {
        panic!("error first")
    };
    assert_eq!(e.code.as_deref(), Some("frame_too_large"));
    assert_eq!(e.recoverable, Some(false));
    assert!(e.message.contains("hard size limit"), "{}", e.message);
    assert_eq!(c.expect_close().await, Some(CloseCode::Size));
}

#[tokio::test]
async fn too_many_subscriptions_are_refused_whole() {
    let plant = plant_with(|c| c.limits.max_subscriptions = 3).await;
    let mut c = Client::connect(&plant).await;
    let connected = c.expect_connected().await;
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: (1..=5).map(EndpointId::from).collect(),
    }))
    .await;
    let ServerMessage::Error(e) = c.next().await else {
        panic!("error")
    };
    assert_eq!(e.code.as_deref(), Some("too_many_subscriptions"));
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: vec![1.into(), 2.into(), 1.into()],
    }))
    .await;
    c.send(&ClientMessage::Ping).await;
    c.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
    let stats = admin_json(&plant, "GET", "/admin/stats", None).await;
    let me = stats["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == connected.client_id.as_str())
        .unwrap();
    assert_eq!(
        me["subscriptions"]["telemetry"], 2,
        "the refused subscribe added nothing, duplicates count once"
    );
}

#[tokio::test]
async fn past_the_connection_limit_the_upgrade_gets_503_with_retry_after() {
    let plant = plant_with(|c| c.limits.max_connections = 2).await;
    let mut a = Client::connect(&plant).await;
    a.expect_connected().await;
    let mut b = Client::connect(&plant).await;
    b.expect_connected().await;
    match try_connect(&plant.ws_url(), Some(TOKEN)).await {
        Err(WsError::Http(r)) => {
            assert_eq!(r.status(), 503);
            assert_eq!(r.headers().get("retry-after").unwrap(), "5");
            let body = String::from_utf8(r.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("too_many_connections"), "{body}");
        }
        other => panic!("expected 503, got {:?}", other.map(|_| ())),
    }
    // A slot frees when a client leaves.
    drop(a);
    let mut count = plant.watch_connections();
    tokio::time::timeout(WAIT, count.wait_for(|n| *n <= 1))
        .await
        .unwrap()
        .unwrap();
    Client::connect(&plant).await.expect_connected().await;
}

#[tokio::test]
async fn graceful_shutdown_tells_clients_to_reconnect() {
    let plant = plant_with(|c| c.shutdown_retry_after = 2.0).await;
    let (mut c, _) = Client::level1(&plant).await;
    let stopping = tokio::spawn(plant.shutdown());
    let r = c
        .until(|m| match m {
            ServerMessage::Reconnect(r) => Some(r),
            _ => None,
        })
        .await;
    assert_eq!(r.retry_after, Some(2.0));
    assert!(r.reason.unwrap().contains("shutting down"));
    assert_eq!(c.expect_close().await, Some(CloseCode::Restart));
    tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
}

#[tokio::test]
async fn admin_drop_cuts_every_client_without_a_close_handshake() {
    let plant = plant().await;
    let (mut a, _) = Client::level1(&plant).await;
    let mut b = Client::connect(&plant).await;
    b.expect_connected().await;
    let dropped = admin_json(&plant, "POST", "/admin/drop", None).await;
    assert_eq!(dropped["dropped"], 2);
    for c in [&mut a, &mut b] {
        loop {
            match c.frame().await {
                None => break,
                Some(Message::Close(f)) => panic!("a close frame {f:?}: the drop must be abrupt"),
                Some(_) => {}
            }
        }
    }
    // The server goes on serving.
    Client::level1(&plant).await;
}

#[tokio::test]
async fn admin_stall_makes_a_half_open_link_until_unstalled() {
    let plant = plant().await;
    let (mut c, _) = Client::level1(&plant).await;
    admin_json(&plant, "POST", "/admin/stall", None).await;
    c.ws.send(Message::Ping(b"anyone?".to_vec().into()))
        .await
        .unwrap();
    c.send(&ClientMessage::Ping).await;
    // Half-open: nothing comes back at all (telemetry, pongs) while stalled. Bounded wait.
    let silent = tokio::time::timeout(std::time::Duration::from_millis(700), async {
        loop {
            if let Some(Message::Pong(_)) | Some(Message::Text(_)) =
                c.ws.next().await.and_then(|r| r.ok())
            {
                return;
            }
        }
    })
    .await;
    assert!(silent.is_err(), "a stalled server must not answer");
    assert_eq!(
        admin_json(&plant, "GET", "/admin/stats", None).await["stalled"],
        true
    );
    admin_json(&plant, "POST", "/admin/unstall", None).await;
    // The queued ping is answered once it reads again.
    c.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
}

#[tokio::test]
async fn the_admin_api_is_off_unless_asked_for() {
    let plant = plant_with(|c| c.admin = false).await;
    assert_eq!(http(&plant, "GET", "/admin/stats", None, None).await.0, 404);
    assert_eq!(http(&plant, "POST", "/admin/drop", None, None).await.0, 404);
    let (status, body) = http(&plant, "GET", "/health", None, None).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""status":"ok""#), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_clients_are_all_served() {
    // The demo's telemetry rate, not the fast test tick: 200 clients decoding 50 Hz in a debug
    // build would measure the test client, not the server.
    let plant = plant_with(|c| {
        c.limits.max_connections = 256;
        c.limits.max_connections_per_ip = 256;
        c.tick = std::time::Duration::from_millis(250);
    })
    .await;
    let url = plant.ws_url();
    let (_first, snap) = Client::level1(&plant).await;
    let temp = find(&snap, "HLT temperature").id.clone();
    let mut clients = Vec::new();
    for i in 0..200 {
        let mut c = try_connect(&url, Some(TOKEN)).await.unwrap();
        c.expect_connected().await;
        if i % 2 == 0 {
            c.hello(None).await;
        }
        c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
            endpoint_ids: vec![temp.clone()],
        }))
        .await;
        c.send(&ClientMessage::Subscribe(Subscription::Alarms))
            .await;
        assert!(
            sync(&mut c)
                .await
                .iter()
                .all(|m| !matches!(m, ServerMessage::Alarm(_))),
            "no alarm was raised yet"
        );
        clients.push(c);
    }
    assert_eq!(plant.connections(), 201);
    let raised = raise_alarm(&plant, r#"{"message":"to all"}"#).await;
    let id = AlarmId::from(raised);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let id = id.clone();
            tokio::spawn(async move {
                let mut telemetry = false;
                let mut alarm = false;
                while !(telemetry && alarm) {
                    match c.next().await {
                        ServerMessage::Telemetry(_) => telemetry = true,
                        ServerMessage::Alarm(a) if a.alarm_id == id => alarm = true,
                        _ => {}
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        tokio::time::timeout(WAIT * 3, t).await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_client_that_falls_behind_the_stream_is_told_and_closed() {
    let plant = plant_with(|c| {
        c.limits.stream_buffer = 8;
        c.flood = Some(brewdeck_plant::Flood {
            endpoints: 1000,
            rate_hz: 100.0,
        });
    })
    .await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(None).await;
    // Each flood slice publishes 1000 updates at once into a stream of 8: the session lags,
    // before or after its snapshot.
    let e = c
        .until(|m| match m {
            ServerMessage::Error(e) => Some(e),
            _ => None,
        })
        .await;
    assert_eq!(e.code.as_deref(), Some("slow_consumer"));
    assert_eq!(e.recoverable, Some(true));
    assert_eq!(c.expect_close().await, Some(CloseCode::Again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_frees_its_slot() {
    let plant = plant_with(|c| {
        c.limits.write_timeout = std::time::Duration::from_secs(1);
        c.flood = Some(brewdeck_plant::Flood {
            endpoints: 2000,
            rate_hz: 50.0,
        });
    })
    .await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.send(&ClientMessage::Subscribe(Subscription::Telemetry {
        endpoint_ids: (1..=2100).map(EndpointId::from).collect(),
    }))
    .await;
    // Never read again: the socket fills, the server's writes stall, and it lets go.
    let mut count = plant.watch_connections();
    tokio::time::timeout(WAIT, count.wait_for(|n| *n == 0))
        .await
        .expect("the stuck client was dropped")
        .unwrap();
    drop(c);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_only_bearer() {
    let plant = plant().await;
    for header in [
        format!("bearer {TOKEN}"),
        format!("BEARER {TOKEN}"),
        format!("BeArEr {TOKEN}"),
    ] {
        let mut c = try_connect_authorized(&plant.ws_url(), &header)
            .await
            .unwrap_or_else(|e| panic!("{header}: {e}"));
        c.expect_connected().await;
    }
    for header in [
        format!("Basic {TOKEN}"),
        format!("Bearer{TOKEN}"),
        TOKEN.to_owned(),
    ] {
        match try_connect_authorized(&plant.ws_url(), &header).await {
            Err(WsError::Http(r)) => assert_eq!(r.status(), 401, "{header}"),
            Err(e) => panic!("{header}: {e}"),
            Ok(_) => panic!("{header} was accepted"),
        }
    }
}

#[tokio::test]
async fn level_0_command_posts_are_rate_limited_per_peer() {
    let plant = plant_with(|c| {
        c.limits.commands_per_second = 0.5;
        c.limits.command_burst = 3.0;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let body = format!(r#"{{"commandId":"rate-{i}","endpointId":9999,"action":"on"}}"#);
        let (status, text) =
            http(&plant, "POST", "/api/os/command", Some(&body), Some(TOKEN)).await;
        statuses.push(status);
        if status == 429 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["code"], "rate_limited");
            assert!(v["message"].as_str().unwrap().contains("not run"));
        }
    }
    // The burst is taken (each refused by the plant for its unknown endpoint, but taken), then
    // the fourth is refused before it is looked at.
    assert_eq!(&statuses[3], &429, "{statuses:?}");
    assert!(statuses[..3].iter().all(|s| *s != 429), "{statuses:?}");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let plant = plant_with(|c| c.limits.max_connections_per_ip = 2).await;
    let mut a = Client::connect(&plant).await;
    a.expect_connected().await;
    let mut b = Client::connect(&plant).await;
    b.expect_connected().await;
    match try_connect(&plant.ws_url(), Some(TOKEN)).await {
        Err(WsError::Http(r)) => {
            assert_eq!(r.status(), 503);
            assert!(r.headers().contains_key("retry-after"));
            let body = String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("from one address"), "{body}");
        }
        other => panic!("expected 503, got {:?}", other.map(|_| "a connection")),
    }
    drop(a);
    let mut count = plant.watch_connections();
    tokio::time::timeout(WAIT, count.wait_for(|n| *n <= 1))
        .await
        .unwrap()
        .unwrap();
    Client::connect(&plant).await.expect_connected().await;
}

/// A client that reads all the time (so its socket answers every ping) on a task of its own:
/// messages to send in, protocol messages out.
fn reading_all_the_time(
    mut c: Client,
) -> (
    tokio::sync::mpsc::UnboundedSender<ClientMessage>,
    tokio::sync::mpsc::UnboundedReceiver<ServerMessage>,
) {
    let (ask, mut asked) = tokio::sync::mpsc::unbounded_channel::<ClientMessage>();
    let (tell, told) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                frame = c.ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        let _ = tell.send(decode_server(t.as_str()).unwrap());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                m = asked.recv() => match m {
                    Some(m) => c.send(&m).await,
                    None => break,
                },
            }
        }
    });
    (ask, told)
}

#[tokio::test]
async fn a_silent_client_is_dropped_while_one_that_reads_stays() {
    let plant = plant_with(|c| {
        // Margins wide enough for a loaded CI machine: a reading client answers a ping within
        // 2 s whatever the scheduling.
        c.limits.ping_every = std::time::Duration::from_millis(300);
        c.limits.silent_limit = std::time::Duration::from_secs(2);
    })
    .await;
    let (ask, mut told) = reading_all_the_time(Client::connect(&plant).await);
    // Handshake done, then never a read or a write: the plant's pings go unanswered.
    let mut silent = Client::connect(&plant).await;
    let mut count = plant.watch_connections();
    tokio::time::timeout(WAIT, count.wait_for(|n| *n == 2))
        .await
        .unwrap()
        .unwrap();

    tokio::time::timeout(WAIT, count.wait_for(|n| *n == 1))
        .await
        .expect("the silent client was dropped")
        .unwrap();
    // Its socket ended: what was sent before (connected, pings), then nothing.
    while silent.frame().await.is_some() {}

    // The one that read all along is still served: it gets an answer.
    ask.send(ClientMessage::Ping).unwrap();
    tokio::time::timeout(WAIT, async {
        loop {
            match told.recv().await {
                Some(ServerMessage::Pong(_)) => break,
                Some(_) => {}
                None => panic!("the reading client's socket ended"),
            }
        }
    })
    .await
    .expect("a pong for the client that reads");
    assert_eq!(plant.connections(), 1);
}

#[tokio::test]
async fn time_stalled_is_not_counted_against_a_client() {
    // Wide: the client sends nothing between connecting and the stall.
    let silent_limit = std::time::Duration::from_secs(2);
    let plant = plant_with(|c| {
        c.limits.ping_every = std::time::Duration::from_millis(500);
        c.limits.silent_limit = silent_limit;
    })
    .await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    admin_json(&plant, "POST", "/admin/stall", None).await;
    // Stalled for longer than the silent limit: not dropped meanwhile (nothing runs)...
    let mut count = plant.watch_connections();
    let dropped = tokio::time::timeout(silent_limit * 3 / 2, count.wait_for(|n| *n == 0)).await;
    assert!(dropped.is_err(), "dropped while stalled");
    admin_json(&plant, "POST", "/admin/unstall", None).await;
    // ...nor at once after: the client is answered.
    c.send(&ClientMessage::Ping).await;
    c.until(|m| matches!(m, ServerMessage::Pong(_)).then_some(()))
        .await;
    assert_eq!(plant.connections(), 1);
}
